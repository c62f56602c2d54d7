/**
 * The vocabulary of a comparison: rules as the engine uses them (after config parsing and MLflow name mapping),
 * and the per-metric results and verdict the engine produces. Renderers and actions consume these types only.
 */
import type { MetricValue, Provenance } from '../metrics/types.js'
import type { Direction, RuleSeverity, Verdict } from '../vocabulary.js'

/** One metric's result in the verdict's words: the comparison's verdict is its worst outcome. */
export type Outcome = Verdict

/** A rule in canonical form. Percentages are in percent (10 means 10%), measured against |baseline|. */
export interface Rule {
  /** The metric name or glob as written in the config (`accuracy`, `per_class.*.recall`). */
  readonly pattern: string
  readonly direction?: Direction | undefined
  /** Absolute floor and ceiling on the candidate's value. */
  readonly min?: number | undefined
  readonly max?: number | undefined
  /** Largest worsening against the baseline that is still accepted, absolute and relative. */
  readonly maxRegression?: number | undefined
  readonly maxRegressionPct?: number | undefined
  /** Smallest improvement against the baseline that is required, absolute and relative. */
  readonly minImprovement?: number | undefined
  readonly minImprovementPct?: number | undefined
  /**
   * Whether a candidate that lacks the metric fails. Unset means the default: an exact name fails when missing, a
   * glob that matches no metric at all warns (it may be a typo); `false` only warns, `true` also fails the glob.
   */
  readonly required?: boolean | undefined
  readonly severity: RuleSeverity
  /**
   * MLflow's MetricThreshold meaning (the rule gave `greater_is_better` and no `direction`): the direction only
   * orients the threshold and the minimum changes, so a worsening that none of them catches passes. Otherwise a
   * direction with no `max-regression(-pct)` fails any worsening.
   */
  readonly directionOrientsOnly?: boolean | undefined
}

export type MetricStatus =
  | 'improved'
  | 'regressed'
  | 'within-tolerance'
  | 'insufficient-improvement'
  | 'below-floor'
  | 'above-ceiling'
  | 'missing'
  | 'new'
  | 'unchanged'
  | 'invalid'

export const METRIC_STATUSES: readonly MetricStatus[] = [
  'regressed',
  'below-floor',
  'above-ceiling',
  'insufficient-improvement',
  'missing',
  'invalid',
  'within-tolerance',
  'improved',
  'new',
  'unchanged'
]

export interface MetricResult {
  readonly name: string
  readonly candidate?: MetricValue | undefined
  readonly baseline?: MetricValue | undefined
  /** candidate − baseline, when both are numbers. */
  readonly delta?: number | undefined
  /** delta / |baseline| × 100, when both are numbers and the baseline is not zero. */
  readonly deltaPct?: number | undefined
  /** The direction used: the rule's, or (for ungated metrics) the one inferred from the name. */
  readonly direction?: Direction | undefined
  readonly status: MetricStatus
  /** Whether the gate looked at this metric: it has a rule. Ungated metrics are shown but never fail. */
  readonly gated: boolean
  readonly outcome: Outcome
  /** The pattern of the rule that applied, if any. */
  readonly rule?: string | undefined
  /** Why the outcome is warn or fail, one sentence each, e.g. `0.78 is below the floor 0.8`. */
  readonly reasons: readonly string[]
}

export interface Comparison {
  readonly candidate: Provenance
  /** Absent when there is no baseline yet (first model, or no champion alias). */
  readonly baseline?: Provenance | undefined
  /** Why there is no baseline when one was asked for, e.g. `models:/churn@champion: no version … has the alias`. */
  readonly baselineNote?: string | undefined
  /**
   * What the gate says about itself, each a warning in the report and the log: no rules at all (or only rules for
   * another gate's metrics). A comparison with notices is never a plain pass. A baseline that could not be found is
   * `baselineNote` instead, a warning in the log that leaves the verdict alone: the first model has none to beat.
   */
  readonly notices?: readonly string[]
  readonly metrics: readonly MetricResult[]
  readonly verdict: Verdict
  readonly counts: Readonly<Record<MetricStatus, number>>
  /** Gated metrics whose status is `regressed` and whose outcome is warn or fail. */
  readonly regressions: number
  readonly failures: number
  readonly warnings: number
}
