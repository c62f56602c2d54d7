/**
 * From the config's `metrics:` map to canonical rules, and from a metric name to the rule that governs it.
 *
 * MLflow `MetricThreshold` names keep the meaning MLflow 3.17's `validate_evaluation_results` gives them:
 * - `threshold` is `min` when greater is better, `max` otherwise (equality passes, as in MLflow);
 * - `min_absolute_change` is `min-improvement`; `min_relative_change` (a fraction) is `min-improvement-pct` × 100,
 *   measured against |baseline| as MLflow 3.17 does (3.1 divided by the signed baseline);
 * - `greater_is_better` (or MLflow 2's `higher_is_better`) orients those checks and nothing else: a rule that gives
 *   only `threshold` checks only the threshold, so a worsening above it passes. Our own `direction` (or the
 *   `higher`/`lower` shorthand) also fails any worsening that no `max-regression(-pct)` tolerates.
 * Where modelgate deliberately differs from MLflow: a metric missing from the baseline is `new`, with its absolute
 * bounds still checked (MLflow fails the comparison, or raises a KeyError for a threshold-only rule); and comparisons
 * are exact in decimal (compare/exact.ts), where MLflow adds binary floats first (0.8 + 0.05 is 0.8500000000000001,
 * so MLflow fails 0.8 -> 0.85 at min_absolute_change 0.05, and modelgate passes it).
 */
import type { MetricRules, RuleSpec } from '../config/schema.js'
import { isDeployRule, type Direction } from '../vocabulary.js'
import { shiftDecimal } from './exact.js'
import type { Rule } from './types.js'

/**
 * The rules a comparison applies. Rules on a rollout's metrics (`deploy.*`) are deploy-endpoint's and never the
 * comparison's: an evaluation never reports those metrics, so they would read as missing and fail the gate.
 */
export function toRules(metrics: MetricRules | undefined): Rule[] {
  if (!metrics) return []
  return Object.entries(metrics)
    .filter(([pattern]) => !isDeployRule(pattern))
    .map(([pattern, spec]) => toRule(pattern, spec))
}

export function toRule(pattern: string, spec: RuleSpec): Rule {
  if (typeof spec === 'string') return { pattern, direction: spec, severity: 'fail' }
  const greater = spec.greater_is_better ?? spec.higher_is_better
  const direction: Direction | undefined =
    spec.direction ?? (greater === undefined ? undefined : greater ? 'higher' : 'lower')
  let { min, max } = spec
  if (spec.threshold !== undefined) {
    if (direction === 'lower') max = spec.threshold
    else min = spec.threshold
  }
  const minImprovementPct =
    spec['min-improvement-pct'] ??
    (spec.min_relative_change !== undefined ? shiftDecimal(spec.min_relative_change, 2) : undefined)
  return dropUndefined({
    pattern,
    direction,
    min,
    max,
    maxRegression: spec['max-regression'],
    maxRegressionPct: spec['max-regression-pct'],
    minImprovement: spec['min-improvement'] ?? spec.min_absolute_change,
    minImprovementPct,
    required: spec.required,
    severity: spec.severity ?? 'fail',
    directionOrientsOnly: spec.direction === undefined && greater !== undefined ? true : undefined
  })
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/**
 * The rules that govern at least one of `names`. For a check that reads only some metrics (validate-model without a
 * metrics file reads only the smoke test's), where a rule about the others is not about this check at all.
 */
export function rulesMatching(rules: readonly Rule[], names: Iterable<string>): Rule[] {
  const matcher = new RuleMatcher(rules)
  const used = new Set<Rule>()
  for (const name of names) {
    const rule = matcher.match(name)
    if (rule) used.add(rule)
  }
  return rules.filter(rule => used.has(rule))
}

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern)
}

/**
 * `*` matches within one dotted segment, `**` across segments, `?` one character. Everything else is literal, so
 * metric names full of regex characters (`f1[macro]`, `auc (ovr)`) match themselves.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*'
      i++
    } else if (char === '*') source += '[^.]*'
    else if (char === '?') source += '[^.]'
    else source += char.replace(/[\\^$.+()|[\]{}]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}

/**
 * Finds the rule for a metric: an exact name wins; among globs the most specific (most literal characters) wins,
 * and on a tie the one written first. Compiled once so that 100,000 names cost one map lookup each plus a few
 * regex tests.
 */
export class RuleMatcher {
  private readonly exact = new Map<string, Rule>()
  private readonly globs: Array<{ rule: Rule; regex: RegExp; specificity: number; order: number }> = []

  constructor(rules: readonly Rule[]) {
    rules.forEach((rule, order) => {
      if (!isGlob(rule.pattern)) {
        this.exact.set(rule.pattern, rule)
        return
      }
      const specificity = rule.pattern.replace(/[*?]/g, '').length
      this.globs.push({ rule, regex: globToRegExp(rule.pattern), specificity, order })
    })
    this.globs.sort((a, b) => b.specificity - a.specificity || a.order - b.order)
  }

  match(name: string): Rule | undefined {
    const exact = this.exact.get(name)
    if (exact) return exact
    for (const glob of this.globs) if (glob.regex.test(name)) return glob.rule
    return undefined
  }

  /** Whether `rule`'s glob matches any of `names`, whichever rule governs them. */
  globMatchesAny(rule: Rule, names: Iterable<string>): boolean {
    const glob = this.globs.find(g => g.rule === rule)
    if (!glob) return false
    for (const name of names) if (glob.regex.test(name)) return true
    return false
  }

  get exactRules(): Iterable<Rule> {
    return this.exact.values()
  }

  get globRules(): Rule[] {
    return this.globs.map(g => g.rule)
  }
}

const LOWER_IS_BETTER =
  /(^|[._\-/ ])(loss|error|errors|err|mse|rmse|mae|mape|smape|logloss|log_loss|brier|latency|duration|time|seconds|ms|size|bytes|memory|perplexity|fpr|fnr|wer|cer|hamming|distance|cost)([._\-/ ]|$)|_ms$|_seconds$|_bytes$|latency|loss/i

/**
 * For metrics without a rule, a direction guessed from the name decides only how the report colours the change.
 * It never gates: a guess must not fail a build.
 */
export function inferDirection(name: string): Direction {
  return LOWER_IS_BETTER.test(name) ? 'lower' : 'higher'
}
