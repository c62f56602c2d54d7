/**
 * validate-model's inputs, read and validated in one place into a typed settings object.
 */
import { ConfigurationError } from '../../core/errors.js'
import { readTuningOptions, type TuningOptions } from '../../core/environment.js'
import { VALIDATE_FAIL_ON, type ValidateFailOn } from '../../core/vocabulary.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput, getChoiceInput, getOptionalInput } from '../shared/input-helper.js'
import { Inputs } from './constants.js'

export interface ValidateActionSettings extends TuningOptions {
  /** Absolute path of the workspace (GITHUB_WORKSPACE), against which every file input resolves. */
  workspace: string
  modelPath?: string | undefined
  modelUri?: string | undefined
  trackingUri?: string | undefined
  config?: string | undefined
  /** Picks the model of the config's `models:` list. */
  model?: string | undefined
  metrics?: string | undefined
  failOn?: ValidateFailOn | undefined
}

export function getInputs(io: ActionIO, env: NodeJS.ProcessEnv = process.env): ValidateActionSettings {
  const modelPath = getOptionalInput(io, Inputs.ModelPath)
  const modelUri = getOptionalInput(io, Inputs.ModelUri)
  if (!modelPath && !modelUri) {
    throw new ConfigurationError(
      `is required: expected a local MLflow model directory (or set ${Inputs.ModelUri} to models:/<name>/<version>, models:/<name>@<alias> or runs:/<run-id>/<path>)`,
      { source: describeInput(Inputs.ModelPath) }
    )
  }
  if (modelPath && modelUri) {
    throw new ConfigurationError(`and ${describeInput(Inputs.ModelUri)} are both set; expected one of them`, {
      source: describeInput(Inputs.ModelPath)
    })
  }
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    modelPath,
    modelUri,
    trackingUri: getOptionalInput(io, Inputs.TrackingUri),
    config: getOptionalInput(io, Inputs.Config),
    model: getOptionalInput(io, Inputs.Model),
    metrics: getOptionalInput(io, Inputs.Metrics),
    failOn: getChoiceInput(io, Inputs.FailOn, VALIDATE_FAIL_ON),
    // Not inputs: tests play registry faults (for model-uri) without waiting real seconds.
    ...readTuningOptions(env)
  }
}
