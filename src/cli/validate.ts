/** `modelgate validate`: the validate-model action's inputs as flags, the report on stdout. */
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { TuningOptions } from '../core/environment.js'
import { ConfigurationError } from '../core/errors.js'
import { runValidation } from '../core/gates/validate.js'
import { buildValidationJson, renderValidationMarkdown, renderValidationText } from '../core/report/validation.js'
import { VALIDATE_FAIL_ON } from '../core/vocabulary.js'
import { choiceFlag, formatFlag } from './flags.js'
import { plainUi, UsageError, type CommandUi, type Output } from './output.js'
import { paintReport } from './style.js'

export async function runValidateCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  tuning: TuningOptions = {},
  ui: CommandUi = plainUi(output)
): Promise<number> {
  if (!flags['model-path'] && !flags['model-uri']) throw new UsageError('--model-path (or --model-uri) is required')
  // As the action refuses them together: one would be validated while the user may believe it was the other.
  if (flags['model-path'] && flags['model-uri']) {
    throw new UsageError('--model-path and --model-uri are both set; expected one of them')
  }
  const format = formatFlag(flags.format, output.isTerminal)
  const reportDir = await reportFolder(flags['report-dir'])
  const report = await runValidation({
    workspace: resolve(flags.workspace ?? process.cwd()),
    modelPath: flags['model-path'],
    modelUri: flags['model-uri'],
    trackingUri: flags['tracking-uri'],
    config: flags.config,
    model: flags.model,
    metrics: flags.metrics,
    failOn: choiceFlag('--fail-on', flags['fail-on'], VALIDATE_FAIL_ON),
    reportDir,
    ...tuning,
    describeInput: name => `--${name}`,
    log: ui.log
  })
  output.out(
    format === 'json'
      ? JSON.stringify(buildValidationJson(report), null, 2)
      : format === 'markdown'
        ? renderValidationMarkdown(report)
        : paintReport(renderValidationText(report), ui.style)
  )
  return report.passed ? 0 : 1
}

/** The folder the manifest goes to: the one named, made when it does not exist yet, or a new temporary one. */
async function reportFolder(flag: string | undefined): Promise<string> {
  if (!flag) return mkdtemp(join(tmpdir(), 'modelgate-validate-'))
  const dir = resolve(flag)
  try {
    await mkdir(dir, { recursive: true })
  } catch (error) {
    throw new ConfigurationError(`cannot be made a folder for the report: ${(error as Error).message}`, {
      source: '--report-dir'
    })
  }
  return dir
}
