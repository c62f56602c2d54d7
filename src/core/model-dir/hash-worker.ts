/**
 * The source of the worker threads that hash model files in parallel (sha256 is CPU-bound, so one core per file).
 *
 * It is a string run with `new Worker(source, { eval: true })` rather than a module file because each action is
 * bundled by ncc into one file: ncc copies the file behind `new Worker(new URL('./x.js', import.meta.url))` as a
 * raw, uncompiled asset (a `.ts` that Node cannot load), and a function's `toString()` would carry coverage
 * counters into the worker under `jest --coverage`. An eval worker is CommonJS, hence `require`.
 *
 * Protocol: the parent posts `{ id, path, flags, chunk }`; the worker answers `{ id, sha256, size }` or
 * `{ id, error, code }`, one job at a time. `flags` come from the parent so that both sides open files the same
 * way (see MODEL_FILE_OPEN_FLAGS). A worker reads synchronously into one reused buffer until a read returns 0 bytes.
 */

export interface HashJob {
  readonly id: number
  readonly path: string
  readonly flags: number
  readonly chunk: number
}

export type HashReply =
  | { readonly id: number; readonly sha256: string; readonly size: number }
  | { readonly id: number; readonly error: string; readonly code?: string }

export const HASH_WORKER_SOURCE = `'use strict'
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const fs = require('node:fs')

let buffers = []

// Synchronous reads: a worker has nothing else to do while it waits, and a blocking read costs less CPU than a
// hand-off to libuv's thread pool and back. When every core is busy hashing, CPU time is wall time.
function hash(path, flags, chunk) {
  if (buffers.length === 0 || buffers[0].length !== chunk) buffers = [Buffer.allocUnsafe(chunk)]
  const fd = fs.openSync(path, flags)
  try {
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error(path + ' is no longer a regular file'), { code: 'ENOTREGULAR' })
    const digest = createHash('sha256')
    const buffer = buffers[0]
    let size = 0
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, chunk, size)
      if (read === 0) break
      size += read
      digest.update(read === chunk ? buffer : buffer.subarray(0, read))
    }
    return { sha256: digest.digest('hex'), size }
  } finally {
    try {
      fs.closeSync(fd)
    } catch {}
  }
}

parentPort.on('message', job => {
  try {
    const result = hash(job.path, job.flags, job.chunk)
    parentPort.postMessage({ id: job.id, sha256: result.sha256, size: result.size })
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error), code: error && error.code })
  }
})
`
