/**
 * The manifest of a model directory: every file's sha256 and size, and one digest over them that identifies the
 * model's content whatever machine, file order, timestamps or permissions it was computed with.
 *
 * The canonical manifest text, whose sha256 (lowercase hex) is the digest, is one line per file:
 *
 *     <sha256 of the content, 64 lowercase hex>  <size in bytes, decimal>  <path>\n
 *
 * two spaces between fields, files sorted by the UTF-8 bytes of their path, paths model-relative with `/`
 * separators and UTF-8 encoded, with `\` written as `\\` and a line feed as `\n` (nothing else is escaped). The
 * escape keeps the text unambiguous: without it a file named `a\n<sha256>  <size>  b` would read as two files.
 * An empty model's text is empty.
 *
 * Speed: a model can be tens of gigabytes, hashed on every push. One file is read in large chunks into two reused
 * buffers, the next read in flight while the current chunk is hashed, which keeps up with `openssl dgst`. Several
 * large files are hashed in worker threads, one per core, since sha256 is CPU-bound. A worker reads synchronously
 * into one buffer: with every core hashing, CPU time is wall time, and a blocking read costs less of it than a trip
 * through libuv's thread pool (the pool's CPU time is then on a par with openssl's). A small model is hashed on the
 * main thread alone: it starts no worker and does not even load worker_threads.
 */
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { forEachConcurrently } from '../concurrency.js'
import { errorCode } from '../errors.js'
import type { HashJob, HashReply } from './hash-worker.js'
import type { ModelFile } from './types.js'
import { MODEL_FILE_OPEN_FLAGS, openModelFile, sortByPath } from './walk.js'

export interface ManifestEntry {
  /** Model-relative, `/`-separated. */
  readonly path: string
  readonly size: number
  /** Lowercase hex. */
  readonly sha256: string
}

/** What the action writes beside its report (manifest.json). */
export interface Manifest {
  readonly version: 1
  readonly algorithm: 'sha256'
  /** sha256 of the canonical manifest text (see the top of this file). */
  readonly digest: string
  /** Sorted by the UTF-8 bytes of the path. */
  readonly files: readonly ManifestEntry[]
}

export interface HashFailure {
  readonly path: string
  /** Why it could not be read, e.g. `EACCES`. */
  readonly reason: string
}

export interface HashOptions {
  /** Worker threads at most; `os.availableParallelism()` by default. 1 hashes everything on the main thread. */
  readonly parallelism?: number
  /** Bytes per read. */
  readonly chunkBytes?: number
  /** Start workers only when they could save the hashing time of this many bytes (tests set 0 to force them). */
  readonly parallelMinSavedBytes?: number
}

/**
 * Bytes per read. Measured on the bench's files (256 KiB to 16 MiB): one thread hashes at the same speed from 512 KiB
 * up, and two workers are fastest at 2-4 MiB, where they spend least of the shared cores on read syscalls.
 */
export const DEFAULT_CHUNK_BYTES = 4 << 20

/**
 * Starting workers costs ~40 ms (two, on two cores), the time to hash ~64 MiB. Parallel hashing saves at most the
 * time of the bytes beyond what the busiest worker must hash, so a model of a few small files (the usual MLmodel,
 * environment files and one pickle) is hashed on the main thread and pays no start-up.
 */
export const PARALLEL_MIN_SAVED_BYTES = 128 << 20

function escapePath(path: string): string {
  return path.replace(/[\\\n]/g, c => (c === '\\' ? '\\\\' : '\\n'))
}

/** The canonical manifest text (see the top of this file). */
export function manifestText(entries: readonly ManifestEntry[]): string {
  return sortByPath(entries)
    .map(e => `${e.sha256}  ${e.size}  ${escapePath(e.path)}\n`)
    .join('')
}

export function manifestDigest(entries: readonly ManifestEntry[]): string {
  return createHash('sha256').update(manifestText(entries), 'utf8').digest('hex')
}

export function buildManifest(entries: readonly ManifestEntry[]): Manifest {
  const paths = new Set<string>()
  for (const entry of entries) {
    if (paths.has(entry.path)) throw new Error(`the manifest lists ${entry.path} twice`)
    paths.add(entry.path)
  }
  const files = sortByPath(entries).map(({ path, size, sha256 }) => ({ path, size, sha256 }))
  return { version: 1, algorithm: 'sha256', digest: manifestDigest(files), files }
}

class Buffers {
  private pair: [Buffer, Buffer] | undefined
  constructor(readonly chunk: number) {}
  get(): [Buffer, Buffer] {
    this.pair ??= [Buffer.allocUnsafe(this.chunk), Buffer.allocUnsafe(this.chunk)]
    return this.pair
  }
}

/** sha256 and size of one file, on the main thread, reading to the end whatever size the walk saw. */
export async function hashFile(
  absolute: string,
  chunkBytes: number = DEFAULT_CHUNK_BYTES
): Promise<{ sha256: string; size: number }> {
  return hashWith(absolute, new Buffers(chunkBytes))
}

async function hashWith(absolute: string, buffers: Buffers): Promise<{ sha256: string; size: number }> {
  const handle = await openModelFile(absolute)
  try {
    const pair = buffers.get()
    const chunk = buffers.chunk
    const digest = createHash('sha256')
    let size = 0
    let current = 0
    let pending = handle.read(pair[0], 0, chunk, 0)
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) break
      const buffer = pair[current]
      size += bytesRead
      current ^= 1
      pending = handle.read(pair[current], 0, chunk, size)
      digest.update(bytesRead === chunk ? buffer : buffer.subarray(0, bytesRead))
    }
    return { sha256: digest.digest('hex'), size }
  } finally {
    await handle.close()
  }
}

export interface HashedFiles {
  /** One per file that could be read, in the order of the files given. */
  readonly entries: ManifestEntry[]
  readonly failures: HashFailure[]
}

/** Hashes every file, in worker threads when the files are large enough for parallelism to pay. */
export async function hashFiles(files: readonly ModelFile[], options: HashOptions = {}): Promise<HashedFiles> {
  const chunk = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const workers = Math.min(options.parallelism ?? availableParallelism(), files.length)
  const outcomes =
    workers >= 2 && savedBytes(files, workers) >= (options.parallelMinSavedBytes ?? PARALLEL_MIN_SAVED_BYTES)
      ? await hashInWorkers(files, workers, chunk)
      : await hashInMainThread(files, chunk)
  const entries: ManifestEntry[] = []
  const failures: HashFailure[] = []
  files.forEach((file, i) => {
    const outcome = outcomes[i]
    if ('sha256' in outcome) entries.push({ path: file.path, size: outcome.size, sha256: outcome.sha256 })
    else failures.push({ path: file.path, reason: outcome.reason })
  })
  return { entries, failures }
}

/** How many bytes' worth of hashing time `workers` threads could save over one, at best. */
function savedBytes(files: readonly ModelFile[], workers: number): number {
  let total = 0
  let largest = 0
  for (const file of files) {
    total += file.size
    largest = Math.max(largest, file.size)
  }
  return total - Math.max(largest, total / workers)
}

type Outcome = { sha256: string; size: number } | { reason: string }

/**
 * Files of up to 1 MiB are hashed four at a time on the main thread: each costs an open, a stat, two reads and a
 * close, round trips through libuv's thread pool that are most of the time a small model takes to hash, and four
 * overlap. Larger files go one at a time, since the reads of one already overlap its hashing.
 */
const SMALL_FILE_LANES = 4
const SMALL_FILE_BYTES = 1 << 20

async function hashInMainThread(files: readonly ModelFile[], chunk: number): Promise<Outcome[]> {
  // No 8 MiB of buffers for a model of small files; one byte over the largest file lets its last read see the end.
  const largest = files.reduce((max, file) => Math.max(max, file.size), 0)
  const size = Math.min(chunk, Math.max(64 << 10, largest + 1))
  const lanes = largest < SMALL_FILE_BYTES ? SMALL_FILE_LANES : 1
  const buffers = Array.from({ length: Math.min(lanes, files.length) }, () => new Buffers(size))
  const outcomes: Outcome[] = new Array<Outcome>(files.length)
  await forEachConcurrently(
    files.map((_, i) => i),
    lanes,
    async (i, lane) => {
      outcomes[i] = await hashWith(files[i]!.absolute, buffers[lane]!).catch((error: unknown) => ({
        reason: errorCode(error)
      }))
    }
  )
  return outcomes
}

async function hashInWorkers(files: readonly ModelFile[], count: number, chunk: number): Promise<Outcome[]> {
  // Imported here: a small model, hashed on the main thread, loads neither worker_threads nor the worker's source.
  const [{ Worker }, { HASH_WORKER_SOURCE }] = await Promise.all([
    import('node:worker_threads'),
    import('./hash-worker.js')
  ])
  // Largest first: the pool then finishes together instead of waiting on one big file picked up last.
  const order = files.map((_, i) => i).sort((a, b) => files[b]!.size - files[a]!.size)
  const outcomes: Outcome[] = new Array<Outcome>(files.length)
  const pool = Array.from({ length: count }, () => new HashWorker(new Worker(HASH_WORKER_SOURCE, { eval: true })))
  try {
    await forEachConcurrently(order, count, async (i, lane) => {
      outcomes[i] = await pool[lane]!.hash({ id: i, path: files[i]!.absolute, flags: MODEL_FILE_OPEN_FLAGS, chunk })
    })
  } finally {
    await Promise.all(pool.map(worker => worker.stop()))
  }
  return outcomes
}

/** One worker thread, one job at a time. A worker that dies fails its job and every later one. */
class HashWorker {
  private waiting: { id: number; resolve: (outcome: Outcome) => void; reject: (error: Error) => void } | undefined
  private dead: Error | undefined

  constructor(private readonly worker: Worker) {
    this.worker.on('message', (reply: HashReply) => {
      const waiting = this.waiting
      if (!waiting || reply.id !== waiting.id) return
      this.waiting = undefined
      waiting.resolve('sha256' in reply ? reply : { reason: reply.code ?? reply.error })
    })
    this.worker.on('error', error => this.die(error))
    this.worker.on('exit', code => this.die(new Error(`a hash worker exited (code ${code})`)))
  }

  hash(job: HashJob): Promise<Outcome> {
    if (this.dead) return Promise.reject(this.dead)
    return new Promise((resolve, reject) => {
      this.waiting = { id: job.id, resolve, reject }
      this.worker.postMessage(job)
    })
  }

  async stop(): Promise<void> {
    this.dead ??= new Error('the hash worker was stopped')
    await this.worker.terminate()
  }

  private die(error: Error): void {
    this.dead ??= error
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.reject(error)
  }
}

/** Hashes the files and builds the manifest; no manifest when a file could not be read, as it would be partial. */
export async function createManifest(
  files: readonly ModelFile[],
  options: HashOptions = {}
): Promise<{ manifest: Manifest | undefined; entries: ManifestEntry[]; failures: HashFailure[] }> {
  const { entries, failures } = await hashFiles(files, options)
  return { manifest: failures.length ? undefined : buildManifest(entries), entries, failures }
}
