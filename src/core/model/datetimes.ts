/**
 * Datetime text as MLflow's two readers judge it, instead of JavaScript's Date.parse (which reads almost anything):
 * - numpy (`np.array(values, "datetime64[ns]")`, `np.datetime64(value)`), for `inputs` and `instances` bodies and for
 *   params: each value on its own, ISO 8601 only (`2024-01-02`, `2024-01-02T03:04:05.123`, a space for the `T`,
 *   `2024-01`), an offset or `Z` converted to UTC;
 * - pandas (`pd.to_datetime(column)`), for `dataframe_split` and `dataframe_records`: it infers one format from the
 *   column's first value and refuses any later value not written the same way; MLflow then refuses timezone-aware
 *   values, since it converts the column to timezone-naive `datetime64[ns]`.
 * pandas guesses more formats than the few read here; a text we do not read is refused, which is stricter than
 * pandas on purpose: a format only a guess reads may be read differently on the next request.
 */

const ISO =
  /^(?<year>\d{4})(?:-(?<month>\d{2})(?:-(?<day>\d{2})(?:(?<sep>[T ])(?<hour>\d{2})(?::(?<minute>\d{2})(?::(?<second>\d{2})(?<fraction>\.\d{1,9})?)?)?)?(?<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?)?$/
const SLASHED_US = /^(?<month>\d{2})\/(?<day>\d{2})\/(?<year>\d{4})$/
const SLASHED_ISO = /^(?<year>\d{4})\/(?<month>\d{2})\/(?<day>\d{2})$/

interface ParsedDate {
  /** Values written this way share it; pandas reads a column only when all share the first one's. */
  readonly format: string
  readonly zoned: boolean
}

/** The fields of an ISO-like text, or undefined when it is not one or names no real date. */
function parse(text: string, forms: readonly RegExp[]): ParsedDate | undefined {
  for (const [index, form] of forms.entries()) {
    const match = form.exec(text)
    if (!match?.groups) continue
    const g = match.groups
    const year = Number(g.year)
    const month = g.month === undefined ? 1 : Number(g.month)
    const day = g.day === undefined ? 1 : Number(g.day)
    if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined
    if (g.hour !== undefined && Number(g.hour) > 23) return undefined
    if (g.minute !== undefined && Number(g.minute) > 59) return undefined
    if (g.second !== undefined && Number(g.second) > 59) return undefined
    // pandas writes every part it saw into the format it infers: a value with seconds does not match one without.
    const format = [
      index,
      g.month !== undefined,
      g.day !== undefined,
      g.sep ?? '',
      g.minute !== undefined,
      g.second !== undefined,
      g.fraction !== undefined,
      g.zone === undefined ? '' : g.zone === 'Z' ? 'Z' : 'offset'
    ].join('|')
    return { format, zoned: g.zone !== undefined }
  }
  return undefined
}

const NUMPY_MISSING = new Set(['', 'NaT', 'nat', 'NAT'])

/** What numpy makes of one value for a datetime (an `inputs` or `instances` cell, or a param), or undefined. */
export function numpyDatetimeProblem(value: unknown, { numbers = true } = {}): string | undefined {
  if (value === null) return undefined
  if (typeof value === 'number') {
    if (numbers && Number.isInteger(value)) return undefined
    // numpy reads NaN as a float, not as NaT, and has no datetime for an infinity.
    if (!Number.isFinite(value)) return `numpy cannot make a datetime of ${value}; write null for a missing date`
    return numbers
      ? `${value} is not a whole number of nanoseconds, which numpy refuses as a datetime`
      : `numpy cannot read the number ${value} as a datetime without a unit; write an ISO 8601 date`
  }
  if (typeof value === 'boolean') {
    return `numpy reads ${String(value)} as ${value ? 1 : 0} nanoseconds after 1970, not as a date`
  }
  if (typeof value !== 'string') return `expected an ISO 8601 date string, got ${kind(value)}`
  if (NUMPY_MISSING.has(value)) return undefined
  if (/^[+-]?\d+$/.test(value) && !/^\d{4}$/.test(value)) {
    return `numpy reads ${JSON.stringify(value)} as the year ${value}, not as a date; write ISO 8601 (2024-01-02)`
  }
  return parse(value, [ISO])
    ? undefined
    : `${JSON.stringify(value)} is not an ISO 8601 date (2024-01-02 or 2024-01-02T03:04:05), which numpy refuses`
}

/** What `pd.to_datetime` and MLflow make of a dataframe column declared `datetime`, or undefined. */
export function pandasDatetimeColumnProblem(values: readonly unknown[]): string | undefined {
  // pandas reads NaN (json.dump's missing value) as NaT, as it does null.
  const present = values.filter(v => v !== null && v !== '' && !Number.isNaN(v))
  if (present.length === 0) return undefined
  const infinity = present.find(v => v === Infinity || v === -Infinity)
  if (infinity !== undefined) {
    return `${String(infinity)} in a datetime column, which pandas makes a missing date (NaT) or refuses beside dates; write null for a missing date`
  }
  if (present.every(v => typeof v === 'number')) {
    return present.every(v => Number.isInteger(v))
      ? undefined
      : 'pandas reads numbers in a datetime column as nanoseconds since 1970 and rounds fractions of them away'
  }
  const number = present.find(v => typeof v === 'number')
  if (number !== undefined) {
    return `the number ${String(number)} among date strings, which pandas would read as nanoseconds since 1970; write every value as a date`
  }
  const other = present.find(v => typeof v !== 'string')
  if (other !== undefined) return `expected date strings, got ${kind(other)}, which pandas cannot read as a datetime`
  let first: ParsedDate | undefined
  for (const value of present as string[]) {
    const parsed = parse(value, [ISO, SLASHED_ISO, SLASHED_US])
    if (!parsed) {
      return first
        ? `${JSON.stringify(value)} is not written like the column's first date, and pandas reads every date of a column in the format of the first`
        : `${JSON.stringify(value)} is not a date modelgate can read the way pandas does; write ISO 8601 (2024-01-02 or 2024-01-02T03:04:05)`
    }
    if (parsed.zoned) {
      return `${JSON.stringify(value)} has a timezone; MLflow refuses timezone-aware datetimes in a dataframe (write the time without an offset, in the zone the model expects)`
    }
    if (!first) first = parsed
    else if (parsed.format !== first.format) {
      return `${JSON.stringify(value)} is not written like the column's first date, and pandas reads every date of a column in the format it infers from the first`
    }
  }
  return undefined
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'boolean') return `the boolean ${String(value)}`
  return JSON.stringify(value)
}
