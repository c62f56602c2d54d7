/**
 * The words of a model directory that both validation and the registries use: the files the walk found, and the
 * findings it (and every check after it) reports.
 */

export type FindingSeverity = 'error' | 'warning' | 'info'

export interface Finding {
  readonly severity: FindingSeverity
  /** What is wrong (or notable), one sentence. */
  readonly message: string
  /** The model-relative file it concerns, with forward slashes. */
  readonly file?: string
  /** What to do about it, when there is something to do. */
  readonly fix?: string
}

/** A file of the model directory, as the walk found it (never a symlink: those are refused or resolved inside). */
export interface ModelFile {
  /** Model-relative path with forward slashes, e.g. `data/model.pkl`. */
  readonly path: string
  readonly absolute: string
  readonly size: number
}
