/**
 * What a metrics source yields. A value is either a finite number or an explicit, reported defect: nothing a
 * source reads is silently dropped, and nothing defective is ever compared as if it were a number.
 */

export type InvalidReason =
  /** A string, boolean, object or other value that is not a number. */
  | 'non-numeric'
  | 'nan'
  | 'infinite'
  /** The same metric name appears more than once (two CSV rows, or `a.b` beside `{a: {b}}`). */
  | 'duplicate'
  /** null, an empty CSV cell, an empty string. */
  | 'empty'

export type MetricValue =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'invalid'; readonly reason: InvalidReason; readonly raw: string }

/** Where a set of metrics came from, shown in the report so a reviewer knows what was compared. */
export interface Provenance {
  readonly kind: 'file' | 'git' | 'mlflow-run' | 'model-version' | 'inline'
  /** The source as the user wrote it: `metrics.json`, `git:origin/main:metrics.json`, `models:/churn@champion`. */
  readonly spec: string
  /** Workspace-relative file path, for file and git sources. */
  readonly path?: string
  /** The git ref as given, and the commit it resolved to. */
  readonly ref?: string
  readonly commit?: string
  readonly runId?: string
  readonly model?: string
  readonly version?: string
  readonly alias?: string
}

export interface MetricSet {
  /** Metric name (dotted, flattened) to value, in the order the source listed them. */
  readonly values: ReadonlyMap<string, MetricValue>
  readonly provenance: Provenance
}

export function numberValue(value: number): MetricValue {
  return { kind: 'number', value }
}

export function invalidValue(reason: InvalidReason, raw: string): MetricValue {
  return { kind: 'invalid', reason, raw }
}
