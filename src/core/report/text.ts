/**
 * The comparison as plain text for a terminal (`modelgate compare --format text`): the same verdict, counts and
 * provenance as the PR comment, then one aligned row per metric, the ones needing attention first. Nothing is cut: a
 * terminal has no size limit, and a script piping this wants every row. Untrusted strings lose control characters so
 * a metric name cannot move the cursor, recolour the terminal or reorder text.
 */
import type { Comparison, MetricResult, Rule } from '../compare/types.js'
import type { MetricValue } from '../metrics/types.js'
import { escapeTerminal } from './escape.js'
import { formatDelta, formatPercent } from '../format.js'
import {
  describeCounts,
  describeInvalid,
  describeProvenance,
  describeRule,
  describeVerdict,
  formatValues,
  groupMetrics,
  indexRules,
  NO_BASELINE,
  type ReportContext,
  STATUS_LABELS
} from './markdown.js'

/** Wider names are cut: the table must stay readable in an 80-to-160-column terminal. */
const NAME_WIDTH = 48
const TONE_TAG = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const
const OUTCOME_TAG = { pass: 'ok', warn: 'WARN', fail: 'FAIL' } as const

export function renderText(comparison: Comparison, context: ReportContext): string {
  const verdict = describeVerdict(comparison, context)
  const field = (text: string) => escapeTerminal(text)
  const hasBaseline = comparison.baseline !== undefined
  const lines = [
    `${TONE_TAG[verdict.tone]}  modelgate: ${field(context.title || 'model')} ${verdict.text}`,
    describeCounts(comparison.counts),
    `candidate: ${describeProvenance(comparison.candidate, field)}`,
    `baseline:  ${comparison.baseline ? describeProvenance(comparison.baseline, field) : `none${comparison.baselineNote ? ` (${field(comparison.baselineNote)})` : ''}. ${NO_BASELINE}`}`,
    `rules:     ${context.rulesSource ? `${field(context.rulesSource)} · ` : ''}fail-on: ${context.failOn}`,
    // What makes the verdict warn when no metric does (no rules at all), as the comment says under its counts.
    ...(comparison.notices ?? []).map(notice => `warning:   ${field(notice)}`)
  ]

  const { attention, passing, ungated } = groupMetrics(comparison.metrics)
  const ordered = [...attention, ...passing, ...ungated]
  if (ordered.length > 0) {
    const rules = indexRules(context.rules)
    const header = hasBaseline
      ? ['', 'METRIC', 'BASELINE', 'CANDIDATE', 'CHANGE', 'RULE', 'STATUS']
      : ['', 'METRIC', 'CANDIDATE', 'RULE', 'STATUS']
    const rows = [header, ...ordered.map(metric => textRow(metric, rules, hasBaseline))]
    // A loop, not Math.max(...rows): spreading 100,000 arguments overflows the stack.
    const widths = header.map(() => 0)
    for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column], width(cell))))
    lines.push('')
    for (const row of rows) {
      // The last column (status and reasons) is not padded: trailing spaces only get in the way of copying.
      const padded = row.map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column])))
      lines.push(padded.join('  ').trimEnd())
    }
  }
  return `${lines.join('\n')}\n`
}

function textRow(metric: MetricResult, rules: ReadonlyMap<string, Rule>, hasBaseline: boolean): string[] {
  const rule = metric.rule === undefined ? undefined : rules.get(metric.rule)
  const values = formatValues(metric, rule)
  const tag = metric.outcome === 'pass' && !metric.gated ? '-' : OUTCOME_TAG[metric.outcome]
  const row = [tag, escapeTerminal(metric.name, NAME_WIDTH) || '(empty name)']
  if (hasBaseline) row.push(valueText(metric.baseline, values.baseline))
  row.push(valueText(metric.candidate, values.candidate))
  if (hasBaseline) row.push(changeText(metric))
  row.push(
    rule ? describeRule(rule, metric.direction ?? rule.direction) : metric.rule ? escapeTerminal(metric.rule) : '-'
  )
  const reasons = metric.reasons.map(reason => escapeTerminal(reason, 300))
  row.push(
    `${STATUS_LABELS[metric.status] ?? escapeTerminal(String(metric.status))}${reasons.length ? `: ${reasons.join('; ')}` : ''}`
  )
  return row
}

function valueText(value: MetricValue | undefined, formatted: string | undefined): string {
  if (value === undefined) return '-'
  if (value.kind === 'number') return formatted ?? String(value.value)
  return describeInvalid(value, raw => escapeTerminal(raw, 40))
}

function changeText(metric: MetricResult): string {
  if (metric.delta === undefined) return '-'
  return metric.deltaPct === undefined
    ? formatDelta(metric.delta)
    : `${formatDelta(metric.delta)} (${formatPercent(metric.deltaPct)})`
}

const ASTRAL = /[\ud800-\udbff][\udc00-\udfff]/g

/** Columns by code point, not UTF-16 unit: close enough for alignment without a wcwidth table. */
function width(text: string): number {
  let n = text.length
  // Most cells are ASCII: skip the scan unless there is a surrogate to count.
  if (/[\ud800-\udbff]/.test(text)) n -= text.match(ASTRAL)?.length ?? 0
  return n
}

function pad(text: string, to: number): string {
  const gap = to - width(text)
  return gap > 0 ? text + ' '.repeat(gap) : text
}
