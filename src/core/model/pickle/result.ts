/** What a scan of one pickle stream reports, and how it is asked for. */
import type { ImportRating, PicklePolicy } from './policy.js'
import type { V } from './values.js'

/** One import the stream makes (deduplicated by module, name, opcode and view; `count` says how often). */
export interface ImportRecord {
  readonly module: string
  readonly name: string
  readonly opcode: string
  /** Byte offset of the first occurrence in the (decompressed) stream. */
  readonly offset: number
  readonly rating: ImportRating
  readonly reason: string
  readonly overriddenBy?: string
  /** The user's allow entry that let an import the built-in allowlist does not name pass. */
  readonly allowedBy?: string
  count: number
  /** Set for imports seen in a speculative view: an embedded pickle, or pickle.load's reading of joblib data. */
  readonly context?: string
}

export interface ScanProblem {
  /** `error` for the stream's first pickle; `warning` for garbage after a complete pickle (pickle.load ignores it). */
  readonly severity: 'error' | 'warning'
  readonly offset: number
  readonly message: string
}

export interface PickleScanResult {
  /** Bytes of the stream consumed. */
  readonly bytes: number
  /** Highest PROTO seen (0 when the stream has none: protocol 0 or 1). */
  readonly protocol: number
  /** Complete pickles (STOPs) in the main view. */
  readonly pickles: number
  readonly imports: readonly ImportRecord[]
  /** Distinct imports beyond the record cap (counted, not listed). */
  readonly omittedImports: number
  readonly problems: readonly ScanProblem[]
  readonly notes: readonly string[]
  /** joblib arrays whose raw bytes were skipped (or whose nested object-array pickle was scanned). */
  readonly joblibArrays: number
  /** `legacy-torch` when the stream is torch.save's pre-zip format (five pickles, then raw storage bytes). */
  readonly layout: 'pickle' | 'legacy-torch'
  /** With `readOne`, the value the pickle left (when it reached STOP), as the interpreter tracks it. */
  readonly value?: V
}

export interface ScanOptions {
  readonly policy: PicklePolicy
  /**
   * `full` reports everything, including corruption. `speculative` is for bytes that may not be a pickle at all: it
   * stops quietly where Python's unpickler would raise, reports dangerous imports always and unknown imports only
   * if a STOP is reached.
   */
  readonly mode?: 'full' | 'speculative'
  /** Stream size when known, so an argument longer than the rest of the stream is reported at once. */
  readonly totalSize?: number
  /** Read NumpyArrayWrapper as joblib does (skip the array bytes that follow it). Default true. */
  readonly joblib?: boolean
  /** Label for imports found in this stream (speculative views). */
  readonly context?: string
  /** Offset of the stream's first byte in the enclosing stream (embedded pickles). */
  readonly baseOffset?: number
  /** Nesting depth of embedded scans. */
  readonly depth?: number
  /**
   * Read one pickle and stop at its STOP, as one `pickle.load` on a file does, for loaders that read raw bytes right
   * after it (torch's legacy tar members): `bytes` is then the pickle's length and `value` what it left.
   */
  readonly readOne?: boolean
}
