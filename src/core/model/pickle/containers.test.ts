import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { isPickleCandidate, scanModelFile, type FileScanReport } from './containers.js'
import { createPolicy } from './policy.js'

const policy = createPolicy()
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const EVIL = b("\x80\x02cposix\nsystem\n(S'id'\ntR.")
const PLAIN = b('\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.')

interface Entry {
  name: string
  data: Buffer
  method?: 0 | 8
  flags?: number
  declaredSize?: number
}

/** A zip archive as zipfile writes one (CRCs left at 0: nothing here checks them). */
function zip(entries: Entry[], options: { prefix?: Buffer; aliasFirst?: boolean } = {}): Buffer {
  const prefix = options.prefix ?? Buffer.alloc(0)
  const locals: Buffer[] = [prefix]
  const central: Buffer[] = []
  let offset = prefix.length
  const offsets: number[] = []
  for (const e of entries) {
    const method = e.method ?? 0
    const body = method === 8 ? deflateRawSync(e.data) : e.data
    const name = Buffer.from(e.name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(e.flags ?? 0, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(e.declaredSize ?? e.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    offsets.push(offset)
    locals.push(local, name, body)
    const cd = Buffer.alloc(46)
    cd.writeUInt32LE(0x02014b50, 0)
    cd.writeUInt16LE(20, 4)
    cd.writeUInt16LE(20, 6)
    cd.writeUInt16LE(e.flags ?? 0, 8)
    cd.writeUInt16LE(method, 10)
    cd.writeUInt32LE(body.length, 20)
    cd.writeUInt32LE(e.declaredSize ?? e.data.length, 24)
    cd.writeUInt16LE(name.length, 28)
    cd.writeUInt32LE(options.aliasFirst ? prefix.length : offset - prefix.length, 42)
    central.push(cd, name)
    offset += 30 + name.length + body.length
  }
  const cdBytes = Buffer.concat(central)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(entries.length, 8)
  eocd.writeUInt16LE(entries.length, 10)
  eocd.writeUInt32LE(cdBytes.length, 12)
  eocd.writeUInt32LE(offset - prefix.length, 16)
  return Buffer.concat([...locals, cdBytes, eocd])
}

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-pickle-containers-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function scanFile(name: string, data: Buffer, maxBytes?: number): Promise<FileScanReport> {
  const absolute = join(dir, name)
  writeFileSync(absolute, data)
  return scanModelFile({ path: name, absolute, size: data.length }, { policy, ...(maxBytes ? { maxBytes } : {}) })
}

const dangerous = (r: FileScanReport): string[] =>
  r.streams.flatMap(s =>
    s.result.imports.filter(i => i.rating === 'dangerous').map(i => `${s.path}!${i.module}.${i.name}`)
  )
const errors = (r: FileScanReport): string[] => [
  ...r.problems.filter(p => p.severity === 'error').map(p => p.message),
  ...r.streams.flatMap(s => s.result.problems.filter(p => p.severity === 'error').map(p => p.message))
]

describe('isPickleCandidate', () => {
  it.each([
    ['model.pkl', '', true],
    ['MODEL.PICKLE', '', true],
    ['m.joblib', '', true],
    ['weights.pt', '', true],
    ['weights.pth', '', true],
    ['pytorch_model.bin', '', true],
    ['last.ckpt', '', true],
    ['x.dat', '', true],
    ['x.sav', '', true],
    ['model.joblib.gz', '', true],
    ['model.pkl.z', '', true],
    ['anything', '\x80\x04\x95', true],
    ['anything', '\x80\x02', true],
    ['archive.zip', 'PK\x03\x04', true],
    ['MLmodel', 'flavors:', false],
    ['data.npy', '\x93NUMPY', true],
    ['anything', '\x80\x07', false]
  ])('%s starting with %j: %s', (path, first, expected) => {
    expect(isPickleCandidate(path, b(first))).toBe(expected)
  })
})

describe('zip archives', () => {
  it('scans data.pkl of a PyTorch archive and names the entry, not the tensor data', async () => {
    const archive = zip([
      { name: 'archive/data.pkl', data: EVIL },
      { name: 'archive/version', data: b('3\n') },
      { name: 'archive/data/0', data: b('\x80\x02garbage that looks like a pickle header') }
    ])
    const r = await scanFile('model.pt', archive)
    expect(r.format).toBe('torch-zip')
    expect(r.streams.map(s => s.path)).toEqual(['model.pt:archive/data.pkl'])
    expect(dangerous(r)).toEqual(['model.pt:archive/data.pkl!posix.system'])
    expect(errors(r)).toEqual([])
  })

  it('inflates deflated entries', async () => {
    const archive = zip([{ name: 'm/data.pkl', data: EVIL, method: 8 }])
    const r = await scanFile('deflated.pth', archive)
    expect(r.streams[0]!.encoding).toBe('deflate')
    expect(dangerous(r)).toEqual(['deflated.pth:m/data.pkl!posix.system'])
  })

  it('does not open a zip with data in front of it as a zip, as torch.load does not', async () => {
    const archive = zip([{ name: 'm/data.pkl', data: EVIL }], { prefix: b('#!/bin/sh\nexit 0\n') })
    const r = await scanFile('prefixed.pth', archive)
    expect(r.format).toBe('not-a-pickle')
  })

  it('scans pickle-looking entries of other zips speculatively: found payloads count, broken bytes do not', async () => {
    const archive = zip([
      { name: 'blob.bin', data: EVIL },
      { name: 'noise.bin', data: b('\x80\x03\x01\x02\x03 not a pickle') },
      { name: 'readme.txt', data: b('hello') }
    ])
    const r = await scanFile('bundle.zip', archive)
    expect(r.format).toBe('zip')
    expect(dangerous(r)).toEqual(['bundle.zip:blob.bin!posix.system'])
    expect(errors(r)).toEqual([])
  })

  it('has nothing to say about a zip without pickles', async () => {
    const r = await scanFile('bundle.zip', zip([{ name: 'readme.txt', data: b('{}') }]))
    expect(r.streams).toEqual([])
    expect(r.problems).toEqual([])
  })

  it('judges the types a skops file names against the allowlist', async () => {
    const node = (module: string, cls: string, content: unknown = {}) => ({
      __module__: module,
      __class__: cls,
      __loader__: 'ObjectNode',
      content
    })
    const schema = node('sklearn.pipeline', 'Pipeline', {
      steps: [node('builtins', 'list'), node('posix', 'system'), node('mypkg.model', 'Custom')]
    })
    const archive = zip([
      { name: 'schema.json', data: Buffer.from(JSON.stringify(schema)) },
      { name: '1.npy', data: Buffer.concat([b('\x93NUMPY\x01\x00\x16\x00'), b("{'descr': '<f8'}      ")]) }
    ])
    const r = await scanFile('model.skops', archive)
    expect(r.format).toBe('skops')
    expect(dangerous(r)).toEqual(['model.skops:schema.json!posix.system'])
    const unknown = r.streams.flatMap(s => s.result.imports.filter(i => i.rating === 'unknown'))
    expect(unknown.map(i => `${i.module}.${i.name}`)).toEqual(['mypkg.model.Custom'])
    const broken = await scanFile('broken.skops', zip([{ name: 'schema.json', data: b('{not json') }]))
    expect(errors(broken)).toEqual([expect.stringContaining('skops schema cannot be read')])
  })

  it('opens a zip inside a zip', async () => {
    const inner = zip([{ name: 'archive/data.pkl', data: EVIL }])
    for (const method of [0, 8] as const) {
      const r = await scanFile(`outer${method}.zip`, zip([{ name: 'model.pt', data: inner, method }]))
      expect(dangerous(r)).toEqual([`outer${method}.zip:model.pt:archive/data.pkl!posix.system`])
    }
  })

  it('refuses overlapping entries and entries that inflate past their declared size', async () => {
    const overlap = await scanFile(
      'overlap.pt',
      zip(
        [
          { name: 'a/data.pkl', data: PLAIN },
          { name: 'a/more.pkl', data: PLAIN }
        ],
        { aliasFirst: true }
      )
    )
    expect(errors(overlap)).toEqual([expect.stringContaining('overlap')])
    const lying = await scanFile(
      'lying.pt',
      zip([
        {
          name: 'a/data.pkl',
          data: Buffer.concat([b('\x80\x02]('), Buffer.alloc(200000, 0x4e), b('e.')]),
          method: 8,
          declaredSize: 100
        }
      ])
    )
    expect(errors(lying)).toEqual([expect.stringContaining('more than its declared 100 bytes')])
  })

  it('reads entries whatever their flag bits say, as torch.load does (CVE-2025-1945)', async () => {
    const r = await scanFile(
      'locked.pt',
      zip([
        { name: 'a/data.pkl', data: EVIL, flags: 1 },
        { name: 'a/other.pkl', data: EVIL, method: 8, flags: 0x41 }
      ])
    )
    expect(dangerous(r)).toEqual(['locked.pt:a/data.pkl!posix.system', 'locked.pt:a/other.pkl!posix.system'])
  })

  it('fails entries it cannot decode instead of passing them', async () => {
    const odd = zip([{ name: 'a/data.pkl', data: EVIL }])
    odd.writeUInt16LE(14, odd.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) + 10) // LZMA method in the central directory
    const r = await scanFile('lzma.pt', odd)
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'error', message: expect.stringContaining('method 14') })
    ])
    const bz = zip([{ name: 'a/data.pkl', data: EVIL }])
    bz.writeUInt16LE(12, bz.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) + 10) // bzip2 method, but stored bytes
    expect(errors(await scanFile('bzip.pt', bz))).toEqual([expect.stringContaining('not valid compressed data')])
  })

  it('says a broken zip is broken', async () => {
    const r = await scanFile('broken.pt', b('PK\x03\x04 and then nothing'))
    expect(errors(r)).toEqual([expect.stringContaining('end-of-central-directory')])
  })
})

describe('compressed joblib and plain files', () => {
  it('decompresses zlib and gzip streams', async () => {
    const z = await scanFile('m.joblib', deflateSync(EVIL))
    expect(z.format).toBe('zlib')
    expect(dangerous(z)).toEqual(['m.joblib!posix.system'])
    const g = await scanFile('m2.joblib', gzipSync(EVIL))
    expect(g.format).toBe('gzip')
    expect(dangerous(g)).toEqual(['m2.joblib!posix.system'])
  })

  it('stops at the decompression limit', async () => {
    const bomb = gzipSync(Buffer.concat([b('\x80\x02B'), Buffer.from([0, 0, 0x40, 0]), Buffer.alloc(4 * 1024 * 1024)]))
    const r = await scanFile('bomb.joblib', bomb, 1024 * 1024)
    expect(errors(r)).toEqual([expect.stringContaining('more than 1048576 bytes')])
  })

  it('calls corrupt compressed data corrupt', async () => {
    const r = await scanFile('bad.joblib', Buffer.concat([b('\x1f\x8b\x08\x00'), Buffer.alloc(40, 7)]))
    expect(errors(r)).toEqual([expect.stringContaining('not valid compressed data')])
  })

  it.each([
    ['BZh91AY&SY', 'bz2'],
    ['\xfd7zXZ\x00', 'xz'],
    [']\x00\x00\x80\x00', 'lzma']
  ])('fails a corrupt %j stream (%s) as unreadable, never as clean', async (magic, name) => {
    const r = await scanFile(`m.${name}.joblib`, Buffer.concat([b(magic), Buffer.alloc(64)]))
    expect(r.format).toBe(name)
    // The lzma header declares 0 bytes here: an empty stream, which is no pickle either.
    expect(errors(r)).toEqual([expect.stringMatching(/not valid compressed data|empty stream/)])
  })

  it('stops on lzma garbage of undeclared size instead of growing without end', async () => {
    const noise = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256))
    const r = await scanFile(
      'noise.joblib',
      Buffer.concat([b(']\x00\x00\x40\x00'), Buffer.alloc(8, 0xff), b('\x00'), noise])
    )
    expect(errors(r)).toHaveLength(1)
  })

  it('fails a compression it cannot read (lz4), never passes it', async () => {
    const r = await scanFile('m.lz4.joblib', Buffer.concat([b('\x04\x22\x4d\x18'), Buffer.alloc(64)]))
    expect(r.format).toBe('unsupported-compression')
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'error', message: expect.stringContaining('lz4') })
    ])
  })

  it('reads a protocol 0 pickle without a header, whatever the file is called', async () => {
    const p0 = b("cposix\nsystem\n(S'id'\ntR.")
    expect(isPickleCandidate('model.data', p0)).toBe(true)
    expect(isPickleCandidate('conda.yaml', b('channels:\n- conda-forge\n'))).toBe(false)
    expect(dangerous(await scanFile('model.data', p0))).toEqual(['model.data!posix.system'])
  })

  it('reads torch.save’s tar format (before PyTorch 0.4) member by member', async () => {
    const tar = (members: Array<[string, Buffer]>): Buffer => {
      const blocks: Buffer[] = []
      for (const [name, data] of members) {
        const head = Buffer.alloc(512)
        head.write(name, 0, 'utf8')
        head.write('0000644\0', 100)
        head.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
        head.write('0', 156)
        head.write('ustar\x0000', 257, 'latin1')
        blocks.push(head, data, Buffer.alloc((512 - (data.length % 512)) % 512))
      }
      return Buffer.concat([...blocks, Buffer.alloc(1024)])
    }
    const zero = b('\x80\x02K\x00.')
    const r = await scanFile(
      'old.pt',
      tar([
        ['sys_info', PLAIN],
        ['pickle', EVIL],
        ['storages', zero],
        ['tensors', zero]
      ])
    )
    expect(r.format).toBe('legacy-torch-tar')
    expect(dangerous(r)).toEqual(['old.pt:pickle!posix.system'])
    // storages and tensors interleave pickles with raw bytes torch.load reads by size, and are read the same way.
    const count = (n: number): Buffer => b(`\x80\x02K${String.fromCharCode(n)}.`)
    const int64 = (n: number): Buffer => Buffer.from(new BigInt64Array([BigInt(n)]).buffer)
    const storage = b('\x80\x02X\x01\x00\x00\x001q\x00X\x03\x00\x00\x00cpuq\x01ctorch\nFloatStorage\nq\x02\x87q\x03.')
    const tensor = b('\x80\x02X\x01\x00\x00\x002q\x00X\x01\x00\x00\x001q\x01ctorch\nFloatTensor\nq\x02\x87q\x03.')
    const views = b('\x80\x02]q\x00.')
    const withData = await scanFile(
      'old2.pt',
      tar([
        ['pickle', PLAIN],
        [
          'tensors',
          Buffer.concat([count(1), tensor, b('\x01\x00\x00\x00\x00\x00\x00\x00'), int64(2), int64(1), int64(0)])
        ],
        ['storages', Buffer.concat([count(1), storage, int64(2), Buffer.alloc(8, 0xff), views])]
      ])
    )
    expect(errors(withData)).toEqual([])
    expect(withData.streams.map(s => [s.path, s.result.pickles])).toEqual([
      ['old2.pt:pickle', 1],
      ['old2.pt:tensors', 2],
      ['old2.pt:storages', 3]
    ])
    // Raw bytes where torch reads the next pickle are a broken member, reported where they are.
    const garbled = await scanFile(
      'old3.pt',
      tar([
        ['pickle', PLAIN],
        ['storages', Buffer.concat([count(1), Buffer.alloc(64, 0xff)])]
      ])
    )
    expect(errors(garbled)).toEqual(['the pickle of storage 1 of 1: unknown opcode 0xff'])
    expect(garbled.streams[1]!.result.problems[0]!.offset).toBe(5)
  })

  it('treats a .pkl that is not a pickle as broken, but a .bin of other data as not a pickle', async () => {
    expect(errors(await scanFile('notes.pkl', b('just some text\n')))).toHaveLength(1)
    const bin = await scanFile('weights.bin', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)))
    expect(bin.format).toBe('not-a-pickle')
    expect(errors(bin)).toEqual([])
    expect(bin.problems).toEqual([expect.objectContaining({ severity: 'info' })])
  })

  it('still finds a payload in a .bin that does not start like a pickle', async () => {
    const r = await scanFile('sneaky.bin', b("G\x00\x00\x00\x00\x00\x00\x00\x000cposix\nsystem\n(S'id'\ntR\xff\xff"))
    expect(dangerous(r)).toEqual(['sneaky.bin!posix.system'])
  })

  it('seeks over a large binary argument and still scans what follows it', async () => {
    const size = 12 * 1024 * 1024
    const head = Buffer.alloc(11)
    head.write('\x80\x04\x8e', 'latin1')
    head.writeBigUInt64LE(BigInt(size), 3)
    const data = Buffer.concat([head, Buffer.alloc(size, 0x61), b('0cos\nsystem\n0N.')])
    const r = await scanFile('big.pkl', data)
    expect(dangerous(r)).toEqual(['big.pkl!os.system'])
    expect(r.streams[0]!.result.bytes).toBe(data.length)
  })
})
