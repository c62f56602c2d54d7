/**
 * Lineage: the tags that let anyone holding a model version trace it back to the commit, pull request and workflow
 * run that produced it, and to the gates it passed. Keys are namespaced `modelgate.` so they never collide with
 * MLflow's own `mlflow.` tags or the team's; the run modelgate creates also gets MLflow's own source tags, so the
 * MLflow UI links the commit.
 */
import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { ConfigurationError } from '../errors.js'
import type { RunContext } from '../github/event.js'
import { DIGEST_TAG } from './types.js'

export const LINEAGE_TAGS = {
  digest: DIGEST_TAG,
  commit: 'modelgate.git.commit',
  repository: 'modelgate.git.repository',
  ref: 'modelgate.git.ref',
  pullRequest: 'modelgate.github.pull-request',
  runUrl: 'modelgate.github.run-url',
  workflow: 'modelgate.github.workflow',
  validationVerdict: 'modelgate.validation.verdict',
  validationDigest: 'modelgate.validation.digest',
  comparisonVerdict: 'modelgate.comparison.verdict',
  comparisonRegressions: 'modelgate.comparison.regressions',
  comparisonBaseline: 'modelgate.comparison.baseline'
} as const

export interface GateReports {
  readonly validation?: { verdict: string; passed: boolean; digest?: string }
  readonly comparison?: {
    verdict: string
    passed: boolean
    regressions: number
    baseline?: string
    /** The candidate's numeric metrics, recorded with the version so it can be a baseline later. */
    metrics: Record<string, number>
  }
}

/** Tags from the workflow run: commit, repository, ref, pull request, run URL, workflow. */
export function lineageTags(context: RunContext, env: NodeJS.ProcessEnv): Record<string, string> {
  const tags: Record<string, string> = {}
  if (context.sha) tags[LINEAGE_TAGS.commit] = context.sha
  if (context.repository) tags[LINEAGE_TAGS.repository] = `${context.repository.owner}/${context.repository.repo}`
  if (env.GITHUB_REF) tags[LINEAGE_TAGS.ref] = env.GITHUB_REF
  if (context.pullRequest !== undefined) tags[LINEAGE_TAGS.pullRequest] = String(context.pullRequest)
  if (context.runUrl) tags[LINEAGE_TAGS.runUrl] = context.runUrl
  if (env.GITHUB_WORKFLOW) tags[LINEAGE_TAGS.workflow] = env.GITHUB_WORKFLOW
  return tags
}

/** MLflow's own source tags for the run modelgate creates, so its UI shows the commit and where it ran. */
export function runSourceTags(context: RunContext, env: NodeJS.ProcessEnv): Record<string, string> {
  const tags: Record<string, string> = { 'mlflow.source.type': 'JOB' }
  if (context.sha) tags['mlflow.source.git.commit'] = context.sha
  if (context.repository) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
    tags['mlflow.source.git.repoURL'] = `${server}/${context.repository.owner}/${context.repository.repo}`
    tags['mlflow.source.name'] = context.runUrl ?? tags['mlflow.source.git.repoURL']
  }
  if (env.GITHUB_REF_NAME) tags['mlflow.source.git.branch'] = env.GITHUB_REF_NAME
  return tags
}

export function gateTags(reports: GateReports): Record<string, string> {
  const tags: Record<string, string> = {}
  if (reports.validation) {
    tags[LINEAGE_TAGS.validationVerdict] = reports.validation.verdict
    if (reports.validation.digest) tags[LINEAGE_TAGS.validationDigest] = reports.validation.digest
  }
  if (reports.comparison) {
    tags[LINEAGE_TAGS.comparisonVerdict] = reports.comparison.verdict
    tags[LINEAGE_TAGS.comparisonRegressions] = String(reports.comparison.regressions)
    if (reports.comparison.baseline) tags[LINEAGE_TAGS.comparisonBaseline] = reports.comparison.baseline
  }
  return tags
}

/**
 * Reads validate-model's and compare-metrics' JSON reports (their `report` outputs). A report that is missing,
 * not JSON, or another tool's is the user's mistake, named with the input.
 */
export async function readGateReports(options: {
  workspace: string
  validation?: string | undefined
  comparison?: string | undefined
  describeInput: (name: string) => string
}): Promise<GateReports> {
  const reports: { -readonly [K in keyof GateReports]: GateReports[K] } = {}
  if (options.validation) {
    const source = options.describeInput('validation-report')
    const json = await readReport(options.workspace, options.validation, source)
    if (json.tool !== 'modelgate validate-model' || typeof json.verdict !== 'string') {
      throw new ConfigurationError(
        `${options.validation} is not a validate-model report (no "tool": "modelgate validate-model"); pass validate-model's report output`,
        { source }
      )
    }
    reports.validation = {
      verdict: json.verdict,
      passed: json.passed === true,
      ...(typeof json.digest === 'string' ? { digest: `sha256:${json.digest}` } : {})
    }
  }
  if (options.comparison) {
    const source = options.describeInput('comparison-report')
    const json = await readReport(options.workspace, options.comparison, source)
    if (json.tool !== 'modelgate' || typeof json.verdict !== 'string' || !Array.isArray(json.metrics)) {
      throw new ConfigurationError(
        `${options.comparison} is not a compare-metrics report (no "tool": "modelgate" with metrics); pass compare-metrics' report output`,
        { source }
      )
    }
    const metrics: Record<string, number> = {}
    for (const metric of json.metrics as { name?: unknown; candidate?: unknown }[]) {
      if (typeof metric.name === 'string' && typeof metric.candidate === 'number')
        metrics[metric.name] = metric.candidate
    }
    const baseline = json.baseline as { spec?: unknown } | null | undefined
    reports.comparison = {
      verdict: json.verdict,
      passed: json.passed === true,
      regressions: typeof json.regressions === 'number' ? json.regressions : 0,
      ...(typeof baseline?.spec === 'string' ? { baseline: baseline.spec } : {}),
      metrics
    }
  }
  return reports
}

async function readReport(workspace: string, path: string, source: string): Promise<Record<string, unknown>> {
  const absolute = isAbsolute(path) ? path : resolve(workspace, path)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigurationError(
      `${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}; expected the JSON report file the earlier step wrote (its report output)`,
      { source }
    )
  }
  try {
    const json = JSON.parse(text) as unknown
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>
  } catch {
    // reported below
  }
  throw new ConfigurationError(`${path} is not a JSON report object`, { source })
}
