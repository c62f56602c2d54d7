import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { buildManifest, createManifest, hashFile, hashFiles, manifestText, type HashOptions } from './manifest.js'
import type { ModelFile } from './types.js'
import { walkModelDir } from './walk.js'

const run = promisify(execFile)
let root: string
let count = 0

function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex')
}

/** Writes `files` (path → content) into a fresh directory, in the order given. */
function tree(files: ReadonlyArray<readonly [string, Buffer | string]>): string {
  const dir = join(root, `t${count++}`)
  mkdirSync(dir)
  for (const [path, content] of files) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}

async function digestOf(dir: string, options: HashOptions = {}): Promise<string> {
  const walk = await walkModelDir(dir)
  const { manifest } = await createManifest(walk.files, options)
  if (!manifest) throw new Error('no manifest')
  return manifest.digest
}

/**
 * The digest as the comment at the top of manifest.ts defines it, computed by Python from the directory alone: its
 * own walk, its own hashing, its own sort. Agreement means the definition is implementable from the comment.
 */
const PYTHON_DIGEST = `
import hashlib, os, sys
root = os.fsencode(sys.argv[1])
lines = []
for top, dirs, files in os.walk(root):
    for name in files:
        full = os.path.join(top, name)
        rel = os.path.relpath(full, root).replace(os.sep.encode(), b'/')
        with open(full, 'rb') as f:
            data = f.read()
        escaped = rel.replace(b'\\\\', b'\\\\\\\\').replace(b'\\n', b'\\\\n')
        lines.append((rel, hashlib.sha256(data).hexdigest().encode() + b'  ' + str(len(data)).encode() + b'  ' + escaped + b'\\n'))
lines.sort()
print(hashlib.sha256(b''.join(line for _, line in lines)).hexdigest())
`

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-manifest-'))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('manifestText', () => {
  it('is one line per file sorted by path bytes, with backslash and line feed escaped', () => {
    const h = (c: string) => c.repeat(64)
    const text = manifestText([
      { path: 'b/😀', size: 3, sha256: h('a') },
      { path: 'b/\uffff', size: 0, sha256: h('b') },
      { path: 'a\\b\nc', size: 10, sha256: h('c') },
      { path: 'MLmodel', size: 120, sha256: h('d') }
    ])
    expect(text).toBe(
      `${h('d')}  120  MLmodel\n${h('c')}  10  a\\\\b\\nc\n${h('b')}  0  b/\uffff\n${h('a')}  3  b/😀\n`
    )
  })

  it('keeps a name that imitates a line distinct from the two files it imitates', () => {
    const h = 'e'.repeat(64)
    const one = buildManifest([{ path: `a\n${h}  1  b`, size: 1, sha256: h }])
    const two = buildManifest([
      { path: 'a', size: 1, sha256: h },
      { path: 'b', size: 1, sha256: h }
    ])
    expect(one.digest).not.toBe(two.digest)
  })

  it('digests an empty model as the sha256 of nothing, and refuses a path listed twice', () => {
    expect(buildManifest([]).digest).toBe(sha256(''))
    const entry = { path: 'x', size: 0, sha256: sha256('') }
    expect(() => buildManifest([entry, entry])).toThrow('lists x twice')
  })
})

describe('the manifest of a directory', () => {
  const files: [string, string][] = [
    ['MLmodel', 'artifact_path: model\nflavors: {}\n'],
    ['data/model.pkl', 'weights'],
    ['data/empty', ''],
    ['données/é.txt', 'unicode'],
    ['conda.yaml', 'name: env\n']
  ]

  it('does not depend on creation order, timestamps or permissions', async () => {
    const forward = tree(files)
    const backward = tree([...files].reverse())
    utimesSync(join(backward, 'MLmodel'), new Date(2001, 1, 1), new Date(2001, 1, 1))
    utimesSync(join(forward, 'data/model.pkl'), new Date(2030, 1, 1), new Date(2030, 1, 1))
    chmodSync(join(backward, 'conda.yaml'), 0o600)
    chmodSync(join(forward, 'data/model.pkl'), 0o755)
    expect(await digestOf(forward)).toBe(await digestOf(backward))
  })

  it('changes when one byte changes, when a file is renamed, and when an empty file is added', async () => {
    const base = await digestOf(tree(files))
    const changed = files.map(([p, c]): [string, string] => [p, p === 'data/model.pkl' ? 'weightS' : c])
    expect(await digestOf(tree(changed))).not.toBe(base)
    const dir = tree(files)
    renameSync(join(dir, 'conda.yaml'), join(dir, 'conda.yml'))
    expect(await digestOf(dir)).not.toBe(base)
    expect(await digestOf(tree([...files, ['data/other', '']]))).not.toBe(base)
  })

  it('equals the same definition computed independently by python hashlib', async () => {
    const dir = tree([
      ...files,
      ['a\\b.txt', 'backslash'],
      ['line\nfeed', 'newline'],
      ['z/😀', randomBytes(3000)],
      ['z/\uffff', 'sorts after the emoji in UTF-16, before it in UTF-8'],
      ['big.bin', randomBytes(5 << 20)]
    ])
    const { stdout } = await run('python3', ['-c', PYTHON_DIGEST, dir])
    expect(await digestOf(dir)).toBe(stdout.trim())
    expect(await digestOf(dir, { parallelism: 2, parallelMinSavedBytes: 0, chunkBytes: 1 << 16 })).toBe(stdout.trim())
  })

  it('per-file hashes equal sha256sum', async () => {
    const dir = tree(files)
    const walk = await walkModelDir(dir)
    const { manifest } = await createManifest(walk.files)
    const sums = execFileSync(
      'sha256sum',
      walk.files.map(f => f.path),
      { cwd: dir, encoding: 'utf8' }
    )
    // sha256sum prints `<hash>  <name>` per file, in the order given.
    expect(manifest?.files.map(f => `${f.sha256}  ${f.path}`).join('\n')).toBe(sums.trim())
  })

  it('is a function of the set of (path, content) pairs only (property)', async () => {
    const segment = fc.constantFrom('a', 'b', 'B', 'é', '😀', 'x.y', '\uffff')
    const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map(parts => parts.join('/'))
    const model = fc
      .uniqueArray(fc.tuple(path, fc.uint8Array({ maxLength: 64 })), { selector: ([p]) => p, maxLength: 6 })
      // A path can't be both a file and a directory of another path.
      .filter(entries => entries.every(([p]) => entries.every(([q]) => !q.startsWith(`${p}/`))))
    await fc.assert(
      fc.asyncProperty(model, fc.infiniteStream(fc.nat()), async (entries, shuffles) => {
        const contents = entries.map(([p, c]): [string, Buffer] => [p, Buffer.from(c)])
        const shuffled = [...contents].sort(() => (shuffles.next().value % 3) - 1)
        const a = tree(contents)
        const b = tree(shuffled)
        utimesSync(b, new Date(2000, 0, 1), new Date(2000, 0, 1))
        const expected = buildManifest(contents.map(([p, c]) => ({ path: p, size: c.length, sha256: sha256(c) })))
        expect(await digestOf(a)).toBe(expected.digest)
        expect(await digestOf(b)).toBe(expected.digest)
      }),
      { numRuns: 40 }
    )
  })
})

describe('hashFiles', () => {
  const chunk = 64 << 10
  const sizes = [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 12345]
  let files: ModelFile[]
  let contents: Map<string, Buffer>

  beforeAll(async () => {
    contents = new Map(sizes.map((size, i) => [`f${i}.bin`, randomBytes(size)]))
    const dir = tree([...contents])
    files = (await walkModelDir(dir)).files
  })

  it.each([
    ['worker threads', { parallelism: 3, parallelMinSavedBytes: 0, chunkBytes: chunk }],
    ['the main thread', { parallelism: 1, chunkBytes: chunk }]
  ])('hashes each of 6 files in %s to the sha256 of its whole content', async (_, options) => {
    const { entries, failures } = await hashFiles(files, options)
    expect(failures).toEqual([])
    expect(entries.map(e => e.path)).toEqual(files.map(f => f.path))
    for (const entry of entries) {
      const content = contents.get(entry.path) as Buffer
      expect(entry).toEqual({ path: entry.path, size: content.length, sha256: sha256(content) })
    }
  })

  it('hashes a file in one call to the sha256 of its content', async () => {
    const content = randomBytes(300_000)
    const dir = tree([['one', content]])
    expect(await hashFile(join(dir, 'one'), 4096)).toEqual({ sha256: sha256(content), size: 300_000 })
  })

  it.each([
    ['worker threads', { parallelism: 2, parallelMinSavedBytes: 0 }],
    ['the main thread', { parallelism: 1 }]
  ])(
    'in %s, reports files that vanished or became a FIFO or a link after the walk, without blocking',
    async (_, options) => {
      const dir = tree([
        ['gone', 'x'],
        ['fifo', 'x'],
        ['link', 'x'],
        ['ok', 'fine']
      ])
      const walked = (await walkModelDir(dir)).files
      rmSync(join(dir, 'gone'))
      rmSync(join(dir, 'fifo'))
      await run('mkfifo', [join(dir, 'fifo')])
      rmSync(join(dir, 'link'))
      symlinkSync('ok', join(dir, 'link'))
      const { manifest, entries, failures } = await createManifest(walked, options)
      expect(manifest).toBeUndefined()
      expect(entries.map(e => e.path)).toEqual(['ok'])
      expect(failures).toEqual([
        { path: 'fifo', reason: 'ENOTREGULAR' },
        { path: 'gone', reason: 'ENOENT' },
        { path: 'link', reason: 'ELOOP' }
      ])
    }
  )
})
