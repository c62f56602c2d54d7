import { describe, expect, it } from '@jest/globals'
import type { Comparison, MetricResult, Rule } from '../compare/types.js'
import { METRIC_STATUSES } from '../compare/types.js'
import type { MetricValue } from '../metrics/types.js'
import { buildJsonReport } from './json.js'
import type { ReportContext } from './markdown.js'
import { summarizeComparison } from '../compare/engine.js'

const num = (value: number): MetricValue => ({ kind: 'number', value })

function metric(name: string, extra: Partial<MetricResult> = {}): MetricResult {
  return { name, status: 'unchanged', gated: false, outcome: 'pass', reasons: [], ...extra }
}

function compare(metrics: MetricResult[], extra: Partial<Comparison> = {}): Comparison {
  return {
    ...summarizeComparison(
      { kind: 'file', spec: 'candidate.json', path: 'candidate.json' },
      {
        kind: 'model-version',
        spec: 'models:/churn@champion',
        model: 'churn',
        version: '7',
        alias: 'champion'
      },
      metrics
    ),
    ...extra
  }
}

const CONTEXT: ReportContext = {
  title: 'churn-classifier',
  reportId: 'compare-metrics',
  failOn: 'regression',
  passed: false,
  rulesSource: '.modelgate.yml'
}

const RULES: Rule[] = [
  { pattern: 'accuracy', direction: 'higher', maxRegression: 0.01, required: true, severity: 'fail' },
  { pattern: 'f1', min: 0.5, required: false, severity: 'warn' }
]

const METRICS: MetricResult[] = [
  metric('accuracy', {
    baseline: num(0.912),
    candidate: num(0.887),
    delta: 0.887 - 0.912,
    deltaPct: ((0.887 - 0.912) / 0.912) * 100,
    direction: 'higher',
    status: 'regressed',
    gated: true,
    outcome: 'fail',
    rule: 'accuracy',
    reasons: ['accuracy fell by 0.025, more than the allowed 0.01']
  }),
  metric('f1', {
    baseline: num(0.6),
    candidate: { kind: 'invalid', reason: 'non-numeric', raw: 'abc' },
    status: 'invalid',
    gated: true,
    outcome: 'fail',
    rule: 'f1',
    reasons: ['not a number']
  }),
  metric('zero', { baseline: num(0), candidate: num(-0), delta: -0, direction: 'lower' }),
  metric('huge', { baseline: num(-1.7e308), candidate: num(1.7e308), delta: Infinity, deltaPct: Infinity }),
  metric('leaked', { candidate: num(NaN), baseline: num(-Infinity) }),
  metric('new_metric', { candidate: num(1), status: 'new' }),
  metric('gone', { baseline: num(1), status: 'missing' })
]

describe('buildJsonReport', () => {
  const report = buildJsonReport(compare(METRICS), { ...CONTEXT, rules: RULES })

  it('has a versioned, documented shape with the verdict, provenance and counts', () => {
    expect(report).toMatchObject({
      schemaVersion: 1,
      tool: 'modelgate',
      title: 'churn-classifier',
      reportId: 'compare-metrics',
      verdict: 'fail',
      passed: false,
      failOn: 'regression',
      rulesSource: '.modelgate.yml',
      summaryUrl: null,
      total: 7,
      regressions: 1,
      failures: 2,
      warnings: 0
    })
    expect(Object.keys(report.counts)).toEqual(METRIC_STATUSES)
    expect(report.counts.regressed).toBe(1)
    expect(report.counts.unchanged).toBe(3)
    expect(report.candidate).toEqual({
      kind: 'file',
      spec: 'candidate.json',
      path: 'candidate.json',
      ref: null,
      commit: null,
      runId: null,
      model: null,
      version: null,
      alias: null
    })
    expect(report.baseline).toMatchObject({ kind: 'model-version', model: 'churn', version: '7', alias: 'champion' })
    expect(report.rules).toEqual([
      {
        pattern: 'accuracy',
        direction: 'higher',
        min: null,
        max: null,
        maxRegression: 0.01,
        maxRegressionPct: null,
        minImprovement: null,
        minImprovementPct: null,
        required: true,
        severity: 'fail'
      },
      expect.objectContaining({ pattern: 'f1', min: 0.5, direction: null, severity: 'warn', required: false })
    ])
  })

  it('lists every metric with numbers, invalid values and nulls where nothing was read', () => {
    expect(report.metrics.map(m => m.name)).toEqual(METRICS.map(m => m.name))
    expect(report.metrics[0]).toEqual({
      name: 'accuracy',
      candidate: 0.887,
      baseline: 0.912,
      delta: 0.887 - 0.912,
      deltaPct: ((0.887 - 0.912) / 0.912) * 100,
      direction: 'higher',
      status: 'regressed',
      gated: true,
      outcome: 'fail',
      rule: 'accuracy',
      reasons: ['accuracy fell by 0.025, more than the allowed 0.01']
    })
    expect(report.metrics[1]).toMatchObject({ candidate: { invalid: 'non-numeric', raw: 'abc' }, delta: null })
    expect(report.metrics[5]).toMatchObject({ baseline: null, candidate: 1, rule: null, direction: null })
    expect(report.metrics[6]).toMatchObject({ baseline: 1, candidate: null })
  })

  it('carries no number JSON cannot: -0 becomes 0, non-finite deltas null, non-finite values invalid', () => {
    expect(Object.is(report.metrics[2].candidate, 0)).toBe(true)
    expect(Object.is(report.metrics[2].delta, 0)).toBe(true)
    expect(report.metrics[3]).toMatchObject({ delta: null, deltaPct: null })
    expect(report.metrics[4]).toMatchObject({
      candidate: { invalid: 'nan', raw: 'NaN' },
      baseline: { invalid: 'infinite', raw: '-Infinity' }
    })
  })

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(report))).toStrictEqual(report)
    const bare = buildJsonReport(compare(METRICS, { baseline: undefined }), { ...CONTEXT, summaryUrl: 'https://x.y/z' })
    expect(JSON.parse(JSON.stringify(bare))).toStrictEqual(bare)
  })

  it('says null for an absent baseline and for rules it was not given', () => {
    const bare = buildJsonReport(compare([], { baseline: undefined }), CONTEXT)
    expect(bare.baseline).toBeNull()
    expect(bare.rules).toBeNull()
    expect(bare.metrics).toEqual([])
    expect(buildJsonReport(compare([]), { ...CONTEXT, rules: [] }).rules).toEqual([])
  })

  it('says why a comparison with no failing or warning metric is still a warn: its notices', () => {
    const notice = 'No rules were given (no metrics in the config, no rules input), so nothing was gated'
    const noRules = buildJsonReport(compare([metric('accuracy')], { notices: [notice], verdict: 'warn' }), CONTEXT)
    expect(noRules).toMatchObject({ verdict: 'warn', failures: 0, warnings: 0, notices: [notice] })
    expect(report.notices).toEqual([])
  })

  it('keeps untrusted strings raw: escaping belongs to whoever renders them', () => {
    const name = '<img src=x> @octocat | #1'
    const raw = buildJsonReport(compare([metric(name)]), CONTEXT)
    expect(raw.metrics[0].name).toBe(name)
  })
})
