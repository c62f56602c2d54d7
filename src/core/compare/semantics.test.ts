// Findings 1-4 of issue 9: MLflow's MetricThreshold meaning, missing gated metrics, exact comparison at small
// scales, and the zero-baseline fallback. Each case here failed before the fix.
import { describe, expect, it } from '@jest/globals'
import { parseRulesInput } from '../config/load.js'
import { numberValue, type MetricSet } from '../metrics/types.js'
import { compareMetrics } from './engine.js'
import { rulesMatching, toRules } from './rules.js'

function set(values: Record<string, number>): MetricSet {
  return {
    values: new Map(Object.entries(values).map(([k, v]) => [k, numberValue(v)])),
    provenance: { kind: 'file', spec: 'metrics.json', path: 'metrics.json' }
  }
}

function compare(candidate: Record<string, number>, baseline: Record<string, number> | undefined, yaml: string) {
  return compareMetrics(set(candidate), baseline ? set(baseline) : undefined, toRules(parseRulesInput(yaml, 'test')))
}

describe('MLflow MetricThreshold meaning', () => {
  it('a rule with only threshold checks only the threshold: a worsening that holds it passes', () => {
    const comparison = compare(
      { accuracy: 0.9 },
      { accuracy: 0.91 },
      'accuracy: {threshold: 0.8, greater_is_better: true}'
    )
    expect(comparison.verdict).toBe('pass')
    expect(comparison.metrics[0]).toMatchObject({ status: 'within-tolerance', outcome: 'pass', gated: true })
  })

  it("keeps mlops-stacks' default max_error <= 500 rule from failing a worsening below 500", () => {
    const comparison = compare(
      { max_error: 420 },
      { max_error: 400 },
      'max_error: {threshold: 500, greater_is_better: false}'
    )
    expect(comparison.verdict).toBe('pass')
    expect(
      compare({ max_error: 501 }, { max_error: 400 }, 'max_error: {threshold: 500, greater_is_better: false}').verdict
    ).toBe('fail')
  })

  it('a direction of our own still fails any worsening', () => {
    expect(compare({ accuracy: 0.9 }, { accuracy: 0.91 }, 'accuracy: {direction: higher, min: 0.8}').verdict).toBe(
      'fail'
    )
    expect(compare({ accuracy: 0.9 }, { accuracy: 0.91 }, 'accuracy: higher').verdict).toBe('fail')
  })

  it('min_absolute_change: 0.8 -> 0.85 at 0.05 passes exactly (real MLflow fails it: 0.8 + 0.05 is 0.8500000000000001)', () => {
    const rule = 'auc: { min_absolute_change: 0.05, greater_is_better: true }'
    expect(compare({ auc: 0.85 }, { auc: 0.8 }, rule).verdict).toBe('pass')
    expect(compare({ auc: 0.8499999 }, { auc: 0.8 }, rule).verdict).toBe('fail')
  })

  it('min_relative_change is read as the percentage written: 0.07 is 7%, so an exact 7% improvement passes', () => {
    // 0.07 * 100 is 7.000000000000001 in binary floats; MLflow passes 1 -> 1.07 at 0.07, and so must modelgate.
    for (const [fraction, candidate] of [
      [0.07, 1.07],
      [0.29, 1.29],
      [0.57, 1.57],
      [0.14, 1.14]
    ] as const) {
      const rule = `m: { min_relative_change: ${fraction}, greater_is_better: true }`
      expect(compare({ m: candidate }, { m: 1 }, rule).verdict).toBe('pass')
      expect(compare({ m: candidate - 1e-9 }, { m: 1 }, rule).verdict).toBe('fail')
    }
    expect(toRules(parseRulesInput('m: { min_relative_change: 0.07, greater_is_better: true }', 't'))[0]).toMatchObject(
      { minImprovementPct: 7 }
    )
  })
})

describe('a gated metric the candidate lacks', () => {
  it('fails the gate by default', () => {
    const comparison = compare(
      { other: 1 },
      { accuracy: 0.9, other: 1 },
      'accuracy: {threshold: 0.8, greater_is_better: true}'
    )
    expect(comparison.metrics.find(m => m.name === 'accuracy')).toMatchObject({ status: 'missing', outcome: 'fail' })
    expect(comparison.verdict).toBe('fail')
  })

  it('fails for a shorthand rule and for a glob-matched baseline metric too', () => {
    expect(compare({ other: 1 }, { accuracy: 0.9, other: 1 }, 'accuracy: higher').verdict).toBe('fail')
    const glob = compare({ 'recall.cat': 0.9 }, { 'recall.cat': 0.9, 'recall.dog': 0.8 }, '"recall.*": {min: 0.5}')
    expect(glob.metrics.find(m => m.name === 'recall.dog')).toMatchObject({ status: 'missing', outcome: 'fail' })
  })

  it('only warns when the rule says required: false', () => {
    const comparison = compare({ other: 1 }, { accuracy: 0.9, other: 1 }, 'accuracy: {min: 0.8, required: false}')
    expect(comparison.metrics.find(m => m.name === 'accuracy')).toMatchObject({ status: 'missing', outcome: 'warn' })
    expect(comparison.verdict).toBe('warn')
  })
})

describe('exact comparison at every scale', () => {
  it('max-regression: 0 refuses a 400% worsening at the 1e-13 scale', () => {
    const result = compare({ x: 1e-13 }, { x: 5e-13 }, 'x: {direction: higher, max-regression: 0}')
    expect(result.verdict).toBe('fail')
  })

  it('a required change below 1e-12 is not ignored', () => {
    const rule = 'x: {direction: higher, min-improvement: 1e-13}'
    expect(compare({ x: 1.00000000000005 }, { x: 1 }, rule).verdict).toBe('fail')
    expect(compare({ x: 1.0000000000001 }, { x: 1 }, rule).verdict).toBe('pass')
    expect(compare({ x: 5e-14 }, { x: 0 }, 'x: {direction: higher, min-improvement: 1e-13}').verdict).toBe('fail')
  })

  it('decimal boundaries are exact: 0.9 -> 0.89 is a change of exactly 0.01', () => {
    expect(compare({ a: 0.89 }, { a: 0.9 }, 'a: {direction: higher, max-regression: 0.01}').verdict).toBe('pass')
    expect(compare({ a: 0.8899999999 }, { a: 0.9 }, 'a: {direction: higher, max-regression: 0.01}').verdict).toBe(
      'fail'
    )
    // 10% of 0.3 is 0.03: 0.33 is exactly on the boundary, though 0.33 / 0.3 is 1.1000000000000003 in binary.
    expect(compare({ a: 0.33 }, { a: 0.3 }, 'a: {direction: higher, min-improvement-pct: 10}').verdict).toBe('pass')
    expect(compare({ l: 0.33 }, { l: 0.3 }, 'l: {direction: lower, max-regression-pct: 10}').verdict).toBe('pass')
    expect(compare({ l: 0.3300000001 }, { l: 0.3 }, 'l: {direction: lower, max-regression-pct: 10}').verdict).toBe(
      'fail'
    )
  })

  it('relative change at the 1e-13 scale is measured, not swallowed', () => {
    expect(compare({ x: 4e-13 }, { x: 1e-13 }, 'x: {direction: lower, max-regression-pct: 10}').verdict).toBe('fail')
  })
})

describe('a zero baseline under a relative improvement rule (MLflow: an improvement of at least 1e-10)', () => {
  it('needs an improvement of 1e-10, as MLflow does', () => {
    const rule = 'x: {greater_is_better: true, min_relative_change: 0.05}'
    expect(compare({ x: 1e-11 }, { x: 0 }, rule).verdict).toBe('fail')
    expect(compare({ x: 1e-10 }, { x: 0 }, rule).verdict).toBe('pass')
    expect(compare({ x: -1e-10 }, { x: 0 }, 'x: {greater_is_better: false, min_relative_change: 0.05}').verdict).toBe(
      'pass'
    )
  })

  it('refuses a worsening from zero under a relative tolerance: any worsening is infinitely many percent', () => {
    expect(compare({ err: 0.001 }, { err: 0 }, 'err: {direction: lower, max-regression-pct: 10}').verdict).toBe('fail')
  })
})

describe('a gate never passes silently', () => {
  it('says when a glob matches no metric, and fails it only when it is required', () => {
    const typo = compare({ 'recall.cat': 0.9 }, undefined, '"recal.*": {min: 0.5}\n"recall.cat": {min: 0.5}')
    expect(typo.metrics.find(m => m.name === 'recal.*')).toMatchObject({ status: 'missing', outcome: 'warn' })
    expect(typo.metrics.find(m => m.name === 'recal.*')!.reasons[0]).toMatch(/typo/)
    expect(typo.verdict).toBe('warn')
    const required = compare({ 'recall.cat': 0.9 }, undefined, '"recal.*": {min: 0.5, required: true}')
    expect(required.verdict).toBe('fail')
  })

  it('says when there are no rules at all', () => {
    const comparison = compare({ accuracy: 0.8 }, { accuracy: 0.9 }, '{}')
    expect(comparison.verdict).toBe('warn')
    expect(comparison.notices).toEqual([expect.stringMatching(/nothing was gated/)])
  })
})

describe('rulesMatching', () => {
  it('keeps the rules that govern at least one of the names, in order', () => {
    const all = toRules(
      parseRulesInput('accuracy: {min: 0.8}\n"smoke.*_ms": {max: 50}\nsmoke.startup_ms: {max: 9}', 't')
    )
    expect(rulesMatching(all, ['smoke.latency_p95_ms', 'smoke.startup_ms']).map(r => r.pattern)).toEqual([
      'smoke.*_ms',
      'smoke.startup_ms'
    ])
  })
})
