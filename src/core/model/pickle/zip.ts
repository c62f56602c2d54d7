/**
 * The central directory of a zip archive (the authoritative list, as zipfile and PyTorch's reader use it), ZIP64
 * included. Flag bits and checksums are not trusted or checked: PyTorch's reader ignores both, so an entry marked
 * "encrypted" (CVE-2025-1945) or with a wrong CRC still loads, and must still be read.
 */
import type { Source } from './source.js'

export interface ZipEntry {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly csize: number
  readonly usize: number
  readonly localOffset: number
}

const MAX_ZIP_ENTRIES = 100_000
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024

export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6)
}

function u64(buf: Buffer, p: number): number {
  const v = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 0x100000000
  return v <= Number.MAX_SAFE_INTEGER ? v : Number.MAX_SAFE_INTEGER
}

/** The entries, or why the directory cannot be read. */
export async function readZipDirectory(source: Source): Promise<ZipEntry[] | string> {
  const size = source.size
  const tailLength = Math.min(size, 22 + 0xffff)
  const tailStart = size - tailLength
  const tail = await source.read(tailStart, tailLength)
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
    const locator = await source.read(eocdAt - 20, 20)
    if (locator.length < 20 || locator.readUInt32LE(0) !== 0x07064b50) return 'ZIP64 locator missing'
    const z64At = u64(locator, 8)
    const z64 = await source.read(z64At, 56)
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
  const cd = await source.read(cdOffset + shift, cdSize)
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
export async function dataStart(source: Source, entry: ZipEntry): Promise<number | string> {
  const head = await source.read(entry.localOffset, 30)
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) return 'local header missing'
  return entry.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28)
}
