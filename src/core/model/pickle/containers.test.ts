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
    const r = await scanFile('model.skops', zip([{ name: 'schema.json', data: b('{}') }]))
    expect(r.streams).toEqual([])
    expect(r.problems).toEqual([])
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

  it('reports entries it cannot open instead of passing them', async () => {
    const r = await scanFile(
      'locked.pt',
      zip([
        { name: 'a/data.pkl', data: EVIL, flags: 1 },
        { name: 'a/other.pkl', data: EVIL, method: 8 }
      ]).fill(0, 0, 0)
    )
    expect(r.problems.map(p => [p.severity, p.message])).toEqual([['warning', expect.stringContaining('encrypted')]])
    const odd = zip([{ name: 'a/data.pkl', data: EVIL }])
    odd.writeUInt16LE(12, odd.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) + 10) // bzip2 method in the central directory
    const r2 = await scanFile('bzip.pt', odd)
    expect(r2.problems).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining('method 12') })
    ])
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
    [']\x00\x00\x80\x00', 'lzma'],
    ['\x04\x22\x4d\x18', 'lz4']
  ])('reports a %j-compressed joblib as unscannable, never as clean', async (magic, name) => {
    const r = await scanFile(`m.${name}.joblib`, Buffer.concat([b(magic), Buffer.alloc(64)]))
    expect(r.format).toBe('unsupported-compression')
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining(name) })
    ])
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
