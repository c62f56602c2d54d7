/**
 * The abstract interpreter: a symbolic copy of the unpickler's stack and memo, run over the opcodes of protocols 0
 * to 5 without unpickling anything, enough to know which `module.name` each GLOBAL, STACK_GLOBAL, INST and EXT
 * resolves to, however the strings got onto the stack (any string opcode, memo PUT/GET, protocol 0 text).
 *
 * Design points:
 * - Push-based: `feed(chunk)` takes the stream in pieces of any size and keeps no reference to them; an opcode cut
 *   by a chunk boundary is carried over (bounded), and large binary arguments are skipped by count, never copied.
 *   The file driver turns long skips into seeks, which is why numpy-heavy pickles scan at disk speed.
 * - Nothing is allocated from a length read in the stream: a 4 GB length is a number to skip, and it is checked
 *   against the known stream size when there is one.
 * - Corrupt input is a finding with an offset, never an exception: the first structural error (unknown opcode,
 *   argument past the end, stack underflow, missing STOP) stops the scan of that stream.
 * - Two readings of joblib files: joblib writes raw array bytes after each `NumpyArrayWrapper`, which its unpickler
 *   reads as data and `pickle.load` would read as opcodes. The main view skips them as joblib does; a speculative
 *   view forked at each wrapper reads on as `pickle.load` would, and reports what it imports until the bytes stop
 *   being a valid pickle (raw float data stops being one within a few bytes).
 * - Embedded pickles (a bytes argument starting with a pickle header) are scanned the same speculative way.
 */
import {
  DECIMAL_TEXT,
  decodeLong,
  decodeUtf8,
  escapeDecode,
  FLOAT_TEXT,
  IDENTIFIER_PATH,
  INT_TEXT,
  intFromText,
  rawUnicodeEscapeDecode,
  readLength8
} from './decode.js'
import { HIGHEST_PROTOCOL, Op, opcodeName } from './opcodes.js'
import type { Judgement, PicklePolicy } from './policy.js'
import type { ImportRecord, PickleScanResult, ScanOptions, ScanProblem } from './result.js'
import {
  ANY_V,
  applyState,
  BIGINT_V,
  BUFFER_V,
  BYTEARRAY_V,
  BYTES_V,
  canAppend,
  canSetItem,
  couldBeCallable,
  couldBeIterable,
  couldBeStr,
  describe,
  DICT_V,
  DictVal,
  EMPTY_TUPLE_V,
  FLOAT_V,
  FROZENSET_V,
  G_DTYPE,
  G_PLAIN,
  G_RECONSTRUCTOR,
  G_WRAPPER,
  GlobalVal,
  INSTANCE_V,
  isComputed,
  LIST_V,
  LONGSTR_V,
  Memo,
  type MemoLike,
  MemoOverlay,
  OBJ_V,
  ObjVal,
  SET_V,
  setEntry,
  T_SET,
  tag,
  TRACK_ITEMS,
  TupleVal,
  TUPLE_V,
  unhashable,
  UNKEPT_STR_V,
  type V,
  WRAPPER_INIT_ARGS,
  wrapperLayout
} from './values.js'

const KEEP_STR = 4096
const LINE_MAX = 64 * 1024
const EMBED_MAX = 16 * 1024 * 1024
const MAX_DEPTH = 3
const MAX_STACK = 1_000_000
const MAX_MARKS = 1_000_000
const MAX_RECORDS = 2000
const MAX_CHILDREN = 8
/** Allowlisted callables that can return an exact str: str itself (and Python 2's spellings), codecs' encode. */
const STR_MAKERS = /^(str|unicode|basestring|encode)$/
const OUT_OF_BAND = 'protocol 5 out-of-band buffers (NEXT_BUFFER): their data lives outside this file'

interface Context {
  stack: V[]
  marks: number[]
  memo: MemoLike
  /** joblib's unpickler is in charge (top level of a joblib file); nested object-array pickles use plain pickle. */
  joblib: boolean
}

/** Where imports go; shared by a scanner and the views it forks, or by the scanners of one container member. */
export class Sink {
  readonly records = new Map<string, ImportRecord>()
  omitted = 0

  add(record: Omit<ImportRecord, 'count'>): void {
    const key = `${record.rating}\n${record.module}\n${record.name}\n${record.opcode}\n${record.context ?? ''}`
    const hit = this.records.get(key)
    if (hit) hit.count++
    else if (this.records.size < (record.rating === 'dangerous' ? 10 * MAX_RECORDS : MAX_RECORDS)) {
      this.records.set(key, { ...record, count: 1 })
    } else this.omitted++
  }
}

const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn

export class PickleScanner {
  private readonly policy: PicklePolicy
  private readonly speculative: boolean
  private readonly joblibAware: boolean
  private readonly context: string | undefined
  private readonly depth: number
  private readonly totalSize: number | undefined
  private readonly sink: Sink
  private readonly readOne: boolean
  private stopEnd = 0

  /** Absolute offset of the next byte to be consumed. */
  private offset: number
  private readonly startOffset: number
  private carry: Buffer | null = null
  private skipLeft = 0
  private skipWhat = ''
  private skipAt = 0
  private gather: Buffer[] | null = null
  private gatherAt = 0
  private gatherOp = ''
  private lineSkip: { op: number; at: number } | null = null
  private padPending = -1
  private padAt = 0
  private frameEnd = -1
  private frameAt = 0

  private ctx: Context
  private readonly nested: Context[] = []
  private readonly children: PickleScanner[] = []
  private overlay: MemoOverlay | null = null

  private stopped = false
  private deathReason = ''
  private opsInPickle = 0
  private pickles = 0
  private protocol = 0
  private firstResult: V | undefined
  private legacyTorch = false
  private joblibArrays = 0
  private readonly problems: ScanProblem[] = []
  private readonly notes: string[] = []
  private readonly pendingUnknown: Array<Omit<ImportRecord, 'count'>> = []
  /**
   * A speculative view reports unknown imports only if it reaches STOP, and only for embedded pickles: pickle.load's
   * reading of joblib data runs into the next real pickle with the wrong memo, so its unknown names are artefacts
   * (an import Python would fail on), while a dangerous one is worth an error whatever the odds.
   */
  private reportUnknown = true

  constructor(options: ScanOptions, sink?: Sink) {
    this.policy = options.policy
    this.speculative = options.mode === 'speculative'
    this.joblibAware = options.joblib ?? true
    this.context = options.context
    this.depth = options.depth ?? 0
    this.offset = options.baseOffset ?? 0
    this.startOffset = this.offset
    this.totalSize = options.totalSize === undefined ? undefined : this.offset + options.totalSize
    this.sink = sink ?? new Sink()
    this.readOne = options.readOne ?? false
    this.ctx = this.freshContext(this.joblibAware && !this.speculative)
  }

  private freshContext(joblib: boolean): Context {
    return { stack: [], marks: [], memo: new Memo(), joblib }
  }

  // ---- driving ----------------------------------------------------------------------------------------------------

  /** Consume the next piece of the stream. The chunk is not retained. */
  feed(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.children.length) this.feedChildren(buf, 0)
    this.consume(buf)
  }

  private consume(buf: Buffer): void {
    if (this.stopped) {
      this.offset += buf.length
      return
    }
    let pos = 0
    const end = buf.length
    if (this.skipLeft > 0) {
      pos = this.skipIn(buf, 0)
      if (pos >= end) return
    }
    if (this.carry) {
      const joined = Buffer.concat([this.carry, buf.subarray(pos)])
      this.carry = null
      this.run(joined, 0)
    } else this.run(buf, pos)
  }

  private feedChildren(buf: Buffer, from: number): void {
    const slice = from ? buf.subarray(from) : buf
    for (const child of this.children) child.consume(slice)
    for (let i = this.children.length - 1; i >= 0; i--) {
      if (this.children[i]!.stopped) this.retire(i)
    }
  }

  private retire(index: number): void {
    const [child] = this.children.splice(index, 1)
    child!.overlay?.detach()
  }

  /** How many bytes every active view would skip now, so a file driver can seek past them instead of reading. */
  skippable(): number {
    let n = this.stopped ? Infinity : this.gather || this.padPending >= 0 ? 0 : this.skipLeft
    for (const child of this.children) n = Math.min(n, child.skippable())
    return n === Infinity ? 0 : n
  }

  /** Whether any view still wants bytes (false once the main view stopped and no speculative view is alive). */
  wantsMore(): boolean {
    return !this.stopped || this.children.length > 0
  }

  /** The driver skipped `n` bytes without reading them (n ≤ skippable()). */
  skipped(n: number): void {
    if (this.stopped) this.offset += n
    else {
      this.skipLeft -= n
      this.offset += n
      if (this.skipLeft === 0) this.afterSkip()
    }
    for (const child of this.children) child.skipped(n)
  }

  /**
   * The stream ended. With `abort`, the caller stopped feeding early (a decompression limit, a read error): that
   * reason is the finding instead of the truncation the scanner would otherwise see.
   */
  end(abort?: string): PickleScanResult {
    for (const child of this.children) child.end()
    while (this.children.length) this.retire(0)
    if (abort !== undefined) {
      if (!this.speculative) this.problems.push({ severity: 'error', offset: this.offset, message: abort })
    } else if (!this.stopped) this.finishAtEof()
    this.stopped = true
    if (this.speculative && this.pickles > 0) for (const u of this.pendingUnknown) this.sink.add(u)
    // Views feed the sink in an order that depends on chunk boundaries; sort so results do not.
    const imports = [...this.sink.records.values()].sort(
      (a, b) =>
        a.offset - b.offset ||
        (a.module + a.name + a.opcode + (a.context ?? '') < b.module + b.name + b.opcode + (b.context ?? '') ? -1 : 1)
    )
    const one = this.readOne && this.pickles > 0
    return {
      bytes: (one ? this.stopEnd : this.offset) - this.startOffset,
      protocol: this.protocol,
      pickles: this.pickles,
      imports,
      omittedImports: this.sink.omitted,
      problems: this.problems,
      notes: this.notes,
      joblibArrays: this.joblibArrays,
      layout: this.legacyTorch ? 'legacy-torch' : 'pickle',
      ...(one ? { value: this.firstResult! } : {})
    }
  }

  /** Why a speculative view stopped (for tests and debugging). */
  get stopReason(): string {
    return this.deathReason
  }

  private finishAtEof(): void {
    const at = this.offset
    if (this.skipLeft > 0) {
      this.fail(this.skipAt, `${this.skipWhat} runs ${this.skipLeft} bytes past the end of the stream`)
    } else if (this.padPending >= 0) {
      this.fail(this.padAt, 'stream ends inside a joblib array')
    } else if (this.carry || this.lineSkip) {
      const from = this.lineSkip ? this.lineSkip.at : at
      const op = this.carry?.[0] ?? this.lineSkip?.op ?? 0
      this.fail(from, `stream ends inside ${opcodeName(op)} (truncated)`)
    } else if (this.nested.length) {
      this.fail(at, 'stream ends inside the pickle of a joblib object array (missing STOP)')
    } else if (this.opsInPickle > 0) {
      this.fail(at, 'stream ends without STOP (truncated pickle)')
    } else if (this.pickles === 0) {
      this.fail(at, 'empty stream: no pickle')
    } else if (this.frameEnd > at) {
      // CPython reads a whole frame before running it: a short frame fails the load even after a STOP.
      this.fail(
        this.frameAt,
        `FRAME announces ${this.frameEnd - this.frameAt - 9} bytes but the stream ends first`,
        'error'
      )
    }
  }

  // ---- reporting --------------------------------------------------------------------------------------------------

  /** A structural error: Python's unpickler would raise here. Stops this view. */
  private fail(at: number, message: string, forced?: 'error'): void {
    if (this.stopped) return
    this.stopped = true
    this.deathReason = `${message} (offset ${at})`
    if (this.speculative) return
    const severity = forced ?? (this.pickles > 0 && !this.legacyTorch ? 'warning' : 'error')
    const text =
      this.pickles > 0 ? `after ${this.pickles} complete pickle${this.pickles > 1 ? 's' : ''}: ${message}` : message
    this.problems.push({ severity, offset: at, message: text })
    const rest = this.totalSize !== undefined ? this.totalSize - at : undefined
    if (rest !== undefined && rest > 0)
      this.notes.push(`scan stopped at offset ${at}; ${rest} bytes after it were not read`)
  }

  private recordImport(module: string, name: string, op: number, at: number): Judgement {
    const j = this.policy.judge(module, name)
    const record: Omit<ImportRecord, 'count'> = {
      module,
      name,
      opcode: opcodeName(op),
      offset: at,
      rating: j.rating,
      reason: j.reason,
      ...(j.overriddenBy ? { overriddenBy: j.overriddenBy } : {}),
      ...(j.allowedBy ? { allowedBy: j.allowedBy } : {}),
      ...(this.context ? { context: this.context } : {})
    }
    if (this.speculative && j.rating !== 'dangerous') {
      if (this.reportUnknown && this.pendingUnknown.length < MAX_RECORDS) this.pendingUnknown.push(record)
    } else this.sink.add(record)
    return j
  }

  private recordUnresolved(module: string, name: string, op: number, at: number, reason: string): void {
    this.sink.add({
      module,
      name,
      opcode: opcodeName(op),
      offset: at,
      rating: 'dangerous',
      reason,
      ...(this.context ? { context: this.context } : {})
    })
  }

  // ---- skipping and gathering -------------------------------------------------------------------------------------

  /** Skip (or gather) from buf[pos]; returns the new position. */
  private skipIn(buf: Buffer, pos: number): number {
    const n = Math.min(this.skipLeft, buf.length - pos)
    if (this.gather) this.gather.push(Buffer.from(buf.subarray(pos, pos + n)))
    this.skipLeft -= n
    this.offset += n
    if (this.skipLeft === 0) this.afterSkip()
    return pos + n
  }

  private startSkip(n: number, what: string, at: number): void {
    this.skipLeft = n
    this.skipWhat = what
    this.skipAt = at
    if (n === 0) this.afterSkip()
  }

  private afterSkip(): void {
    if (!this.gather) return
    const payload = Buffer.concat(this.gather)
    this.gather = null
    this.scanEmbedded(payload, this.gatherAt, this.gatherOp)
  }

  private scanEmbedded(payload: Buffer, at: number, op: string): void {
    const child = new PickleScanner(
      {
        policy: this.policy,
        mode: 'speculative',
        joblib: false,
        context: `in a pickle embedded at offset ${at} (a ${op} argument)`,
        baseOffset: at,
        depth: this.depth + 1,
        totalSize: payload.length
      },
      this.sink
    )
    child.feed(payload)
    const result = child.end()
    if (result.pickles > 0) this.notes.push(`embedded pickle in ${op} at offset ${at} scanned`)
  }

  /**
   * A bytes-like argument of `len` bytes starts at buf[p]: skip it, or gather it for an embedded scan when it starts
   * with a pickle header. Returns false when the first two payload bytes are not in the buffer yet.
   */
  private binaryArg(buf: Buffer, p: number, len: number, op: number, at: number): boolean {
    if (len < 4 || this.depth >= MAX_DEPTH) return true
    if (buf.length - p < 2) return false
    if (buf[p] !== Op.PROTO || buf[p + 1]! < 2 || buf[p + 1]! > HIGHEST_PROTOCOL) return true
    if (len > EMBED_MAX) {
      this.notes.push(
        `${opcodeName(op)} at offset ${at} holds a ${len}-byte payload that starts like a pickle; too large to scan`
      )
      return true
    }
    this.gather = []
    this.gatherAt = this.cursorBase + p
    this.gatherOp = opcodeName(op)
    return true
  }

  // ---- the interpreter --------------------------------------------------------------------------------------------

  /** Absolute offset of buf[0] during run(). */
  private cursorBase = 0

  private suspend(buf: Buffer, pos: number): void {
    // Keep the unfinished opcode; copied because the caller may reuse its buffer.
    this.carry = Buffer.from(buf.subarray(pos))
    this.offset = this.cursorBase + pos
  }

  private run(buf: Buffer, start: number): void {
    const end = buf.length
    let pos = start
    this.cursorBase = this.offset - start
    const base = this.cursorBase
    let ctx = this.ctx
    let stack = ctx.stack

    const underflow = (need: number, p: number): boolean => {
      const fence = ctx.marks.length ? ctx.marks[ctx.marks.length - 1]! : 0
      if (stack.length - fence >= need) return false
      this.fail(base + p, `${opcodeName(buf[p]!)} needs ${need} stack item${need > 1 ? 's' : ''} (stack underflow)`)
      return true
    }
    const popMark = (p: number): number => {
      if (!ctx.marks.length) {
        this.fail(base + p, `${opcodeName(buf[p]!)} without a MARK`)
        return -1
      }
      return ctx.marks.pop()!
    }
    const strictStop = (p: number, why: string): boolean => {
      if (!this.speculative) return false
      this.fail(base + p, why)
      return true
    }

    while (pos < end) {
      if (this.stopped) {
        this.offset = base + end
        return
      }
      if (this.skipLeft > 0) {
        this.offset = base + pos
        pos = this.skipIn(buf, pos)
        continue
      }
      if (this.lineSkip) {
        const nl = buf.indexOf(10, pos)
        if (nl < 0 || nl >= end) {
          pos = end
          break
        }
        pos = nl + 1
        this.finishLongLine(this.lineSkip.op)
        this.lineSkip = null
        continue
      }
      if (this.padPending >= 0) {
        const padding = buf[pos]!
        pos++
        const nbytes = this.padPending
        this.padPending = -1
        this.offset = base + pos
        this.startSkip(padding + nbytes, `joblib array data after the wrapper at offset ${this.padAt}`, this.padAt)
        this.checkFits(base + pos, padding + nbytes, this.padAt, 'joblib array data')
        continue
      }

      const op = buf[pos]!
      const at = base + pos
      const avail = end - pos
      if (stack.length > MAX_STACK) {
        this.fail(at, `stack deeper than ${MAX_STACK} items`)
        continue
      }
      this.opsInPickle++

      // Literal case labels (named in comments, checked against `Op` by a test): V8 compiles a switch into a jump
      // table only when its labels are integer literals, and this switch runs once per opcode.
      switch (op) {
        // ---- pushes of constants ----
        case 0x4e /* NONE */:
          stack.push(null)
          pos += 1
          break
        case 0x88 /* NEWTRUE */:
          stack.push(true)
          pos += 1
          break
        case 0x89 /* NEWFALSE */:
          stack.push(false)
          pos += 1
          break
        case 0x4b /* BININT1 */:
          if (avail < 2) return this.suspend(buf, pos)
          stack.push(buf[pos + 1]!)
          pos += 2
          break
        case 0x4d /* BININT2 */:
          if (avail < 3) return this.suspend(buf, pos)
          stack.push(buf.readUInt16LE(pos + 1))
          pos += 3
          break
        case 0x4a /* BININT */:
          if (avail < 5) return this.suspend(buf, pos)
          stack.push(buf.readInt32LE(pos + 1))
          pos += 5
          break
        case 0x47 /* BINFLOAT */:
          if (avail < 9) return this.suspend(buf, pos)
          stack.push(FLOAT_V)
          pos += 9
          break
        case 0x8a /* LONG1 */: {
          if (avail < 2) return this.suspend(buf, pos)
          const n = buf[pos + 1]!
          if (avail < 2 + n) return this.suspend(buf, pos)
          stack.push(decodeLong(buf, pos + 2, n))
          pos += 2 + n
          break
        }
        case 0x8b /* LONG4 */: {
          if (avail < 5) return this.suspend(buf, pos)
          const n = buf.readInt32LE(pos + 1)
          if (n < 0) {
            this.fail(at, `LONG4 with negative byte count ${n}`)
            continue
          }
          if (n <= 16) {
            if (avail < 5 + n) return this.suspend(buf, pos)
            stack.push(decodeLong(buf, pos + 5, n))
            pos += 5 + n
          } else {
            stack.push(BIGINT_V)
            pos += 5
            this.offset = base + pos
            if (!this.checkFits(base + pos, n, at, 'LONG4 argument')) continue
            this.startSkip(n, `LONG4 argument at offset ${at}`, at)
          }
          break
        }

        // ---- strings and bytes with a length prefix ----
        case 0x8c /* SHORT_BINUNICODE */:
        case 0x58 /* BINUNICODE */:
        case 0x8d /* BINUNICODE8 */: {
          const head = op === Op.SHORT_BINUNICODE ? 2 : op === Op.BINUNICODE ? 5 : 9
          if (avail < head) return this.suspend(buf, pos)
          const len =
            op === Op.SHORT_BINUNICODE
              ? buf[pos + 1]!
              : op === Op.BINUNICODE
                ? buf.readUInt32LE(pos + 1)
                : readLength8(buf, pos + 1)
          if (len < 0) {
            this.fail(at, `${opcodeName(op)} length exceeds 2^53 bytes`)
            continue
          }
          if (len <= KEEP_STR) {
            if (avail < head + len) return this.suspend(buf, pos)
            const s = decodeUtf8(buf, pos + head, pos + head + len)
            if (s === undefined) {
              this.fail(at, `${opcodeName(op)} argument is not valid UTF-8`)
              continue
            }
            stack.push(s)
            pos += head + len
          } else {
            stack.push(LONGSTR_V)
            pos += head
            this.offset = base + pos
            if (!this.checkFits(base + pos, len, at, `${opcodeName(op)} argument`)) continue
            this.startSkip(len, `${opcodeName(op)} argument at offset ${at}`, at)
          }
          break
        }
        case 0x55 /* SHORT_BINSTRING */:
        case 0x54 /* BINSTRING */: {
          const head = op === Op.SHORT_BINSTRING ? 2 : 5
          if (avail < head) return this.suspend(buf, pos)
          const len = op === Op.SHORT_BINSTRING ? buf[pos + 1]! : buf.readInt32LE(pos + 1)
          if (len < 0) {
            this.fail(at, `BINSTRING with negative length ${len}`)
            continue
          }
          if (len <= KEEP_STR) {
            if (avail < head + len) return this.suspend(buf, pos)
            // Python 3 decodes these with the loader's encoding (ASCII by default): str unless encoding='bytes'.
            stack.push(buf.toString('latin1', pos + head, pos + head + len))
            if (
              len >= 4 &&
              buf[pos + head] === Op.PROTO &&
              buf[pos + head + 1]! >= 2 &&
              buf[pos + head + 1]! <= 5 &&
              this.depth < MAX_DEPTH
            ) {
              this.scanEmbedded(Buffer.from(buf.subarray(pos + head, pos + head + len)), at + head, opcodeName(op))
            }
            pos += head + len
          } else {
            if (!this.binaryArg(buf, pos + head, len, op, at)) return this.suspend(buf, pos)
            stack.push(LONGSTR_V)
            pos += head
            this.offset = base + pos
            if (!this.checkFits(base + pos, len, at, `${opcodeName(op)} argument`)) continue
            this.startSkip(len, `${opcodeName(op)} argument at offset ${at}`, at)
          }
          break
        }
        case 0x43 /* SHORT_BINBYTES */:
        case 0x42 /* BINBYTES */:
        case 0x8e /* BINBYTES8 */:
        case 0x96 /* BYTEARRAY8 */: {
          const head = op === Op.SHORT_BINBYTES ? 2 : op === Op.BINBYTES ? 5 : 9
          if (avail < head) return this.suspend(buf, pos)
          const len =
            op === Op.SHORT_BINBYTES
              ? buf[pos + 1]!
              : op === Op.BINBYTES
                ? buf.readUInt32LE(pos + 1)
                : readLength8(buf, pos + 1)
          if (len < 0) {
            this.fail(at, `${opcodeName(op)} length exceeds 2^53 bytes`)
            continue
          }
          if (!this.binaryArg(buf, pos + head, len, op, at)) return this.suspend(buf, pos)
          stack.push(op === Op.BYTEARRAY8 ? BYTEARRAY_V : BYTES_V)
          pos += head
          this.offset = base + pos
          if (!this.checkFits(base + pos, len, at, `${opcodeName(op)} argument`)) {
            this.gather = null
            continue
          }
          this.startSkip(len, `${opcodeName(op)} argument at offset ${at}`, at)
          break
        }

        // ---- text arguments (protocol 0/1) ----
        case 0x49 /* INT */:
        case 0x4c /* LONG */:
        case 0x46 /* FLOAT */:
        case 0x53 /* STRING */:
        case 0x56 /* UNICODE */:
        case 0x50 /* PERSID */:
        case 0x67 /* GET */:
        case 0x70 /* PUT */: {
          const nl = buf.indexOf(10, pos + 1)
          if (nl < 0) {
            if (avail > LINE_MAX) {
              if (op === Op.GET || op === Op.PUT) {
                this.fail(at, `${opcodeName(op)} argument longer than ${LINE_MAX} bytes`)
                continue
              }
              this.lineSkip = { op, at }
              pos = end
              break
            }
            return this.suspend(buf, pos)
          }
          if (!this.textOp(op, buf, pos + 1, nl, at, ctx)) continue
          pos = nl + 1
          break
        }
        case 0x63 /* GLOBAL */:
        case 0x69 /* INST */: {
          const nl1 = buf.indexOf(10, pos + 1)
          const nl2 = nl1 < 0 ? -1 : buf.indexOf(10, nl1 + 1)
          if (nl2 < 0) {
            if (avail > LINE_MAX) {
              this.fail(at, `${opcodeName(op)} module and name longer than ${LINE_MAX} bytes`)
              continue
            }
            return this.suspend(buf, pos)
          }
          const module = decodeUtf8(buf, pos + 1, nl1)
          const name = decodeUtf8(buf, nl1 + 1, nl2)
          if (module === undefined || name === undefined) {
            this.fail(at, `${opcodeName(op)} module or name is not valid UTF-8`)
            continue
          }
          if (this.speculative && !(IDENTIFIER_PATH.test(module) && IDENTIFIER_PATH.test(name))) {
            this.fail(at, `${opcodeName(op)} names no importable module`)
            continue
          }
          const g = this.makeGlobal(module, name, this.recordImport(module, name, op, at))
          if (op === Op.GLOBAL) stack.push(g)
          else {
            const m = popMark(pos)
            if (m < 0) continue
            const args = stack.splice(m)
            stack.push(this.instantiate(g, args.length ? new TupleVal(args) : undefined))
          }
          pos = nl2 + 1
          break
        }

        // ---- containers ----
        case 0x5d /* EMPTY_LIST */:
          stack.push(LIST_V)
          pos += 1
          break
        case 0x29 /* EMPTY_TUPLE */:
          stack.push(EMPTY_TUPLE_V)
          pos += 1
          break
        case 0x7d /* EMPTY_DICT */: {
          const top = stack[stack.length - 1]
          stack.push(top instanceof ObjVal && top.role === G_WRAPPER ? new DictVal() : DICT_V)
          pos += 1
          break
        }
        case 0x8f /* EMPTY_SET */:
          stack.push(SET_V)
          pos += 1
          break
        case 0x28 /* MARK */:
          if (ctx.marks.length >= MAX_MARKS) {
            this.fail(at, `more than ${MAX_MARKS} open MARKs`)
            continue
          }
          ctx.marks.push(stack.length)
          pos += 1
          break
        case 0x6c /* LIST */:
        case 0x74 /* TUPLE */:
        case 0x91 /* FROZENSET */: {
          const m = popMark(pos)
          if (m < 0) continue
          if (op === Op.TUPLE) {
            if (stack.length - m <= TRACK_ITEMS) {
              const items = stack.splice(m)
              stack.push(items.length ? new TupleVal(items) : EMPTY_TUPLE_V)
            } else {
              stack.length = m
              stack.push(TUPLE_V)
            }
          } else {
            if (op === Op.FROZENSET && this.speculative) {
              for (let i = m; i < stack.length; i++) {
                if (unhashable(stack[i]!)) {
                  strictStop(pos, 'unhashable frozenset item')
                  break
                }
              }
              if (this.stopped) continue
            }
            stack.length = m
            stack.push(op === Op.LIST ? LIST_V : FROZENSET_V)
          }
          pos += 1
          break
        }
        case 0x85 /* TUPLE1 */:
        case 0x86 /* TUPLE2 */:
        case 0x87 /* TUPLE3 */: {
          const n = op - Op.TUPLE1 + 1
          if (underflow(n, pos)) continue
          const items = stack.splice(stack.length - n)
          stack.push(new TupleVal(items))
          pos += 1
          break
        }
        case 0x64 /* DICT */: {
          const m = popMark(pos)
          if (m < 0) continue
          if ((stack.length - m) % 2) {
            this.fail(at, 'odd number of items for DICT')
            continue
          }
          const below = stack[m - 1]
          const tracked = below instanceof ObjVal && below.role === G_WRAPPER ? new DictVal() : null
          if (tracked || this.speculative) {
            for (let i = m; i < stack.length; i += 2) {
              if (this.speculative && unhashable(stack[i]!)) {
                strictStop(pos, 'unhashable dict key')
                break
              }
              if (tracked) setEntry(tracked, stack[i]!, stack[i + 1]!)
            }
            if (this.stopped) continue
          }
          stack.length = m
          stack.push(tracked ?? DICT_V)
          pos += 1
          break
        }
        case 0x61 /* APPEND */: {
          if (underflow(2, pos)) continue
          stack.pop()
          if (this.speculative && !canAppend(stack[stack.length - 1]!) && strictStop(pos, 'APPEND to a non-list')) {
            continue
          }
          pos += 1
          break
        }
        case 0x65 /* APPENDS */: {
          const m = popMark(pos)
          if (m < 0) continue
          stack.length = m
          if (underflow(1, pos)) continue
          if (this.speculative && !canAppend(stack[stack.length - 1]!) && strictStop(pos, 'APPENDS to a non-list')) {
            continue
          }
          pos += 1
          break
        }
        case 0x73 /* SETITEM */: {
          if (underflow(3, pos)) continue
          const value = stack.pop()!
          const key = stack.pop()!
          const target = stack[stack.length - 1]!
          if (this.speculative && (!canSetItem(target) || unhashable(key))) {
            strictStop(pos, 'SETITEM on a non-dict')
            continue
          }
          if (target instanceof DictVal) setEntry(target, key, value)
          pos += 1
          break
        }
        case 0x75 /* SETITEMS */: {
          const m = popMark(pos)
          if (m < 0) continue
          if ((stack.length - m) % 2) {
            this.fail(at, 'odd number of items for SETITEMS')
            continue
          }
          const fence = ctx.marks.length ? ctx.marks[ctx.marks.length - 1]! : 0
          if (m <= fence) {
            this.fail(at, 'SETITEMS with no dict below its MARK (stack underflow)')
            continue
          }
          const target = stack[m - 1]!
          if (this.speculative && !canSetItem(target)) {
            strictStop(pos, 'SETITEMS on a non-dict')
            continue
          }
          if (target instanceof DictVal || this.speculative) {
            for (let i = m; i < stack.length; i += 2) {
              if (this.speculative && unhashable(stack[i]!)) {
                strictStop(pos, 'unhashable dict key')
                break
              }
              if (target instanceof DictVal) setEntry(target, stack[i]!, stack[i + 1]!)
            }
            if (this.stopped) continue
          }
          stack.length = m
          pos += 1
          break
        }
        case 0x90 /* ADDITEMS */: {
          const m = popMark(pos)
          if (m < 0) continue
          const fence = ctx.marks.length ? ctx.marks[ctx.marks.length - 1]! : 0
          if (m <= fence) {
            this.fail(at, 'ADDITEMS with no set below its MARK (stack underflow)')
            continue
          }
          const target = stack[m - 1]!
          if (this.speculative && !(tag(target) === T_SET || isComputed(target))) {
            strictStop(pos, 'ADDITEMS on a non-set')
            continue
          }
          stack.length = m
          pos += 1
          break
        }

        // ---- stack manipulation ----
        case 0x30 /* POP */: {
          // An item, or the MARK itself when nothing is above it (as CPython does)
          const fence = ctx.marks.length ? ctx.marks[ctx.marks.length - 1]! : 0
          if (stack.length > fence) stack.pop()
          else if (ctx.marks.length) ctx.marks.pop()
          else {
            this.fail(at, 'POP on an empty stack')
            continue
          }
          pos += 1
          break
        }
        case 0x31 /* POP_MARK */: {
          const m = popMark(pos)
          if (m < 0) continue
          stack.length = m
          pos += 1
          break
        }
        case 0x32 /* DUP */:
          if (underflow(1, pos)) continue
          stack.push(stack[stack.length - 1]!)
          pos += 1
          break

        // ---- memo ----
        case 0x68 /* BINGET */:
        case 0x6a /* LONG_BINGET */: {
          const head = op === Op.BINGET ? 2 : 5
          if (avail < head) return this.suspend(buf, pos)
          const key = op === Op.BINGET ? buf[pos + 1]! : buf.readUInt32LE(pos + 1)
          const v = ctx.memo.get(key)
          if (v === undefined) {
            this.fail(at, `${opcodeName(op)} of memo key ${key}, which was never stored`)
            continue
          }
          stack.push(v)
          pos += head
          break
        }
        case 0x71 /* BINPUT */:
        case 0x72 /* LONG_BINPUT */: {
          const head = op === Op.BINPUT ? 2 : 5
          if (avail < head) return this.suspend(buf, pos)
          if (underflow(1, pos)) continue
          const key = op === Op.BINPUT ? buf[pos + 1]! : buf.readUInt32LE(pos + 1)
          ctx.memo.set(key, stack[stack.length - 1]!)
          pos += head
          break
        }
        case 0x94 /* MEMOIZE */:
          if (underflow(1, pos)) continue
          ctx.memo.set(ctx.memo.size, stack[stack.length - 1]!)
          pos += 1
          break

        // ---- imports and calls ----
        case 0x93 /* STACK_GLOBAL */: {
          if (underflow(2, pos)) continue
          const name = stack.pop()!
          const module = stack.pop()!
          if (!this.stackGlobal(module, name, at)) continue
          pos += 1
          break
        }
        case 0x82 /* EXT1 */:
        case 0x83 /* EXT2 */:
        case 0x84 /* EXT4 */: {
          const head = op === Op.EXT1 ? 2 : op === Op.EXT2 ? 3 : 5
          if (avail < head) return this.suspend(buf, pos)
          const code =
            op === Op.EXT1 ? buf[pos + 1]! : op === Op.EXT2 ? buf.readUInt16LE(pos + 1) : buf.readInt32LE(pos + 1)
          if (code <= 0) {
            this.fail(at, `${opcodeName(op)} specifies code ${code} (must be positive)`)
            continue
          }
          // The registry is empty in a fresh interpreter; a code only resolves where the loading process (or an
          // earlier pickle calling copyreg.add_extension) registered it, and then to anything at all.
          if (strictStop(pos, `${opcodeName(op)} ${code} is unregistered in a fresh interpreter`)) continue
          this.recordUnresolved(
            '?',
            `extension code ${code}`,
            op,
            at,
            `copyreg extension code ${code}: resolves through the loading process's extension registry, to any callable`
          )
          stack.push(ANY_V)
          pos += head
          break
        }
        case 0x52 /* REDUCE */: {
          if (underflow(2, pos)) continue
          const args = stack.pop()!
          const fn = stack[stack.length - 1]!
          if (this.speculative && (!couldBeCallable(fn) || !couldBeIterable(args))) {
            strictStop(pos, 'REDUCE of a non-callable')
            continue
          }
          stack[stack.length - 1] = this.call(fn, args)
          pos += 1
          break
        }
        case 0x81 /* NEWOBJ */: {
          if (underflow(2, pos)) continue
          const args = stack.pop()!
          const cls = stack[stack.length - 1]!
          if (this.speculative && (!couldBeCallable(cls) || !couldBeIterable(args))) {
            strictStop(pos, 'NEWOBJ of a non-class')
            continue
          }
          stack[stack.length - 1] = cls instanceof GlobalVal ? this.newInstance(cls, undefined) : OBJ_V
          pos += 1
          break
        }
        case 0x92 /* NEWOBJ_EX */: {
          if (underflow(3, pos)) continue
          stack.length -= 2
          const cls = stack[stack.length - 1]!
          if (this.speculative && !couldBeCallable(cls)) {
            strictStop(pos, 'NEWOBJ_EX of a non-class')
            continue
          }
          stack[stack.length - 1] = cls instanceof GlobalVal ? this.newInstance(cls, undefined) : OBJ_V
          pos += 1
          break
        }
        case 0x6f /* OBJ */: {
          const m = popMark(pos)
          if (m < 0) continue
          if (stack.length - m < 1) {
            this.fail(at, 'OBJ without a class after its MARK')
            continue
          }
          const items = stack.splice(m)
          const cls = items.shift()!
          if (this.speculative && !couldBeCallable(cls)) {
            strictStop(pos, 'OBJ of a non-class')
            continue
          }
          stack.push(
            cls instanceof GlobalVal ? this.instantiate(cls, items.length ? new TupleVal(items) : undefined) : OBJ_V
          )
          pos += 1
          break
        }
        case 0x62 /* BUILD */: {
          if (underflow(2, pos)) continue
          const state = stack.pop()!
          const inst = stack[stack.length - 1]!
          if (
            this.speculative &&
            inst !== null &&
            typeof inst !== 'object' &&
            strictStop(pos, 'BUILD on a primitive')
          ) {
            continue
          }
          pos += 1
          if (inst instanceof ObjVal) {
            applyState(inst, state)
            if (inst.role === G_WRAPPER && ctx.joblib) {
              this.offset = base + pos
              this.joblibArray(inst, at, buf, pos)
              if (this.stopped) continue
              ctx = this.ctx
              stack = ctx.stack
            }
          }
          break
        }
        case 0x51 /* BINPERSID */: {
          if (underflow(1, pos)) continue
          if (strictStop(pos, 'persistent id without persistent_load')) continue
          stack[stack.length - 1] = ANY_V
          pos += 1
          break
        }

        // ---- protocol 5 buffers ----
        case 0x97 /* NEXT_BUFFER */:
          if (strictStop(pos, 'NEXT_BUFFER without out-of-band buffers')) continue
          stack.push(BUFFER_V)
          if (!this.notes.includes(OUT_OF_BAND)) this.notes.push(OUT_OF_BAND)
          pos += 1
          break
        case 0x98 /* READONLY_BUFFER */:
          if (underflow(1, pos)) continue
          pos += 1
          break

        // ---- framing and control ----
        case 0x80 /* PROTO */: {
          if (avail < 2) return this.suspend(buf, pos)
          const proto = buf[pos + 1]!
          if (proto > HIGHEST_PROTOCOL) {
            this.fail(at, `unsupported pickle protocol ${proto}`)
            continue
          }
          if (proto > this.protocol) this.protocol = proto
          pos += 2
          break
        }
        case 0x95 /* FRAME */: {
          // A length hint; opcodes inside are ordinary
          if (avail < 9) return this.suspend(buf, pos)
          const len = readLength8(buf, pos + 1)
          if (len < 0) {
            this.fail(at, 'FRAME length exceeds 2^53 bytes')
            continue
          }
          if (this.totalSize !== undefined && at + 9 + len > this.totalSize) {
            this.fail(at, `FRAME announces ${len} bytes but only ${this.totalSize - at - 9} remain`)
            continue
          }
          this.frameAt = at
          this.frameEnd = at + 9 + len
          pos += 9
          break
        }
        case 0x2e /* STOP */: {
          if (underflow(1, pos)) continue
          const result = stack.pop()!
          pos += 1
          this.offset = base + pos
          if (this.nested.length) {
            // End of a joblib object array's own pickle: back to the enclosing joblib stream.
            this.ctx = this.nested.pop()!
            ctx = this.ctx
            stack = ctx.stack
            break
          }
          this.pickles++
          this.opsInPickle = 0
          if (this.pickles === 1) this.firstResult = result
          if (this.speculative) {
            for (const u of this.pendingUnknown) this.sink.add(u)
            this.pendingUnknown.length = 0
            this.stopped = true
            this.deathReason = 'STOP'
            continue
          }
          if (this.readOne) {
            // CPython reads a whole frame before running it: the next read starts after the frame, not the STOP.
            this.stopped = true
            this.stopEnd = Math.max(this.offset, this.frameEnd)
            continue
          }
          if (this.pickles === 1 && this.firstResult === TORCH_LEGACY_MAGIC) this.legacyTorch = true
          if (this.legacyTorch && this.pickles === 5) {
            // torch.save's legacy format: magic, protocol, sys info, the object, storage keys; raw storages follow.
            this.stopped = true
            this.notes.push('legacy torch.save format: the bytes after the fifth pickle are raw tensor storage')
            continue
          }
          this.ctx = this.freshContext(this.joblibAware)
          ctx = this.ctx
          stack = ctx.stack
          break
        }
        default:
          this.opsInPickle--
          this.fail(at, `unknown opcode 0x${op.toString(16).padStart(2, '0')}`)
          continue
      }
    }
    this.offset = base + pos
  }

  /** Checks an argument of `len` bytes from `from` against the known stream size. */
  private checkFits(from: number, len: number, at: number, what: string): boolean {
    if (this.totalSize === undefined || from + len <= this.totalSize) return true
    this.fail(
      at,
      `${what} of ${len} bytes at offset ${at} runs past the end of the stream (${this.totalSize - from} bytes left)`
    )
    return false
  }

  private textOp(op: number, buf: Buffer, start: number, nl: number, at: number, ctx: Context): boolean {
    const stack = ctx.stack
    const line = buf.subarray(start, nl)
    switch (op) {
      case 0x49 /* INT */: {
        // (also bools: I00 / I01)
        const text = line.toString('latin1')
        if (text === '00' || text === '01') {
          stack.push(text === '01')
          return true
        }
        if (!INT_TEXT.test(text))
          return this.failBool(at, `INT argument ${JSON.stringify(text.slice(0, 40))} is not an integer`)
        stack.push(intFromText(text))
        return true
      }
      case 0x4c /* LONG */: {
        let text = line.toString('latin1')
        if (text.endsWith('L')) text = text.slice(0, -1)
        if (!INT_TEXT.test(text))
          return this.failBool(at, `LONG argument ${JSON.stringify(text.slice(0, 40))} is not an integer`)
        stack.push(intFromText(text))
        return true
      }
      case 0x46 /* FLOAT */: {
        const text = line.toString('latin1')
        if (!FLOAT_TEXT.test(text) || !/\d|inf|nan/i.test(text)) {
          return this.failBool(at, `FLOAT argument ${JSON.stringify(text.slice(0, 40))} is not a number`)
        }
        stack.push(FLOAT_V)
        return true
      }
      case 0x53 /* STRING */: {
        // a quoted Python literal with backslash escapes
        const q = line[0]
        if (line.length < 2 || (q !== 0x27 && q !== 0x22) || line[line.length - 1] !== q) {
          return this.failBool(at, 'STRING argument is not quoted')
        }
        const body = line.subarray(1, line.length - 1)
        const s = escapeDecode(body)
        if (s === undefined) return this.failBool(at, 'STRING argument has an invalid escape')
        stack.push(s.length <= KEEP_STR ? s : LONGSTR_V)
        if (
          s.length >= 4 &&
          s.charCodeAt(0) === Op.PROTO &&
          s.charCodeAt(1) >= 2 &&
          s.charCodeAt(1) <= 5 &&
          this.depth < MAX_DEPTH
        ) {
          this.scanEmbedded(Buffer.from(s, 'latin1'), at, 'STRING')
        }
        return true
      }
      case 0x56 /* UNICODE */: {
        // raw-unicode-escape
        const s = rawUnicodeEscapeDecode(line)
        if (s === undefined) return this.failBool(at, 'UNICODE argument has an invalid \\u escape')
        stack.push(s.length <= KEEP_STR ? s : LONGSTR_V)
        return true
      }
      case 0x50 /* PERSID */: {
        if (this.speculative) return this.failBool(at, 'persistent id without persistent_load')
        for (const b of line) if (b > 0x7f) return this.failBool(at, 'PERSID argument is not ASCII')
        stack.push(ANY_V)
        return true
      }
      case 0x67 /* GET */: {
        const text = line.toString('latin1')
        if (!DECIMAL_TEXT.test(text)) return this.failBool(at, 'GET argument is not a decimal integer')
        const key = Number(text.replace(/_/g, '').trim())
        const v = ctx.memo.get(key)
        if (v === undefined) return this.failBool(at, `GET of memo key ${key}, which was never stored`)
        stack.push(v)
        return true
      }
      case 0x70 /* PUT */: {
        const text = line.toString('latin1')
        if (!DECIMAL_TEXT.test(text)) return this.failBool(at, 'PUT argument is not a decimal integer')
        const key = Number(text.replace(/_/g, '').trim())
        if (key < 0) return this.failBool(at, 'negative PUT argument')
        const fence = ctx.marks.length ? ctx.marks[ctx.marks.length - 1]! : 0
        if (stack.length <= fence) return this.failBool(at, 'PUT on an empty stack (stack underflow)')
        if (!Number.isSafeInteger(key)) return this.failBool(at, 'PUT key too large')
        ctx.memo.set(key, stack[stack.length - 1]!)
        return true
      }
    }
    return true
  }

  private failBool(at: number, message: string): false {
    this.fail(at, message)
    return false
  }

  /** A text argument longer than LINE_MAX ended: push what Python would push, without its value. */
  private finishLongLine(op: number): void {
    const stack = this.ctx.stack
    switch (op) {
      case 0x49 /* INT */:
      case 0x4c /* LONG */:
        stack.push(BIGINT_V)
        break
      case 0x46 /* FLOAT */:
        stack.push(FLOAT_V)
        break
      case 0x53 /* STRING */:
      case 0x56 /* UNICODE */:
        stack.push(LONGSTR_V)
        break
      case 0x50 /* PERSID */:
        if (this.speculative) this.fail(this.lineSkip?.at ?? this.offset, 'persistent id without persistent_load')
        stack.push(ANY_V)
        break
    }
  }

  private makeGlobal(module: string, name: string, judged: Judgement): GlobalVal {
    let role = G_PLAIN
    if (name === 'NumpyArrayWrapper' && module === 'joblib.numpy_pickle') role = G_WRAPPER
    else if (name === 'dtype' && (module === 'numpy' || /^numpy\.(_?core)\.multiarray$/.test(module))) role = G_DTYPE
    else if ((module === 'copyreg' || module === 'copy_reg') && (name === '_reconstructor' || name === '__newobj__')) {
      role = G_RECONSTRUCTOR
    }
    const makesStr = judged.rating !== 'safe' || judged.allowedBy !== undefined || STR_MAKERS.test(name)
    return new GlobalVal(module, name, role, makesStr)
  }

  private stackGlobal(module: V, name: V, at: number): boolean {
    const op = Op.STACK_GLOBAL
    if (typeof module === 'string' && typeof name === 'string') {
      if (this.speculative && !(IDENTIFIER_PATH.test(module) && IDENTIFIER_PATH.test(name))) {
        this.fail(at, 'STACK_GLOBAL names no importable module')
        return false
      }
      this.ctx.stack.push(this.makeGlobal(module, name, this.recordImport(module, name, op, at)))
      return true
    }
    if (!couldBeStr(module) || !couldBeStr(name)) {
      this.fail(at, `STACK_GLOBAL requires str operands, got ${describe(module)} and ${describe(name)}`)
      return false
    }
    const part = (v: V): string => (typeof v === 'string' ? v : '?')
    const why = (v: V): string =>
      v === LONGSTR_V
        ? `a str longer than ${KEEP_STR} characters`
        : v === UNKEPT_STR_V
          ? 'a memoized str beyond the scanner’s memo budget'
          : `computed at load time (${describe(v)})`
    const parts: string[] = []
    if (typeof module !== 'string') parts.push(`module is ${why(module)}`)
    if (typeof name !== 'string') parts.push(`name is ${why(name)}`)
    if (
      this.speculative &&
      !isComputed(module) &&
      !isComputed(name) &&
      typeof module !== 'string' &&
      typeof name !== 'string'
    ) {
      this.fail(at, 'STACK_GLOBAL of unknown strings')
      return false
    }
    this.recordUnresolved(part(module), part(name), op, at, `unresolvable import: ${parts.join(', ')}`)
    this.ctx.stack.push(ANY_V)
    return true
  }

  /** REDUCE: the value `fn(*args)` stands for. */
  private call(fn: V, args: V): V {
    if (!(fn instanceof GlobalVal)) return OBJ_V
    if (fn.role === G_PLAIN) return fn.makesStr ? OBJ_V : INSTANCE_V
    if (fn.role === G_RECONSTRUCTOR) {
      // copyreg._reconstructor(cls, base, state) and copyreg.__newobj__(cls, *args) make an instance of cls
      // without running its __init__.
      const cls = args instanceof TupleVal ? args.items[0] : undefined
      return cls instanceof GlobalVal ? this.newInstance(cls, undefined) : OBJ_V
    }
    return this.instantiate(fn, args)
  }

  /**
   * Calling a class (REDUCE, or INST/OBJ with arguments) runs its __init__; INST/OBJ without arguments only
   * __new__ (pickle's _instantiate). For the joblib wrapper, __init__ sets the attributes, defaults included.
   */
  private instantiate(cls: GlobalVal, args: V | undefined): V {
    const obj = this.newInstance(cls, args)
    if (obj instanceof ObjVal && cls.role === G_WRAPPER && args !== undefined) {
      const attrs = new Map<string, V>([['numpy_array_alignment_bytes', 16]])
      obj.attrs = attrs
      if (!(args instanceof TupleVal)) obj.unresolved = `wrapper built with ${describe(args)} arguments`
      else args.items.forEach((v, i) => attrs.set(WRAPPER_INIT_ARGS[i] ?? `arg${i}`, v))
    }
    return obj
  }

  private newInstance(cls: GlobalVal, args: V | undefined): V {
    if (cls.role === G_PLAIN || cls.role === G_RECONSTRUCTOR) return cls.makesStr ? OBJ_V : INSTANCE_V
    return new ObjVal(cls, args, cls.role)
  }

  /** joblib reads the array for this wrapper now: skip its bytes, or scan its nested pickle (object dtype). */
  private joblibArray(wrapper: ObjVal, at: number, buf: Buffer, pos: number): void {
    this.joblibArrays++
    // pickle.load would go on reading these bytes as opcodes: fork a view that does.
    if (!this.speculative) this.forkPickleView(at, buf, pos)
    const layout = wrapperLayout(wrapper)
    const stack = this.ctx.stack
    stack[stack.length - 1] = OBJ_V
    if (typeof layout === 'string') {
      this.fail(
        at,
        `cannot tell the size of the joblib array written after the NumpyArrayWrapper at offset ${at} (${layout}); ` +
          'the rest of the file cannot be scanned safely'
      )
      return
    }
    if (layout.hasObject) {
      // joblib pickles object arrays as a separate protocol-5 pickle, read with a plain Unpickler.
      this.nested.push(this.ctx)
      this.ctx = { stack: [], marks: [], memo: new Memo(), joblib: false }
      return
    }
    if (layout.padded) {
      this.padPending = layout.nbytes
      this.padAt = at
      return
    }
    this.startSkip(layout.nbytes, `joblib array data after the wrapper at offset ${at}`, at)
    this.checkFits(this.offset, layout.nbytes, at, 'joblib array data')
  }

  private forkPickleView(at: number, buf: Buffer, pos: number): void {
    if (this.children.length >= MAX_CHILDREN) {
      this.fail(
        at,
        `more than ${MAX_CHILDREN} overlapping pickle.load readings of joblib array data; the file looks crafted`
      )
      return
    }
    if (!(this.ctx.memo instanceof Memo)) return
    const child = new PickleScanner(
      {
        policy: this.policy,
        mode: 'speculative',
        joblib: false,
        context: `as pickle.load would read the bytes after the joblib array wrapper at offset ${at}`,
        baseOffset: this.offset,
        depth: this.depth,
        ...(this.totalSize !== undefined ? { totalSize: this.totalSize - this.offset } : {})
      },
      this.sink
    )
    child.reportUnknown = false
    child.overlay = new MemoOverlay(this.ctx.memo)
    child.ctx = {
      stack: this.ctx.stack.slice(),
      marks: this.ctx.marks.slice(),
      memo: child.overlay,
      joblib: false
    }
    child.opsInPickle = 1
    this.children.push(child)
    child.consume(buf.subarray(pos))
    if (child.stopped) this.retire(this.children.length - 1)
  }
}
