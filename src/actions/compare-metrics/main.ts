/**
 * compare-metrics: inputs → comparison → job summary, report files, sticky comment, outputs, gate.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runComparison, type CompareRun } from '../../core/gates/compare.js'
import { tuningOptions } from '../../core/environment.js'
import { readRunContext, type RunContext } from '../../core/github/event.js'
import { buildJsonReport } from '../../core/report/json.js'
import { renderMarkdown, renderSummaryMarkdown, type ReportContext } from '../../core/report/markdown.js'
import type { ActionIO } from '../shared/action-io.js'
import { describeInput } from '../shared/input-helper.js'
import { failureLine, reportDirectory } from '../shared/outcome.js'
import { Outputs } from './constants.js'
import { getInputs, type CompareActionSettings } from './inputs.js'

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target'])

export async function run(io: ActionIO, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = getInputs(io, env)
  const runContext = readRunContext(env)
  const result = await runComparison({
    workspace: settings.workspace,
    candidate: settings.candidate,
    baseline: settings.baseline,
    config: settings.config,
    rules: settings.rules,
    reportId: settings.reportId,
    failOn: settings.failOn,
    trackingUri: settings.trackingUri,
    env,
    ...tuningOptions(settings),
    describeInput
  })
  const { comparison } = result
  const reportContext: ReportContext = {
    title: result.title,
    reportId: result.reportId,
    failOn: result.failOn,
    passed: result.passed,
    rules: result.rules,
    ...(runContext.runUrl ? { summaryUrl: runContext.runUrl } : {}),
    ...(result.rulesSource ? { rulesSource: result.rulesSource } : {})
  }

  const markdown = renderMarkdown(comparison, reportContext)
  const files = await writeReportFiles(env, result, markdown, buildJsonReport(comparison, reportContext))
  await io.appendSummary(renderSummaryMarkdown(comparison, reportContext))
  const commentUrl = await publishComment(io, settings, runContext, result, markdown)

  io.setOutput(Outputs.Passed, result.passed)
  io.setOutput(Outputs.Verdict, comparison.verdict)
  io.setOutput(Outputs.Regressions, comparison.regressions)
  io.setOutput(Outputs.Report, files.report)
  io.setOutput(Outputs.Markdown, files.markdown)
  io.setOutput(Outputs.CommentUrl, commentUrl ?? '')

  for (const warning of result.warnings) io.warning(warning)
  // A row with no candidate value is a rule that found nothing to compare (a metric missing, a glob unmatched).
  const compared = comparison.metrics.filter(m => m.candidate !== undefined).length
  const ruleOnly = comparison.metrics.length - compared
  io.info(
    `${result.title}: verdict ${comparison.verdict} (${comparison.failures} failing, ${comparison.warnings} warning, ` +
      `${compared} metrics compared${ruleOnly ? `, ${ruleOnly} ${ruleOnly === 1 ? 'rule' : 'rules'} with no metric` : ''})`
  )
  if (!result.passed) {
    const worst = comparison.metrics.filter(
      m => m.outcome === 'fail' || (result.failOn === 'warning' && m.outcome === 'warn')
    )
    // Under fail-on: warning a notice (no rules at all) fails the gate too, and may be the only reason.
    const notices = result.failOn === 'warning' ? (comparison.notices ?? []) : []
    io.setFailed(
      failureLine(`${result.title} fails the metric gate (fail-on: ${result.failOn})`, [
        ...worst.map(m => `${m.name}: ${m.reasons[0] ?? m.status}`),
        ...notices
      ])
    )
  }
}

async function writeReportFiles(
  env: NodeJS.ProcessEnv,
  result: CompareRun,
  markdown: string,
  report: unknown
): Promise<{ report: string; markdown: string }> {
  const dir = await reportDirectory(env, 'compare-metrics', encodeURIComponent(result.reportId))
  const paths = { report: join(dir, 'report.json'), markdown: join(dir, 'comment.md') }
  await Promise.all([
    writeFile(paths.report, `${JSON.stringify(report, null, 2)}\n`),
    writeFile(paths.markdown, markdown)
  ])
  return paths
}

/** Posts or updates the sticky comment when asked to; any failure to post is a warning, never a failed gate. */
async function publishComment(
  io: ActionIO,
  settings: CompareActionSettings,
  runContext: RunContext,
  result: CompareRun,
  markdown: string
): Promise<string | undefined> {
  if (settings.comment === 'never') return undefined
  const onPullRequest = runContext.eventName !== undefined && PULL_REQUEST_EVENTS.has(runContext.eventName)
  if (settings.comment === 'auto' && !onPullRequest) {
    io.debug(`comment: auto, and the event is ${runContext.eventName ?? 'unknown'}: no comment`)
    return undefined
  }
  if (runContext.pullRequest === undefined || !runContext.repository) {
    io.warning(
      `comment: ${settings.comment}, but this ${runContext.eventName ?? ''} run has no pull request to comment on.`
    )
    return undefined
  }
  if (!settings.token) {
    io.warning('No github-token: the comparison is in the job summary, and no pull request comment was posted.')
    return undefined
  }
  // Loaded only here: the GitHub client is most of the bundle and a run without a comment never needs it.
  const [{ createIssueCommentApi, isPermissionDenied }, { upsertStickyComment }] = await Promise.all([
    import('../../core/github/octokit.js'),
    import('../../core/github/sticky-comment.js')
  ])
  const api = createIssueCommentApi({
    token: settings.token,
    apiUrl: runContext.apiUrl,
    ...runContext.repository,
    log: message => io.info(message),
    ...(settings.retryBaseMs !== undefined ? { retryBaseMs: settings.retryBaseMs } : {})
  })
  try {
    const sticky = await upsertStickyComment(api, runContext.pullRequest, result.reportId, markdown)
    io.info(`Pull request comment ${sticky.action}: ${sticky.url}`)
    return sticky.url
  } catch (error) {
    if (isPermissionDenied(error)) {
      io.warning(
        'The token cannot write to this pull request (a pull request from a fork has a read-only token). The ' +
          'comparison is in the job summary; the model-pr-comment workflow can post it from a trusted run.'
      )
    } else {
      io.warning(
        `Could not post the pull request comment: ${(error as Error).message}. The comparison is in the job summary.`
      )
    }
    return undefined
  }
}
