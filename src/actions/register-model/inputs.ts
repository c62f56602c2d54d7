/**
 * register-model's inputs, read and validated in one place into a typed settings object.
 */
import { ConfigurationError } from '../../core/errors.js'
import { readTuningOptions, SECRET_VARIABLES, type TuningOptions } from '../../core/environment.js'
import { splitAliases } from '../../core/registry/uri.js'
import { REGISTRY_KINDS, type RegistryKind } from '../../core/vocabulary.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput, getChoiceInput, getOptionalInput } from '../shared/input-helper.js'
import { Inputs } from './constants.js'

export interface RegisterActionSettings extends TuningOptions {
  /** Absolute path of the workspace (GITHUB_WORKSPACE), against which every file input resolves. */
  workspace: string
  registry?: RegistryKind | undefined
  registryPath?: string | undefined
  trackingUri?: string | undefined
  name?: string | undefined
  modelPath?: string | undefined
  source?: string | undefined
  runId?: string | undefined
  aliases: string[]
  /** The `tags` input's YAML text, parsed by the core with line numbers in its errors. */
  tags?: string | undefined
  description?: string | undefined
  validationReport?: string | undefined
  comparisonReport?: string | undefined
  config?: string | undefined
  /** The whole registration's deadline, as the user wrote it (`10m`); the core parses it. */
  timeout?: string | undefined
}

export function getInputs(io: ActionIO, env: NodeJS.ProcessEnv = process.env): RegisterActionSettings {
  const modelPath = getOptionalInput(io, Inputs.ModelPath)
  const source = getOptionalInput(io, Inputs.Source)
  if (!modelPath && !source) {
    throw new ConfigurationError(
      `is required: expected a local MLflow model directory to upload (or set ${Inputs.Source} to an artifact the registry already has, such as runs:/<run-id>/model)`,
      { source: describeInput(Inputs.ModelPath) }
    )
  }
  if (modelPath && source) {
    throw new ConfigurationError(`and ${describeInput(Inputs.Source)} are both set; expected one of them`, {
      source: describeInput(Inputs.ModelPath)
    })
  }
  // Credentials arrive through the environment, as MLflow's and Databricks' own clients read them.
  for (const secret of SECRET_VARIABLES) {
    const value = env[secret]
    if (value) io.setSecret(value)
  }
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    registry: getChoiceInput(io, Inputs.Registry, REGISTRY_KINDS),
    registryPath: getOptionalInput(io, Inputs.RegistryPath),
    trackingUri: getOptionalInput(io, Inputs.TrackingUri),
    name: getOptionalInput(io, Inputs.Name),
    modelPath,
    source,
    runId: getOptionalInput(io, Inputs.RunId),
    aliases: splitAliases(getOptionalInput(io, Inputs.Aliases)),
    tags: getOptionalInput(io, Inputs.Tags),
    description: getOptionalInput(io, Inputs.Description),
    validationReport: getOptionalInput(io, Inputs.ValidationReport),
    comparisonReport: getOptionalInput(io, Inputs.ComparisonReport),
    config: getOptionalInput(io, Inputs.Config),
    timeout: getOptionalInput(io, Inputs.Timeout),
    // Not inputs: tests of the bundle play registry faults and slow servers without waiting real seconds.
    ...readTuningOptions(env)
  }
}
