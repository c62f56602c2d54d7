// npx tsx bench/hash.ts: the manifest's hashing against `openssl dgst -sha256` on the same files, page cache warm.
//
// (a) one 1 GiB file: ours must reach 90% of openssl's throughput (the single-thread read loop).
// (b) 8 × 128 MiB files: ours must beat openssl run over them one after another (the worker pool, every core).
//
// The files are made once and kept in the OS temp dir (2 GiB). Each measurement is the best of 3, the two sides
// alternating. The machine should be otherwise idle: (b) needs every core.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createManifest, type Manifest } from '../src/core/model-dir/manifest.js'
import { walkModelDir } from '../src/core/model-dir/walk.js'

const run = promisify(execFile)
const MiB = 1 << 20
const RUNS = 3
const cache = join(tmpdir(), 'modelgate-bench-hash-v1')
const single = { dir: join(cache, 'single'), files: [{ name: 'model.bin', size: 1024 * MiB }] }
const multi = {
  dir: join(cache, 'multi'),
  files: Array.from({ length: 8 }, (_, i) => ({ name: `shard-${i}.bin`, size: 128 * MiB }))
}

/** Random 16 MiB blocks, a fresh one per file, repeated: sha256's speed does not depend on the data. */
function prepare(model: typeof single): void {
  const done = join(cache, `${model.dir.split('/').pop()}.complete`)
  if (existsSync(done)) return
  rmSync(model.dir, { recursive: true, force: true })
  mkdirSync(model.dir, { recursive: true })
  for (const { name, size } of model.files) {
    const block = randomBytes(16 * MiB)
    const fd = openSync(join(model.dir, name), 'w')
    for (let written = 0; written < size; written += block.length)
      writeSync(fd, block, 0, Math.min(block.length, size - written))
    closeSync(fd)
  }
  writeFileSync(done, '')
}

async function time<T>(measure: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint()
  const value = await measure()
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value }
}

/** `openssl dgst -sha256` once per file, one process after another; returns each file's hash. */
async function openssl(model: typeof single): Promise<Map<string, string>> {
  const hashes = new Map<string, string>()
  for (const { name } of model.files) {
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-r', join(model.dir, name)])
    hashes.set(name, stdout.split(' ')[0])
  }
  return hashes
}

async function ours(model: typeof single): Promise<Manifest> {
  const walk = await walkModelDir(model.dir)
  const { manifest } = await createManifest(walk.files)
  if (!manifest) throw new Error(`could not hash ${model.dir}`)
  return manifest
}

const bytesOf = (model: typeof single) => model.files.reduce((sum, f) => sum + f.size, 0)
const rate = (model: typeof single, seconds: number) => bytesOf(model) / 1e6 / seconds

prepare(single)
prepare(multi)
// Warm the page cache, so both sides read from memory and the disk measures neither.
for (const model of [single, multi]) for (const { name } of model.files) readFileSync(join(model.dir, name))

const rows: string[] = []
for (const [label, model] of [
  ['1 GiB, one file', single],
  ['8 × 128 MiB files', multi]
] as const) {
  // Alternating runs, so that other load on the machine hits both sides alike.
  let reference = { seconds: Infinity, value: new Map<string, string>() }
  let mine: { seconds: number; value: Manifest | undefined } = { seconds: Infinity, value: undefined }
  for (let i = 0; i < RUNS; i++) {
    const theirs = await time(() => openssl(model))
    if (theirs.seconds < reference.seconds) reference = theirs
    const us = await time(() => ours(model))
    if (us.seconds < mine.seconds) mine = us
  }
  for (const entry of mine.value?.files ?? []) {
    if (reference.value.get(entry.path) !== entry.sha256) throw new Error(`${entry.path}: hashes differ from openssl`)
  }
  const theirs = rate(model, reference.seconds)
  const us = rate(model, mine.seconds)
  rows.push(
    `${label.padEnd(18)}  openssl ${theirs.toFixed(0).padStart(5)} MB/s   modelgate ${us.toFixed(0).padStart(5)} MB/s   ratio ${(us / theirs).toFixed(2)}`
  )
}
console.log(`sha256, page cache warm, best of ${RUNS}, MB = 10^6 bytes, ${availableParallelism()} cores`)
console.log(rows.join('\n'))
