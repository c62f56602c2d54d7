/**
 * The validate-model report: one row per check in the job summary, then what to fix for each check that did not
 * pass. File names and messages can come from the model (file names, server answers): everything is escaped.
 */
import type { CheckResult, CheckStatus, Finding, ValidationReport } from '../model/types.js'
import { escapeMarkdown, escapeTerminal } from './escape.js'
import { formatBytes } from '../format.js'
import { SUMMARY_MAX_BYTES, utf8Length } from './markdown.js'

const STATUS: Readonly<Record<CheckStatus, string>> = {
  pass: '✅ pass',
  warn: '⚠️ warn',
  fail: '❌ fail',
  skip: '➖ skipped'
}
const SEVERITY_ICON: Readonly<Record<Finding['severity'], string>> = { error: '❌', warning: '⚠️', info: 'ℹ️' }
/** Findings listed per check; a model with 10,000 unknown pickle imports must not flood the summary. */
const MAX_FINDINGS_PER_CHECK = 50
const MESSAGE_MAX = 600

export function renderValidationMarkdown(report: ValidationReport, options: { summaryUrl?: string } = {}): string {
  const lines: string[] = []
  const model = escapeMarkdown(report.model, 300)
  const heading =
    report.verdict === 'fail'
      ? `❌ modelgate: ${model} is not fit to ship`
      : report.verdict === 'warn'
        ? `⚠️ modelgate: ${model} passes with warnings`
        : `✅ modelgate: ${model} passes validation`
  lines.push(`### ${heading}${outcomeNote(report, { fails: 'fails the step', passes: 'the step passes' })}`, '')
  const facts = [
    report.digest ? `digest \`sha256:${report.digest}\`` : undefined,
    report.sizeBytes !== undefined ? `${formatBytes(report.sizeBytes)}` : undefined,
    report.flavors?.length ? `flavors ${report.flavors.map(f => escapeMarkdown(f)).join(', ')}` : undefined
  ].filter(Boolean)
  if (facts.length) lines.push(facts.join(' · '), '')
  lines.push('| Check | Status | Result |', '| :-- | :-- | :-- |')
  for (const check of report.checks) {
    lines.push(
      `| ${escapeMarkdown(check.title)} | ${STATUS[check.status]} | ${escapeMarkdown(check.summary, MESSAGE_MAX)} |`
    )
  }
  lines.push('')
  let size = utf8Length(lines.join('\n'))
  for (const check of report.checks.filter(c => c.findings.some(f => f.severity !== 'info'))) {
    const section = renderFindings(check)
    const bytes = utf8Length(section)
    if (size + bytes > SUMMARY_MAX_BYTES) {
      lines.push(`… the other findings are in the JSON report.`)
      break
    }
    lines.push(section)
    size += bytes
  }
  if (options.summaryUrl) lines.push(`<sub>modelgate validate-model · [run](${options.summaryUrl})</sub>`)
  return lines.join('\n')
}

/** What fail-on made of the verdict, when the verdict alone would mislead: a failed model on a green step. */
function outcomeNote(report: ValidationReport, words: { fails: string; passes: string }): string {
  if (!report.passed) return ` (${words.fails}: fail-on ${report.failOn})`
  return report.verdict === 'fail' ? ` (${words.passes}: fail-on ${report.failOn})` : ''
}

function renderFindings(check: CheckResult): string {
  const findings = [...check.findings].sort((a, b) => rank(a) - rank(b))
  const shown = findings.slice(0, MAX_FINDINGS_PER_CHECK)
  const lines = [`**${escapeMarkdown(check.title)}**`, '']
  for (const finding of shown) {
    const where = finding.file ? `\`${escapeMarkdown(finding.file).replace(/`/g, '')}\`: ` : ''
    const fix = finding.fix ? ` — ${escapeMarkdown(finding.fix, MESSAGE_MAX)}` : ''
    lines.push(`- ${SEVERITY_ICON[finding.severity]} ${where}${escapeMarkdown(finding.message, MESSAGE_MAX)}${fix}`)
  }
  if (findings.length > shown.length) lines.push(`- … and ${findings.length - shown.length} more in the JSON report`)
  lines.push('')
  return lines.join('\n')
}

function rank(finding: Finding): number {
  return finding.severity === 'error' ? 0 : finding.severity === 'warning' ? 1 : 2
}

export function renderValidationText(report: ValidationReport): string {
  const lines = [
    `${report.model}: ${report.verdict.toUpperCase()}${outcomeNote(report, { fails: 'fails', passes: 'passes' })}`
  ]
  if (report.digest) lines.push(`digest sha256:${report.digest}`)
  const width = Math.max(...report.checks.map(c => c.title.length))
  for (const check of report.checks) {
    lines.push(`${check.status.padEnd(5)} ${check.title.padEnd(width)}  ${escapeTerminal(check.summary, MESSAGE_MAX)}`)
    for (const finding of check.findings.filter(f => f.severity !== 'info').slice(0, 10)) {
      const where = finding.file ? `${escapeTerminal(finding.file)}: ` : ''
      lines.push(`      ${finding.severity}: ${where}${escapeTerminal(finding.message, MESSAGE_MAX)}`)
      if (finding.fix) lines.push(`        fix: ${escapeTerminal(finding.fix, MESSAGE_MAX)}`)
    }
  }
  return lines.join('\n')
}

export interface ValidationJsonReport {
  readonly schemaVersion: 1
  readonly tool: 'modelgate validate-model'
  readonly model: string
  readonly verdict: ValidationReport['verdict']
  readonly passed: boolean
  readonly failOn: ValidationReport['failOn']
  readonly digest: string | null
  readonly sizeBytes: number | null
  readonly flavors: readonly string[]
  readonly manifest: string | null
  readonly checks: readonly CheckResult[]
}

export function buildValidationJson(report: ValidationReport): ValidationJsonReport {
  return {
    schemaVersion: 1,
    tool: 'modelgate validate-model',
    model: report.model,
    verdict: report.verdict,
    passed: report.passed,
    failOn: report.failOn,
    digest: report.digest ?? null,
    sizeBytes: report.sizeBytes ?? null,
    flavors: report.flavors ?? [],
    manifest: report.manifestPath ?? null,
    checks: report.checks
  }
}
