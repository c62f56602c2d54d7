/**
 * The compressors joblib writes (and reads back, whatever the file's name): zlib, gzip, bz2, xz and lzma (the
 * "alone" format of Python's `lzma.FORMAT_ALONE`). node:zlib reads the first two; bz2 and xz come from small
 * pure-JavaScript (unbzip2-stream) and WebAssembly (xz-decompress) packages, lzma from lzma-alone.ts, each imported
 * only when such a file is met, so a model without one pays nothing for them at start-up.
 */
import { PassThrough, Readable } from 'node:stream'
import { createGunzip, createInflate } from 'node:zlib'

export type Codec = 'zlib' | 'gzip' | 'bz2' | 'xz' | 'lzma'

/** What the first bytes say: a codec this module reads, an unreadable one (named), or nothing. */
export function sniffCompression(b: Uint8Array): Codec | { unreadable: string } | undefined {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip'
  // joblib's zlib header: 0x78 (32K window), with a valid check byte. Only 0x78, as joblib tests it: other valid zlib
  // headers include `(S`, which is also how a protocol 0 pickle starts.
  if (b.length >= 2 && b[0] === 0x78 && ((b[0] << 8) | b[1]!) % 31 === 0) return 'zlib'
  const ascii = Buffer.from(b.subarray(0, 6)).toString('latin1')
  if (ascii.startsWith('BZh')) return 'bz2'
  if (ascii.startsWith('\xfd7zXZ\x00')) return 'xz'
  // LZMA alone: properties byte (lc/lp/pb, at most 224) and a dictionary size; joblib tests b']\x00\x00'.
  if (ascii.startsWith(']\x00\x00')) return 'lzma'
  if (ascii.startsWith('\x04\x22\x4d\x18')) return { unreadable: 'lz4' }
  if (ascii.startsWith('ZF')) return { unreadable: "joblib's pre-0.10 zlib format" }
  return undefined
}

/** The LZMA alone decoder works on its whole input in memory; larger inputs are a finding, never a silent pass. */
export const LZMA_MAX_INPUT = 512 * 1024 * 1024

/** The decompressed bytes of `input`, as they come. Errors (corrupt data) are thrown while iterating. */
export async function decompress(codec: Codec, input: Readable): Promise<AsyncIterable<Uint8Array>> {
  switch (codec) {
    case 'zlib':
      return input.pipe(createInflate({ chunkSize: 256 * 1024 }))
    case 'gzip':
      return input.pipe(createGunzip({ chunkSize: 256 * 1024 }))
    case 'bz2': {
      const { default: unbzip2 } = await import('unbzip2-stream')
      // A classic `through` stream (it closes before Readable.wrap sees its end): relayed by hand into a modern one.
      const bz = unbzip2()
      const out = new PassThrough()
      bz.on('data', (chunk: Buffer) => out.write(chunk))
      bz.on('end', () => out.end())
      bz.on('error', (error: Error) => out.destroy(error))
      input.on('error', error => out.destroy(error))
      out.on('close', () => input.destroy())
      input.pipe(bz)
      return out
    }
    case 'xz': {
      const { XzReadableStream } = await import('xz-decompress')
      return Readable.fromWeb(new XzReadableStream(Readable.toWeb(input) as ReadableStream<Uint8Array>))
    }
    case 'lzma':
      return lzmaAlone(input)
  }
}

async function* lzmaAlone(input: Readable): AsyncIterable<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of input as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > LZMA_MAX_INPUT) throw new Error(`lzma input larger than ${LZMA_MAX_INPUT} bytes is not decoded here`)
    chunks.push(chunk)
  }
  const { decodeLzmaAlone } = await import('./lzma-alone.js')
  yield* decodeLzmaAlone(Buffer.concat(chunks))
}
