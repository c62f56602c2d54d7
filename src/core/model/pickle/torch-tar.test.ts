/**
 * torch.save's tar format (before PyTorch 0.4) read as torch.load reads it, over files written byte for byte as
 * torch 0.3 wrote them (test/fixtures/pickles/make_torch_tar.py, which also reads each back with a transcription of
 * torch's legacy_load and records whether that reader gets through it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeWithPython, REPO_ROOT, runPython } from '../../../../test/fixtures/models/real-models.js'
import { checkPickles } from './check.js'
import { scanModelFile, type FileScanReport } from './containers.js'
import { createPolicy } from './policy.js'
import { scanPickleBytes } from './scanner.js'
import { bufferSource } from './source.js'
import { scanTorchMember } from './torch-tar.js'
import { GlobalVal, TupleVal } from './values.js'

interface Case {
  file: string
  loads: boolean
  error: string | null
  imports: string[]
}

let dir: string
const cases = new Map<string, Case>()
const policy = createPolicy()

async function scan(file: string): Promise<FileScanReport> {
  const absolute = join(dir, file)
  return scanModelFile({ path: file, absolute, size: statSync(absolute).size }, { policy })
}

const errors = (r: FileScanReport): string[] => [
  ...r.problems.filter(p => p.severity !== 'info').map(p => `${p.path}: ${p.message}`),
  ...r.streams.flatMap(s => s.result.problems.map(p => `${s.path}: ${p.message} (offset ${p.offset})`))
]
const imports = (r: FileScanReport, rating?: string): string[] => [
  ...new Set(
    r.streams.flatMap(s =>
      s.result.imports.filter(i => !rating || i.rating === rating).map(i => `${i.module}.${i.name}`)
    )
  )
]

describeWithPython('torch.save’s tar format', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-torch-tar-'))
    await runPython([join(REPO_ROOT, 'test/fixtures/pickles/make_torch_tar.py'), dir])
    for (const c of (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Case[] }).files) {
      cases.set(c.file, c)
    }
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads a float model through every storage and tensor record, seeing what Python imports, all allowlisted', async () => {
    expect(cases.get('float.pt')).toMatchObject({ loads: true })
    const r = await scan('float.pt')
    expect(r.format).toBe('legacy-torch-tar')
    expect(errors(r)).toEqual([])
    expect(imports(r, 'unknown')).toEqual([])
    expect(imports(r, 'dangerous')).toEqual([])
    expect(imports(r).sort()).toEqual(cases.get('float.pt')!.imports)
    const storages = r.streams.find(s => s.path === 'float.pt:storages')!.result
    // The count, two (key, location, type) tuples, the views; every byte of the member accounted for.
    expect(storages.pickles).toBe(4)
    expect(r.streams.find(s => s.path === 'float.pt:tensors')!.result.pickles).toBe(4)
    const check = await checkPickles([
      { path: 'float.pt', absolute: join(dir, 'float.pt'), size: statSync(join(dir, 'float.pt')).size }
    ])
    expect(check.status).toBe('pass')
    expect(check.summary).toContain('only allowlisted imports')
  })

  it('reads double and long storages (8-byte elements) and a 0-dimensional tensor', async () => {
    expect(cases.get('double_long.pt')).toMatchObject({ loads: true })
    const r = await scan('double_long.pt')
    expect(errors(r)).toEqual([])
    expect(imports(r).sort()).toEqual(cases.get('double_long.pt')!.imports)
    expect(imports(r, 'safe').sort()).toEqual(imports(r).sort())
  })

  it('fails a dangerous GLOBAL inside the (key, location, storage type) tuple, naming it', async () => {
    const key = await scan('evil_key.pt')
    expect(cases.get('evil_key.pt')!.imports).toContain('posix.system')
    expect(imports(key, 'dangerous')).toEqual(['posix.system'])
    expect(key.streams.find(s => s.path === 'evil_key.pt:storages')!.result.imports).toContainEqual(
      expect.objectContaining({ module: 'posix', name: 'system', rating: 'dangerous' })
    )
    // As the storage type itself: dangerous, and no element size to read its record by.
    const type = await scan('evil_type.pt')
    expect(imports(type, 'dangerous')).toEqual(['builtins.eval'])
    expect(errors(type)).toEqual([
      expect.stringMatching(
        /^evil_type\.pt:storages: .*storage type builtins\.eval, whose element size .* \(offset 5\)/
      )
    ])
    const check = await checkPickles([
      { path: 'evil_key.pt', absolute: join(dir, 'evil_key.pt'), size: statSync(join(dir, 'evil_key.pt')).size }
    ])
    expect(check.status).toBe('fail')
    expect(check.findings.filter(f => f.severity === 'error').map(f => `${f.file} ${f.message}`)).toEqual([
      expect.stringMatching(/^evil_key\.pt:storages .*posix\.system/)
    ])
  })

  it('fails what torch.load cannot read, naming the member and the offset, and never calls it read', async () => {
    const expected: Array<[string, RegExp]> = [
      [
        'truncated_record.pt',
        /^truncated_record\.pt:storages: .*storage 2 of 2 holds 3 FloatStorage elements \(12 bytes\) but 8 bytes are left .*\(offset 117\)/
      ],
      ['untyped_storage.pt', /^untyped_storage\.pt:storages: .*storage type torch\.UntypedStorage, whose element size/],
      [
        'negative_ndim.pt',
        /^negative_ndim\.pt:tensors: .*tensor 1 of 1 has a negative number of dimensions \(-1\) \(offset 44\)/
      ],
      ['trailing_bytes.pt', /^trailing_bytes\.pt:tensors: .*16 bytes follow the last tensor/],
      ['hostile_tensor_count.pt', /^hostile_tensor_count\.pt:tensors: .*2147483647 tensors cannot fit in the 205 bytes/]
    ]
    for (const [file, message] of expected) {
      const r = await scan(file)
      expect({ file, errors: errors(r) }).toEqual({ file, errors: [expect.stringMatching(message)] })
      const check = await checkPickles([
        { path: file, absolute: join(dir, file), size: statSync(join(dir, file)).size }
      ])
      expect({ file, status: check.status }).toEqual({ file, status: 'fail' })
      expect(check.summary).not.toContain('only allowlisted')
    }
    // Python's reader fails on all but the trailing bytes, which it leaves unread.
    expect(expected.map(([file]) => [file, cases.get(file)!.loads])).toEqual(
      expected.map(([file]) => [file, file === 'trailing_bytes.pt'])
    )
  })

  it('fails a hostile count at once, without looping over it', async () => {
    // The message proves the count was refused before any record was read; a loop over it would not end.
    const r = await scan('hostile_count.pt')
    expect(errors(r)).toEqual([
      expect.stringMatching(
        /^hostile_count\.pt:storages: .*4611686018427387904 storages cannot fit in the 138 bytes .*\(offset 0\)/
      )
    ])
    expect(cases.get('hostile_count.pt')!.loads).toBe(false)
  })
})

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const int64 = (n: bigint | number): Buffer => Buffer.from(new BigInt64Array([BigInt(n)]).buffer)
const STORAGE = b('\x80\x02X\x01\x00\x00\x001q\x00X\x03\x00\x00\x00cpuq\x01ctorch\nDoubleStorage\nq\x02\x87q\x03.')
const VIEWS = b('\x80\x02]q\x00.')

async function member(kind: 'storages' | 'tensors', data: Buffer) {
  const r = await scanTorchMember(bufferSource(data), 0, data.length, kind, policy)
  return { problem: r.problem, pickleProblems: r.result.problems.map(p => `${p.message} (offset ${p.offset})`) }
}

describe('one pickle at a time (readOne)', () => {
  it('stops at STOP with the pickle’s value and length, ignoring what follows', () => {
    const r = scanPickleBytes(Buffer.concat([STORAGE, Buffer.alloc(40, 0xff)]), { policy, readOne: true })
    expect(r.problems).toEqual([])
    expect(r.bytes).toBe(STORAGE.length)
    const value = r.value as TupleVal
    expect(value).toBeInstanceOf(TupleVal)
    expect(value.items.slice(0, 2)).toEqual(['1', 'cpu'])
    expect(value.items[2]).toEqual(expect.objectContaining({ module: 'torch', name: 'DoubleStorage' }))
    expect(value.items[2]).toBeInstanceOf(GlobalVal)
  })

  it('ends where CPython’s file reader ends: after the whole frame, when the STOP comes inside it', () => {
    const framed = Buffer.concat([b('\x80\x04\x95'), int64(6), b('K\x07.'), Buffer.alloc(3)])
    const r = scanPickleBytes(Buffer.concat([framed, b('junk')]), { policy, readOne: true })
    expect([r.value, r.bytes]).toEqual([7, framed.length])
  })
})

describe('the storages and tensors members', () => {
  it('reads a record and skips its elements by size', async () => {
    const data = Buffer.concat([b('\x80\x02K\x01.'), STORAGE, int64(3), Buffer.alloc(24), VIEWS])
    expect(await member('storages', data)).toEqual({ problem: undefined, pickleProblems: [] })
  })

  it.each([
    ['a count that is not an int', b('\x80\x02X\x01\x00\x00\x00x.'), /storage count is str, not an int/],
    [
      'a count past 2^63',
      Buffer.concat([b('\x80\x02\x8a\x09'), Buffer.alloc(8), b('\x01.'), Buffer.alloc(64)]),
      /18446744073709551616 storages cannot fit in the 64 bytes left/
    ],
    [
      'a description that is not a 3-tuple',
      Buffer.concat([b('\x80\x02K\x01.'), b('\x80\x02K\x05.'), Buffer.alloc(16)]),
      /storage 1 of 1 is int, not the \(key, location, storage type\) tuple/
    ],
    [
      'a negative element count',
      Buffer.concat([b('\x80\x02K\x01.'), STORAGE, int64(-1), VIEWS]),
      /negative element count \(-1\)/
    ],
    [
      'an element count past the end',
      Buffer.concat([b('\x80\x02K\x01.'), STORAGE, int64(2n ** 60n), VIEWS]),
      /holds 1152921504606846976 DoubleStorage elements \(9223372036854775808 bytes\) but 6 bytes are left/
    ],
    [
      'an element count cut short',
      Buffer.concat([b('\x80\x02K\x01.'), STORAGE, b('\x01\x00')]),
      /element count of storage 1 of 1 runs past the end of the member/
    ]
  ])('fails %s', async (_, data, message) => {
    const r = await member('storages', data as Buffer)
    expect([r.problem?.message ?? r.pickleProblems.join('; ')]).toEqual([expect.stringMatching(message as RegExp)])
  })

  it('runs no loop for a negative count, as range() does, and reads the views after it', async () => {
    expect(await member('storages', Buffer.concat([b('\x80\x02J\xff\xff\xff\xff.'), VIEWS]))).toEqual({
      problem: undefined,
      pickleProblems: []
    })
  })

  it('fails a member that ends before the storage views', async () => {
    const r = await member('storages', b('\x80\x02K\x00.'))
    expect(r.pickleProblems).toEqual(['the storage views: empty stream: no pickle (offset 5)'])
  })
})
