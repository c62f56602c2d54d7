/**
 * Getting pickle streams out of model files: plain pickles, joblib dumps (raw, zlib or gzip), PyTorch zip archives
 * (`archive/data.pkl`) and torch's legacy format, read in bounded chunks and never extracted to disk.
 *
 * What cannot be opened here (lz4, xz, bz2 joblib, encrypted zip entries) is reported, never passed in silence:
 * the file may still be loaded by the model and run its pickle.
 */
import { createReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { constants as zlibConstants, createGunzip, createInflate, createInflateRaw, inflateRawSync } from 'node:zlib'
import type { Readable, Transform } from 'node:stream'
import { errorMessage } from '../../errors.js'
import type { PicklePolicy } from './policy.js'
import { PickleScanner, type PickleScanResult } from './scanner.js'

/** Extensions loaded with pickle (or joblib, or torch.load) in practice. */
export const PICKLE_EXTENSIONS = ['.pkl', '.pickle', '.joblib', '.pt', '.pth', '.bin', '.ckpt', '.dat', '.sav']
/** Extensions that say "this is a pickle": anything else in them is a broken pickle, not some other format. */
const DEFINITE_EXTENSIONS = ['.pkl', '.pickle', '.joblib']
/** joblib's compressor suffixes after a pickle extension (`model.joblib.gz`, `model.pkl.z`). */
const COMPRESSED_PICKLE = /\.(pkl|pickle|joblib)\.(z|gz|gzip|bz2|xz|lzma|lz4)$/i

const CHUNK = 1024 * 1024
/** Skips at least this long become seeks (no read) when every view agrees to skip. */
const SEEK_MIN = 256 * 1024
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024 * 1024
/** deflate cannot expand more than ~1032:1; anything beyond is not an honest stream. */
const MAX_RATIO = 1100
const MAX_ZIP_ENTRIES = 100_000
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
const SNIFF = 16

export type FileFormat =
  | 'pickle'
  | 'npy'
  | 'joblib'
  | 'zlib'
  | 'gzip'
  | 'zip'
  | 'torch-zip'
  | 'legacy-torch'
  | 'unsupported-compression'
  | 'not-a-pickle'
  | 'unreadable'

/** One pickle stream: a whole file, a decompressed file, or a zip entry. */
export interface ScannedStream {
  /** `model.pkl`, or `model.pt:archive/data.pkl` for a zip entry. */
  readonly path: string
  /** How the bytes reached the scanner. */
  readonly encoding: 'raw' | 'zlib' | 'gzip' | 'deflate' | 'stored'
  readonly result: PickleScanResult
}

export interface ContainerProblem {
  readonly path: string
  readonly severity: 'error' | 'warning' | 'info'
  readonly message: string
}

export interface FileScanReport {
  readonly path: string
  readonly format: FileFormat
  readonly size: number
  readonly streams: readonly ScannedStream[]
  readonly problems: readonly ContainerProblem[]
}

export interface FileScanOptions {
  readonly policy: PicklePolicy
  /** Cap on bytes decompressed from one file (zip entries, zlib/gzip joblib). Default 4 GiB. */
  readonly maxBytes?: number
}

function hasExtension(path: string, extensions: readonly string[]): boolean {
  const lower = path.toLowerCase()
  return extensions.some(e => lower.endsWith(e))
}

function isPickleHeader(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6)
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b
}

/**
 * joblib's zlib header: 0x78 (32K window), with a valid check byte. Only 0x78, as joblib tests it: other valid zlib
 * headers include `(S`, which is also how a protocol 0 pickle starts.
 */
function isZlib(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x78 && ((b[0] << 8) | b[1]!) % 31 === 0
}

function isNpy(b: Uint8Array): boolean {
  return b.length >= 6 && Buffer.from(b.subarray(0, 6)).toString('latin1') === '\x93NUMPY'
}

/**
 * A .npy header (magic, version, header length, a Python dict literal). Object arrays are stored as a pickle right
 * after it, which numpy.load(allow_pickle=True) unpickles; other arrays are raw data.
 */
function npyLayout(head: Buffer): { dataStart: number; object: boolean } | string {
  if (head.length < 10) return 'truncated .npy header'
  const major = head[6]!
  const wide = major >= 2
  if (wide && head.length < 12) return 'truncated .npy header'
  const length = wide ? head.readUInt32LE(8) : head.readUInt16LE(8)
  const start = wide ? 12 : 10
  if (head.length < start + length) return 'truncated .npy header'
  const text = head.toString(major >= 3 ? 'utf8' : 'latin1', start, start + length)
  if (!/'descr'\s*:/.test(text)) return '.npy header has no descr'
  return { dataStart: start + length, object: /['"]\|O['"]/.test(text) }
}

/** Compressors joblib knows that node:zlib does not. */
function otherCompression(b: Uint8Array): string | undefined {
  const ascii = Buffer.from(b).toString('latin1')
  if (ascii.startsWith('BZh')) return 'bz2'
  if (ascii.startsWith('\xfd7zXZ')) return 'xz'
  if (ascii.startsWith(']\x00\x00')) return 'lzma'
  if (ascii.startsWith('\x04\x22\x4d\x18')) return 'lz4'
  if (ascii.startsWith('ZF')) return "joblib's pre-0.10 zlib format"
  return undefined
}

/**
 * Whether a file is worth opening as a pickle: a pickle extension, a pickle protocol header (`\x80` + 2..5), or a
 * zip (PyTorch archives; the scan then reads its directory and only scans pickle entries).
 */
export function isPickleCandidate(path: string, firstBytes: Uint8Array): boolean {
  return (
    hasExtension(path, PICKLE_EXTENSIONS) ||
    COMPRESSED_PICKLE.test(path) ||
    isPickleHeader(firstBytes) ||
    isZip(firstBytes) ||
    isNpy(firstBytes)
  )
}

/** Reads the first bytes of a file, for isPickleCandidate. */
export async function readFirstBytes(absolute: string, count = SNIFF): Promise<Buffer> {
  const fh = await open(absolute, 'r')
  try {
    const buf = Buffer.alloc(count)
    const { bytesRead } = await fh.read(buf, 0, count, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/** Decompressed bytes allowed for the rest of this file. */
interface Budget {
  left: number
  readonly max: number
}

// ---- reading ------------------------------------------------------------------------------------------------------

/** Feed a byte range of an open file, seeking over what every view of the scanner would skip anyway. */
async function feedRange(fh: FileHandle, start: number, length: number, scanner: PickleScanner): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(length, 1)))
  let pos = 0
  while (pos < length && scanner.wantsMore()) {
    const skip = scanner.skippable()
    if (skip >= SEEK_MIN) {
      const n = Math.min(skip, length - pos)
      scanner.skipped(n)
      pos += n
      continue
    }
    const n = Math.min(buf.length, length - pos)
    const { bytesRead } = await fh.read(buf, 0, n, start + pos)
    if (bytesRead === 0) break
    scanner.feed(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))
    pos += bytesRead
  }
}

/** Feed a decompressor's output, within the budget and a sane expansion ratio; returns an abort reason or undefined. */
async function feedInflated(
  input: Readable,
  inflater: Transform,
  compressedSize: number,
  budget: Budget,
  declaredSize: number | undefined,
  scanner: PickleScanner,
  what: string,
  drop = 0
): Promise<string | undefined> {
  let out = 0
  let toDrop = drop
  const stream = input.pipe(inflater)
  input.on('error', error => inflater.destroy(error))
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      out += chunk.length
      if (out > budget.left) {
        return `${what} decompresses to more than ${budget.max} bytes (the limit; a decompression bomb?)`
      }
      if (declaredSize !== undefined && out > declaredSize) {
        return `${what} decompresses to more than its declared ${declaredSize} bytes (a decompression bomb?)`
      }
      if (out > 16 * 1024 * 1024 && out / Math.max(compressedSize, 1) > MAX_RATIO) {
        return `${what} expands more than ${MAX_RATIO}:1, beyond what deflate can do (a decompression bomb?)`
      }
      if (toDrop >= chunk.length) {
        toDrop -= chunk.length
        continue
      }
      scanner.feed(toDrop ? chunk.subarray(toDrop) : chunk)
      toDrop = 0
      if (!scanner.wantsMore()) break
    }
    return undefined
  } catch (error) {
    return `${what} is not valid compressed data: ${errorMessage(error)}`
  } finally {
    budget.left -= out
    input.destroy()
    stream.destroy()
  }
}

// ---- one stream -----------------------------------------------------------------------------------------------------

interface StreamPlan {
  readonly display: string
  /** Speculative: the bytes may not be a pickle at all (an ambiguous extension, a sniffed zip entry). */
  readonly speculative: boolean
  readonly policy: PicklePolicy
  /** Where the pickle starts in the file or entry (after a .npy header), so offsets point into the file. */
  readonly baseOffset?: number
}

function newScanner(plan: StreamPlan, totalSize?: number): PickleScanner {
  return new PickleScanner({
    policy: plan.policy,
    mode: plan.speculative ? 'speculative' : 'full',
    ...(totalSize !== undefined ? { totalSize } : {}),
    ...(plan.baseOffset ? { baseOffset: plan.baseOffset } : {})
  })
}

/**
 * Scan a byte range (a whole file or a stored zip entry): sniff compression first. Returns the stream, or a
 * problem when the bytes are compressed with something node:zlib cannot read.
 */
async function scanRange(
  fh: FileHandle,
  absolute: string,
  start: number,
  length: number,
  first: Buffer,
  plan: StreamPlan,
  budget: Budget,
  problems: ContainerProblem[]
): Promise<ScannedStream | undefined> {
  const other = otherCompression(first)
  if (other) {
    problems.push({
      path: plan.display,
      severity: plan.speculative ? 'info' : 'warning',
      message: `compressed with ${other}, which this scanner cannot read: its pickle was not scanned`
    })
    return undefined
  }
  if (isGzip(first) || isZlib(first)) {
    const gzip = isGzip(first)
    const scanner = newScanner(plan)
    const input = createReadStream(absolute, { start, end: start + length - 1, highWaterMark: CHUNK })
    const abort = await feedInflated(
      input,
      gzip ? createGunzip({ chunkSize: 256 * 1024 }) : createInflate({ chunkSize: 256 * 1024 }),
      length,
      budget,
      undefined,
      scanner,
      `${plan.display} (${gzip ? 'gzip' : 'zlib'})`
    )
    const result = scanner.end(abort)
    if (abort && plan.speculative) {
      problems.push({ path: plan.display, severity: 'info', message: `not a pickle: ${abort}` })
    }
    return { path: plan.display, encoding: gzip ? 'gzip' : 'zlib', result }
  }
  const scanner = newScanner(plan, length)
  await feedRange(fh, start, length, scanner)
  return { path: plan.display, encoding: 'raw', result: scanner.end() }
}

// ---- zip --------------------------------------------------------------------------------------------------------

interface ZipEntry {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly csize: number
  readonly usize: number
  readonly localOffset: number
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await fh.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

function u64(buf: Buffer, p: number): number {
  const v = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 0x100000000
  return v <= Number.MAX_SAFE_INTEGER ? v : Number.MAX_SAFE_INTEGER
}

/** The central directory (the authoritative list, as zipfile and PyTorch's reader use it). */
async function readZipDirectory(fh: FileHandle, size: number): Promise<ZipEntry[] | string> {
  const tailLength = Math.min(size, 22 + 0xffff)
  const tailStart = size - tailLength
  const tail = await readAt(fh, tailStart, tailLength)
  let eocd = -1
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50 && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i
      break
    }
  }
  if (eocd < 0) return 'no end-of-central-directory record (not a complete zip file)'
  let count = tail.readUInt16LE(eocd + 10)
  let cdSize = tail.readUInt32LE(eocd + 12)
  let cdOffset = tail.readUInt32LE(eocd + 16)
  const eocdAt = tailStart + eocd
  let cdEnd = eocdAt
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdAt < 20) return 'ZIP64 locator missing'
    const locator = await readAt(fh, eocdAt - 20, 20)
    if (locator.length < 20 || locator.readUInt32LE(0) !== 0x07064b50) return 'ZIP64 locator missing'
    const z64At = u64(locator, 8)
    const z64 = await readAt(fh, z64At, 56)
    if (z64.length < 56 || z64.readUInt32LE(0) !== 0x06064b50) return 'ZIP64 end-of-central-directory record missing'
    count = u64(z64, 32)
    cdSize = u64(z64, 40)
    cdOffset = u64(z64, 48)
    cdEnd = z64At
  }
  if (count > MAX_ZIP_ENTRIES) return `${count} entries (more than ${MAX_ZIP_ENTRIES})`
  if (cdSize > MAX_CENTRAL_DIRECTORY) return `central directory of ${cdSize} bytes is too large`
  // Data prepended to the archive (self-extracting stubs) shifts every offset by the same amount.
  const shift = cdEnd - cdSize - cdOffset
  if (shift < 0) return 'central directory lies outside the file'
  const cd = await readAt(fh, cdOffset + shift, cdSize)
  if (cd.length < cdSize) return 'central directory is truncated'
  const entries: ZipEntry[] = []
  let p = 0
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) return `central directory entry ${i} is corrupt`
    const flags = cd.readUInt16LE(p + 8)
    const method = cd.readUInt16LE(p + 10)
    let csize = cd.readUInt32LE(p + 20)
    let usize = cd.readUInt32LE(p + 24)
    const nameLength = cd.readUInt16LE(p + 28)
    const extraLength = cd.readUInt16LE(p + 30)
    const commentLength = cd.readUInt16LE(p + 32)
    let localOffset = cd.readUInt32LE(p + 42)
    if (p + 46 + nameLength + extraLength > cd.length) return `central directory entry ${i} is truncated`
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLength)
    // ZIP64 extra field: the 64-bit values of whichever fields were saturated, in this order.
    let q = p + 46 + nameLength
    const extraEnd = q + extraLength
    while (q + 4 <= extraEnd) {
      const id = cd.readUInt16LE(q)
      const len = cd.readUInt16LE(q + 2)
      if (id === 0x0001) {
        let r = q + 4
        const end = q + 4 + len
        if (usize === 0xffffffff && r + 8 <= end) {
          usize = u64(cd, r)
          r += 8
        }
        if (csize === 0xffffffff && r + 8 <= end) {
          csize = u64(cd, r)
          r += 8
        }
        if (localOffset === 0xffffffff && r + 8 <= end) localOffset = u64(cd, r)
      }
      q += 4 + len
    }
    entries.push({ name, flags, method, csize, usize, localOffset: localOffset + shift })
    p = extraEnd + commentLength
  }
  return entries
}

/** Where an entry's data starts, from its local header. */
async function dataStart(fh: FileHandle, entry: ZipEntry): Promise<number | string> {
  const head = await readAt(fh, entry.localOffset, 30)
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) return 'local header missing'
  return entry.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28)
}

/** The first bytes of an entry's content, decompressing a little if needed. */
async function sniffEntry(fh: FileHandle, entry: ZipEntry, start: number, length = SNIFF): Promise<Buffer> {
  if (entry.method === 0) return readAt(fh, start, Math.min(length, entry.csize))
  const raw = await readAt(fh, start, Math.min(entry.csize, Math.max(4096, length)))
  try {
    return inflateRawSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, length)
  } catch {
    return Buffer.alloc(0)
  }
}

/** How much of a .npy's start to read for its header (headers are small; numpy caps them well below this). */
const NPY_HEAD = 64 * 1024

const PICKLE_ENTRY = /\.(pkl|pickle|joblib)$/i
const NPY_ENTRY = /\.npy$/i
const TORCH_DATA = /(^|\/)data\.pkl$/

async function scanZip(
  fh: FileHandle,
  file: { path: string; absolute: string; size: number },
  options: FileScanOptions,
  budget: Budget,
  problems: ContainerProblem[]
): Promise<{ format: FileFormat; streams: ScannedStream[] }> {
  const directory = await readZipDirectory(fh, file.size)
  if (typeof directory === 'string') {
    problems.push({ path: file.path, severity: 'error', message: `zip archive cannot be read: ${directory}` })
    return { format: 'zip', streams: [] }
  }
  const torch = directory.some(e => TORCH_DATA.test(e.name))
  const streams: ScannedStream[] = []
  const ranges: Array<readonly [number, number, string]> = []
  for (const entry of directory) {
    if (entry.name.endsWith('/')) continue
    const named = PICKLE_ENTRY.test(entry.name)
    // A torch archive's other entries are raw tensor bytes that torch never unpickles; elsewhere, an entry that
    // starts like a pickle is scanned too (speculatively: it may be data that happens to start with 0x80).
    if (torch && !named) continue
    const display = `${file.path}:${entry.name}`
    const start = await dataStart(fh, entry)
    if (typeof start === 'string') {
      if (named) problems.push({ path: display, severity: 'error', message: `zip entry cannot be read: ${start}` })
      continue
    }
    if (entry.flags & 1) {
      if (named) {
        problems.push({
          path: display,
          severity: 'warning',
          message: 'encrypted zip entry: its pickle was not scanned'
        })
      }
      continue
    }
    if (entry.method !== 0 && entry.method !== 8) {
      if (named) {
        problems.push({
          path: display,
          severity: 'warning',
          message: `zip compression method ${entry.method} is not supported: its pickle was not scanned`
        })
      }
      continue
    }
    if (start + entry.csize > file.size) {
      problems.push({
        path: display,
        severity: named ? 'error' : 'info',
        message: 'zip entry runs past the end of the file'
      })
      continue
    }
    const first = await sniffEntry(fh, entry, start)
    if (isNpy(first) || NPY_ENTRY.test(entry.name)) {
      // .npz members: only object arrays hold a pickle.
      const layout = npyLayout(await sniffEntry(fh, entry, start, NPY_HEAD))
      if (typeof layout === 'string') {
        problems.push({ path: display, severity: 'warning', message: `${layout}: not scanned` })
        continue
      }
      if (!layout.object) continue
      ranges.push([start, start + entry.csize, display])
      const plan: StreamPlan = { display, speculative: false, policy: options.policy, baseOffset: layout.dataStart }
      if (entry.method === 0) {
        const body = await readAt(fh, start + layout.dataStart, SNIFF)
        const stream = await scanRange(
          fh,
          file.absolute,
          start + layout.dataStart,
          entry.csize - layout.dataStart,
          body,
          plan,
          budget,
          problems
        )
        if (stream) streams.push({ ...stream, encoding: 'stored' })
      } else {
        const scanner = newScanner(plan)
        const input = createReadStream(file.absolute, { start, end: start + entry.csize - 1, highWaterMark: CHUNK })
        const inflater = createInflateRaw({ chunkSize: 256 * 1024 })
        const what = `zip entry ${entry.name}`
        const abort = await feedInflated(
          input,
          inflater,
          entry.csize,
          budget,
          entry.usize,
          scanner,
          what,
          layout.dataStart
        )
        streams.push({ path: display, encoding: 'deflate', result: scanner.end(abort) })
      }
      continue
    }
    if (!named && !isPickleHeader(first)) continue
    ranges.push([start, start + entry.csize, display])
    const plan: StreamPlan = { display, speculative: !named, policy: options.policy }
    if (entry.method === 0) {
      const stream = await scanRange(fh, file.absolute, start, entry.csize, first, plan, budget, problems)
      if (stream) streams.push({ ...stream, encoding: stream.encoding === 'raw' ? 'stored' : stream.encoding })
    } else {
      const scanner = newScanner(plan)
      const input = createReadStream(file.absolute, {
        start,
        end: start + entry.csize - 1,
        highWaterMark: CHUNK
      })
      const abort = await feedInflated(
        input,
        createInflateRaw({ chunkSize: 256 * 1024 }),
        entry.csize,
        budget,
        entry.usize,
        scanner,
        `zip entry ${entry.name}`
      )
      streams.push({ path: display, encoding: 'deflate', result: scanner.end(abort) })
    }
  }
  // Entries sharing compressed bytes are the overlapping-file zip bomb (and never written by zipfile or torch).
  ranges.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) {
      problems.push({
        path: file.path,
        severity: 'error',
        message: `zip entries ${ranges[i - 1]![2]} and ${ranges[i]![2]} overlap (a zip bomb technique)`
      })
      break
    }
  }
  return { format: torch ? 'torch-zip' : 'zip', streams }
}

// ---- a model file --------------------------------------------------------------------------------------------------

/** Scan one model file, whatever its container. Never throws for the file's content; I/O errors become problems. */
export async function scanModelFile(
  file: { path: string; absolute: string; size: number },
  options: FileScanOptions
): Promise<FileScanReport> {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES
  const budget: Budget = { left: max, max }
  const problems: ContainerProblem[] = []
  const streams: ScannedStream[] = []
  let format: FileFormat = 'pickle'
  let fh: FileHandle | undefined
  try {
    fh = await open(file.absolute, 'r')
    const size = (await fh.stat()).size
    const first = await readAt(fh, 0, SNIFF)
    const definite = hasExtension(file.path, DEFINITE_EXTENSIONS) || COMPRESSED_PICKLE.test(file.path)
    if (isZip(first)) {
      const zip = await scanZip(fh, { ...file, size }, options, budget, problems)
      format = zip.format
      streams.push(...zip.streams)
    } else if (isNpy(first)) {
      format = 'npy'
      const layout = npyLayout(await readAt(fh, 0, Math.min(size, NPY_HEAD)))
      if (typeof layout === 'string')
        problems.push({ path: file.path, severity: 'warning', message: `${layout}: not scanned` })
      else if (layout.object) {
        const body = await readAt(fh, layout.dataStart, SNIFF)
        const plan: StreamPlan = {
          display: file.path,
          speculative: false,
          policy: options.policy,
          baseOffset: layout.dataStart
        }
        const stream = await scanRange(
          fh,
          file.absolute,
          layout.dataStart,
          size - layout.dataStart,
          body,
          plan,
          budget,
          problems
        )
        if (stream) streams.push(stream)
      }
    } else {
      const speculative = !definite && !isPickleHeader(first)
      const plan: StreamPlan = { display: file.path, speculative, policy: options.policy }
      const stream = await scanRange(fh, file.absolute, 0, size, first, plan, budget, problems)
      if (!stream) format = 'unsupported-compression'
      else {
        streams.push(stream)
        const r = stream.result
        if (stream.encoding === 'zlib' || stream.encoding === 'gzip') format = stream.encoding
        else if (r.layout === 'legacy-torch') format = 'legacy-torch'
        else if (r.joblibArrays > 0) format = 'joblib'
        if (speculative && r.pickles === 0) {
          format = 'not-a-pickle'
          problems.push({
            path: file.path,
            severity: 'info',
            message: 'does not parse as a pickle (scanned only for dangerous imports)'
          })
        }
      }
    }
  } catch (error) {
    format = 'unreadable'
    problems.push({ path: file.path, severity: 'error', message: `cannot be read: ${errorMessage(error)}` })
  } finally {
    await fh?.close()
  }
  return { path: file.path, format, size: file.size, streams, problems }
}
