/**
 * The vocabulary of model validation: each check yields one CheckResult with findings; the validate-model action
 * turns them into job-summary rows and a verdict. Check modules produce these and nothing else.
 */
import type { ValidateFailOn, Verdict } from '../vocabulary.js'

import type { Finding } from '../model-dir/types.js'

// Defined in model-dir because the walk reports findings too; re-exported so each check imports its words from one place.
export type { Finding, FindingSeverity, ModelFile } from '../model-dir/types.js'

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'
export type CheckId =
  | 'mlmodel'
  | 'flavors'
  | 'signature'
  | 'input-example'
  | 'environment'
  | 'size'
  | 'manifest'
  | 'paths'
  | 'secrets'
  | 'pickle'
  | 'smoke-test'
  | 'metrics'

export interface CheckResult {
  readonly id: CheckId
  readonly title: string
  readonly status: CheckStatus
  /** One line for the summary table. */
  readonly summary: string
  readonly findings: readonly Finding[]
  /** Machine-readable extras for the JSON report (sizes, digests, latencies, flavors). */
  readonly data?: Readonly<Record<string, unknown>>
}

/** Builds a result whose status follows from its findings: any error fails, any warning warns. */
export function checkResult(
  id: CheckId,
  title: string,
  summary: string,
  findings: readonly Finding[],
  data?: Record<string, unknown>
): CheckResult {
  const status: CheckStatus = findings.some(f => f.severity === 'error')
    ? 'fail'
    : findings.some(f => f.severity === 'warning')
      ? 'warn'
      : 'pass'
  return { id, title, status, summary, findings, ...(data ? { data } : {}) }
}

export function skippedCheck(id: CheckId, title: string, why: string): CheckResult {
  return { id, title, status: 'skip', summary: why, findings: [] }
}

/** Everything validate-model found, for the job summary, the JSON report and the outputs. */
export interface ValidationReport {
  /** The model as the user named it (a path relative to the workspace, or a URI). */
  readonly model: string
  readonly checks: readonly CheckResult[]
  readonly verdict: Verdict
  readonly failOn: ValidateFailOn
  readonly passed: boolean
  readonly digest?: string
  readonly sizeBytes?: number
  readonly flavors?: readonly string[]
  /** Where the manifest of every file's sha256 was written. */
  readonly manifestPath?: string
}

export function validationVerdict(checks: readonly CheckResult[]): Verdict {
  if (checks.some(c => c.status === 'fail')) return 'fail'
  if (checks.some(c => c.status === 'warn')) return 'warn'
  return 'pass'
}
