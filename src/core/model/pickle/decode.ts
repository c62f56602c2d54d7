/**
 * Decoding of opcode arguments: the text forms of protocols 0 and 1 (Python literals with their escapes), UTF-8 as
 * Python checks it, and little-endian integers of any width. Each returns undefined where Python's unpickler raises.
 */
import { BIGINT_V, type V } from './values.js'

const MAX_SAFE = Number.MAX_SAFE_INTEGER

export const INT_TEXT = /^\s*[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)\s*$/
export const DECIMAL_TEXT = /^\s*[+-]?\d[\d_]*\s*$/
export const FLOAT_TEXT = /^\s*[+-]?((\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?|inf|infinity|nan)\s*$/i
export const IDENTIFIER_PATH = /^[\p{L}\p{Nl}_][\p{L}\p{N}_]*(\.[\p{L}\p{Nl}_][\p{L}\p{N}_]*)*$/u

export function intFromText(text: string): V {
  const n = Number(text.replace(/_/g, '').trim())
  return Number.isSafeInteger(n) ? n : BIGINT_V
}

/** `codecs.escape_decode` of a STRING argument's body, as a latin-1 string; undefined when Python would raise. */
export function escapeDecode(bytes: Buffer): string | undefined {
  if (!bytes.includes(92)) return bytes.toString('latin1')
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (c !== 92) {
      out += String.fromCharCode(c)
      continue
    }
    if (++i >= bytes.length) return undefined // trailing backslash: "\ at end of string"
    const e = bytes[i]!
    switch (e) {
      case 0x5c:
        out += '\\'
        break
      case 0x27:
        out += "'"
        break
      case 0x22:
        out += '"'
        break
      case 0x61:
        out += '\x07'
        break
      case 0x62:
        out += '\b'
        break
      case 0x66:
        out += '\f'
        break
      case 0x6e:
        out += '\n'
        break
      case 0x72:
        out += '\r'
        break
      case 0x74:
        out += '\t'
        break
      case 0x76:
        out += '\v'
        break
      case 0x0a:
        break
      case 0x78: {
        const hex = bytes.toString('latin1', i + 1, i + 3)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined
        out += String.fromCharCode(parseInt(hex, 16))
        i += 2
        break
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let j = i
          let v = 0
          while (j < bytes.length && j < i + 3 && bytes[j]! >= 0x30 && bytes[j]! <= 0x37) v = v * 8 + bytes[j++]! - 0x30
          out += String.fromCharCode(v & 0xff)
          i = j - 1
        } else out += '\\' + String.fromCharCode(e)
    }
  }
  return out
}

/** `raw-unicode-escape` decoding of a UNICODE argument; undefined when Python would raise. */
export function rawUnicodeEscapeDecode(bytes: Buffer): string | undefined {
  if (!bytes.includes(92)) return bytes.toString('latin1')
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const c = bytes[i]!
    if (c !== 92) {
      out += String.fromCharCode(c)
      i++
      continue
    }
    // A run of backslashes: an escape only when the run is odd and followed by u or U.
    let j = i
    while (j < bytes.length && bytes[j] === 92) j++
    const run = j - i
    const next = bytes[j]
    if (run % 2 === 1 && (next === 0x75 || next === 0x55)) {
      out += '\\'.repeat(run - 1)
      const digits = next === 0x75 ? 4 : 8
      const hex = bytes.toString('latin1', j + 1, j + 1 + digits)
      if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) return undefined
      const cp = parseInt(hex, 16)
      if (cp > 0x10ffff) return undefined
      out += String.fromCodePoint(cp)
      i = j + 1 + digits
    } else {
      out += '\\'.repeat(run)
      i = j
    }
  }
  return out
}

/** UTF-8 validity with Python's `surrogatepass` (lone surrogates allowed), for strings Node decoded with U+FFFD. */
function validUtf8(buf: Buffer, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const c = buf[i]!
    if (c < 0x80) {
      i++
      continue
    }
    let n: number
    let min: number
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1
      min = 0x80
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2
      min = 0x800
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3
      min = 0x10000
    } else return false
    if (i + n >= end) return false
    let cp = c & (0x3f >> n)
    for (let k = 1; k <= n; k++) {
      const b = buf[i + k]
      if (b === undefined || (b & 0xc0) !== 0x80) return false
      cp = (cp << 6) | (b & 0x3f)
    }
    if (cp < min || cp > 0x10ffff) return false
    i += n + 1
  }
  return true
}

export function decodeUtf8(buf: Buffer, start: number, end: number): string | undefined {
  const s = buf.toString('utf8', start, end)
  if (s.includes('\ufffd') && !validUtf8(buf, start, end)) return undefined
  return s
}

/** Little-endian two's complement, for LONG1/LONG4 (small enough to keep). */
export function decodeLong(buf: Buffer, start: number, n: number): V {
  if (n === 0) return 0
  if (n > 16) return BIGINT_V
  let v = 0n
  for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[start + k]!)
  if (buf[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n)
  return v >= BigInt(-MAX_SAFE) && v <= BigInt(MAX_SAFE) ? Number(v) : v
}

/** An 8-byte little-endian length, or -1 when it exceeds 2^53 (nothing real is that long). */
export function readLength8(buf: Buffer, p: number): number {
  const lo = buf.readUInt32LE(p)
  const hi = buf.readUInt32LE(p + 4)
  if (hi > 0x1fffff) return -1
  return hi * 0x100000000 + lo
}
