/**
 * The `storages` and `tensors` members of torch.save's tar format (before PyTorch 0.4), read as torch.load's
 * `legacy_load` reads them: each is a pickle of a count, then per entry a pickle of its description followed by raw
 * bytes that torch reads by size, not by unpickling. Every pickle is scanned with the same interpreter and policy as
 * any other; the raw bytes are skipped by the size the layout gives. What does not fit the layout is a problem with
 * its offset in the member, and the reading stops there: bytes the scanner lost its place in are never called read.
 *
 * `storages`: count; per storage (key, location, storage type), then an int64 element count and count × the storage
 * type's element size bytes (torch/csrc/serialization.cpp, THPStorage_readFileRaw); then a pickle of storage views.
 * `tensors`: count; per tensor (key, storage id, tensor type), then int32 ndim, 4 bytes of padding, ndim int64
 * sizes, ndim int64 strides and an int64 storage offset. All little-endian, as torch writes them.
 */
import { PickleScanner, Sink } from './interpreter.js'
import type { PicklePolicy } from './policy.js'
import type { PickleScanResult, ScanProblem } from './result.js'
import type { Source } from './source.js'
import { BIGINT_V, describe, GlobalVal, TupleVal, type V } from './values.js'

export type TorchMember = 'storages' | 'tensors'

/** Bytes per element of the storage types torch.load's legacy reader knows (`storage_type._dtype`'s size). */
const ELEMENT_SIZE: Readonly<Record<string, number>> = {
  FloatStorage: 4,
  DoubleStorage: 8,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
  ComplexFloatStorage: 8,
  ComplexDoubleStorage: 16,
  QInt8Storage: 1,
  QUInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1
}

/** The smallest pickle (`N.`): with the fixed fields after it, what one entry takes at least, to bound counts. */
const MIN_PICKLE = 2
const MIN_ENTRY: Readonly<Record<TorchMember, number>> = { storages: MIN_PICKLE + 8, tensors: MIN_PICKLE + 16 }
/** More entries than any real checkpoint holds; past it the member is not read (and the check fails). */
const MAX_ENTRIES = 1_000_000
const WINDOW = 64 * 1024
const SEEK_MIN = 256 * 1024

export interface TorchMemberScan {
  /** The member's pickles as one stream: their imports, problems (offsets in the member) and notes. */
  readonly result: PickleScanResult
  /** Where the member stops fitting torch's layout, if it does: the check fails on it. */
  readonly problem?: { readonly offset: number; readonly message: string }
}

/** Reads of the member through a window, so the many small pickles and fields cost one read per window. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0)
  private bufAt = 0

  constructor(
    private readonly source: Source,
    private readonly start: number,
    readonly size: number
  ) {}

  /** Bytes from member offset `at` on: at least `min` unless the member ends first, at most a window. */
  async at(at: number, min = 1): Promise<Buffer> {
    if (at >= this.bufAt && at + min <= this.bufAt + this.buf.length) return this.buf.subarray(at - this.bufAt)
    this.buf = await this.source.read(this.start + at, Math.min(Math.max(WINDOW, min), this.size - at))
    this.bufAt = at
    return this.buf
  }
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string
  ) {
    super(message)
  }
}

export async function scanTorchMember(
  source: Source,
  start: number,
  size: number,
  member: TorchMember,
  policy: PicklePolicy
): Promise<TorchMemberScan> {
  const cursor = new Cursor(source, start, size)
  const sink = new Sink()
  const problems: ScanProblem[] = []
  const notes: string[] = []
  let pickles = 0
  let protocol = 0
  let last: PickleScanResult | undefined
  let pos = 0

  /** One pickle at `pos`, as one pickle.load reads it; its value, or Stop when it is not a whole pickle. */
  const pickle = async (what: string): Promise<V> => {
    const at = pos
    const scanner = new PickleScanner(
      { policy, mode: 'full', joblib: false, readOne: true, baseOffset: at, totalSize: size - at },
      sink
    )
    let fed = at
    while (fed < size && scanner.wantsMore()) {
      const skip = scanner.skippable()
      if (skip >= SEEK_MIN) {
        const n = Math.min(skip, size - fed)
        scanner.skipped(n)
        fed += n
        continue
      }
      const chunk = await cursor.at(fed)
      if (!chunk.length) break
      scanner.feed(chunk)
      fed += chunk.length
    }
    const result = (last = scanner.end())
    pickles += result.pickles
    protocol = Math.max(protocol, result.protocol)
    notes.push(...result.notes)
    problems.push(...result.problems.map(p => ({ ...p, severity: 'error' as const, message: `${what}: ${p.message}` })))
    if (result.value === undefined || result.problems.length) throw new Stop(at, '')
    pos = at + result.bytes
    return result.value
  }

  const count = async (): Promise<number> => {
    const at = pos
    const read = await pickle(`the ${member} count`)
    // range() takes a bool (an int to Python) and runs no loop for a negative count, as torch.load does then.
    const v = typeof read === 'boolean' ? Number(read) : read
    const what = `the ${member === 'storages' ? 'storage' : 'tensor'} count`
    if (v === BIGINT_V) throw new Stop(at, `${what} is an int too large for any member`)
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new Stop(at, `${what} is ${describe(v)}, not an int`)
    if (v < 0) return 0
    const room = Math.floor((size - pos) / MIN_ENTRY[member])
    if (v > room) {
      throw new Stop(at, `${v} ${member} cannot fit in the ${size - pos} bytes left in the member`)
    }
    if (v > MAX_ENTRIES) throw new Stop(at, `${v} ${member} is more than the ${MAX_ENTRIES} this scanner reads`)
    return Number(v)
  }

  /** The 3-tuple torch unpacks an entry's description into. */
  const triple = (v: V, at: number, what: string, shape: string): readonly V[] => {
    if (v instanceof TupleVal && v.items.length === 3) return v.items
    throw new Stop(at, `${what} is ${describe(v)}, not the ${shape} tuple torch.load unpacks`)
  }

  const fixed = async (n: number, what: string): Promise<Buffer> => {
    const b = await cursor.at(pos, n)
    if (b.length < n) throw new Stop(pos, `${what} runs past the end of the member`)
    return b
  }

  try {
    const n = await count()
    if (member === 'storages') {
      for (let i = 0; i < n; i++) {
        const what = `storage ${i + 1} of ${n}`
        const at = pos
        const [, , type] = triple(await pickle(`the pickle of ${what}`), at, what, '(key, location, storage type)')
        const itemsize =
          type instanceof GlobalVal && type.module === 'torch' && Object.hasOwn(ELEMENT_SIZE, type.name)
            ? ELEMENT_SIZE[type.name]!
            : undefined
        if (itemsize === undefined) {
          throw new Stop(
            at,
            `${what} has storage type ${describe(type!)}, whose element size torch.load's reader does not know`
          )
        }
        const elements = (await fixed(8, `the element count of ${what}`)).readBigInt64LE(0)
        const nbytes = elements * BigInt(itemsize)
        const left = size - pos - 8
        if (elements < 0n) throw new Stop(pos, `${what} has a negative element count (${elements})`)
        if (nbytes > BigInt(left)) {
          throw new Stop(
            pos,
            `${what} holds ${elements} ${(type as GlobalVal).name} elements (${nbytes} bytes) but ${left} bytes are left in the member`
          )
        }
        pos += 8 + Number(nbytes)
      }
      await pickle('the storage views')
    } else {
      for (let i = 0; i < n; i++) {
        const what = `tensor ${i + 1} of ${n}`
        const at = pos
        triple(await pickle(`the pickle of ${what}`), at, what, '(key, storage id, tensor type)')
        const ndim = (await fixed(4, `the dimensions of ${what}`)).readInt32LE(0)
        if (ndim < 0) throw new Stop(pos, `${what} has a negative number of dimensions (${ndim})`)
        const record = 8 + 16 * ndim + 8
        if (record > size - pos) {
          throw new Stop(pos, `${what}'s ${ndim} sizes and strides run past the end of the member`)
        }
        pos += record
      }
    }
    if (pos < size) {
      throw new Stop(
        pos,
        `${size - pos} bytes follow the last ${member === 'storages' ? 'storage views' : 'tensor'}, which torch.load does not read`
      )
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error
    if (error.message) return { result: merged(), problem: { offset: error.offset, message: error.message } }
    return { result: merged() }
  }
  return { result: merged() }

  function merged(): PickleScanResult {
    return {
      bytes: pos,
      protocol,
      pickles,
      imports: last?.imports ?? [],
      omittedImports: sink.omitted,
      problems,
      notes,
      joblibArrays: 0,
      layout: 'pickle'
    }
  }
}
