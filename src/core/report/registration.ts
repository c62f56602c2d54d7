/**
 * register-model's reports: the job summary, the JSON report (output `report`) and the CLI's text.
 */
import type { RegisterRun } from '../gates/register.js'
import { codeSpan, escapeMarkdown } from './escape.js'

export interface RegistrationJsonReport {
  readonly schemaVersion: 1
  readonly tool: 'modelgate register-model'
  readonly registry: { readonly kind: string; readonly location: string }
  readonly name: string
  readonly version: string
  readonly modelUri: string
  readonly created: boolean
  readonly digest: string
  readonly status: string
  readonly source: string
  readonly runId: string | null
  readonly aliases: readonly string[]
  readonly tags: Readonly<Record<string, string>>
  readonly gates: {
    readonly validation: string | null
    readonly comparison: string | null
  }
}

export function buildRegistrationJson(run: RegisterRun): RegistrationJsonReport {
  return {
    schemaVersion: 1,
    tool: 'modelgate register-model',
    registry: { kind: run.registry.kind, location: run.registry.location },
    name: run.name,
    version: run.version.version,
    modelUri: run.modelUri,
    created: run.created,
    digest: run.digest,
    status: run.version.status,
    source: run.version.source,
    runId: run.version.runId ?? null,
    aliases: [...run.version.aliases],
    tags: { ...run.version.tags },
    gates: {
      validation: run.reports.validation?.verdict ?? null,
      comparison: run.reports.comparison?.verdict ?? null
    }
  }
}

export function renderRegistrationMarkdown(run: RegisterRun): string {
  const v = run.version
  const heading = run.created
    ? `### Registered ${escapeMarkdown(run.name)} version ${v.version}`
    : `### ${escapeMarkdown(run.name)} version ${v.version} already holds this model (nothing new registered)`
  const link = registryLink(run)
  const rows: [string, string][] = [
    ['registry', `${run.registry.kind} (${code(run.registry.location)})`],
    ['model URI', link ? `[${code(run.modelUri)}](${link})` : code(run.modelUri)],
    ['digest', code(run.digest)],
    ['aliases', v.aliases.length ? v.aliases.map(alias => code(alias)).join(', ') : 'none'],
    ['source', code(v.source)],
    ...(v.runId ? ([['run', code(v.runId)]] as [string, string][]) : []),
    ['status', v.status]
  ]
  if (run.reports.validation) rows.push(['validate-model', run.reports.validation.verdict])
  if (run.reports.comparison) {
    const c = run.reports.comparison
    rows.push(['compare-metrics', `${c.verdict}${c.baseline ? ` against ${code(c.baseline)}` : ''}`])
  }
  const tagRows = Object.entries(v.tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `| ${code(key)} | ${code(value)} |`)
  return [
    heading,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([key, value]) => `| ${key} | ${value} |`),
    '',
    '<details><summary>Tags on the version</summary>',
    '',
    '| tag | value |',
    '| --- | --- |',
    ...tagRows,
    '',
    '</details>',
    ''
  ].join('\n')
}

export function renderRegistrationText(run: RegisterRun): string {
  const v = run.version
  return [
    `${run.name} version ${v.version}: ${run.created ? 'registered' : 'already registered (same digest)'}`,
    `  model URI  ${run.modelUri}`,
    `  registry   ${run.registry.kind} ${run.registry.location}`,
    `  digest     ${run.digest}`,
    `  aliases    ${v.aliases.join(', ') || 'none'}`,
    `  source     ${v.source}`,
    ...(v.runId ? [`  run        ${v.runId}`] : [])
  ].join('\n')
}

/** The version's page in the MLflow UI, for an http(s) tracking server. */
function registryLink(run: RegisterRun): string | undefined {
  if (run.registry.kind !== 'mlflow' || !/^https?:\/\//.test(run.registry.location)) return undefined
  return `${run.registry.location}/#/models/${encodeURIComponent(run.name)}/versions/${run.version.version}`
}

/** Tag values are copied from here (digests, URLs), so they are cut only when far longer than any of those. */
const VALUE_MAX_LENGTH = 1000

/** Every value in these tables is a code span: copied, it is the value itself, with no invisible guard characters. */
function code(text: string, max = VALUE_MAX_LENGTH): string {
  return codeSpan(text, { max, table: true })
}
