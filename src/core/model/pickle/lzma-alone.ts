/**
 * A decoder of the LZMA "alone" format (`.lzma`, Python's `lzma.FORMAT_ALONE`, what joblib's `compress='lzma'`
 * writes), after Igor Pavlov's reference decoder (LzmaSpec.cpp, public domain).
 *
 * Hand-written because the pure-JavaScript LZMA1 decoders on npm (LZMA-JS and its ports) keep the whole output in
 * one growing array with no limit: a few bytes of garbage make them grow it until V8 aborts the process. This one
 * yields its output in chunks, so the caller's decompression budget applies, and stops at the first inconsistency.
 * joblib writes an unknown size (-1) and an end marker; both forms are read.
 */

const OUT_CHUNK = 1024 * 1024
/** Dictionaries above this are refused (xz's largest preset uses 64 MiB). */
const MAX_DICT = 256 * 1024 * 1024

class LzmaError extends Error {}

class RangeDecoder {
  private range = 0xffffffff
  private code = 0
  private pos: number
  constructor(
    private readonly input: Uint8Array,
    start: number
  ) {
    this.pos = start
    if (this.next() !== 0) throw new LzmaError('range coder does not start with 0')
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0
    if (this.code === this.range) throw new LzmaError('corrupt range coder start')
  }

  private next(): number {
    if (this.pos >= this.input.length) throw new LzmaError('compressed data ends early')
    return this.input[this.pos++]!
  }

  finishedOk(): boolean {
    return this.code === 0
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!
    const bound = (this.range >>> 11) * p
    let bit: number
    if (this.code < bound) {
      this.range = bound
      probs[i] = p + ((2048 - p) >>> 5)
      bit = 0
    } else {
      this.range -= bound
      this.code -= bound
      probs[i] = p - (p >>> 5)
      bit = 1
    }
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0
      this.code = ((this.code << 8) | this.next()) >>> 0
    }
    return bit
  }

  direct(count: number): number {
    let res = 0
    for (let i = 0; i < count; i++) {
      this.range >>>= 1
      let bit = 0
      if (this.code >= this.range) {
        this.code -= this.range
        bit = 1
      }
      res = ((res << 1) | bit) >>> 0
      if (this.range < 0x1000000) {
        this.range = (this.range << 8) >>> 0
        this.code = ((this.code << 8) | this.next()) >>> 0
      }
    }
    return res
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, base + m)
    return m - (1 << bits)
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1
    let sym = 0
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, base + m)
      m = (m << 1) + bit
      sym |= bit << i
    }
    return sym
  }
}

function newProbs(n: number): Uint16Array {
  return new Uint16Array(n).fill(1024)
}

/** Length decoder: choice bits, then 3-bit low/mid trees per position state, or an 8-bit high tree. */
class LenDecoder {
  private readonly choice = newProbs(2)
  private readonly low = newProbs(16 << 3)
  private readonly mid = newProbs(16 << 3)
  private readonly high = newProbs(256)

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3)
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3)
    return 16 + rc.tree(this.high, 0, 8)
  }
}

/** Decompresses an LZMA alone stream, yielding the output in chunks; throws on corrupt input. */
export function* decodeLzmaAlone(input: Uint8Array): Generator<Uint8Array> {
  if (input.length < 13) throw new LzmaError('header is truncated')
  let d = input[0]!
  if (d >= 9 * 5 * 5) throw new LzmaError('invalid properties byte')
  const lc = d % 9
  d = Math.floor(d / 9)
  const lp = d % 5
  const pb = Math.floor(d / 5)
  let dictSize = (input[1]! | (input[2]! << 8) | (input[3]! << 16) | (input[4]! << 24)) >>> 0
  if (dictSize > MAX_DICT) throw new LzmaError(`dictionary of ${dictSize} bytes is larger than ${MAX_DICT}`)
  dictSize = Math.max(dictSize, 4096)
  let sizeKnown = false
  let unpackSize = 0
  for (let i = 0; i < 8; i++) {
    if (input[5 + i] !== 0xff) sizeKnown = true
  }
  if (sizeKnown) {
    for (let i = 7; i >= 0; i--) unpackSize = unpackSize * 256 + input[5 + i]!
  }
  const rc = new RangeDecoder(input, 13)

  const window = new Uint8Array(dictSize)
  let wpos = 0
  let full = false
  let total = 0
  let out = new Uint8Array(OUT_CHUNK)
  let outPos = 0
  const chunks: Uint8Array[] = []
  const put = (b: number): void => {
    window[wpos++] = b
    if (wpos === dictSize) {
      wpos = 0
      full = true
    }
    total++
    out[outPos++] = b
    if (outPos === OUT_CHUNK) {
      chunks.push(out)
      out = new Uint8Array(OUT_CHUNK)
      outPos = 0
    }
  }
  const get = (dist: number): number => window[dist <= wpos ? wpos - dist : dictSize - dist + wpos]!

  const literal = newProbs(0x300 << (lc + lp))
  const posSlot = newProbs(4 << 6)
  const posDecoders = newProbs(1 + 128 - 14)
  const align = newProbs(16)
  const isMatch = newProbs(12 << 4)
  const isRep = newProbs(12)
  const isRepG0 = newProbs(12)
  const isRepG1 = newProbs(12)
  const isRepG2 = newProbs(12)
  const isRep0Long = newProbs(12 << 4)
  const lenDecoder = new LenDecoder()
  const repLenDecoder = new LenDecoder()
  let rep0 = 0
  let rep1 = 0
  let rep2 = 0
  let rep3 = 0
  let state = 0
  const pbMask = (1 << pb) - 1
  const lpMask = (1 << lp) - 1

  for (;;) {
    if (chunks.length) yield* chunks.splice(0)
    if (sizeKnown && total === unpackSize && rc.finishedOk()) break
    const posState = total & pbMask
    if (rc.bit(isMatch, (state << 4) + posState) === 0) {
      if (sizeKnown && total >= unpackSize) throw new LzmaError('data continues past the declared size')
      const prev = total > 0 ? get(1) : 0
      const base = 0x300 * (((total & lpMask) << lc) + (prev >>> (8 - lc)))
      let symbol = 1
      if (state >= 7) {
        let matchByte = get(rep0 + 1)
        do {
          const matchBit = (matchByte >>> 7) & 1
          matchByte <<= 1
          const bit = rc.bit(literal, base + ((1 + matchBit) << 8) + symbol)
          symbol = (symbol << 1) | bit
          if (matchBit !== bit) break
        } while (symbol < 0x100)
      }
      while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(literal, base + symbol)
      put(symbol - 0x100)
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6
      continue
    }
    let len: number
    if (rc.bit(isRep, state) !== 0) {
      if (total === 0) throw new LzmaError('repeat match at the start of the data')
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
          state = state < 7 ? 9 : 11
          put(get(rep0 + 1))
          continue
        }
      } else {
        let dist: number
        if (rc.bit(isRepG1, state) === 0) dist = rep1
        else {
          if (rc.bit(isRepG2, state) === 0) dist = rep2
          else {
            dist = rep3
            rep3 = rep2
          }
          rep2 = rep1
        }
        rep1 = rep0
        rep0 = dist
      }
      len = repLenDecoder.decode(rc, posState)
      state = state < 7 ? 8 : 11
    } else {
      rep3 = rep2
      rep2 = rep1
      rep1 = rep0
      len = lenDecoder.decode(rc, posState)
      state = state < 7 ? 7 : 10
      const slot = rc.tree(posSlot, Math.min(len, 3) << 6, 6)
      if (slot < 4) rep0 = slot
      else {
        const bits = (slot >>> 1) - 1
        let dist = ((2 | (slot & 1)) << bits) >>> 0
        if (slot < 14) dist += rc.reverseTree(posDecoders, dist - slot, bits)
        else dist += (rc.direct(bits - 4) << 4) + rc.reverseTree(align, 0, 4)
        rep0 = dist >>> 0
      }
      if (rep0 === 0xffffffff) {
        if (!rc.finishedOk()) throw new LzmaError('end marker with data left in the range coder')
        break
      }
      if (rep0 >= dictSize || (!full && rep0 >= wpos)) throw new LzmaError('match distance beyond the data')
    }
    len += 2
    if (sizeKnown && total + len > unpackSize) throw new LzmaError('data continues past the declared size')
    for (let i = 0; i < len; i++) put(get(rep0 + 1))
  }
  yield* chunks.splice(0)
  if (outPos) yield out.subarray(0, outPos)
}
