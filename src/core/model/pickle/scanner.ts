/**
 * The pickle scanner's entry points: scan a pickle stream held in memory or arriving in chunks, never unpickling it.
 * The interpreter (interpreter.ts) does the work over the decoder (opcodes.ts, decode.ts) and the values it tracks
 * (values.ts); container formats are read in containers.ts.
 */
import { PickleScanner } from './interpreter.js'
import type { PickleScanResult, ScanOptions } from './result.js'

export { PickleScanner } from './interpreter.js'
export type { ImportRecord, PickleScanResult, ScanOptions, ScanProblem } from './result.js'

/** Scan bytes held in memory. */
export function scanPickleBytes(bytes: Uint8Array, options: ScanOptions): PickleScanResult {
  const scanner = new PickleScanner({ ...options, totalSize: options.totalSize ?? bytes.length })
  scanner.feed(bytes)
  return scanner.end()
}

/** Scan a stream of chunks (a decompressor's output, a zip entry). */
export async function scanPickleStream(
  source: AsyncIterable<Uint8Array>,
  options: ScanOptions
): Promise<PickleScanResult> {
  const scanner = new PickleScanner(options)
  for await (const chunk of source) {
    scanner.feed(chunk)
    if (!scanner.wantsMore()) break
  }
  return scanner.end()
}
