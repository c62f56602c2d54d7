/**
 * Errors that separate the user's mistakes from our bugs (the codeql-action convention).
 *
 * A ConfigurationError is something the user can fix: a bad input, a malformed file, an unknown rule key. The
 * action prints it as one `::error::` line with no stack trace and the CLI exits 2. Anything else that escapes is a
 * bug in modelgate and is reported with its stack so it can be filed.
 */

/** Where a user mistake sits: an input or file, and optionally the key path and line inside it. */
export interface ErrorPlace {
  /** The input name (`candidate`, `rules`) or the file path, as the user wrote it. */
  readonly source: string
  /** Dotted key path inside the document, e.g. `metrics.accuracy.direction`, or `row 3` for CSV. */
  readonly path?: string
  /** 1-based line number inside the file, when known. */
  readonly line?: number
  /**
   * The file's path relative to the repository root (the workspace), when the mistake sits in a file of the
   * repository: the runner then marks `line` of it in the pull request's diff (annotation properties file=, line=).
   */
  readonly file?: string
}

/** Where the runner should mark an error: the toolkit's annotation properties. */
export interface Annotation {
  readonly file: string
  readonly startLine?: number
}

export class ConfigurationError extends Error {
  readonly place: ErrorPlace | undefined
  /** The message without the place prefix, for callers that render the place themselves. */
  readonly detail: string

  constructor(detail: string, place?: ErrorPlace) {
    super(place ? `${formatPlace(place)}: ${detail}` : detail)
    this.name = 'ConfigurationError'
    this.place = place
    this.detail = detail
  }

  /** The same error, placed in `file` of the repository (see ErrorPlace.file). */
  inFile(file: string): ConfigurationError {
    return new ConfigurationError(this.detail, { ...(this.place ?? { source: file }), file })
  }

  /** The annotation that marks this error in the pull request, when it sits in a file of the repository. */
  get annotation(): Annotation | undefined {
    const place = this.place
    if (!place?.file) return undefined
    return place.line !== undefined ? { file: place.file, startLine: place.line } : { file: place.file }
  }
}

/** `file.yml:12 (metrics.accuracy.min)`, `input 'rules' (metrics.x)`, `file.csv (row 3)`. */
export function formatPlace(place: ErrorPlace): string {
  let text = place.source
  if (place.line !== undefined) text += `:${place.line}`
  if (place.path) text += ` (${place.path})`
  return text
}

/**
 * A remote service (a model registry, a tracking server) failed or could not be reached after retries. Neither the
 * user's input nor our bug: it is reported as one clear line naming the service and what it answered, without a
 * stack, and the step fails so a re-run can finish the work (every write is idempotent).
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the service answered. */
    readonly status?: number,
    /** The service's own error code, e.g. MLflow's `INTERNAL_ERROR`. */
    readonly code?: string
  ) {
    super(message)
    this.name = 'ServiceError'
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError
}

/** A message for any thrown value, for logs that must not crash on a non-Error throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

/** A file system error's code (`EACCES`, `ENOENT`), or the thrown value as text when it has none. */
export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error)
}

// A control character no example or config holds in a string (only a string of exactly the mark and the word would
// be shown unquoted); JSON.stringify writes it as the escape matched below.
const NON_FINITE_MARK = '\u0000'
const NON_FINITE_TEXT = /"\\u0000(NaN|-?Infinity)"/g

/** Quote a user-supplied value for an error message, short enough to stay on one line. */
export function describeValue(value: unknown, max = 60): string {
  let text: string
  if (typeof value === 'string') text = JSON.stringify(value)
  else if (value === undefined) text = 'nothing'
  // JSON.stringify writes NaN and infinities as null, which is not what the user wrote (`.nan`, `.inf`).
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value)
  else {
    try {
      // Inside lists and maps too: a marked string stands in for each, then loses its quotes and mark.
      text =
        JSON.stringify(value, (_key, item: unknown) =>
          typeof item === 'number' && !Number.isFinite(item) ? `${NON_FINITE_MARK}${item}` : item
        )?.replace(NON_FINITE_TEXT, '$1') ?? String(value)
    } catch {
      text = String(value)
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
