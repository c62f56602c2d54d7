import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkManifest, checkPaths, checkSecrets, checkSize, DEFAULT_MAX_SIZE_BYTES } from './integrity-checks.js'
import { formatBytes } from '../format.js'
import type { ModelFile } from './types.js'
import { walkModelDir } from '../model-dir/walk.js'

let root: string
let count = 0

function tree(files: Record<string, string | Buffer>): string {
  const dir = join(root, `t${count++}`)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}

const file = (path: string, size: number): ModelFile => ({ path, absolute: `/nowhere/${path}`, size })
const MiB = 1024 ** 2

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-integrity-'))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('checkPaths', () => {
  it('passes a directory of plain files and counts them', async () => {
    const result = checkPaths(await walkModelDir(tree({ MLmodel: 'x', 'data/model.pkl': 'y' })))
    expect(result).toMatchObject({
      id: 'paths',
      title: 'No file escapes the model directory',
      status: 'pass',
      summary: '2 files in 2 directories, no links or special files',
      data: { files: 2, directories: 1 }
    })
  })

  it('fails on a link out of the directory and warns on one inside', async () => {
    const dir = tree({ MLmodel: 'x' })
    symlinkSync('/etc/hostname', join(dir, 'host'))
    expect(checkPaths(await walkModelDir(dir))).toMatchObject({
      status: 'fail',
      summary: '1 error among 1 file in 1 directory'
    })
    const inner = tree({ MLmodel: 'x' })
    symlinkSync('MLmodel', join(inner, 'copy'))
    expect(checkPaths(await walkModelDir(inner))).toMatchObject({
      status: 'warn',
      summary: '1 warning among 1 file in 1 directory'
    })
  })
})

describe('checkSize', () => {
  const files = [
    file('a', 10 * MiB),
    file('b', 300 * MiB),
    file('c', 1),
    file('d', 5 * MiB),
    file('e', 7),
    file('f', 2)
  ]

  it('passes under 80% of the limit and lists the five largest files', () => {
    const result = checkSize(files)
    expect(result).toMatchObject({ id: 'size', status: 'pass', summary: '315 MiB of 2.0 GiB allowed, 6 files' })
    expect(result.data).toEqual({
      bytes: 315 * MiB + 10,
      limit: DEFAULT_MAX_SIZE_BYTES,
      files: 6,
      largest: [
        { path: 'b', size: 300 * MiB },
        { path: 'a', size: 10 * MiB },
        { path: 'd', size: 5 * MiB },
        { path: 'e', size: 7 },
        { path: 'f', size: 2 }
      ]
    })
  })

  it('warns above 80% of the limit and fails above it, naming the largest file', () => {
    const warn = checkSize(files, 380 * MiB)
    expect(warn.status).toBe('warn')
    expect(warn.findings[0].message).toBe(
      'the model is 315 MiB, 82% of the limit of 380 MiB; the largest file is b (300 MiB)'
    )
    const fail = checkSize(files, 315 * MiB)
    expect(fail.status).toBe('fail')
    expect(fail.findings[0].message).toMatch(/^the model is 315 MiB, over the limit of 315 MiB/)
    expect(checkSize(files, 315 * MiB + 10).status).toBe('warn')
  })

  it('passes an empty model and refuses a limit that is not a positive number', () => {
    expect(checkSize([])).toMatchObject({ status: 'pass', summary: '0 B of 2.0 GiB allowed, 0 files' })
    expect(() => checkSize(files, 0)).toThrow(RangeError)
    expect(() => checkSize(files, Number.NaN)).toThrow(RangeError)
  })
})

describe('checkManifest', () => {
  it('returns the manifest and its digest, file count and bytes', async () => {
    const walk = await walkModelDir(tree({ MLmodel: 'flavors: {}\n', 'data/model.pkl': 'weights' }))
    const { result, manifest } = await checkManifest(walk.files)
    const sha = (text: string) => createHash('sha256').update(text).digest('hex')
    // Byte order: 'M' (0x4d) sorts before 'd' (0x64).
    const text = `${sha('flavors: {}\n')}  12  MLmodel\n${sha('weights')}  7  data/model.pkl\n`
    expect(manifest).toEqual({
      version: 1,
      algorithm: 'sha256',
      digest: sha(text),
      files: [
        { path: 'MLmodel', size: 12, sha256: sha('flavors: {}\n') },
        { path: 'data/model.pkl', size: 7, sha256: sha('weights') }
      ]
    })
    expect(result).toMatchObject({
      id: 'manifest',
      status: 'pass',
      summary: `sha256:${sha(text).slice(0, 12)}… over 2 files (19 B)`,
      data: { digest: sha(text), files: 2, bytes: 19 }
    })
  })

  it('fails without a manifest when a file cannot be read, and when a file changed size since the walk', async () => {
    const dir = tree({ MLmodel: 'x', 'model.pkl': 'y' })
    const walk = await walkModelDir(dir)
    rmSync(join(dir, 'model.pkl'))
    const missing = await checkManifest(walk.files)
    expect(missing.manifest).toBeUndefined()
    expect(missing.result).toMatchObject({ status: 'fail', summary: '1 file could not be read; no manifest' })
    expect(missing.result.findings).toEqual([
      expect.objectContaining({ file: 'model.pkl', message: 'could not be read to hash it (ENOENT)' })
    ])
    writeFileSync(join(dir, 'MLmodel'), 'longer now')
    const grown = await checkManifest(walk.files.slice(0, 1))
    expect(grown.result.status).toBe('fail')
    expect(grown.result.findings[0].message).toBe('changed while it was checked (1 bytes when listed, 10 when hashed)')
  })

  it('gives no digest when the walk could not list part of the model: it would be the digest of a part', async () => {
    const walk = await walkModelDir(tree({ MLmodel: 'x' }))
    const partial = await checkManifest(walk.files, {}, ['sub'])
    expect(partial.manifest).toBeUndefined()
    expect(partial.result).toMatchObject({ status: 'fail', summary: '1 entry could not be listed; no manifest' })
    expect(partial.result.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'sub',
        message: 'could not be listed, so the manifest would leave out what it holds'
      })
    ])
  })
})

describe('checkSecrets', () => {
  it('passes a clean model and fails one with a credential file', async () => {
    const clean = await walkModelDir(tree({ MLmodel: 'x', 'requirements.txt': 'mlflow==3.17.2\n' }))
    expect(await checkSecrets(clean.files)).toMatchObject({
      id: 'secrets',
      status: 'pass',
      summary: 'no credentials in 2 files'
    })
    const binary = await walkModelDir(
      tree({ MLmodel: 'x', 'model.bin': Buffer.from([0x80, 0x04, 0]), 'notes.txt': 'x'.repeat(2 << 20) })
    )
    expect((await checkSecrets(binary.files)).summary).toBe(
      'no credentials in 1 text file; 2 files binary or over 1 MiB, not read'
    )
    const dirty = await walkModelDir(tree({ MLmodel: 'x', '.env': 'A=1\n', 'code/.netrc': 'machine x' }))
    expect(await checkSecrets(dirty.files)).toMatchObject({
      status: 'fail',
      summary: '2 findings in 2 files',
      data: { files: 3, flagged: 2 }
    })
  })
})

describe('formatBytes', () => {
  it('uses binary units with one decimal under ten', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024, DEFAULT_MAX_SIZE_BYTES].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '10 KiB',
      '2.0 GiB'
    ])
  })
})
