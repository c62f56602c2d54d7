/** `modelgate register`: the register-model action's inputs as flags, the registration on stdout. */
import { resolve } from 'node:path'
import type { TuningOptions } from '../core/environment.js'
import { runRegistration } from '../core/gates/register.js'
import { splitAliases } from '../core/registry/uri.js'
import {
  buildRegistrationJson,
  renderRegistrationMarkdown,
  renderRegistrationText
} from '../core/report/registration.js'
import { REGISTRY_KINDS } from '../core/vocabulary.js'
import { choiceFlag, formatFlag } from './flags.js'
import { plainUi, UsageError, type CommandUi, type Output } from './output.js'
import { paintReport } from './style.js'

export async function runRegisterCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  tuning: TuningOptions = {},
  ui: CommandUi = plainUi(output)
): Promise<number> {
  if (!flags['model-path'] && !flags.source) throw new UsageError('--model-path (or --source) is required')
  if (flags['model-path'] && flags.source) throw new UsageError('--model-path and --source are exclusive')
  const format = formatFlag(flags.format, output.isTerminal)
  const result = await runRegistration({
    workspace: resolve(flags.workspace ?? process.cwd()),
    registry: choiceFlag('--registry', flags.registry, REGISTRY_KINDS),
    registryPath: flags['registry-path'],
    trackingUri: flags['tracking-uri'],
    name: flags.name,
    modelPath: flags['model-path'],
    source: flags.source,
    runId: flags['run-id'],
    aliases: splitAliases(flags.aliases),
    tags: flags.tags,
    description: flags.description,
    validationReport: flags['validation-report'],
    comparisonReport: flags['comparison-report'],
    config: flags.config,
    ...tuning,
    timeout: flags.timeout,
    describeInput: name => `--${name}`,
    log: ui.log
  })
  for (const warning of result.warnings) ui.warn(warning)
  output.out(
    format === 'json'
      ? JSON.stringify(buildRegistrationJson(result), null, 2)
      : format === 'markdown'
        ? renderRegistrationMarkdown(result)
        : paintReport(renderRegistrationText(result), ui.style)
  )
  return 0
}
