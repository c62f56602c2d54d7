/**
 * The rules engine: candidate and baseline metrics plus rules in, one result per metric and a verdict out.
 *
 * Semantics, in the order they are applied to a metric:
 * 1. No candidate value: `missing`. Under a rule it fails (a candidate must never pass by no longer reporting what
 *    is gated), or warns when the rule says `required: false`; an ungated metric is only shown. A glob that matches
 *    no metric name on either side warns (a typo gates nothing), or fails when it says `required: true`; a glob
 *    whose metrics are all governed by more specific rules did match, and is not reported.
 * 2. A candidate value that is not a finite number (NaN, duplicate, text): `invalid`. Fails under a rule, warns
 *    otherwise: a defective metric is never compared as if it were a number.
 * 3. Absolute bounds: below `min` is `below-floor`, above `max` is `above-ceiling` (MLflow's `threshold`).
 * 4. No baseline value: `new`; only the bounds were checked.
 * 5. Against the baseline, only when the rule states a direction (a guessed direction never gates; under a rule
 *    without one, a change the guess calls worse is `within-tolerance`, since the rule accepts any change):
 *    no change is `unchanged`; a better value is `improved` unless `min-improvement(-pct)` asks for more
 *    (`insufficient-improvement`); a worse value is `within-tolerance` when it stays inside every tolerance given
 *    (`max-regression` and `max-regression-pct` each bound it), else `regressed`. With our `direction` and no
 *    tolerance, any worsening regresses; with MLflow's `greater_is_better` the direction only orients the other
 *    checks, so a worsening is judged by the minimum changes alone, or accepted when there are none.
 * Percentages are taken against |baseline|, as MLflow 3.17 does. Against a zero baseline a relative requirement
 * falls back to an improvement of at least 1e-10 (MLflow's fallback), and a relative tolerance allows no worsening.
 * Every comparison with a tolerance or a requirement is exact in decimal (exact.ts): no slack, at any scale.
 * A comparison without any rule warns: it gated nothing (`notices`).
 */
import type { MetricSet, MetricValue, Provenance } from '../metrics/types.js'
import { formatDelta, formatNumber, formatNumberDistinct, formatPercent } from '../format.js'
import type { Direction, Verdict } from '../vocabulary.js'
import { compareImprovement, compareImprovementPct } from './exact.js'
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
  const matched = new Set<Rule>()
  const match = (name: string) => {
    const rule = matcher.match(name)
    if (rule) matched.add(rule)
    return rule
  }

  for (const [name, value] of candidate.values) {
    seen.add(name)
    results.push(evaluate(name, value, baseline?.values.get(name), match(name), baseline !== undefined))
  }
  if (baseline) {
    for (const [name, value] of baseline.values) {
      if (seen.has(name)) continue
      seen.add(name)
      results.push(evaluate(name, undefined, value, match(name), true))
    }
  }
  for (const rule of matcher.exactRules) {
    if (!seen.has(rule.pattern))
      results.push(withNameHint(evaluate(rule.pattern, undefined, undefined, rule, baseline !== undefined), candidate))
  }
  for (const rule of matcher.globRules) {
    // A glob that a more specific rule overrode for every metric it matches still matched: it is no typo.
    if (!matched.has(rule) && !matcher.globMatchesAny(rule, seen)) results.push(unmatchedGlob(rule))
  }
  const notices = rules.length === 0 ? [NO_RULES] : []
  return summarizeComparison(candidate.provenance, baseline?.provenance, results, notices)
}

/** Said in the report and the log when a comparison had nothing to gate with. */
export const NO_RULES =
  'No rules were given (no metrics in the config, no rules input), so nothing was gated; the metrics are only shown.'

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
    // A candidate must never pass by no longer reporting what is gated; `required: false` makes it a warning.
    const outcome: Outcome = !gated ? 'pass' : rule.required === false ? 'warn' : onBreak
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
  const higher = direction === 'higher'
  // The sign of a double difference is exact: two doubles differ exactly when their decimals do, in the same order.
  const improvement = higher ? delta : -delta
  // Only reasons use it, and most metrics have none: formatting it for all of 100,000 metrics cost a third of the run.
  const changeText = () => `${formatDelta(delta)}${deltaPct !== undefined ? ` (${formatPercent(deltaPct)})` : ''}`

  let changeStatus: MetricStatus = improvement === 0 ? 'unchanged' : improvement > 0 ? 'improved' : 'regressed'
  if (rule?.direction) {
    const wantsImprovement = rule.minImprovement !== undefined || rule.minImprovementPct !== undefined
    // MLflow's rules judge a worsening only by their minimum changes; ours also by their tolerances.
    const judgedAsImprovement = rule.directionOrientsOnly === true && wantsImprovement
    if (improvement < 0 && !judgedAsImprovement) {
      const tolerated = rule.maxRegression !== undefined || rule.maxRegressionPct !== undefined
      const withinAbsolute =
        rule.maxRegression === undefined || compareImprovement(value, previous, higher, -rule.maxRegression) >= 0
      const withinRelative =
        rule.maxRegressionPct === undefined ||
        (previous !== 0 && compareImprovementPct(value, previous, higher, -rule.maxRegressionPct) >= 0)
      if (!tolerated && rule.directionOrientsOnly) {
        // MLflow's MetricThreshold with only a threshold: the bound was checked above, the worsening is accepted.
        changeStatus = 'within-tolerance'
      } else if (tolerated && withinAbsolute && withinRelative) {
        changeStatus = 'within-tolerance'
      } else {
        const allowed = [
          rule.maxRegression !== undefined ? formatNumber(rule.maxRegression) : undefined,
          rule.maxRegressionPct !== undefined ? `${formatNumber(rule.maxRegressionPct)}%` : undefined
        ].filter(Boolean)
        const fromZero =
          previous === 0 && rule.maxRegressionPct !== undefined
            ? ' (from a baseline of 0, any worsening is more than a percentage)'
            : ''
        breaks(
          tolerated
            ? `worsened by ${changeText()}, more than the allowed ${allowed.join(' / ')}${fromZero}`
            : `worsened by ${changeText()}; ${direction} is better and no max-regression is set`
        )
      }
    }
    if (wantsImprovement && (improvement >= 0 || judgedAsImprovement)) {
      const enoughAbsolute =
        rule.minImprovement === undefined || compareImprovement(value, previous, higher, rule.minImprovement) >= 0
      // MLflow's fallback for a zero baseline, where no relative change exists: an improvement of at least 1e-10.
      const enoughRelative =
        rule.minImprovementPct === undefined ||
        (previous === 0
          ? compareImprovement(value, previous, higher, ZERO_BASELINE_STEP) >= 0
          : compareImprovementPct(value, previous, higher, rule.minImprovementPct) >= 0)
      if (!enoughAbsolute || !enoughRelative) {
        changeStatus = 'insufficient-improvement'
        const required = [
          rule.minImprovement !== undefined ? formatNumber(rule.minImprovement) : undefined,
          rule.minImprovementPct !== undefined ? `${formatNumber(rule.minImprovementPct)}%` : undefined
        ].filter(Boolean)
        const fromZero =
          previous === 0 && !enoughRelative
            ? ' (the baseline is 0, so the relative requirement falls back to an improvement of at least 1e-10, as in MLflow)'
            : ''
        breaks(
          `changed by ${changeText()}; an improvement of at least ${required.join(' and ')} is required${fromZero}`
        )
      }
    }
  } else if (rule && changeStatus === 'regressed') {
    // A rule without a direction gates by its bounds alone and accepts any change: a worsening under the guessed
    // direction is within what it allows, never "regressed" beside a pass. Ungated metrics keep the guess's words.
    changeStatus = 'within-tolerance'
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

const HINTS_SHOWN = 3

/**
 * A rule that names no metric on either side is usually right about the metric and wrong about its path: the file
 * nests it (`metrics.accuracy`, `eval/accuracy`). Naming those metrics says what to write.
 */
function withNameHint(result: MetricResult, candidate: MetricSet): MetricResult {
  if (result.reasons.length === 0) return result
  const near: string[] = []
  for (const name of candidate.values.keys()) {
    if (name.endsWith(`.${result.name}`) || name.endsWith(`/${result.name}`)) near.push(name)
    if (near.length > HINTS_SHOWN) break
  }
  if (near.length === 0) return result
  const shown = near.slice(0, HINTS_SHOWN).join(', ') + (near.length > HINTS_SHOWN ? ', …' : '')
  const [first, ...rest] = result.reasons
  return { ...result, reasons: [`${first} (the candidate reports ${shown})`, ...rest] }
}

/** A glob that matched no metric on either side: a typo gates nothing, so it is said; `required: true` fails. */
function unmatchedGlob(rule: Rule): MetricResult {
  return {
    name: rule.pattern,
    gated: true,
    rule: rule.pattern,
    ...(rule.direction ? { direction: rule.direction } : {}),
    status: 'missing',
    outcome: rule.required === true && rule.severity !== 'warn' ? 'fail' : 'warn',
    reasons: [
      rule.required === true
        ? 'no candidate metric matches this required pattern'
        : 'no metric matches this pattern, so it gates nothing; check it for a typo'
    ]
  }
}

/** Counts, verdict and totals over per-metric results: the one definition the engine and its tests share. */
export function summarizeComparison(
  candidate: Provenance,
  baseline: Provenance | undefined,
  metrics: readonly MetricResult[],
  notices: readonly string[] = []
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
  const verdict: Verdict = failures > 0 ? 'fail' : warnings > 0 || notices.length > 0 ? 'warn' : 'pass'
  return {
    candidate,
    ...(baseline ? { baseline } : {}),
    ...(notices.length > 0 ? { notices } : {}),
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

/** MLflow's step for a relative requirement against a zero baseline (validation.py: `baseline ± 1e-10`). */
const ZERO_BASELINE_STEP = 1e-10
