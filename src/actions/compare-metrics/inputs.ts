/**
 * compare-metrics' inputs, read and validated in one place into a typed settings object.
 */
import type { FailOn } from '../../core/config/schema.js'
import type { ActionIO } from '../shared/action-io.js'
import { getChoiceInput, getOptionalInput, getRequiredInput } from '../shared/input-helper.js'
import { COMMENT_MODES, FAIL_ON_VALUES, Inputs, type CommentMode } from './constants.js'

export interface CompareActionSettings {
  /** Absolute path of the workspace (GITHUB_WORKSPACE), against which every file input resolves. */
  workspace: string
  candidate: string
  baseline?: string
  config?: string
  rules?: string
  comment: CommentMode
  reportId?: string
  failOn?: FailOn
  token?: string
  trackingUri?: string
  /**
   * Base of the GitHub client's retry backoff in ms. Not an input: MODELGATE_RETRY_BASE_MS lets tests of the bundle
   * exercise rate limits and 5xx retries without waiting GitHub's real seconds.
   */
  retryBaseMs?: number
}

export function getInputs(io: ActionIO, env: NodeJS.ProcessEnv = process.env): CompareActionSettings {
  const token = getOptionalInput(io, Inputs.GitHubToken)
  if (token) io.setSecret(token)
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    candidate: getRequiredInput(
      io,
      Inputs.Candidate,
      'a metrics source: a .json, .yaml or .csv file, git:<ref>:<path>, mlflow-run:<id> or models:/<name>@<alias>'
    ),
    baseline: getOptionalInput(io, Inputs.Baseline),
    config: getOptionalInput(io, Inputs.Config),
    rules: getOptionalInput(io, Inputs.Rules),
    comment: getChoiceInput(io, Inputs.Comment, COMMENT_MODES, 'auto'),
    reportId: getOptionalInput(io, Inputs.ReportId),
    failOn: getChoiceInput(io, Inputs.FailOn, FAIL_ON_VALUES),
    token,
    trackingUri: getOptionalInput(io, Inputs.TrackingUri),
    retryBaseMs: env.MODELGATE_RETRY_BASE_MS ? Number(env.MODELGATE_RETRY_BASE_MS) : undefined
  }
}
