/**
 * `modelgate deploy`: the deploy-endpoint action's inputs as flags, the rollout (or with --dry-run its plan: current
 * state, desired state, checks) on stdout. Exit 0 when the version serves as asked, 1 when the rollout failed.
 */
import { resolve } from 'node:path'
import type { TuningOptions } from '../core/environment.js'
import {
  DEPLOY_TARGET_KINDS,
  parseRolloutTimeout,
  parseRequests,
  parseTraffic,
  ROLLBACK_MODES,
  runDeploy
} from '../core/gates/deploy.js'
import { buildDeployJson, renderDeployMarkdown, renderDeployText } from '../core/report/deploy.js'
import { choiceFlag, formatFlag } from './flags.js'
import { plainUi, UsageError, type CommandUi, type Output } from './output.js'

export async function runDeployCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  tuning: TuningOptions = {},
  ui: CommandUi = plainUi(output),
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  const text = (name: string) => flags[name]
  const modelUri = text('model-uri')
  if (!modelUri) throw new UsageError('--model-uri is required')
  const format = formatFlag(text('format'), output.isTerminal)
  const describe = (name: string) => `--${name}`
  const traffic = text('traffic')
  const requests = text('requests')
  const timeout = text('timeout')
  const abort = new AbortController()
  const onSignal = () => abort.abort()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let result
  try {
    result = await runDeploy({
      workspace: resolve(text('workspace') ?? process.cwd()),
      target: choiceFlag('--target', text('target'), DEPLOY_TARGET_KINDS),
      endpoint: text('endpoint'),
      haproxySocket: text('haproxy-socket'),
      modelUri,
      trackingUri: text('tracking-uri'),
      traffic: traffic === undefined ? undefined : parseTraffic(traffic, describe('traffic')),
      smokeInput: text('smoke-input'),
      requests: requests === undefined ? undefined : parseRequests(requests, describe('requests')),
      rolloutTimeoutMs: timeout === undefined ? undefined : parseRolloutTimeout(timeout, describe('timeout')),
      rollback: choiceFlag('--rollback', text('rollback'), ROLLBACK_MODES),
      promoteAlias: text('promote-alias'),
      environment: text('environment'),
      dryRun: flags['dry-run'] === 'true',
      config: text('config'),
      githubToken: text('github-token') ?? env.GITHUB_TOKEN,
      env,
      signal: abort.signal,
      ...tuning,
      describeInput: describe,
      log: ui.log,
      onEvent: event => ui.log(`[${event.phase}] ${event.message}`)
    })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  output.out(
    format === 'json'
      ? JSON.stringify(buildDeployJson(result), null, 2)
      : format === 'markdown'
        ? renderDeployMarkdown(result)
        : renderDeployText(result)
  )
  return result.passed ? 0 : 1
}
