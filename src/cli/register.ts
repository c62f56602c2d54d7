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
import { UsageError, type Output } from './output.js'

export const REGISTER_OPTIONS = {
  registry: { type: 'string' },
  'registry-path': { type: 'string' },
  'tracking-uri': { type: 'string' },
  name: { type: 'string' },
  'model-path': { type: 'string' },
  source: { type: 'string' },
  'run-id': { type: 'string' },
  aliases: { type: 'string' },
  tags: { type: 'string' },
  description: { type: 'string' },
  'validation-report': { type: 'string' },
  'comparison-report': { type: 'string' },
  config: { type: 'string' },
  timeout: { type: 'string' },
  format: { type: 'string' },
  workspace: { type: 'string' }
} as const

export async function runRegisterCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  tuning: TuningOptions = {}
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
    log: line => output.error(line)
  })
  output.out(
    format === 'json'
      ? JSON.stringify(buildRegistrationJson(result), null, 2)
      : format === 'markdown'
        ? renderRegistrationMarkdown(result)
        : renderRegistrationText(result)
  )
  return 0
}
