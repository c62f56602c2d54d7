/**
 * Exact comparison of the quantities a rule is judged on, in decimal, as the user wrote them.
 *
 * Metric files and rules are written in decimal; the doubles they parse into are the nearest binary values, so
 * `0.9 - 0.89` is 0.010000000000000009 and `0.33 / 0.3` is 1.1000000000000003. A tolerance of 0.01 or 10% must hold
 * on its boundary, and a slack big enough to hide that (the former 1e-12 floor) also hid whole changes at the 1e-13
 * scale. So each double is read back as its shortest round-trip decimal (what `String(x)` prints, which is the text
 * that was parsed whenever that text had 17 significant digits or fewer) and the arithmetic is done on integers.
 *
 * Doubles decide when they are clearly apart; only a result within a relative hair (1e-12 of the magnitudes involved,
 * thousands of times the rounding error of the double arithmetic) of its boundary is recomputed exactly, so a
 * 100,000-metric comparison pays for BigInt only where it matters.
 */

/** value = m × 10^e */
interface Decimal {
  readonly m: bigint
  readonly e: number
}

const FORM = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/

/** The shortest decimal that reads back as `x` (finite). */
export function toDecimal(x: number): Decimal {
  const match = FORM.exec(String(x))
  if (!match) throw new Error(`not a finite number: ${x}`)
  const fraction = match[3] ?? ''
  return { m: BigInt(`${match[1]}${match[2]}${fraction}`), e: Number(match[4] ?? 0) - fraction.length }
}

/**
 * `x` × 10^`power` as the decimal it is written in, then read back as a double: a fraction written `0.07` is 7
 * percent, where the binary product 0.07 * 100 is 7.000000000000001 and would move a boundary.
 */
export function shiftDecimal(x: number, power: number): number {
  const { m, e } = toDecimal(x)
  return Number(`${m}e${e + power}`)
}

function scaled(a: Decimal, e: number): bigint {
  return a.e === e ? a.m : a.m * 10n ** BigInt(a.e - e)
}

function sub(a: Decimal, b: Decimal): Decimal {
  const e = Math.min(a.e, b.e)
  return { m: scaled(a, e) - scaled(b, e), e }
}

function mul(a: Decimal, b: Decimal): Decimal {
  return { m: a.m * b.m, e: a.e + b.e }
}

function abs(a: Decimal): Decimal {
  return a.m < 0n ? { m: -a.m, e: a.e } : a
}

function cmp(a: Decimal, b: Decimal): number {
  const e = Math.min(a.e, b.e)
  const x = scaled(a, e)
  const y = scaled(b, e)
  return x < y ? -1 : x > y ? 1 : 0
}

const HUNDRED: Decimal = { m: 100n, e: 0 }
const MARGIN = 1e-12

/** Sign of `approx`, a double estimate of an exact difference, or of `exact()` when the estimate is too close to 0. */
function decide(approx: number, magnitude: number, exact: () => number): number {
  const margin = MARGIN * magnitude
  if (approx > margin) return 1
  if (approx < -margin) return -1
  return exact()
}

/**
 * The change from `baseline` to `candidate` in the better direction (negative when it worsened), compared with
 * `limit`: negative, 0 or positive as improvement is below, at or above it. Exact in decimal.
 */
export function compareImprovement(
  candidate: number,
  baseline: number,
  higherIsBetter: boolean,
  limit: number
): number {
  const improvement = higherIsBetter ? candidate - baseline : baseline - candidate
  const magnitude = Math.max(Math.abs(candidate), Math.abs(baseline), Math.abs(limit))
  return decide(improvement - limit, magnitude, () => {
    const c = toDecimal(candidate)
    const b = toDecimal(baseline)
    return cmp(higherIsBetter ? sub(c, b) : sub(b, c), toDecimal(limit))
  })
}

/**
 * The change from `baseline` to `candidate` in the better direction, in percent of |baseline| (not zero), compared
 * with `limitPct`: negative, 0 or positive. Exact in decimal: improvement × 100 against limitPct × |baseline|.
 */
export function compareImprovementPct(
  candidate: number,
  baseline: number,
  higherIsBetter: boolean,
  limitPct: number
): number {
  const improvement = higherIsBetter ? candidate - baseline : baseline - candidate
  const lhs = improvement * 100
  const rhs = limitPct * Math.abs(baseline)
  const magnitude = Math.max(100 * Math.max(Math.abs(candidate), Math.abs(baseline)), Math.abs(rhs))
  return decide(lhs - rhs, magnitude, () => {
    const c = toDecimal(candidate)
    const b = toDecimal(baseline)
    const exactImprovement = higherIsBetter ? sub(c, b) : sub(b, c)
    return cmp(mul(exactImprovement, HUNDRED), mul(toDecimal(limitPct), abs(b)))
  })
}
