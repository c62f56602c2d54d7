/**
 * One comparison from user-level settings to verdict: find the config, pick the model, settle the rules, load both
 * metric sources and compare. The action and the CLI both call this, then render and publish in their own way.
 */
import { findModelConfig } from '../config/find.js'
import type { MetricRules } from '../config/schema.js'
import { tuningOptions, type TuningOptions } from '../environment.js'
import { ConfigurationError } from '../errors.js'
import { PathNotAtRef } from '../metrics/git.js'
import { AbsentSource } from '../metrics/registry-source.js'
import type { MetricSourceResolver } from '../metrics/resolver.js'
import { defaultResolvers, loadMetrics } from '../metrics/source.js'
import type { MetricSet } from '../metrics/types.js'
import { DEFAULT_COMPARE_FAIL_ON, gatePasses, isSmokeRule, type CompareFailOn } from '../vocabulary.js'
import { compareMetrics, NO_RULES } from '../compare/engine.js'
import { toRules } from '../compare/rules.js'
import type { Comparison, Rule } from '../compare/types.js'

export interface CompareOptions extends TuningOptions {
  /** Absolute workspace directory: file paths and git run relative to it. */
  workspace: string
  candidate: string
  baseline?: string | undefined
  /** Config file as given by the user; undefined means `.modelgate.yml` if it exists. */
  config?: string | undefined
  /** Inline YAML rules (the `rules` input), overriding the config's rule of the same name or pattern. */
  rules?: string | undefined
  reportId?: string | undefined
  failOn?: CompareFailOn | undefined
  trackingUri?: string | undefined
  env?: NodeJS.ProcessEnv | undefined
  /** Where the input names come from, for messages: `input 'rules'` in the action, `--rules` in the CLI. */
  describeInput?: (name: string) => string
  resolvers?: MetricSourceResolver[]
}

export interface CompareRun {
  readonly comparison: Comparison
  /** The canonical rules applied, for reports that show each metric's thresholds. */
  readonly rules: readonly Rule[]
  /** The model name, for the report title. */
  readonly title: string
  readonly reportId: string
  readonly failOn: CompareFailOn
  readonly passed: boolean
  /** Where the rules came from, for the report: `.modelgate.yml`, `input 'rules'`, both, or none. */
  readonly rulesSource?: string
  /**
   * What the log must say besides the verdict, one line each, so a gate never passes silently: no rules, no
   * baseline, a glob that matched nothing, a metric missing under `required: false`.
   */
  readonly warnings: readonly string[]
}

const DEFAULT_REPORT_ID = 'metrics'

export async function runComparison(options: CompareOptions): Promise<CompareRun> {
  const describe = options.describeInput ?? ((name: string) => `input '${name}'`)
  const hasRulesInput = options.rules !== undefined && options.rules.trim() !== ''
  const found = await findModelConfig({
    workspace: options.workspace,
    config: options.config,
    modelName: options.reportId,
    needLoader: hasRulesInput
  })
  const model = found.model
  let rules: MetricRules = { ...model?.metrics }
  const sources: string[] = []
  if (found.path && model?.metrics && Object.keys(model.metrics).length > 0) sources.push(found.path)
  if (hasRulesInput && found.parseRules) {
    rules = { ...rules, ...found.parseRules(options.rules!, describe('rules')) }
    sources.push(describe('rules'))
  }

  const baselineSpec = options.baseline || model?.compare?.baseline
  const failOn = options.failOn ?? model?.compare?.['fail-on'] ?? DEFAULT_COMPARE_FAIL_ON
  const context = (role: string) => ({
    workspace: options.workspace,
    role,
    ...(options.trackingUri ? { trackingUri: options.trackingUri } : {}),
    ...(model?.registry ? { registry: model.registry } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...tuningOptions(options),
    describeInput: describe
  })
  // One list for both sources, so a registry that serves both is opened once.
  const resolvers = options.resolvers ?? defaultResolvers()
  let baselineNote: string | undefined
  const [candidate, baseline] = await Promise.all([
    loadMetrics(options.candidate, context('candidate'), resolvers).catch((error: unknown) => {
      if (error instanceof AbsentSource) {
        throw new ConfigurationError(`${error.reason}; the candidate must have metrics`, {
          source: describe('candidate')
        })
      }
      throw error
    }),
    baselineSpec
      ? loadMetrics(baselineSpec, context('baseline'), resolvers).catch((error: unknown): MetricSet | undefined => {
          // The first model has no champion to beat: compare with nothing, and say why in the report.
          if (error instanceof AbsentSource) {
            baselineNote = `${error.spec}: ${error.reason}`
            return undefined
          }
          // Likewise the pull request that adds a model adds its metrics file: the base branch has none yet. A ref
          // that does not exist stays an error: that is the workflow's mistake (a checkout without history).
          if (error instanceof PathNotAtRef) {
            baselineNote = `${baselineSpec.trim()}: ${error.absence} yet`
            return undefined
          }
          // A workflow with no baseline input still reads one: say where it came from, or the user looks in vain.
          if (error instanceof ConfigurationError && !options.baseline && found.path) {
            throw new ConfigurationError(
              `${error.detail} (the baseline comes from compare.baseline in ${found.path})`,
              error.place
            )
          }
          throw error
        })
      : Promise.resolve(undefined)
  ])

  // The smoke test's rules are validate-model's (vocabulary.ts says why); toRules already leaves out deploy's.
  const canonicalRules = toRules(rules).filter(rule => !isSmokeRule(rule.pattern))
  const compared = othersRulesOnly(compareMetrics(candidate, baseline, canonicalRules), rules, canonicalRules)
  const comparison = baselineNote ? { ...compared, baselineNote } : compared
  const warnings = describeWarnings(comparison)
  const reportId = options.reportId || model?.model || DEFAULT_REPORT_ID
  return {
    comparison,
    rules: canonicalRules,
    title: model?.model ?? reportId,
    reportId,
    failOn,
    passed: gatePasses(comparison.verdict, failOn),
    ...(sources.length ? { rulesSource: sources.join(' + ') } : {}),
    warnings
  }
}

/**
 * With rules given but every one of them another gate's (deploy.*, smoke.*), "no rules were given" would be false:
 * the notice says what happened to them instead.
 */
function othersRulesOnly(comparison: Comparison, given: MetricRules, applied: readonly Rule[]): Comparison {
  const patterns = Object.keys(given)
  if (applied.length > 0 || patterns.length === 0 || !comparison.notices?.includes(NO_RULES)) return comparison
  const shown = patterns.slice(0, 5).join(', ') + (patterns.length > 5 ? `, and ${patterns.length - 5} more` : '')
  const notice =
    `The rules given (${shown}) are all for metrics that another gate measures (deploy.* for deploy-endpoint, ` +
    'smoke.* for validate-model), so nothing was gated; the metrics are only shown.'
  return { ...comparison, notices: comparison.notices.map(text => (text === NO_RULES ? notice : text)) }
}

export function describeWarnings(comparison: Comparison): string[] {
  const lines = [...(comparison.notices ?? [])]
  if (comparison.baselineNote) {
    lines.push(`No baseline: ${comparison.baselineNote}; only the absolute bounds (min, max, threshold) were checked.`)
  }
  for (const metric of comparison.metrics) {
    if (metric.gated && metric.status === 'missing' && metric.outcome === 'warn')
      lines.push(`${metric.name}: ${metric.reasons[0] ?? metric.status}`)
  }
  return lines
}
