/**
 * The comparison as Markdown: the sticky PR comment (65,536 characters at most) and the job summary (1 MiB at most).
 *
 * The comment is read in five seconds: a verdict heading, one line of counts, what was compared with what, the
 * metrics that need attention, and everything else folded away. When the comparison does not fit, the attention
 * table is kept first, the folded tables are shortened next, and rows are cut last with a pointer to the job summary.
 * Rendering is incremental with a running length: rows past the budget are counted, never rendered, so 100,000
 * metrics cost about as much as the few hundred that fit.
 *
 * Every string that came from a file (names, raw values, reasons, provenance, the title) goes through
 * escapeMarkdown; see escape.ts for what that defends against.
 */
import type { Comparison, MetricResult, MetricStatus, Outcome, Rule } from '../compare/types.js'
import { METRIC_STATUSES } from '../compare/types.js'
import type { MetricValue, Provenance } from '../metrics/types.js'
import type { CompareFailOn, Direction, Verdict } from '../vocabulary.js'
import { escapeMarkdown, safeUrl } from './escape.js'
import { formatCount, formatDelta, formatNumber, formatNumberDistinct, formatPercent, MINUS } from '../format.js'

export interface ReportContext {
  /** Usually the model name, e.g. `churn-classifier`. */
  title: string
  /** Identity of the sticky comment; shown small. */
  reportId: string
  failOn: CompareFailOn
  /** The gate result under failOn, computed by the caller. */
  passed: boolean
  /** The run's job summary, where the full table lives. */
  summaryUrl?: string | undefined
  /** Where the rules came from, e.g. `.modelgate.yml` or `input 'rules'`. */
  rulesSource?: string | undefined
  /**
   * The rules the engine applied. A MetricResult names its rule only by pattern, so without these the Rule column
   * shows the pattern instead of the thresholds.
   */
  rules?: readonly Rule[] | undefined
}

/** GitHub rejects comments over 65,536 characters; the caller adds a hidden marker line and needs some room. */
export const COMMENT_MAX_LENGTH = 65536 - 512
/** The runner refuses (it does not truncate) a step summary over 1 MiB; the margin leaves room for other output. */
export const SUMMARY_MAX_BYTES = 1024 * 1024 - 32 * 1024

const REASON_MAX_LENGTH = 300
const REASONS_SHOWN = 3
const RAW_MAX_LENGTH = 40
const PROVENANCE_MAX_LENGTH = 200

export function renderMarkdown(
  comparison: Comparison,
  context: ReportContext,
  options: { maxLength?: number } = {}
): string {
  return render(comparison, context, {
    max: options.maxLength ?? COMMENT_MAX_LENGTH,
    measure: text => text.length,
    inSummary: false
  })
}

export function renderSummaryMarkdown(
  comparison: Comparison,
  context: ReportContext,
  options: { maxBytes?: number } = {}
): string {
  return render(comparison, context, {
    max: options.maxBytes ?? SUMMARY_MAX_BYTES,
    measure: utf8Length,
    inSummary: true
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary shared with the text and JSON renderers.

export const STATUS_LABELS: Readonly<Record<MetricStatus, string>> = {
  regressed: 'regressed',
  'below-floor': 'below floor',
  'above-ceiling': 'above ceiling',
  'insufficient-improvement': 'not improved enough',
  missing: 'missing',
  invalid: 'invalid',
  'within-tolerance': 'within tolerance',
  improved: 'improved',
  new: 'new',
  unchanged: 'unchanged'
}

/** `2 regressed · 1 below floor · 5 improved`: non-zero counts in METRIC_STATUSES order (worst first). */
export function describeCounts(counts: Readonly<Record<MetricStatus, number>>): string {
  const parts = METRIC_STATUSES.filter(status => (counts[status] ?? 0) > 0).map(
    status => `${formatCount(counts[status])} ${STATUS_LABELS[status]}`
  )
  return parts.length > 0 ? parts.join(' · ') : 'No metrics were compared.'
}

/** How the headline is coloured, in the verdict's words (a verdict of fail under fail-on: never shows as warn). */
export type HeadlineTone = Verdict

/**
 * `**7 gated:** 1 regressed · 5 improved · 1 within tolerance · **6 without a rule**`: the gated metrics' statuses
 * apart from the count of metrics that no rule gates, so "1 regressed" is never an ungated metric's.
 */
export function describeGatedCounts(metrics: readonly MetricResult[]): string {
  const counts = new Map<MetricStatus, number>()
  let gated = 0
  for (const metric of metrics) {
    if (!metric.gated) continue
    gated++
    counts.set(metric.status, (counts.get(metric.status) ?? 0) + 1)
  }
  const ungated = metrics.length - gated
  const parts = METRIC_STATUSES.filter(status => counts.has(status)).map(
    status => `${formatCount(counts.get(status)!)} ${STATUS_LABELS[status]}`
  )
  const head = gated > 0 ? `**${formatCount(gated)} gated:** ${parts.join(' · ')}` : '**Nothing gated**'
  return ungated > 0 ? `${head} · **${plural(ungated, 'metric', 'metrics')} without a rule**` : head
}

/** The verdict in words. `passed` decides pass or fail; the verdict only colours a pass. */
export function describeVerdict(comparison: Comparison, context: ReportContext): { tone: HeadlineTone; text: string } {
  if (!context.passed) {
    if (comparison.verdict === 'warn')
      return { tone: 'fail', text: 'fails the gate (warnings fail under fail-on: warning)' }
    return { tone: 'fail', text: 'fails the gate' }
  }
  if (comparison.verdict === 'fail') return { tone: 'warn', text: 'would fail the gate (not enforced: fail-on: never)' }
  if (comparison.verdict === 'warn') return { tone: 'warn', text: 'passes with warnings' }
  return { tone: 'pass', text: 'passes the gate' }
}

const STATUS_RANK: ReadonlyMap<MetricStatus, number> = new Map(METRIC_STATUSES.map((status, index) => [status, index]))
const OUTCOME_RANK: Readonly<Record<Outcome, number>> = { fail: 0, warn: 1, pass: 2 }

export interface MetricGroups {
  /** Outcome fail, then warn; within each, statuses in METRIC_STATUSES order (regressions first); then source order. */
  readonly attention: readonly MetricResult[]
  /** Gated metrics that pass, in source order. */
  readonly passing: readonly MetricResult[]
  /** Of `passing`, those that worsened within tolerance: what a reviewer of a passing gate wants to see. */
  readonly worsened: readonly MetricResult[]
  /** Metrics without a rule, in source order. */
  readonly ungated: readonly MetricResult[]
}

export function groupMetrics(metrics: readonly MetricResult[]): MetricGroups {
  const attention: { metric: MetricResult; rank: number; index: number }[] = []
  const passing: MetricResult[] = []
  const ungated: MetricResult[] = []
  metrics.forEach((metric, index) => {
    if (metric.outcome !== 'pass') {
      const rank = OUTCOME_RANK[metric.outcome] * 100 + (STATUS_RANK.get(metric.status) ?? 99)
      attention.push({ metric, rank, index })
    } else if (metric.gated) passing.push(metric)
    else ungated.push(metric)
  })
  attention.sort((a, b) => a.rank - b.rank || a.index - b.index)
  const worsened = passing.filter(metric => metric.status === 'within-tolerance')
  return { attention: attention.map(entry => entry.metric), passing, worsened, ungated }
}

/**
 * What a set of metrics was read from, in one line. `field` escapes each untrusted string for the target format; the
 * words around them are ours.
 */
export function describeProvenance(provenance: Provenance, field: (text: string) => string): string {
  const spec = () => field(provenance.spec)
  switch (provenance.kind) {
    case 'file':
      return `file ${field(provenance.path ?? provenance.spec)}`
    case 'git': {
      const where = provenance.path ? field(provenance.path) : spec()
      const ref = provenance.ref ? ` at ${field(provenance.ref)}` : ''
      const commit = provenance.commit ? ` (commit ${field(shortCommit(provenance.commit))})` : ''
      return `${where}${ref}${commit}`
    }
    case 'mlflow-run':
      return provenance.runId ? `MLflow run ${field(provenance.runId)}` : `MLflow run ${spec()}`
    case 'model-version': {
      if (!provenance.model) return `model ${spec()}`
      let text = `model ${field(provenance.model)}`
      if (provenance.version) text += ` version ${field(provenance.version)}`
      if (provenance.alias)
        text += provenance.version ? ` (alias ${field(provenance.alias)})` : ` @ ${field(provenance.alias)}`
      if (provenance.runId) text += `, run ${field(provenance.runId)}`
      return text
    }
    case 'inline':
      return 'inline metrics'
    default:
      return spec()
  }
}

export const NO_BASELINE = 'No baseline yet: only absolute bounds were checked.'

/**
 * A rule in a few words that cannot be misread: `≥ 0.8, may drop 0.01`, `≤ 50, may rise 10%`, `must rise 0.05`.
 * A tolerance is said as a movement of the value (a bare "max −0.01" reads like a bound on the value), in the
 * direction that is worse. Thresholds keep up to 10 digits: they are what the user wrote, and rounding them would
 * misquote the config.
 */
export function describeRule(
  rule: Rule,
  direction: Direction | undefined = rule.direction,
  options: { severity?: boolean } = {}
): string {
  const fmt = (n: number) => formatNumber(Math.abs(n), 10)
  const worse = direction === 'higher' ? 'drop' : direction === 'lower' ? 'rise' : 'change'
  const better = direction === 'higher' ? 'rise' : direction === 'lower' ? 'drop' : 'change'
  const amounts = (absolute: number | undefined, pct: number | undefined) =>
    [absolute !== undefined ? fmt(absolute) : undefined, pct !== undefined ? `${fmt(pct)}%` : undefined]
      .filter(Boolean)
      .join(' and ')
  const parts: string[] = []
  if (rule.min !== undefined) parts.push(`≥ ${formatNumber(rule.min, 10)}`)
  if (rule.max !== undefined) parts.push(`≤ ${formatNumber(rule.max, 10)}`)
  const tolerance = amounts(rule.maxRegression, rule.maxRegressionPct)
  const demand = amounts(rule.minImprovement, rule.minImprovementPct)
  if (tolerance) parts.push(`may ${worse} ${tolerance}`)
  if (demand) parts.push(`must ${better} ${demand}`)
  if (direction && rule.direction && !tolerance && !demand && !rule.directionOrientsOnly) parts.push(`may not ${worse}`)
  let text = parts.length > 0 ? parts.join(', ') : rule.required === false ? 'optional' : 'must be reported'
  if (rule.severity === 'warn' && options.severity !== false) text += ' (warn only)'
  return text
}

export function indexRules(rules: readonly Rule[] | undefined): ReadonlyMap<string, Rule> {
  const byPattern = new Map<string, Rule>()
  for (const rule of rules ?? []) if (!byPattern.has(rule.pattern)) byPattern.set(rule.pattern, rule)
  return byPattern
}

/**
 * Baseline and candidate as numbers, each with enough digits to differ from the other and from the rule's bounds
 * when the underlying values differ.
 */
export function formatValues(
  metric: MetricResult,
  rule: Rule | undefined
): { baseline: string | undefined; candidate: string | undefined } {
  const b = metric.baseline?.kind === 'number' ? metric.baseline.value : undefined
  const c = metric.candidate?.kind === 'number' ? metric.candidate.value : undefined
  const bounds = [rule?.min, rule?.max].filter((n): n is number => n !== undefined)
  return {
    baseline: b === undefined ? undefined : formatNumberDistinct(b, c === undefined ? [] : [c]),
    candidate: c === undefined ? undefined : formatNumberDistinct(c, b === undefined ? bounds : [b, ...bounds])
  }
}

/** An invalid value as what it is: `NaN`, `∞`, `duplicate`, `empty`, `non-numeric: "abc"`. `raw` is untrusted. */
export function describeInvalid(
  value: Extract<MetricValue, { kind: 'invalid' }>,
  raw: (text: string) => string
): string {
  switch (value.reason) {
    case 'nan':
      return 'NaN'
    case 'infinite':
      return value.raw.trim().startsWith('-') ? `${MINUS}∞` : '∞'
    case 'duplicate':
      return 'duplicate'
    case 'empty':
      return 'empty'
    default:
      return `non-numeric: "${raw(value.raw)}"`
  }
}

/** Whether a change is good news under the metric's direction: undefined when there is no direction or no change. */
export function changeIsBetter(metric: MetricResult): boolean | undefined {
  if (metric.delta === undefined || metric.delta === 0 || Number.isNaN(metric.delta) || !metric.direction)
    return undefined
  return metric.delta > 0 === (metric.direction === 'higher')
}

export function shortCommit(commit: string): string {
  return /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : commit
}

export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}

/** UTF-8 length without allocating: lone surrogates count as U+FFFD, as an encoder would write them. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering.

interface Target {
  max: number
  measure: (text: string) => number
  inSummary: boolean
}

/** One block of rows that can be cut. `omitted` replaces the whole section when not even one row fits. */
interface Section {
  count: number
  open: string
  row: (index: number) => string
  more: (remaining: number) => string
  close: string
  omitted: string
}

const TONE_ICON: Readonly<Record<HeadlineTone, string>> = { pass: '✅', warn: '⚠️', fail: '❌' }

function render(comparison: Comparison, context: ReportContext, target: Target): string {
  const { measure } = target
  const title = escapeMarkdown(context.title || 'model')
  const verdict = describeVerdict(comparison, context)
  const groups = groupMetrics(comparison.metrics)
  const rules = indexRules(context.rules)
  const hasBaseline = comparison.baseline !== undefined
  const url = target.inSummary ? undefined : safeUrl(context.summaryUrl)

  const heading = `### ${TONE_ICON[verdict.tone]} modelgate: ${title} ${verdict.text}\n\n`
  const notices = (comparison.notices ?? []).map(notice => `> ⚠️ ${escapeMarkdown(notice, REASON_MAX_LENGTH)}\n`)
  const head =
    heading +
    `${describeGatedCounts(comparison.metrics)}\n\n` +
    (notices.length > 0 ? `${notices.join('>\n')}\n` : '') +
    provenanceBlock(comparison, context)
  const foot = footer(context, url)

  // Where the rows that did not fit can be read; it follows a noun phrase ("… and 12 more metrics").
  const elsewhere = target.inSummary
    ? ': not shown, the job summary is limited to 1 MiB.'
    : url
      ? `: see the [job summary](${url}).`
      : ': see the job summary.'

  const columns = hasBaseline
    ? ['Metric', 'Baseline', 'Candidate', 'Change', 'Rule', 'Status']
    : ['Metric', 'Candidate', 'Rule', 'Status']
  const align = hasBaseline ? [':--', '--:', '--:', '--:', ':--', ':--'] : [':--', '--:', ':--', ':--']
  const tableHead = (withRule: boolean) => {
    const keep = (_: string, i: number) => withRule || columns[i] !== 'Rule'
    return `| ${columns.filter(keep).join(' | ')} |\n| ${align.filter(keep).join(' | ')} |\n`
  }
  const row = (metric: MetricResult, withRule: boolean) =>
    metricRow(metric, rules, hasBaseline, withRule, target.inSummary)
  const more = (n: number) => `\n… and ${plural(n, 'more metric', 'more metrics')}${elsewhere}\n`

  const sections: Section[] = []
  const { attention, worsened, ungated } = groups
  // Rows that worsened within tolerance stay in view; the other passing rows fold away.
  const passing = worsened.length > 0 ? groups.passing.filter(m => m.status !== 'within-tolerance') : groups.passing
  if (attention.length > 0) {
    sections.push({
      count: attention.length,
      open: `**Needs attention (${formatCount(attention.length)})**\n\n${tableHead(true)}`,
      row: i => row(attention[i], true),
      more,
      close: '\n',
      omitted: `**${plural(attention.length, 'metric needs', 'metrics need')} attention**${elsewhere}\n\n`
    })
  } else {
    const gated = groups.passing.length
    sections.push({
      count: 0,
      open: '',
      row: () => '',
      more,
      close: '',
      // With no rules at all, the notice under the counts has said so already.
      omitted:
        gated > 0
          ? `All ${plural(gated, 'gated metric passes', 'gated metrics pass')}.\n\n`
          : notices.length > 0
            ? ''
            : 'No rule matched any metric, so nothing was gated.\n\n'
    })
  }
  if (worsened.length > 0) {
    sections.push({
      count: worsened.length,
      open: `**Worsened within tolerance (${formatCount(worsened.length)})**\n\n${tableHead(true)}`,
      row: i => row(worsened[i], true),
      more,
      close: '\n',
      omitted: `**${plural(worsened.length, 'metric', 'metrics')} worsened within tolerance**${elsewhere}\n\n`
    })
  }
  if (passing.length > 0) {
    const other = worsened.length > 0 ? 'other ' : ''
    const summary = `✅ ${plural(passing.length, `${other}gated metric passes`, `${other}gated metrics pass`)}`
    sections.push(foldedSection(summary, passing.length, tableHead(true), i => row(passing[i], true), more, elsewhere))
  }
  if (ungated.length > 0) {
    const summary = `➖ ${plural(ungated.length, 'metric', 'metrics')} without a rule (shown, not gated)`
    sections.push(
      foldedSection(summary, ungated.length, tableHead(false), i => row(ungated[i], false), more, elsewhere)
    )
  }

  const budget = target.max - measure(foot)
  const reserves = sections.map(section => measure(section.omitted))
  let reserveAfter = reserves.reduce((sum, n) => sum + n, 0)
  let used = measure(head)
  if (used + reserveAfter > budget) return fallback(heading, comparison, target, elsewhere)

  const out: string[] = [head]
  sections.forEach((section, s) => {
    reserveAfter -= reserves[s]
    const available = budget - used - reserveAfter
    const noteMax = measure(section.more(section.count))
    let size = measure(section.open) + measure(section.close)
    const rows: string[] = []
    while (rows.length < section.count) {
      const text = section.row(rows.length)
      const length = measure(text)
      const needNote = rows.length + 1 < section.count ? noteMax : 0
      if (size + length + needNote <= available) {
        rows.push(text)
        size += length
        continue
      }
      // The room kept for the note may be all the rest needs: try the remaining rows without it. This renders at
      // most a budget's worth of rows, so the whole stays linear in what is shown.
      const tail = [text]
      let tailSize = size + length
      for (let i = rows.length + 1; i < section.count && tailSize <= available; i++) {
        const next = section.row(i)
        tail.push(next)
        tailSize += measure(next)
      }
      if (tailSize <= available && rows.length + tail.length === section.count) for (const t of tail) rows.push(t)
      break
    }
    let text: string
    if (rows.length === 0) text = section.omitted
    else {
      const remaining = section.count - rows.length
      text = section.open + rows.join('') + (remaining > 0 ? section.more(remaining) : '') + section.close
    }
    out.push(text)
    used += measure(text)
  })
  out.push(foot)
  return out.join('')
}

function foldedSection(
  summary: string,
  count: number,
  tableHead: string,
  row: (index: number) => string,
  more: (remaining: number) => string,
  elsewhere: string
): Section {
  return {
    count,
    // GitHub renders Markdown inside <details> only after a blank line.
    open: `<details><summary>${summary}</summary>\n\n${tableHead}`,
    row,
    more,
    close: '\n</details>\n\n',
    omitted: `${summary}${elsewhere}\n\n`
  }
}

function provenanceBlock(comparison: Comparison, context: ReportContext): string {
  const field = (text: string) => escapeMarkdown(text, PROVENANCE_MAX_LENGTH) || '*(empty)*'
  const lines = [`- **Candidate:** ${describeProvenance(comparison.candidate, field)}`]
  lines.push(
    comparison.baseline
      ? `- **Baseline:** ${describeProvenance(comparison.baseline, field)}`
      : `- **Baseline:** none${comparison.baselineNote ? ` (${field(comparison.baselineNote)})` : ''}. ${NO_BASELINE}`
  )
  const rules = context.rulesSource ? `${field(context.rulesSource)} · ` : ''
  lines.push(`- **Rules:** ${rules}fail-on: ${context.failOn}`)
  return `${lines.join('\n')}\n\n`
}

function footer(context: ReportContext, url: string | undefined): string {
  const link = url ? ` · [job summary](${url})` : ''
  const id = escapeMarkdown(context.reportId, 100)
  return `<sub>modelgate${id ? ` report ${id}` : ''}${link}</sub>\n`
}

/** When even the heading, provenance and one line per section do not fit: the verdict and counts, cut if need be. */
function fallback(heading: string, comparison: Comparison, target: Target, elsewhere: string): string {
  const text = `${heading}${describeCounts(comparison.counts)}\n\nThe details are too long to show here${elsewhere}\n`
  if (target.measure(text) <= target.max) return text
  let cut = text.slice(0, Math.max(0, target.max))
  while (cut.length > 0 && target.measure(cut) > target.max) cut = cut.slice(0, -1)
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut
}

function metricRow(
  metric: MetricResult,
  rules: ReadonlyMap<string, Rule>,
  hasBaseline: boolean,
  withRule: boolean,
  inSummary: boolean
): string {
  const rule = metric.rule === undefined ? undefined : rules.get(metric.rule)
  const values = formatValues(metric, rule)
  const cells = [escapeMarkdown(metric.name) || '*(empty name)*']
  if (hasBaseline) cells.push(valueCell(metric.baseline, values.baseline))
  cells.push(valueCell(metric.candidate, values.candidate))
  if (hasBaseline) cells.push(changeCell(metric))
  if (withRule) cells.push(ruleCell(metric, rule, inSummary))
  // The comment says the status and the number that decided it; the job summary also gives every reason in full.
  cells.push(inSummary ? statusCell(metric) : shortStatusCell(metric, rule))
  return `| ${cells.join(' | ')} |\n`
}

function valueCell(value: MetricValue | undefined, formatted: string | undefined): string {
  if (value === undefined) return '—'
  if (value.kind === 'number') return formatted ?? formatNumber(value.value)
  return `*${describeInvalid(value, raw => escapeMarkdown(raw, RAW_MAX_LENGTH))}*`
}

function changeCell(metric: MetricResult): string {
  if (metric.delta === undefined) return '—'
  const better = changeIsBetter(metric)
  const marker = better === undefined ? '' : better ? '🟢 ' : '🔴 '
  const pct = metric.deltaPct === undefined ? '' : ` (${formatPercent(metric.deltaPct)})`
  return `${marker}${formatDelta(metric.delta)}${pct}`
}

function ruleCell(metric: MetricResult, rule: Rule | undefined, inSummary: boolean): string {
  // The comment's Status icon already says warn; the job summary spells the severity out.
  if (rule) {
    const text = describeRule(rule, metric.direction ?? rule.direction, { severity: inSummary })
    // No-break spaces keep "may rise 25%" on one line: a narrow column then wraps only between the rule's parts.
    return inSummary
      ? text
      : text
          .split(', ')
          .map(part => part.replace(/ /g, NBSP))
          .join(', ')
  }
  if (metric.rule !== undefined) return escapeMarkdown(metric.rule)
  return '—'
}

const OUTCOME_ICON: Readonly<Record<Outcome, string>> = { fail: '❌', warn: '⚠️', pass: '✅' }
const NBSP = '\u00a0'

/**
 * The status word and the one number that decided it: `below floor 0.7`, `regressed, over 25%`, `needs +0.05`. The
 * values and the change are in their own cells, so they are not repeated here.
 */
function shortStatusCell(metric: MetricResult, rule: Rule | undefined): string {
  const icon = metric.outcome === 'pass' && !metric.gated ? '➖' : OUTCOME_ICON[metric.outcome]
  const label = STATUS_LABELS[metric.status] ?? escapeMarkdown(String(metric.status), 40)
  // One number: a metric that also regressed beyond its tolerance shows it in the Change and Rule cells beside.
  const text = decidingText(metric, metric.status, rule)
  return `${icon} **${label}**${text ? ` ${text}` : ''}`
}

function decidingText(metric: MetricResult, status: MetricStatus, rule: Rule | undefined): string {
  const fmt = (n: number) => formatNumber(Math.abs(n), 10)
  switch (status) {
    case 'below-floor':
      return rule?.min !== undefined ? formatNumber(rule.min, 10) : ''
    case 'above-ceiling':
      return rule?.max !== undefined ? formatNumber(rule.max, 10) : ''
    case 'regressed': {
      if (!metric.gated || !rule) return ''
      const pctOver =
        rule.maxRegressionPct !== undefined &&
        metric.deltaPct !== undefined &&
        Math.abs(metric.deltaPct) > rule.maxRegressionPct
      if (pctOver || (rule.maxRegressionPct !== undefined && rule.maxRegression === undefined))
        return `over ${fmt(rule.maxRegressionPct!)}%`
      if (rule.maxRegression !== undefined) return `over ${fmt(rule.maxRegression)}`
      return 'any worsening fails'
    }
    case 'insufficient-improvement': {
      if (!rule) return ''
      const sign = metric.direction === 'lower' ? MINUS : '+'
      const needs = [
        rule.minImprovement !== undefined ? `${sign}${fmt(rule.minImprovement)}` : undefined,
        rule.minImprovementPct !== undefined ? `${sign}${fmt(rule.minImprovementPct)}%` : undefined
      ].filter(Boolean)
      return `needs ${needs.join(' and ')}`
    }
    case 'missing':
      return metric.gated &&
        metric.candidate === undefined &&
        metric.baseline === undefined &&
        metric.outcome === 'warn'
        ? 'matches nothing'
        : ''
    default:
      return ''
  }
}

function statusCell(metric: MetricResult): string {
  const icon = metric.outcome === 'pass' && !metric.gated ? '➖' : OUTCOME_ICON[metric.outcome]
  let text = `${icon} ${STATUS_LABELS[metric.status] ?? escapeMarkdown(String(metric.status), 40)}`
  const reasons = metric.reasons.slice(0, REASONS_SHOWN).map(reason => escapeMarkdown(reason, REASON_MAX_LENGTH))
  if (reasons.length > 0) text += `: ${reasons.join('; ')}`
  const hidden = metric.reasons.length - REASONS_SHOWN
  if (hidden > 0) text += `; and ${plural(hidden, 'more reason', 'more reasons')}`
  return text
}
