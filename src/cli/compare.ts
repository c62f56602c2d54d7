/** `modelgate compare`: the compare-metrics action's inputs as flags, the report on stdout. */
import { resolve } from 'node:path'
import { runComparison, type CompareRun } from '../core/gates/compare.js'
import type { TuningOptions } from '../core/environment.js'
import { buildJsonReport } from '../core/report/json.js'
import { renderMarkdown, renderSummaryMarkdown, type ReportContext } from '../core/report/markdown.js'
import { renderText } from '../core/report/text.js'
import { COMPARE_FAIL_ON } from '../core/vocabulary.js'
import { choiceFlag, formatFlag, type ReportFormat } from './flags.js'
import { plainUi, UsageError, type CommandUi, type Output } from './output.js'
import { paintReport } from './style.js'

export async function runCompareCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  tuning: TuningOptions = {},
  ui: CommandUi = plainUi(output)
): Promise<number> {
  if (!flags.candidate) throw new UsageError('--candidate is required')
  const format = formatFlag(flags.format, output.isTerminal)
  const failOn = choiceFlag('--fail-on', flags['fail-on'], COMPARE_FAIL_ON)
  const result = await runComparison({
    workspace: resolve(flags.workspace ?? process.cwd()),
    candidate: flags.candidate,
    baseline: flags.baseline,
    config: flags.config,
    rules: flags.rules,
    reportId: flags['report-id'],
    failOn,
    trackingUri: flags['tracking-uri'],
    ...tuning,
    describeInput: name => `--${name}`
  })
  output.out(format === 'text' ? paintReport(render(result, format), ui.style) : render(result, format))
  for (const warning of result.warnings) ui.warn(warning)
  return result.passed ? 0 : 1
}

export function render(result: CompareRun, format: ReportFormat, summary = false): string {
  const context: ReportContext = {
    title: result.title,
    reportId: result.reportId,
    failOn: result.failOn,
    passed: result.passed,
    rules: result.rules,
    ...(result.rulesSource ? { rulesSource: result.rulesSource } : {})
  }
  switch (format) {
    case 'json':
      return JSON.stringify(buildJsonReport(result.comparison, context), null, 2)
    case 'markdown':
      return summary ? renderSummaryMarkdown(result.comparison, context) : renderMarkdown(result.comparison, context)
    default:
      return renderText(result.comparison, context)
  }
}
