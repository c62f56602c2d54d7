/**
 * validate-model: inputs → checks of the model directory → job summary, JSON report and manifest, outputs, gate.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tuningOptions } from '../../core/environment.js'
import { readRunContext } from '../../core/github/event.js'
import { runValidation } from '../../core/gates/validate.js'
import { buildValidationJson, renderValidationMarkdown } from '../../core/report/validation.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput } from '../shared/input-helper.js'
import { failureLine, reportDirectory } from '../shared/outcome.js'
import { Outputs } from './constants.js'
import { getInputs } from './inputs.js'

export async function run(io: ActionIO, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = getInputs(io, env)
  const runContext = readRunContext(env)
  const reportDir = await reportDirectory(env, 'validate-model')
  const report = await runValidation({
    workspace: settings.workspace,
    modelPath: settings.modelPath,
    modelUri: settings.modelUri,
    trackingUri: settings.trackingUri,
    env,
    config: settings.config,
    model: settings.model,
    metrics: settings.metrics,
    failOn: settings.failOn,
    reportDir,
    ...tuningOptions(settings),
    describeInput,
    log: message => io.info(message)
  })
  const reportPath = join(reportDir, 'report.json')
  await writeFile(reportPath, `${JSON.stringify(buildValidationJson(report), null, 2)}\n`)
  await io.appendSummary(renderValidationMarkdown(report, runContext.runUrl ? { summaryUrl: runContext.runUrl } : {}))

  io.setOutput(Outputs.Passed, report.passed)
  io.setOutput(Outputs.Report, reportPath)
  io.setOutput(Outputs.Digest, report.digest ? `sha256:${report.digest}` : '')
  io.setOutput(Outputs.SizeBytes, report.sizeBytes ?? '')
  io.setOutput(Outputs.Flavors, (report.flavors ?? []).join(','))

  for (const check of report.checks) io.info(`${check.status.padEnd(5)} ${check.title}: ${check.summary}`)
  if (!report.passed) {
    const failing = report.checks.filter(
      c => c.status === 'fail' || (report.failOn === 'warning' && c.status === 'warn')
    )
    io.setFailed(
      failureLine(
        `${report.model} fails validation (fail-on: ${report.failOn})`,
        failing.map(c => `${c.title}: ${c.findings.find(f => f.severity !== 'info')?.message ?? c.summary}`)
      )
    )
  }
}
