/**
 * Which files the pickle check opens, from their name and first bytes: cheap, so that a model with nothing to scan
 * never loads the container readers or the interpreter.
 */
import { open } from 'node:fs/promises'
import { isTar } from './tar.js'
import { isZip } from './zip.js'

export const SNIFF = 512

/** Extensions loaded with pickle (or joblib, or torch.load) in practice. */
export const PICKLE_EXTENSIONS = ['.pkl', '.pickle', '.joblib', '.pt', '.pth', '.bin', '.ckpt', '.dat', '.sav']
/** Extensions that say "this is a pickle": anything else in them is a broken pickle, not some other format. */
export const DEFINITE_EXTENSIONS = ['.pkl', '.pickle', '.joblib']
/** joblib's compressor suffixes after a pickle extension (`model.joblib.gz`, `model.pkl.z`). */
export const COMPRESSED_PICKLE = /\.(pkl|pickle|joblib)\.(z|gz|gzip|bz2|xz|lzma|lz4)$/i
/** How a protocol 0 or 1 pickle (no PROTO header) starts: a MARK, a GLOBAL line pair, an empty dict or list. */
const HEADERLESS_PICKLE = /^(\([(dltiScVILFNp}\]]|c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n|[}\]][(qp])/

export function hasExtension(path: string, extensions: readonly string[]): boolean {
  const lower = path.toLowerCase()
  return extensions.some(e => lower.endsWith(e))
}

export function isPickleHeader(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5
}

export function isHeaderlessPickle(b: Uint8Array): boolean {
  return HEADERLESS_PICKLE.test(Buffer.from(b.subarray(0, 64)).toString('latin1'))
}

export function isNpy(b: Uint8Array): boolean {
  return b.length >= 6 && Buffer.from(b.subarray(0, 6)).toString('latin1') === '\x93NUMPY'
}

/**
 * Whether a file is worth opening as a pickle: a pickle extension, a pickle protocol header (`\x80` + 2..5), the
 * start of a protocol 0 or 1 pickle, a zip (PyTorch archives, skops; the scan then reads its directory), a tar
 * (torch's oldest format) or a .npy.
 */
export function isPickleCandidate(path: string, firstBytes: Uint8Array): boolean {
  return (
    hasExtension(path, PICKLE_EXTENSIONS) ||
    COMPRESSED_PICKLE.test(path) ||
    isPickleHeader(firstBytes) ||
    isHeaderlessPickle(firstBytes) ||
    isZip(firstBytes) ||
    isTar(firstBytes) ||
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
