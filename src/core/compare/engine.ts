/**
 * The rules engine: candidate and baseline metrics plus rules in, one result per metric and a verdict out.
 *
 * Semantics, in the order they are applied to a metric:
 * 1. No candidate value: `missing`. Fails when the rule says `required`, warns for any other rule, and is only shown
 *    for an ungated metric.
 * 2. A candidate value that is not a finite number (NaN, duplicate, text): `invalid`. Fails under a rule, warns
 *    otherwise: a defective metric is never compared as if it were a number.
 * 3. Absolute bounds: below `min` is `below-floor`, above `max` is `above-ceiling`.
 * 4. No baseline value: `new`; only the bounds were checked.
 * 5. Against the baseline, only when the rule states a direction (a guessed direction never gates):
 *    no change is `unchanged`; a better value is `improved` unless `min-improvement(-pct)` asks for more
 *    (`insufficient-improvement`); a worse value is `within-tolerance` when it stays inside every tolerance given
 *    (`max-regression` and `max-regression-pct` each bound it), else `regressed`. With a direction and no tolerance,
 *    any worsening regresses.
 * Percentages are taken against |baseline| (MLflow divides by the signed baseline, which flips the test for a
 * negative one). Comparisons allow 1e-12 of relative slack, so that 0.9 - 0.89 still counts as a change of 0.01.
 */
import type { MetricSet, MetricValue, Provenance } from '../metrics/types.js'
import { formatDelta, formatNumber, formatNumberDistinct, formatPercent } from '../format.js'
import type { Direction, Verdict } from '../vocabulary.js'
import { inferDirection, RuleMatcher } from './rules.js'
import {
  METRIC_STATUSES,
  type Comparison,
  type MetricResult,
  type MetricStatus,
  type Outcome,
  type Rule
} from './types.js'

export function compareMetrics(
  candidate: MetricSet,
  baseline: MetricSet | undefined,
  rules: readonly Rule[]
): Comparison {
  const matcher = new RuleMatcher(rules)
  const results: MetricResult[] = []
  const seen = new Set<string>()

  for (const [name, value] of candidate.values) {
    seen.add(name)
    results.push(evaluate(name, value, baseline?.values.get(name), matcher.match(name), baseline !== undefined))
  }
  if (baseline) {
    for (const [name, value] of baseline.values) {
      if (seen.has(name)) continue
      seen.add(name)
      results.push(evaluate(name, undefined, value, matcher.match(name), true))
    }
  }
  for (const rule of matcher.exactRules) {
    if (!seen.has(rule.pattern))
      results.push(evaluate(rule.pattern, undefined, undefined, rule, baseline !== undefined))
  }
  for (const rule of matcher.globRules) {
    if (!rule.required) continue
    const anyCandidate = [...candidate.values.keys()].some(name => matcher.match(name) === rule)
    if (!anyCandidate) results.push(unmatchedRequiredGlob(rule))
  }
  return summarizeComparison(candidate.provenance, baseline?.provenance, results)
}

function evaluate(
  name: string,
  candidate: MetricValue | undefined,
  baseline: MetricValue | undefined,
  rule: Rule | undefined,
  haveBaseline: boolean
): MetricResult {
  const gated = rule !== undefined
  const direction: Direction = rule?.direction ?? inferDirection(name)
  const onBreak: Outcome = rule?.severity === 'warn' ? 'warn' : 'fail'
  // One object shape for every result, built once: spreading optional fields cost most of a 100,000-metric run.
  const result = (
    status: MetricStatus,
    outcome: Outcome,
    reasons: readonly string[],
    delta?: number,
    deltaPct?: number
  ) => makeResult(name, candidate, baseline, delta, deltaPct, direction, status, gated, outcome, rule?.pattern, reasons)

  if (!candidate) {
    const reason = baseline
      ? 'the candidate no longer reports this metric'
      : haveBaseline
        ? 'neither the candidate nor the baseline reports this metric; check the name in the rules'
        : 'the candidate does not report this metric; check the name in the rules'
    const outcome: Outcome = !gated ? 'pass' : rule.required ? onBreak : 'warn'
    return result('missing', outcome, outcome === 'pass' ? NO_REASONS : [reason])
  }
  if (candidate.kind === 'invalid') {
    return result('invalid', gated ? onBreak : 'warn', [
      `the candidate value is ${describeInvalid(candidate)}, not a number`
    ])
  }

  const value = candidate.value
  let reasons: string[] | undefined
  let status: MetricStatus | undefined
  let outcome: Outcome = 'pass'
  const breaks = (why: string, severity: Outcome = onBreak) => {
    ;(reasons ??= []).push(why)
    outcome = worse(outcome, severity)
  }

  if (rule?.min !== undefined && value < rule.min) {
    status = 'below-floor'
    breaks(`${formatNumberDistinct(value, [rule.min])} is below the floor ${formatNumber(rule.min)}`)
  }
  if (rule?.max !== undefined && value > rule.max) {
    status = 'above-ceiling'
    breaks(`${formatNumberDistinct(value, [rule.max])} is above the ceiling ${formatNumber(rule.max)}`)
  }

  if (!baseline) {
    return result(status ?? 'new', outcome, reasons ?? NO_REASONS)
  }
  if (baseline.kind === 'invalid') {
    // A rule with a direction compares with the baseline (any worsening counts), so it cannot be honoured here.
    if (rule?.direction) breaks(`the baseline value is ${describeInvalid(baseline)}, so no comparison was made`, 'warn')
    return result(status ?? 'invalid', outcome, reasons ?? NO_REASONS)
  }

  const previous = baseline.value
  const delta = value - previous
  const deltaPct = previous !== 0 ? (delta / Math.abs(previous)) * 100 : undefined
  const improvement = direction === 'higher' ? delta : -delta
  const improvementPct = previous !== 0 ? (improvement / Math.abs(previous)) * 100 : improvement > 0 ? Infinity : 0
  // Only reasons use it, and most metrics have none: formatting it for all of 100,000 metrics cost a third of the run.
  const changeText = () => `${formatDelta(delta)}${deltaPct !== undefined ? ` (${formatPercent(deltaPct)})` : ''}`

  let changeStatus: MetricStatus = improvement === 0 ? 'unchanged' : improvement > 0 ? 'improved' : 'regressed'
  if (rule?.direction) {
    if (improvement < 0) {
      const worsening = -improvement
      const worseningPct = -improvementPct
      const tolerated = rule.maxRegression !== undefined || rule.maxRegressionPct !== undefined
      const withinAbsolute = rule.maxRegression === undefined || atMost(worsening, rule.maxRegression)
      const withinRelative = rule.maxRegressionPct === undefined || atMost(worseningPct, rule.maxRegressionPct)
      if (tolerated && withinAbsolute && withinRelative) {
        changeStatus = 'within-tolerance'
      } else {
        const allowed = [
          rule.maxRegression !== undefined ? formatNumber(rule.maxRegression) : undefined,
          rule.maxRegressionPct !== undefined ? `${formatNumber(rule.maxRegressionPct)}%` : undefined
        ].filter(Boolean)
        breaks(
          tolerated
            ? `worsened by ${changeText()}, more than the allowed ${allowed.join(' / ')}`
            : `worsened by ${changeText()}; ${direction} is better and no max-regression is set`
        )
      }
    }
    const wantsImprovement = rule.minImprovement !== undefined || rule.minImprovementPct !== undefined
    if (wantsImprovement && improvement >= 0) {
      const enoughAbsolute = rule.minImprovement === undefined || atLeast(improvement, rule.minImprovement)
      const enoughRelative =
        rule.minImprovementPct === undefined ||
        (previous === 0 ? improvement > 0 : atLeast(improvementPct, rule.minImprovementPct))
      if (!enoughAbsolute || !enoughRelative) {
        changeStatus = 'insufficient-improvement'
        const required = [
          rule.minImprovement !== undefined ? formatNumber(rule.minImprovement) : undefined,
          rule.minImprovementPct !== undefined ? `${formatNumber(rule.minImprovementPct)}%` : undefined
        ].filter(Boolean)
        breaks(`changed by ${changeText()}; an improvement of at least ${required.join(' and ')} is required`)
      }
    }
  }
  return result(status ?? changeStatus, outcome, reasons ?? NO_REASONS, delta, deltaPct)
}

const NO_REASONS: readonly string[] = Object.freeze([])

function makeResult(
  name: string,
  candidate: MetricValue | undefined,
  baseline: MetricValue | undefined,
  delta: number | undefined,
  deltaPct: number | undefined,
  direction: Direction,
  status: MetricStatus,
  gated: boolean,
  outcome: Outcome,
  rule: string | undefined,
  reasons: readonly string[]
): MetricResult {
  return { name, candidate, baseline, delta, deltaPct, direction, status, gated, outcome, rule, reasons }
}

function unmatchedRequiredGlob(rule: Rule): MetricResult {
  return {
    name: rule.pattern,
    gated: true,
    rule: rule.pattern,
    ...(rule.direction ? { direction: rule.direction } : {}),
    status: 'missing',
    outcome: rule.severity === 'warn' ? 'warn' : 'fail',
    reasons: ['no candidate metric matches this required pattern']
  }
}

/** Counts, verdict and totals over per-metric results: the one definition the engine and its tests share. */
export function summarizeComparison(
  candidate: Provenance,
  baseline: Provenance | undefined,
  metrics: readonly MetricResult[]
): Comparison {
  const counts = Object.fromEntries(METRIC_STATUSES.map(status => [status, 0])) as Record<MetricStatus, number>
  let failures = 0
  let warnings = 0
  let regressions = 0
  for (const metric of metrics) {
    counts[metric.status]++
    if (metric.outcome === 'fail') failures++
    else if (metric.outcome === 'warn') warnings++
    if (metric.gated && metric.status === 'regressed' && metric.outcome !== 'pass') regressions++
  }
  const verdict: Verdict = failures > 0 ? 'fail' : warnings > 0 ? 'warn' : 'pass'
  return {
    candidate,
    ...(baseline ? { baseline } : {}),
    metrics,
    verdict,
    counts,
    regressions,
    failures,
    warnings
  }
}

function describeInvalid(value: Extract<MetricValue, { kind: 'invalid' }>): string {
  switch (value.reason) {
    case 'nan':
      return 'NaN'
    case 'infinite':
      return `infinite (${value.raw})`
    case 'duplicate':
      return `given more than once (${value.raw})`
    case 'empty':
      return 'empty'
    default:
      return `not numeric (${JSON.stringify(value.raw).slice(0, 40)})`
  }
}

function worse(a: Outcome, b: Outcome): Outcome {
  if (a === 'fail' || b === 'fail') return 'fail'
  if (a === 'warn' || b === 'warn') return 'warn'
  return 'pass'
}

const SLACK = 1e-12
function atMost(value: number, limit: number): boolean {
  return value <= limit + SLACK * Math.max(1, Math.abs(value), Math.abs(limit))
}
function atLeast(value: number, limit: number): boolean {
  return value >= limit - SLACK * Math.max(1, Math.abs(value), Math.abs(limit))
}
