/**
 * The words modelgate's gates, config, actions, CLI and reports share, each spelt once. Every list is an `as const`
 * array (what a schema enum, an input check or a CLI flag needs at run time) with its type derived from it.
 *
 * This module imports nothing, so any layer can use it without pulling another in.
 */

/** How a gate ended, and how one metric or check came out: pass, warn (a soft break) or fail. */
export const VERDICTS = ['pass', 'warn', 'fail'] as const
export type Verdict = (typeof VERDICTS)[number]

/** When compare-metrics fails the step: on a failing verdict (the default), on any warning too, or never. */
export const COMPARE_FAIL_ON = ['regression', 'warning', 'never'] as const
export type CompareFailOn = (typeof COMPARE_FAIL_ON)[number]
export const DEFAULT_COMPARE_FAIL_ON: CompareFailOn = 'regression'

/** When validate-model fails the step: on a failing check (the default), on any warning too, or never. */
export const VALIDATE_FAIL_ON = ['error', 'warning', 'never'] as const
export type ValidateFailOn = (typeof VALIDATE_FAIL_ON)[number]
export const DEFAULT_VALIDATE_FAIL_ON: ValidateFailOn = 'error'

export type FailOn = CompareFailOn | ValidateFailOn

/**
 * Whether a gate's step passes, given its verdict and its `fail-on`. The two gates name the default differently
 * (`regression`, `error`) and mean the same: only a failing verdict fails the step.
 */
export function gatePasses(verdict: Verdict, failOn: FailOn): boolean {
  if (failOn === 'never') return true
  if (failOn === 'warning') return verdict === 'pass'
  return verdict !== 'fail'
}

/** Where register-model keeps versions: a folder, an MLflow tracking server, or Databricks Unity Catalog. */
export const REGISTRY_KINDS = ['file', 'mlflow', 'databricks-uc'] as const
export type RegistryKind = (typeof REGISTRY_KINDS)[number]

/** Whether a higher or a lower value of a metric is better. */
export const DIRECTIONS = ['higher', 'lower'] as const
export type Direction = (typeof DIRECTIONS)[number]

/** What breaking a metric rule does to the comparison's verdict. */
export const RULE_SEVERITIES = ['fail', 'warn'] as const
export type RuleSeverity = (typeof RULE_SEVERITIES)[number]

/**
 * The metrics a rollout measures (`deploy.error_rate`, `deploy.latency_p50_ms`, `deploy.latency_p95_ms`) share this
 * prefix. Rules on them are deploy-endpoint's limits and only its: an evaluation's metrics never hold them, so
 * compare-metrics and validate-model would otherwise read them as missing.
 */
export const DEPLOY_METRIC_PREFIX = 'deploy.'

/** Whether a rule's name or glob only ever matches a rollout's metrics. */
export function isDeployRule(pattern: string): boolean {
  return pattern.startsWith(DEPLOY_METRIC_PREFIX)
}

/**
 * The metrics validate-model's smoke test measures (`smoke.latency_p95_ms`, …) share this prefix. Rules on them are
 * validate-model's: an evaluation's metrics never hold them, so compare-metrics would read them as missing.
 */
export const SMOKE_METRIC_PREFIX = 'smoke.'

/** Whether a rule's name or glob only ever matches the smoke test's metrics. */
export function isSmokeRule(pattern: string): boolean {
  return pattern.startsWith(SMOKE_METRIC_PREFIX)
}
