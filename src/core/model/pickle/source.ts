/**
 * Random access to the bytes of a model file, or of a file inside one (a zip entry that is itself a zip): the
 * container readers read headers at offsets and stream ranges through a decompressor or the scanner.
 */
import { createReadStream } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'

export const CHUNK = 1024 * 1024

export interface Source {
  readonly size: number
  /** Up to `length` bytes from `position` (fewer at the end). */
  read(position: number, length: number): Promise<Buffer>
  /** Reads into `buf`, as FileHandle.read does; returns the bytes read. */
  readInto(buf: Buffer, length: number, position: number): Promise<number>
  /** The bytes [start, end) as a stream. */
  stream(start: number, end: number): Readable
}

export function fileSource(fh: FileHandle, absolute: string, size: number): Source {
  return {
    size,
    async read(position, length) {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - position)))
      if (!buf.length) return buf
      const { bytesRead } = await fh.read(buf, 0, buf.length, position)
      return buf.subarray(0, bytesRead)
    },
    async readInto(buf, length, position) {
      return (await fh.read(buf, 0, length, position)).bytesRead
    },
    stream(start, end) {
      return end > start
        ? createReadStream(absolute, { start, end: end - 1, highWaterMark: CHUNK })
        : Readable.from([] as Buffer[])
    }
  }
}

export function bufferSource(data: Buffer): Source {
  return {
    size: data.length,
    read: async (position, length) => data.subarray(position, Math.min(data.length, position + length)),
    async readInto(buf, length, position) {
      return data.copy(buf, 0, position, Math.min(data.length, position + length))
    },
    stream(start, end) {
      const slice = data.subarray(start, end)
      const parts: Buffer[] = []
      for (let p = 0; p < slice.length; p += CHUNK) parts.push(slice.subarray(p, p + CHUNK))
      return Readable.from(parts)
    }
  }
}
