/**
 * Getting pickle streams out of model files, whatever their container: plain pickles (any protocol, with or without
 * a header), joblib dumps (raw, or compressed with any compressor joblib reads: zlib, gzip, bz2, xz, lzma), PyTorch
 * zip archives (`archive/data.pkl`), torch's legacy formats (five concatenated pickles; the older tar), `.npy`/`.npz`
 * object arrays, skops files (their schema's types) and a zip inside a zip, read in bounded chunks and never
 * extracted to disk.
 *
 * A file that cannot be decoded (an unknown compression, a corrupt archive, data past a limit) is an error, never a
 * pass: the model's loader may still read it and run its pickle. The readers of each container are their own
 * modules (zip.ts, tar.ts, skops.ts, compression.ts); this one decides which applies and feeds the scanner.
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { createInflateRaw } from 'node:zlib'
import { errorMessage } from '../../errors.js'
import { decompress, sniffCompression, type Codec } from './compression.js'
import type { PicklePolicy } from './policy.js'
import type { PickleScanResult } from './result.js'
import type { PickleScanner } from './interpreter.js'
import { scanSkopsSchema } from './skops.js'
import {
  COMPRESSED_PICKLE,
  DEFINITE_EXTENSIONS,
  hasExtension,
  isHeaderlessPickle,
  isNpy,
  isPickleHeader,
  SNIFF
} from './sniff.js'
import { bufferSource, CHUNK, fileSource, type Source } from './source.js'
import { isTar, readTar } from './tar.js'
export { isPickleCandidate, PICKLE_EXTENSIONS, readFirstBytes } from './sniff.js'
import { dataStart, isZip, readZipDirectory, type ZipEntry } from './zip.js'

/** Skips at least this long become seeks (no read) when every view agrees to skip. */
const SEEK_MIN = 256 * 1024
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024 * 1024
/** deflate cannot expand more than ~1032:1; anything beyond is not an honest stream (bz2/xz/lzma can, up to a point). */
const MAX_RATIO: Readonly<Record<Codec | 'deflate', number>> = {
  zlib: 1100,
  gzip: 1100,
  deflate: 1100,
  bz2: 50_000,
  xz: 10_000,
  lzma: 10_000
}
/** A zip inside a zip is read into memory (within the file's decompression budget) up to this size. */
const NESTED_MAX = 1024 * 1024 * 1024
const MAX_NESTING = 2
const SKOPS_SCHEMA_MAX = 64 * 1024 * 1024

export type FileFormat =
  | 'pickle'
  | 'npy'
  | 'joblib'
  | Codec
  | 'zip'
  | 'torch-zip'
  | 'skops'
  | 'legacy-torch'
  | 'legacy-torch-tar'
  | 'unsupported-compression'
  | 'not-a-pickle'
  | 'unreadable'

/** One pickle stream: a whole file, a decompressed file, or a zip entry. */
export interface ScannedStream {
  /** `model.pkl`, or `model.pt:archive/data.pkl` for a zip entry. */
  readonly path: string
  /** How the bytes reached the scanner. */
  readonly encoding: 'raw' | Codec | 'deflate' | 'stored' | 'skops-schema'
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
  /** Cap on bytes decompressed from one file (zip entries, compressed joblib). Default 4 GiB. */
  readonly maxBytes?: number
  /** The model's MLmodel says this file is loaded as a pickle (whatever its name): anything else in it is an error. */
  readonly definite?: boolean
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

/** Decompressed bytes allowed for the rest of this file. */
interface Budget {
  left: number
  readonly max: number
}

interface Scan {
  readonly options: FileScanOptions
  readonly budget: Budget
  readonly problems: ContainerProblem[]
  readonly streams: ScannedStream[]
}

// ---- feeding the scanner --------------------------------------------------------------------------------------------

/** Feed a byte range, seeking over what every view of the scanner would skip anyway. */
async function feedRange(source: Source, start: number, length: number, scanner: PickleScanner): Promise<void> {
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
    const bytesRead = await source.readInto(buf, n, start + pos)
    if (bytesRead === 0) break
    scanner.feed(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))
    pos += bytesRead
  }
}

/** The decompressed content of `input`. A raw deflate stream fails with its source; a decoder that cannot load says so. */
async function decoded(input: Readable, codec: Codec | 'deflate'): Promise<AsyncIterable<Uint8Array>> {
  if (codec !== 'deflate') {
    return decompress(codec, input).catch((error: unknown) => {
      throw new Error(`the ${codec} decoder cannot be loaded: ${errorMessage(error)}`)
    })
  }
  const inflate = input.pipe(createInflateRaw({ chunkSize: 256 * 1024 }))
  input.on('error', error => inflate.destroy(error))
  return inflate
}

/**
 * Feed a decompressor's output within the budget and a sane expansion ratio. The scanner is made from the first
 * decompressed bytes (a pickle header makes a speculative plan definite). Returns the result.
 */
async function feedDecompressed(
  input: Readable,
  codec: Codec | 'deflate',
  compressedSize: number,
  budget: Budget,
  declaredSize: number | undefined,
  makeScanner: (first: Uint8Array) => PickleScanner,
  what: string,
  drop = 0
): Promise<{ result: PickleScanResult; abort: string | undefined }> {
  let out = 0
  let toDrop = drop
  let scanner: PickleScanner | undefined
  let abort: string | undefined
  try {
    const stream = await decoded(input, codec)
    for await (const chunk of stream) {
      out += chunk.length
      if (out > budget.left) {
        abort = `${what} decompresses to more than ${budget.max} bytes (the limit; a decompression bomb?)`
        break
      }
      if (declaredSize !== undefined && out > declaredSize) {
        abort = `${what} decompresses to more than its declared ${declaredSize} bytes (a decompression bomb?)`
        break
      }
      if (out > 16 * 1024 * 1024 && out / Math.max(compressedSize, 1) > MAX_RATIO[codec]) {
        abort = `${what} expands more than ${MAX_RATIO[codec]}:1 (a decompression bomb?)`
        break
      }
      if (toDrop >= chunk.length) {
        toDrop -= chunk.length
        continue
      }
      const piece = toDrop ? chunk.subarray(toDrop) : chunk
      toDrop = 0
      scanner ??= makeScanner(piece)
      scanner.feed(piece)
      if (!scanner.wantsMore()) break
    }
    if ('destroy' in stream && typeof stream.destroy === 'function') (stream as Readable).destroy()
  } catch (error) {
    abort = `${what} is not valid compressed data: ${errorMessage(error)}`
  } finally {
    budget.left -= out
    input.destroy()
  }
  scanner ??= makeScanner(new Uint8Array())
  return { result: scanner.end(abort), abort }
}

// ---- one stream -----------------------------------------------------------------------------------------------------

interface StreamPlan {
  readonly display: string
  /** Speculative: the bytes may not be a pickle at all (an ambiguous extension, a sniffed zip entry). */
  readonly speculative: boolean
  /** Where the pickle starts in the file or entry (after a .npy header), so offsets point into the file. */
  readonly baseOffset?: number
  /** Problems the scanner reports are all errors (the container's loader reads past the first pickle). */
  readonly strict?: boolean
}

let interpreter: typeof import('./interpreter.js') | undefined

/**
 * The interpreter, imported when a pickle stream is about to be read: a skops file, whose arrays are numeric .npy
 * entries and whose schema is JSON, never loads it.
 */
async function loadInterpreter(): Promise<void> {
  interpreter ??= await import('./interpreter.js')
}

function newScanner(scan: Scan, plan: StreamPlan, totalSize?: number, first?: Uint8Array): PickleScanner {
  const speculative = plan.speculative && !(first && isPickleHeader(first))
  return new interpreter!.PickleScanner({
    policy: scan.options.policy,
    mode: speculative ? 'speculative' : 'full',
    ...(totalSize !== undefined ? { totalSize } : {}),
    ...(plan.baseOffset ? { baseOffset: plan.baseOffset } : {})
  })
}

function push(scan: Scan, stream: ScannedStream, plan: StreamPlan): void {
  if (!plan.strict) {
    scan.streams.push(stream)
    return
  }
  const problems = stream.result.problems.map(p => ({ ...p, severity: 'error' as const }))
  scan.streams.push({ ...stream, result: { ...stream.result, problems } })
}

/**
 * Scan a byte range (a whole file, a stored zip entry, a tar member): sniff compression first. Returns the stream, or
 * undefined when the bytes are compressed with something this scanner cannot read (a problem says so).
 */
async function scanRange(
  scan: Scan,
  source: Source,
  start: number,
  length: number,
  first: Buffer,
  plan: StreamPlan
): Promise<ScannedStream | undefined> {
  await loadInterpreter()
  const codec = sniffCompression(first)
  if (codec && typeof codec === 'object') {
    scan.problems.push({
      path: plan.display,
      severity: plan.speculative ? 'info' : 'error',
      message: `compressed with ${codec.unreadable}, which this scanner cannot read: its pickle was not checked`
    })
    return undefined
  }
  if (codec) {
    const { result, abort } = await feedDecompressed(
      source.stream(start, start + length),
      codec,
      length,
      scan.budget,
      undefined,
      piece => newScanner(scan, plan, undefined, piece),
      `${plan.display} (${codec})`
    )
    if (abort && plan.speculative) {
      scan.problems.push({ path: plan.display, severity: 'info', message: `not a pickle: ${abort}` })
    }
    const stream: ScannedStream = { path: plan.display, encoding: codec, result }
    push(scan, stream, plan)
    return stream
  }
  const scanner = newScanner(scan, plan, length)
  await feedRange(source, start, length, scanner)
  const stream: ScannedStream = { path: plan.display, encoding: 'raw', result: scanner.end() }
  push(scan, stream, plan)
  return stream
}

// ---- zip --------------------------------------------------------------------------------------------------------

/** An entry's content as a stream, decompressed; undefined for a method this scanner cannot read. */
function entryStream(source: Source, entry: ZipEntry, start: number): { input: Readable; codec?: Codec | 'deflate' } {
  const input = source.stream(start, start + entry.csize)
  if (entry.method === 8) return { input, codec: 'deflate' }
  if (entry.method === 12) return { input, codec: 'bz2' }
  return { input }
}

/** The first bytes of an entry's content, decompressing a little if needed. */
async function sniffEntry(source: Source, entry: ZipEntry, start: number, length = SNIFF): Promise<Buffer> {
  if (entry.method === 0) return source.read(start, Math.min(length, entry.csize))
  const { input, codec } = entryStream(source, entry, start)
  const parts: Buffer[] = []
  let got = 0
  try {
    const stream = await decoded(input, codec!)
    for await (const chunk of stream) {
      parts.push(Buffer.from(chunk))
      got += chunk.length
      if (got >= length) break
    }
  } catch {
    // A broken entry sniffs as nothing; if it matters, the scan of it says what is wrong.
  } finally {
    input.destroy()
  }
  return Buffer.concat(parts).subarray(0, length)
}

/** A whole entry's content in memory (a nested zip, a skops schema), within `limit`; a string says why not. */
async function readEntry(
  scan: Scan,
  source: Source,
  entry: ZipEntry,
  start: number,
  limit: number
): Promise<Buffer | string> {
  if (entry.usize > limit || entry.usize > scan.budget.left)
    return `${entry.usize} bytes is more than this scanner reads into memory`
  if (entry.method === 0) return source.read(start, entry.csize)
  const { input, codec } = entryStream(source, entry, start)
  const parts: Buffer[] = []
  let got = 0
  try {
    const stream = await decoded(input, codec!)
    for await (const chunk of stream) {
      got += chunk.length
      if (got > entry.usize || got > limit) return `decompresses to more than its declared ${entry.usize} bytes`
      parts.push(Buffer.from(chunk))
    }
  } catch (error) {
    return `not valid compressed data: ${errorMessage(error)}`
  } finally {
    scan.budget.left -= got
    input.destroy()
  }
  return Buffer.concat(parts)
}

/** How much of a .npy's start to read for its header (headers are small; numpy caps them well below this). */
const NPY_HEAD = 64 * 1024

const PICKLE_ENTRY = /\.(pkl|pickle|joblib)$/i
const NPY_ENTRY = /\.npy$/i
const TORCH_DATA = /(^|\/)data\.pkl$/

/**
 * Scans a zip entry's pickle from byte `skip` of its content on (past an .npy header), stored or compressed alike.
 * `first` holds the stored bytes at `skip` when they were already read; a compressed entry is decompressed from its
 * start.
 */
async function scanEntry(
  scan: Scan,
  source: Source,
  entry: ZipEntry,
  start: number,
  plan: StreamPlan,
  skip: number,
  first?: Buffer
): Promise<void> {
  await loadInterpreter()
  if (entry.method === 0) {
    const head = first ?? (await source.read(start + skip, SNIFF))
    await scanRange(scan, source, start + skip, entry.csize - skip, head, plan)
    return
  }
  const { input, codec } = entryStream(source, entry, start)
  const { result } = await feedDecompressed(
    input,
    codec!,
    entry.csize,
    scan.budget,
    entry.usize,
    piece => newScanner(scan, plan, undefined, piece),
    `zip entry ${entry.name}`,
    skip
  )
  scan.streams.push({ path: plan.display, encoding: codec!, result })
}

async function scanZip(scan: Scan, source: Source, display: string, depth: number): Promise<FileFormat> {
  const directory = await readZipDirectory(source)
  if (typeof directory === 'string') {
    scan.problems.push({ path: display, severity: 'error', message: `zip archive cannot be read: ${directory}` })
    return 'zip'
  }
  const torch = directory.some(e => TORCH_DATA.test(e.name))
  const skops = !torch && directory.some(e => e.name === 'schema.json')
  const ranges: Array<readonly [number, number, string]> = []
  for (const entry of directory) {
    if (entry.name.endsWith('/')) continue
    const named = PICKLE_ENTRY.test(entry.name)
    // A torch archive's other entries are raw tensor bytes that torch never unpickles; elsewhere, an entry that
    // starts like a pickle is scanned too (speculatively: it may be data that happens to start with 0x80).
    if (torch && !named) continue
    const path = `${display}:${entry.name}`
    const fail = (message: string, severity: ContainerProblem['severity'] = 'error'): void => {
      scan.problems.push({ path, severity, message })
    }
    const start = await dataStart(source, entry)
    if (typeof start === 'string') {
      fail(`zip entry cannot be read: ${start}`, named || skops ? 'error' : 'info')
      continue
    }
    // The encryption flag is not trusted (CVE-2025-1945: torch.load ignores it and reads the entry as stored or
    // deflated): an entry that is really encrypted fails to decode below.
    if (entry.method !== 0 && entry.method !== 8 && entry.method !== 12) {
      fail(
        `zip compression method ${entry.method} cannot be read here: its content was not checked`,
        named || skops ? 'error' : 'info'
      )
      continue
    }
    if (start + entry.csize > source.size) {
      fail('zip entry runs past the end of the file', named ? 'error' : 'info')
      continue
    }
    ranges.push([start, start + entry.csize, path])
    if (skops && entry.name === 'schema.json') {
      const text = await readEntry(scan, source, entry, start, SKOPS_SCHEMA_MAX)
      const result = typeof text === 'string' ? text : scanSkopsSchema(text.toString('utf8'), scan.options.policy)
      if (typeof result === 'string') fail(`skops schema cannot be read: ${result}`)
      else scan.streams.push({ path, encoding: 'skops-schema', result })
      continue
    }
    const first = await sniffEntry(source, entry, start)
    if (isZip(first)) {
      if (depth >= MAX_NESTING) {
        fail(`a zip nested ${depth + 1} deep is not opened: its content was not checked`)
        continue
      }
      const inner = await readEntry(scan, source, entry, start, NESTED_MAX)
      if (typeof inner === 'string') fail(`zip inside the zip cannot be read: ${inner}`)
      else await scanZip(scan, bufferSource(inner), path, depth + 1)
      continue
    }
    if (isNpy(first) || NPY_ENTRY.test(entry.name)) {
      // .npz members: only object arrays hold a pickle.
      const layout = npyLayout(await sniffEntry(source, entry, start, NPY_HEAD))
      if (typeof layout === 'string') {
        fail(`${layout}: not checked`)
        continue
      }
      if (!layout.object) continue
      const plan: StreamPlan = { display: path, speculative: false, baseOffset: layout.dataStart }
      await scanEntry(scan, source, entry, start, plan, layout.dataStart)
      continue
    }
    if (!named && !isPickleHeader(first) && !isHeaderlessPickle(first)) continue
    await scanEntry(scan, source, entry, start, { display: path, speculative: !named }, 0, first)
  }
  // Entries sharing compressed bytes are the overlapping-file zip bomb (and never written by zipfile or torch).
  ranges.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) {
      scan.problems.push({
        path: display,
        severity: 'error',
        message: `zip entries ${ranges[i - 1]![2]} and ${ranges[i]![2]} overlap (a zip bomb technique)`
      })
      break
    }
  }
  return torch ? 'torch-zip' : skops ? 'skops' : 'zip'
}

// ---- tar (torch.save before PyTorch 0.4) ----------------------------------------------------------------------------

const TORCH_TAR_MEMBERS = new Set(['sys_info', 'pickle', 'storages', 'tensors'])

let torchTar: typeof import('./torch-tar.js') | undefined

async function scanTar(scan: Scan, source: Source, display: string): Promise<FileFormat> {
  const members = await readTar(source)
  if (typeof members === 'string') {
    scan.problems.push({ path: display, severity: 'error', message: `tar archive cannot be read: ${members}` })
    return 'legacy-torch-tar'
  }
  for (const m of members) {
    const base = m.name.split('/').pop()!
    const torch = TORCH_TAR_MEMBERS.has(base)
    if (!torch && !PICKLE_ENTRY.test(m.name)) continue
    const path = `${display}:${m.name}`
    if (base === 'storages' || base === 'tensors') {
      // Pickles interleaved with raw tensor bytes that torch.load reads by size: read as torch reads them.
      torchTar ??= await import('./torch-tar.js')
      const { result, problem } = await torchTar.scanTorchMember(source, m.offset, m.size, base, scan.options.policy)
      scan.streams.push({ path, encoding: 'raw', result })
      if (problem) {
        scan.problems.push({
          path,
          severity: 'error',
          message: `does not read as torch.load reads its ${base} member: ${problem.message} (offset ${problem.offset}); the rest of it was not checked`
        })
      }
      continue
    }
    const first = await source.read(m.offset, SNIFF)
    await scanRange(scan, source, m.offset, m.size, first, {
      display: path,
      speculative: false,
      strict: torch
    })
  }
  return 'legacy-torch-tar'
}

// ---- a model file --------------------------------------------------------------------------------------------------

/**
 * A file up to this size is read in one go and scanned from memory: a zip's directory, its entries' local headers and
 * first bytes are then no further reads (a skops file is three reads for each of its arrays, one after another).
 */
const READ_WHOLE_BYTES = 8 * 1024 * 1024

/** The first `size` bytes of the file, fewer if it shrank since its size was read. */
async function readWhole(fh: FileHandle, size: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size)
  let got = 0
  while (got < size) {
    const { bytesRead } = await fh.read(data, got, size - got, got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return data.subarray(0, got)
}

/** Scan one model file, whatever its container. Never throws for the file's content; I/O errors become problems. */
export async function scanModelFile(
  file: { path: string; absolute: string; size: number },
  options: FileScanOptions
): Promise<FileScanReport> {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES
  const scan: Scan = { options, budget: { left: max, max }, problems: [], streams: [] }
  let format: FileFormat = 'pickle'
  let fh: FileHandle | undefined
  try {
    fh = await open(file.absolute, 'r')
    const size = (await fh.stat()).size
    const source =
      size <= READ_WHOLE_BYTES ? bufferSource(await readWhole(fh, size)) : fileSource(fh, file.absolute, size)
    const first = await source.read(0, SNIFF)
    const definite =
      options.definite === true || hasExtension(file.path, DEFINITE_EXTENSIONS) || COMPRESSED_PICKLE.test(file.path)
    if (isZip(first)) {
      format = await scanZip(scan, source, file.path, 0)
    } else if (isTar(first)) {
      format = await scanTar(scan, source, file.path)
    } else if (isNpy(first)) {
      format = 'npy'
      const layout = npyLayout(await source.read(0, Math.min(size, NPY_HEAD)))
      if (typeof layout === 'string') {
        scan.problems.push({ path: file.path, severity: 'error', message: `${layout}: not checked` })
      } else if (layout.object) {
        const body = await source.read(layout.dataStart, SNIFF)
        const plan: StreamPlan = { display: file.path, speculative: false, baseOffset: layout.dataStart }
        await scanRange(scan, source, layout.dataStart, size - layout.dataStart, body, plan)
      }
    } else {
      const speculative = !definite && !isPickleHeader(first)
      const plan: StreamPlan = { display: file.path, speculative }
      const stream = await scanRange(scan, source, 0, size, first, plan)
      if (!stream) format = 'unsupported-compression'
      else {
        const r = stream.result
        if (stream.encoding !== 'raw') format = stream.encoding as Codec
        else if (r.layout === 'legacy-torch') format = 'legacy-torch'
        else if (r.joblibArrays > 0) format = 'joblib'
        if (speculative && r.pickles === 0) {
          format = 'not-a-pickle'
          scan.problems.push({
            path: file.path,
            severity: 'info',
            message: 'does not parse as a pickle (scanned only for dangerous imports)'
          })
        }
      }
    }
  } catch (error) {
    format = 'unreadable'
    scan.problems.push({ path: file.path, severity: 'error', message: `cannot be read: ${errorMessage(error)}` })
  } finally {
    await fh?.close()
  }
  return { path: file.path, format, size: file.size, streams: scan.streams, problems: scan.problems }
}
