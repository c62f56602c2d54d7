/**
 * compare-metrics' inputs, read and validated in one place into a typed settings object.
 */
import { readTuningOptions, type TuningOptions } from '../../core/environment.js'
import { COMPARE_FAIL_ON, type CompareFailOn } from '../../core/vocabulary.js'
import type { ActionIO } from '../shared/action-io.js'
import { getChoiceInput, getOptionalInput, getRequiredInput } from '../shared/input-helper.js'
import { COMMENT_MODES, Inputs, type CommentMode } from './constants.js'

export interface CompareActionSettings extends TuningOptions {
  /** Absolute path of the workspace (GITHUB_WORKSPACE), against which every file input resolves. */
  workspace: string
  candidate: string
  baseline?: string | undefined
  config?: string | undefined
  rules?: string | undefined
  comment: CommentMode
  reportId?: string | undefined
  failOn?: CompareFailOn | undefined
  token?: string | undefined
  trackingUri?: string | undefined
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
    failOn: getChoiceInput(io, Inputs.FailOn, COMPARE_FAIL_ON),
    token,
    trackingUri: getOptionalInput(io, Inputs.TrackingUri),
    // Not inputs: tests of the bundle play rate limits, 5xx retries and slow servers without waiting real seconds.
    ...readTuningOptions(env)
  }
}
