import { describe, expect, it } from '@jest/globals'
import type { Comparison, MetricResult, Rule } from '../compare/types.js'
import type { MetricValue } from '../metrics/types.js'
import type { ReportContext } from './markdown.js'
import { renderText } from './text.js'
import { summarizeComparison } from '../compare/engine.js'

const num = (value: number): MetricValue => ({ kind: 'number', value })

function metric(name: string, extra: Partial<MetricResult> = {}): MetricResult {
  return {
    name,
    baseline: num(0.9),
    candidate: num(0.9),
    delta: 0,
    deltaPct: 0,
    direction: 'higher',
    status: 'unchanged',
    gated: true,
    outcome: 'pass',
    rule: name,
    reasons: [],
    ...extra
  }
}

function compare(metrics: MetricResult[], extra: Partial<Comparison> = {}): Comparison {
  return {
    ...summarizeComparison(
      { kind: 'file', spec: 'candidate.json', path: 'candidate.json' },
      { kind: 'mlflow-run', spec: 'runs:/abc123/metrics', runId: 'abc123' },
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
  { pattern: 'accuracy', direction: 'higher', maxRegression: 0.01, required: true, severity: 'fail' }
]

describe('renderText', () => {
  const metrics = [
    metric('log_loss', { gated: false, rule: undefined, direction: 'lower' }),
    metric('accuracy', {
      baseline: num(0.912),
      candidate: num(0.887),
      delta: 0.887 - 0.912,
      deltaPct: ((0.887 - 0.912) / 0.912) * 100,
      status: 'regressed',
      outcome: 'fail',
      reasons: ['accuracy fell by 0.025']
    }),
    metric('recall')
  ]
  const text = renderText(compare(metrics), { ...CONTEXT, rules: RULES })
  const lines = text.split('\n')

  it('starts with the verdict, counts and provenance', () => {
    expect(lines.slice(0, 5)).toEqual([
      'FAIL  modelgate: churn-classifier fails the gate',
      '1 regressed · 2 unchanged',
      'candidate: file candidate.json',
      'baseline:  MLflow run abc123',
      'rules:     .modelgate.yml · fail-on: regression'
    ])
  })

  it('prints an aligned table, the metrics needing attention first', () => {
    const table = lines.slice(6, -1)
    expect(table).toEqual([
      '      METRIC    BASELINE  CANDIDATE  CHANGE          RULE           STATUS',
      'FAIL  accuracy  0.912     0.887      −0.025 (−2.7%)  may drop 0.01  regressed: accuracy fell by 0.025',
      'ok    recall    0.9       0.9        ±0 (±0%)        recall         unchanged',
      '-     log_loss  0.9       0.9        ±0 (±0%)        -              unchanged'
    ])
    expect(text.endsWith('\n')).toBe(true)
  })

  it('drops the baseline columns when there is no baseline', () => {
    const first = renderText(
      compare([metric('accuracy', { baseline: undefined, delta: undefined })], { baseline: undefined }),
      CONTEXT
    )
    expect(first).toContain('baseline:  none. No baseline yet: only absolute bounds were checked.')
    expect(first).toContain(
      '\n    METRIC    CANDIDATE  RULE      STATUS\nok  accuracy  0.9        accuracy  unchanged\n'
    )
  })

  it('prints the notices that make a comparison warn under the provenance', () => {
    const notice = 'No rules were given, so nothing was gated; the metrics are only shown.'
    const warned = renderText(compare([metric('accuracy')], { notices: [notice], verdict: 'warn' }), {
      ...CONTEXT,
      passed: true
    })
    expect(warned.split('\n').slice(0, 6)).toEqual([
      'WARN  modelgate: churn-classifier passes with warnings',
      '1 unchanged',
      'candidate: file candidate.json',
      'baseline:  MLflow run abc123',
      'rules:     .modelgate.yml · fail-on: regression',
      `warning:   ${notice}`
    ])
  })

  it('strips terminal escape sequences and line breaks from untrusted text', () => {
    const evil = renderText(compare([metric('\u001b[2J\u001b[31mred\nline\u202e')]), { ...CONTEXT, title: 'a\rb' })
    // eslint-disable-next-line no-control-regex
    expect(evil).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(evil.split('\n')).toHaveLength(9)
  })

  // Speed is npm run bench's to measure; a wall-clock bound here fails on a busy machine, not on slow code.
  it('prints 100,000 metrics, one line each', () => {
    const all = Array.from({ length: 100_000 }, (_, i) => metric(`metric_${i}`))
    const output = renderText(compare(all), CONTEXT)
    expect(output.split('\n')).toHaveLength(100_000 + 8)
  })
})
