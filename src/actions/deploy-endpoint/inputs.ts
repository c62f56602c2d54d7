/**
 * deploy-endpoint's inputs, read and validated in one place into a typed settings object.
 */
import { readTuningOptions, SECRET_VARIABLES, type TuningOptions } from '../../core/environment.js'
import { ConfigurationError } from '../../core/errors.js'
import {
  DEPLOY_TARGET_KINDS,
  parseRolloutTimeout,
  parseRequests,
  parseTraffic,
  ROLLBACK_MODES,
  type DeployTargetKind,
  type RollbackMode
} from '../../core/gates/deploy.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput, getChoiceInput, getOptionalInput, getRequiredInput } from '../shared/input-helper.js'
import { Inputs } from './constants.js'

export interface DeployActionSettings extends TuningOptions {
  /** Absolute path of the workspace (GITHUB_WORKSPACE), against which every file input resolves. */
  workspace: string
  target?: DeployTargetKind | undefined
  endpoint?: string | undefined
  haproxySocket?: string | undefined
  modelUri: string
  trackingUri?: string | undefined
  traffic: number
  smokeInput?: string | undefined
  requests: number
  rolloutTimeoutMs?: number | undefined
  rollback: RollbackMode
  promoteAlias?: string | undefined
  environment?: string | undefined
  dryRun: boolean
  config?: string | undefined
  githubToken?: string | undefined
}

export function getInputs(io: ActionIO, env: NodeJS.ProcessEnv = process.env): DeployActionSettings {
  for (const secret of SECRET_VARIABLES) {
    const value = env[secret]
    if (value) io.setSecret(value)
  }
  const githubToken = getOptionalInput(io, Inputs.GitHubToken)
  if (githubToken) io.setSecret(githubToken)
  const timeout = getOptionalInput(io, Inputs.Timeout)
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    target: getChoiceInput(io, Inputs.Target, DEPLOY_TARGET_KINDS),
    endpoint: getOptionalInput(io, Inputs.Endpoint),
    haproxySocket: getOptionalInput(io, Inputs.HaproxySocket),
    modelUri: getRequiredInput(
      io,
      Inputs.ModelUri,
      'the version to roll out, models:/<name>/<version> or models:/<name>@<alias>'
    ),
    trackingUri: getOptionalInput(io, Inputs.TrackingUri),
    traffic: parseTraffic(getOptionalInput(io, Inputs.Traffic) ?? '100', describeInput(Inputs.Traffic)),
    smokeInput: getOptionalInput(io, Inputs.SmokeInput),
    requests: parseRequests(getOptionalInput(io, Inputs.Requests) ?? '50', describeInput(Inputs.Requests)),
    rolloutTimeoutMs: timeout === undefined ? undefined : parseRolloutTimeout(timeout, describeInput(Inputs.Timeout)),
    rollback: getChoiceInput(io, Inputs.Rollback, ROLLBACK_MODES, 'on-failure'),
    promoteAlias: getOptionalInput(io, Inputs.PromoteAlias),
    environment: getOptionalInput(io, Inputs.Environment),
    dryRun: getBooleanInput(io, Inputs.DryRun),
    config: getOptionalInput(io, Inputs.Config),
    githubToken,
    // Not inputs: tests of the bundle play registry faults and slow servers without waiting real seconds.
    ...readTuningOptions(env)
  }
}

/** YAML 1.2's core schema booleans, as @actions/core's getBooleanInput reads them. */
function getBooleanInput(io: ActionIO, name: string): boolean {
  const raw = getOptionalInput(io, name)
  if (raw === undefined) return false
  if (['true', 'True', 'TRUE'].includes(raw)) return true
  if (['false', 'False', 'FALSE'].includes(raw)) return false
  throw new ConfigurationError(`expected true or false, got "${raw}"`, { source: describeInput(name) })
}
