/**
 * deploy-endpoint: inputs → one rollout (or its plan) → job summary, JSON report, outputs; the step fails, with the
 * numbers, when the rollout did not end with the new version serving.
 *
 * A cancelled job reaches the step as SIGINT then SIGTERM a few seconds apart: both abort the rollout, which puts the
 * previous state back and proves it, so the endpoint is left in the old or the new state, never a mix.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runDeploy } from '../../core/gates/deploy.js'
import { buildDeployJson, clip, deployHeadline, renderDeployMarkdown } from '../../core/report/deploy.js'
import type { RolloutEvent } from '../../core/serving/rollout.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput } from '../shared/input-helper.js'
import { reportDirectory } from '../shared/outcome.js'
import { Outputs } from './constants.js'
import { getInputs } from './inputs.js'

/** How often a waiting rollout says it is still waiting. */
const PROGRESS_EVERY_MS = 10_000

export async function run(io: ActionIO, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = getInputs(io, env)
  const abort = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    io.warning(`deploy-endpoint received ${signal}: stopping the rollout and putting the previous state back`)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let last: RolloutEvent | undefined
  let since = Date.now()
  const progress = setInterval(() => {
    if (last) io.info(`… still ${last.phase}: ${last.message} (${Math.round((Date.now() - since) / 1000)} s)`)
  }, PROGRESS_EVERY_MS)
  progress.unref()
  let result
  try {
    result = await runDeploy({
      ...settings,
      env,
      signal: abort.signal,
      describeInput,
      log: line => io.info(line),
      warn: line => io.warning(line),
      onEvent: event => {
        last = event
        since = Date.now()
        io.info(`[${event.phase}${event.step === undefined ? '' : ` ${event.step + 1}`}] ${event.message}`)
      }
    })
  } finally {
    clearInterval(progress)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const report = result.report
  const reportDir = await reportDirectory(env, 'deploy-endpoint')
  const reportPath = join(reportDir, 'report.json')
  await writeFile(reportPath, `${JSON.stringify(buildDeployJson(result), null, 2)}\n`)
  await io.appendSummary(renderDeployMarkdown(result))

  const metrics = report.metrics
  io.setOutput(Outputs.EndpointUrl, result.endpointUrl)
  io.setOutput(
    Outputs.DeployedVersion,
    report.outcome === 'deployed' || report.outcome === 'unchanged'
      ? result.version
      : report.rolledBack
        ? (report.previousVersion ?? '')
        : ''
  )
  io.setOutput(Outputs.PreviousVersion, report.previousVersion ?? '')
  io.setOutput(Outputs.RolledBack, report.rolledBack)
  io.setOutput(Outputs.Changed, report.changed && !result.dryRun)
  io.setOutput(Outputs.LatencyP50Ms, numberOutput(metrics['deploy.latency_p50_ms']))
  io.setOutput(Outputs.LatencyP95Ms, numberOutput(metrics['deploy.latency_p95_ms']))
  io.setOutput(Outputs.ErrorRate, numberOutput(metrics['deploy.error_rate']))
  io.setOutput(Outputs.DeploymentId, result.deployment ? String(result.deployment.id) : '')
  io.setOutput(Outputs.Report, reportPath)
  io.info(deployHeadline(result))
  if (!result.passed) {
    const failure = clip(report.failure?.message ?? report.outcome)
    // The rollback's message starts a sentence after the failure's.
    const said = report.rollback?.message
    const rollback = said
      ? ` ${said.charAt(0).toUpperCase()}${said.slice(1)}`
      : ' The endpoint was left as the failure found it.'
    io.setFailed(`deploy-endpoint: ${failure}.${rollback}`)
  }
}

function numberOutput(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(Math.round(value * 1000) / 1000)
}
