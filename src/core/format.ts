/**
 * Numbers for humans, shared by the renderers and the comparison engine's reason strings.
 *
 * Conventions (tests pin them down):
 * - Negative numbers use the real minus sign U+2212 (`−0.004`), everywhere including exponents (`1e−9`): one glyph
 *   for one meaning, and it lines up with `+` in tables. Machine-readable output (the JSON report) keeps raw numbers.
 * - 4 significant digits by default, but the integer part is never rounded away: `12345.6` is `12346`, not `1.235e4`.
 * - Integers print in full without grouping (`123456789`) up to 1e15, so they can be pasted into a config file.
 * - Exponent notation below 1e−4 and from 1e15: `1.235e−7`, `1e21`.
 * - `-0` is `0`; NaN is `NaN`; ±Infinity is `∞` / `−∞`.
 * - Deltas and percentages are always signed; zero is `±0`.
 *
 * This module has no imports: the engine uses it, and it must stay free of renderer concerns.
 */

export const MINUS = '\u2212'

const SMALL = 1e-4
const LARGE = 1e15
/** Percentages this large are effectively "the baseline was tiny"; an exponent says so more honestly than 9 digits. */
const LARGE_PERCENT = 1e6
/** Enough to tell any two distinct doubles apart. */
const MAX_DIGITS = 17

/** A human reading of `n` with `digits` significant digits (see the module comment for the conventions). */
export function formatNumber(n: number, digits = 4): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === 0) return '0'
  const sign = n < 0 ? MINUS : ''
  return sign + formatMagnitude(Math.abs(n), clampDigits(digits), LARGE)
}

/** A signed difference: `+0.0123`, `−0.004`, `±0`. */
export function formatDelta(n: number, digits = 4): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === 0) return '±0'
  return (n > 0 ? '+' : MINUS) + formatMagnitude(Math.abs(n), clampDigits(digits), LARGE)
}

/**
 * A signed percentage from a value already in percent: `+1.2%`, `−0.35%`, `+250%`, `+1.2e8%`, `+∞%`. Two significant
 * digits: a relative change is a rough magnitude, and the absolute delta beside it carries the precision.
 */
export function formatPercent(pct: number): string {
  if (Number.isNaN(pct)) return 'NaN%'
  if (pct === 0) return '±0%'
  return (pct > 0 ? '+' : MINUS) + formatMagnitude(Math.abs(pct), 2, LARGE_PERCENT) + '%'
}

/** A count for prose, grouped by thousands: `99,874`. Counts are never pasted back into a config. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return formatNumber(n)
  const text = String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return n < 0 ? MINUS + text : text
}

/**
 * `n` with at least `digits` significant digits, and more when needed so that it does not read the same as any
 * different number in `others`. Without this a candidate of 0.79996 against a floor of 0.8 would be shown as
 * "0.8 is below the floor 0.8".
 */
export function formatNumberDistinct(n: number, others: readonly number[], digits = 4): string {
  let d = clampDigits(digits)
  let text = formatNumber(n, d)
  while (d < MAX_DIGITS && others.some(o => o !== n && !Number.isNaN(o) && formatNumber(o, d) === text)) {
    d++
    text = formatNumber(n, d)
  }
  return text
}

function clampDigits(digits: number): number {
  return Math.min(MAX_DIGITS, Math.max(1, Math.trunc(digits) || 1))
}

function formatMagnitude(abs: number, digits: number, large: number): string {
  if (abs === Infinity) return '∞'
  if (Number.isInteger(abs) && abs < large) return String(abs)
  if (abs < SMALL || abs >= large) return exponential(abs, digits)
  // log10 can be off by one next to a power of ten, and rounding can carry (9.99996 → 10.000); either way the
  // extra decimal is a zero that trimZeros removes. Cheaper than asking toExponential for the exact exponent.
  const exponent = Math.floor(Math.log10(abs))
  const text = trimZeros(abs.toFixed(Math.max(0, digits - 1 - exponent)))
  return exponent + 1 >= Math.log10(large) && Number(text) >= large ? exponential(abs, digits) : text
}

function exponential(abs: number, digits: number): string {
  const [mantissa, exponent] = abs.toExponential(digits - 1).split('e')
  return `${trimZeros(mantissa)}e${Number(exponent)}`.replace('-', MINUS)
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text
}

/** A byte count for people: `512 B`, `3.2 KiB`, `94 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
