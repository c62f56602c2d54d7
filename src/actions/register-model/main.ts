/**
 * register-model: inputs → one idempotent registration → job summary, JSON report, outputs.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runRegistration } from '../../core/gates/register.js'
import { buildRegistrationJson, renderRegistrationMarkdown } from '../../core/report/registration.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput } from '../shared/input-helper.js'
import { reportDirectory } from '../shared/outcome.js'
import { Outputs } from './constants.js'
import { getInputs } from './inputs.js'

export async function run(io: ActionIO, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = getInputs(io, env)
  const result = await runRegistration({ ...settings, env, describeInput, log: line => io.info(line) })
  const reportDir = await reportDirectory(env, 'register-model')
  const reportPath = join(reportDir, 'report.json')
  await writeFile(reportPath, `${JSON.stringify(buildRegistrationJson(result), null, 2)}\n`)
  await io.appendSummary(renderRegistrationMarkdown(result))

  io.setOutput(Outputs.Version, result.version.version)
  io.setOutput(Outputs.ModelUri, result.modelUri)
  io.setOutput(Outputs.Created, result.created)
  io.setOutput(Outputs.Digest, result.digest)
  io.setOutput(Outputs.Report, reportPath)
  for (const warning of result.warnings) io.warning(warning)
  io.info(
    `${result.created ? 'registered' : 'already registered:'} ${result.modelUri} (${result.digest})${result.aliases.length ? `, aliases ${result.aliases.join(', ')}` : ''}`
  )
}
