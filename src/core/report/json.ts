/**
 * The machine-readable report, for later steps (register-model, deploy-endpoint) and for scripts.
 *
 * The shape is a contract: bump JSON_REPORT_SCHEMA_VERSION on any change that is not a pure addition. Every key is
 * always present (null when there is nothing to say), so consumers can index without guessing. The report survives
 * `JSON.parse(JSON.stringify(report))` unchanged: no undefined, no NaN or Infinity (a non-finite number becomes an
 * invalid value or null), no -0. Strings are the raw, unescaped values: escaping is the consumer's job for its medium.
 */
import type { Comparison, MetricResult, MetricStatus, Outcome, Rule } from '../compare/types.js'
import { METRIC_STATUSES } from '../compare/types.js'
import type { InvalidReason, MetricValue, Provenance } from '../metrics/types.js'
import type { Direction, RuleSeverity, Verdict } from '../vocabulary.js'
import type { ReportContext } from './markdown.js'

export const JSON_REPORT_SCHEMA_VERSION = 1

/** A value as read: a finite number, an explicit defect with the raw text, or null when the source lacks the metric. */
export type JsonValue = number | { readonly invalid: InvalidReason; readonly raw: string } | null

export interface JsonProvenance {
  readonly kind: Provenance['kind']
  readonly spec: string
  readonly path: string | null
  readonly ref: string | null
  readonly commit: string | null
  readonly runId: string | null
  readonly model: string | null
  readonly version: string | null
  readonly alias: string | null
}

export interface JsonRule {
  readonly pattern: string
  readonly direction: Direction | null
  readonly min: number | null
  readonly max: number | null
  readonly maxRegression: number | null
  readonly maxRegressionPct: number | null
  readonly minImprovement: number | null
  readonly minImprovementPct: number | null
  readonly required: boolean
  readonly severity: RuleSeverity
}

export interface JsonMetric {
  readonly name: string
  readonly candidate: JsonValue
  readonly baseline: JsonValue
  /** candidate − baseline; null unless both are numbers. */
  readonly delta: number | null
  /** delta / |baseline| × 100; null also when the baseline is zero. */
  readonly deltaPct: number | null
  readonly direction: Direction | null
  readonly status: MetricStatus
  readonly gated: boolean
  readonly outcome: Outcome
  /** The pattern of the rule that applied; look it up in `rules` for its thresholds. */
  readonly rule: string | null
  readonly reasons: readonly string[]
}

export interface JsonReport {
  readonly schemaVersion: typeof JSON_REPORT_SCHEMA_VERSION
  readonly tool: 'modelgate'
  readonly title: string
  readonly reportId: string
  /** The engine's verdict, before fail-on. */
  readonly verdict: Verdict
  /** The gate result under failOn: what decides whether the step fails. */
  readonly passed: boolean
  readonly failOn: ReportContext['failOn']
  readonly rulesSource: string | null
  readonly summaryUrl: string | null
  /** Every status, zeros included, in METRIC_STATUSES order (worst first). */
  readonly counts: Readonly<Record<MetricStatus, number>>
  readonly total: number
  readonly regressions: number
  readonly failures: number
  readonly warnings: number
  readonly candidate: JsonProvenance
  /** null when there was no baseline yet and only absolute bounds were checked. */
  readonly baseline: JsonProvenance | null
  /** Why a baseline that was asked for is absent (an alias no version carries yet); null otherwise. */
  readonly baselineNote: string | null
  /**
   * What the gate says about itself (no rules at all), each of which makes the verdict at least warn: the reason a
   * verdict is warn with no metric failing or warning. Empty when there is none.
   */
  readonly notices: readonly string[]
  /** The rules applied, when the caller supplied them; null when unknown (not the same as no rules). */
  readonly rules: readonly JsonRule[] | null
  /** Every metric, in the engine's order. */
  readonly metrics: readonly JsonMetric[]
}

export function buildJsonReport(comparison: Comparison, context: ReportContext): JsonReport {
  const counts = {} as Record<MetricStatus, number>
  for (const status of METRIC_STATUSES) counts[status] = count(comparison.counts[status])
  return {
    schemaVersion: JSON_REPORT_SCHEMA_VERSION,
    tool: 'modelgate',
    title: context.title,
    reportId: context.reportId,
    verdict: comparison.verdict,
    passed: context.passed,
    failOn: context.failOn,
    rulesSource: context.rulesSource ?? null,
    summaryUrl: context.summaryUrl ?? null,
    counts,
    total: comparison.metrics.length,
    regressions: count(comparison.regressions),
    failures: count(comparison.failures),
    warnings: count(comparison.warnings),
    candidate: jsonProvenance(comparison.candidate),
    baseline: comparison.baseline ? jsonProvenance(comparison.baseline) : null,
    baselineNote: comparison.baselineNote ?? null,
    notices: [...(comparison.notices ?? [])],
    rules: context.rules ? context.rules.map(jsonRule) : null,
    metrics: comparison.metrics.map(jsonMetric)
  }
}

function jsonMetric(metric: MetricResult): JsonMetric {
  return {
    name: metric.name,
    candidate: jsonValue(metric.candidate),
    baseline: jsonValue(metric.baseline),
    delta: finite(metric.delta),
    deltaPct: finite(metric.deltaPct),
    direction: metric.direction ?? null,
    status: metric.status,
    gated: metric.gated,
    outcome: metric.outcome,
    rule: metric.rule ?? null,
    reasons: [...metric.reasons]
  }
}

function jsonValue(value: MetricValue | undefined): JsonValue {
  if (value === undefined) return null
  if (value.kind === 'invalid') return { invalid: value.reason, raw: value.raw }
  // The metric types promise finite numbers; should one slip through it is still reported, not turned into null.
  if (Number.isNaN(value.value)) return { invalid: 'nan', raw: String(value.value) }
  if (!Number.isFinite(value.value)) return { invalid: 'infinite', raw: String(value.value) }
  return value.value === 0 ? 0 : value.value
}

function jsonProvenance(provenance: Provenance): JsonProvenance {
  return {
    kind: provenance.kind,
    spec: provenance.spec,
    path: provenance.path ?? null,
    ref: provenance.ref ?? null,
    commit: provenance.commit ?? null,
    runId: provenance.runId ?? null,
    model: provenance.model ?? null,
    version: provenance.version ?? null,
    alias: provenance.alias ?? null
  }
}

function jsonRule(rule: Rule): JsonRule {
  return {
    pattern: rule.pattern,
    direction: rule.direction ?? null,
    min: finite(rule.min),
    max: finite(rule.max),
    maxRegression: finite(rule.maxRegression),
    maxRegressionPct: finite(rule.maxRegressionPct),
    minImprovement: finite(rule.minImprovement),
    minImprovementPct: finite(rule.minImprovementPct),
    required: rule.required !== false,
    severity: rule.severity
  }
}

/** A number JSON can carry exactly: -0 would come back as 0, and NaN and Infinity as null. */
function finite(n: number | undefined): number | null {
  if (n === undefined || !Number.isFinite(n)) return null
  return n === 0 ? 0 : n
}

function count(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) ? n : 0
}
