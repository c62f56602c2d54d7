import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { parseRulesInput } from '../config/load.js'
import { numberValue, invalidValue, type MetricSet, type MetricValue } from '../metrics/types.js'
import { compareMetrics } from './engine.js'
import { toRules } from './rules.js'
import type { MetricResult, Rule } from './types.js'

function set(values: Record<string, number | MetricValue>, spec = 'metrics.json'): MetricSet {
  return {
    values: new Map(Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? numberValue(v) : v])),
    provenance: { kind: 'file', spec, path: spec }
  }
}

function rules(yaml: string): Rule[] {
  return toRules(parseRulesInput(yaml, 'test'))
}

function only(
  candidate: Record<string, number | MetricValue>,
  baseline: Record<string, number | MetricValue> | undefined,
  yaml: string
): MetricResult {
  const comparison = compareMetrics(set(candidate), baseline ? set(baseline) : undefined, rules(yaml))
  expect(comparison.metrics).toHaveLength(1)
  return comparison.metrics[0]!
}

describe('compareMetrics', () => {
  it('fails any worsening when a direction is set and no tolerance is given', () => {
    const result = only({ accuracy: 0.89 }, { accuracy: 0.9 }, 'accuracy: higher')
    expect(result).toMatchObject({ status: 'regressed', outcome: 'fail', gated: true })
    expect(result.reasons[0]).toMatch(/worsened by/)
    expect(result.delta).toBeCloseTo(-0.01)
  })

  it('accepts a worsening within max-regression, with floating-point slack at the boundary', () => {
    const result = only({ accuracy: 0.89 }, { accuracy: 0.9 }, 'accuracy: { direction: higher, max-regression: 0.01 }')
    expect(result).toMatchObject({ status: 'within-tolerance', outcome: 'pass' })
  })

  it('applies both tolerances when both are given', () => {
    // 12 -> 13.5 ms is +1.5 (within 2) but +12.5% (over 10%)
    const result = only(
      { latency_ms: 13.5 },
      { latency_ms: 12 },
      'latency_ms: { direction: lower, max-regression: 2, max-regression-pct: 10 }'
    )
    expect(result).toMatchObject({ status: 'regressed', outcome: 'fail' })
    expect(result.reasons[0]).toMatch(/more than the allowed 2 \/ 10%/)
  })

  it('checks absolute floors and ceilings even without a baseline', () => {
    const result = only({ accuracy: 0.7 }, undefined, 'accuracy: { min: 0.8 }')
    expect(result).toMatchObject({ status: 'below-floor', outcome: 'fail' })
    const high = only({ latency: 80 }, undefined, 'latency: { max: 50, severity: warn }')
    expect(high).toMatchObject({ status: 'above-ceiling', outcome: 'warn' })
  })

  it('reports a metric missing from the baseline as new and still checks its bounds (MLflow KeyErrors here)', () => {
    const comparison = compareMetrics(
      set({ accuracy: 0.9, f1: 0.5 }),
      set({ accuracy: 0.9 }),
      rules('f1: { threshold: 0.6, greater_is_better: true }')
    )
    const f1 = comparison.metrics.find(m => m.name === 'f1')!
    expect(f1).toMatchObject({ status: 'below-floor', outcome: 'fail' })
    const fine = compareMetrics(
      set({ f1: 0.7 }),
      set({ other: 1 }),
      rules('f1: { threshold: 0.6, min_relative_change: 0.1, greater_is_better: true }')
    ).metrics.find(m => m.name === 'f1')!
    expect(fine.status).toBe('new')
    expect(fine.outcome).toBe('pass')
  })

  it('measures relative change against |baseline|, as MLflow 3.17 does, so a negative baseline keeps its direction', () => {
    // r2 went from -0.5 to -0.4: better by 0.1, which is 20% of |-0.5|. (MLflow 3.1 divided by -0.5 and failed it.)
    const result = only({ r2: -0.4 }, { r2: -0.5 }, 'r2: { greater_is_better: true, min_relative_change: 0.1 }')
    expect(result).toMatchObject({ status: 'improved', outcome: 'pass' })
    expect(result.deltaPct).toBeCloseTo(20)
    const worse = only({ r2: -0.6 }, { r2: -0.5 }, 'r2: { direction: higher, max-regression-pct: 10 }')
    expect(worse).toMatchObject({ status: 'regressed', outcome: 'fail' })
  })

  it('min_absolute_change demands at least that improvement, and equality passes exactly', () => {
    // Real MLflow fails this one: it adds 0.8 + 0.05 in binary (0.8500000000000001) before comparing in Decimal.
    expect(
      only({ auc: 0.85 }, { auc: 0.8 }, 'auc: { min_absolute_change: 0.05, greater_is_better: true }').outcome
    ).toBe('pass')
    const short = only({ auc: 0.84 }, { auc: 0.8 }, 'auc: { min_absolute_change: 0.05, greater_is_better: true }')
    expect(short).toMatchObject({ status: 'insufficient-improvement', outcome: 'fail' })
    const lower = only({ rmse: 1.0 }, { rmse: 1.2 }, 'rmse: { min_absolute_change: 0.1, greater_is_better: false }')
    expect(lower).toMatchObject({ status: 'improved', outcome: 'pass' })
  })

  it('with a zero baseline, a relative improvement requirement falls back to a small absolute one, as in MLflow', () => {
    expect(only({ x: 0.1 }, { x: 0 }, 'x: { direction: higher, min-improvement-pct: 5 }').outcome).toBe('pass')
    expect(only({ x: 0 }, { x: 0 }, 'x: { direction: higher, min-improvement-pct: 5 }').outcome).toBe('fail')
  })

  it('never calls a change under a rule without a direction a regression: that rule accepts any change', () => {
    // Only the bounds gate; a change judged by a guessed direction must not read "regressed" beside a pass.
    const worse = only({ accuracy: 0.9 }, { accuracy: 0.91 }, 'accuracy: { min: 0.5 }')
    expect(worse).toMatchObject({ status: 'within-tolerance', outcome: 'pass', gated: true, reasons: [] })
    expect(only({ val_loss: 0.5 }, { val_loss: 0.4 }, 'val_loss: { max: 1 }').status).toBe('within-tolerance')
    expect(only({ accuracy: 0.92 }, { accuracy: 0.91 }, 'accuracy: { min: 0.5 }').status).toBe('improved')
    expect(only({ accuracy: 0.4 }, { accuracy: 0.91 }, 'accuracy: { min: 0.5 }').status).toBe('below-floor')
    const comparison = compareMetrics(set({ a: 1 }), set({ a: 2 }), rules('a: { max: 5 }'))
    expect(comparison).toMatchObject({ verdict: 'pass', regressions: 0 })
    expect(comparison.counts.regressed).toBe(0)
  })

  it('never compares defective values as numbers', () => {
    const nan = only({ accuracy: invalidValue('nan', 'NaN') }, { accuracy: 0.9 }, 'accuracy: higher')
    expect(nan).toMatchObject({ status: 'invalid', outcome: 'fail' })
    expect(nan.delta).toBeUndefined()
    expect(nan.reasons[0]).toMatch(/NaN/)
    const ungated = only({ note: invalidValue('non-numeric', 'abc') }, undefined, '{}')
    expect(ungated).toMatchObject({ status: 'invalid', outcome: 'warn', gated: false })
    const badBaseline = only({ accuracy: 0.9 }, { accuracy: invalidValue('duplicate', '0.8, 0.9') }, 'accuracy: higher')
    expect(badBaseline).toMatchObject({ status: 'invalid', outcome: 'warn' })
  })

  it('reports missing metrics by rule: gated fails, required: false warns, ungated only shows', () => {
    const comparison = compareMetrics(
      set({ a: 1 }),
      set({ a: 1, gone: 2, optional: 3, shown: 4 }),
      rules(
        'gone: { direction: higher, required: true }\noptional: { direction: higher, required: false }\ntypo_name: { min: 1 }'
      )
    )
    const byName = Object.fromEntries(comparison.metrics.map(m => [m.name, m]))
    expect(byName.gone).toMatchObject({ status: 'missing', outcome: 'fail' })
    expect(byName.optional).toMatchObject({ status: 'missing', outcome: 'warn' })
    expect(byName.shown).toMatchObject({ status: 'missing', outcome: 'pass', gated: false })
    expect(byName.typo_name).toMatchObject({ status: 'missing', outcome: 'fail' })
    expect(byName.typo_name!.reasons[0]).toMatch(/check the name/)
    expect(comparison.verdict).toBe('fail')
  })

  it('points a rule that names no metric at the metrics that end in its name (a file nested under metrics:)', () => {
    const comparison = compareMetrics(
      set({ 'metrics.accuracy': 0.9, 'eval/f1': 0.8, 'metrics.auc': 0.7 }),
      undefined,
      rules('accuracy: { min: 0.8 }\nf1: { min: 0.5 }\nrecall: { min: 0.5 }')
    )
    const reason = (name: string) => comparison.metrics.find(m => m.name === name)!.reasons[0]
    expect(reason('accuracy')).toBe(
      'the candidate does not report this metric; check the name in the rules (the candidate reports metrics.accuracy)'
    )
    expect(reason('f1')).toMatch(/\(the candidate reports eval\/f1\)$/)
    expect(reason('recall')).toBe('the candidate does not report this metric; check the name in the rules')
  })

  it('matches globs within a segment, prefers exact names and the most specific glob', () => {
    const comparison = compareMetrics(
      set({
        'per_class.cat.recall': 0.6,
        'per_class.dog.recall': 0.9,
        'per_class.dog.precision': 0.1,
        'per_class.x.y.recall': 0.1
      }),
      undefined,
      rules('"per_class.*.recall": { min: 0.7 }\n"per_class.dog.recall": { min: 0.95 }\n"**": { min: 0 }')
    )
    const byName = Object.fromEntries(comparison.metrics.map(m => [m.name, m]))
    expect(byName['per_class.cat.recall']).toMatchObject({ status: 'below-floor', rule: 'per_class.*.recall' })
    expect(byName['per_class.dog.recall']).toMatchObject({ status: 'below-floor', rule: 'per_class.dog.recall' })
    expect(byName['per_class.dog.precision']!.rule).toBe('**')
    expect(byName['per_class.x.y.recall']!.rule).toBe('**')
  })

  it('counts a glob whose every metric a more specific rule governs as matching, not as a typo', () => {
    // The glob sets the default and a narrower rule overrides it for the one class there is: nothing is unmatched.
    const comparison = compareMetrics(
      set({ 'per_class.churned.recall': 0.65, 'per_class.churned.precision': 0.8 }),
      undefined,
      rules(
        '"per_class.*.recall": { min: 0.7, required: true }\n"per_class.churned.recall": { min: 0.6 }\n' +
          '"per_class.**": { min: 0.1 }\n"per_class.*.precision": { min: 0.5 }'
      )
    )
    expect(comparison.metrics.map(m => m.name)).toEqual(['per_class.churned.recall', 'per_class.churned.precision'])
    expect(comparison.metrics.map(m => m.rule)).toEqual(['per_class.churned.recall', 'per_class.*.precision'])
    expect(comparison).toMatchObject({ verdict: 'pass', failures: 0, warnings: 0 })
  })

  it('gives a metric two equally specific globs match to the one written first, as the README says', () => {
    const first = compareMetrics(set({ 'a.b': 1 }), undefined, rules('"a.*": { min: 0 }\n"*.b": { min: 5 }'))
    expect(first.metrics.find(m => m.name === 'a.b')).toMatchObject({ rule: 'a.*', outcome: 'pass' })
    const swapped = compareMetrics(set({ 'a.b': 1 }), undefined, rules('"*.b": { min: 5 }\n"a.*": { min: 0 }'))
    expect(swapped.metrics.find(m => m.name === 'a.b')).toMatchObject({ rule: '*.b', outcome: 'fail' })
  })

  it('fails a required glob that matches nothing', () => {
    const comparison = compareMetrics(
      set({ a: 1 }),
      undefined,
      rules('"per_class.*.recall": { min: 0.7, required: true }')
    )
    expect(comparison.metrics.find(m => m.name === 'per_class.*.recall')).toMatchObject({
      status: 'missing',
      outcome: 'fail'
    })
  })

  it('leaves metrics without a rule ungated, with a direction guessed from the name for display only', () => {
    const comparison = compareMetrics(set({ val_loss: 0.5, accuracy: 0.5 }), set({ val_loss: 0.4, accuracy: 0.9 }), [])
    // No rule at all gates nothing: that is said, and is not a plain pass.
    expect(comparison.verdict).toBe('warn')
    expect(comparison.notices?.[0]).toMatch(/No rules were given/)
    expect(comparison.metrics.map(m => [m.name, m.direction, m.status, m.outcome])).toEqual([
      ['val_loss', 'lower', 'regressed', 'pass'],
      ['accuracy', 'higher', 'regressed', 'pass']
    ])
    expect(comparison.regressions).toBe(0)
  })

  it('counts statuses and regressions and derives the verdict', () => {
    const comparison = compareMetrics(
      set({ a: 1, b: 1, c: 1 }),
      set({ a: 2, b: 1, c: 0 }),
      rules('a: higher\nb: higher\nc: { direction: higher, severity: warn }')
    )
    expect(comparison.counts).toMatchObject({ regressed: 1, unchanged: 1, improved: 1 })
    expect(comparison).toMatchObject({ regressions: 1, failures: 1, warnings: 0, verdict: 'fail' })
  })
})

describe('engine properties', () => {
  const value = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })
  const direction = fc.constantFrom('higher' as const, 'lower' as const)

  it('a metric that did not change never regresses', () => {
    fc.assert(
      fc.property(
        value,
        direction,
        fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: undefined }),
        (v, dir, tolerance) => {
          const rule: Rule = {
            pattern: 'm',
            direction: dir,
            required: true,
            severity: 'fail',
            ...(tolerance !== undefined ? { maxRegressionPct: tolerance } : {})
          }
          const result = compareMetrics(set({ m: v }), set({ m: v }), [rule]).metrics[0]!
          expect(result.status).toBe('unchanged')
          expect(result.outcome).toBe('pass')
        }
      )
    )
  })

  it('swapping the direction swaps improved and regressed, and the verdict', () => {
    fc.assert(
      fc.property(value, value, direction, (candidate, baseline, dir) => {
        fc.pre(candidate !== baseline)
        const flip = dir === 'higher' ? 'lower' : 'higher'
        const a = compareMetrics(set({ m: candidate }), set({ m: baseline }), [
          { pattern: 'm', direction: dir, required: false, severity: 'fail' }
        ])
        const b = compareMetrics(set({ m: candidate }), set({ m: baseline }), [
          { pattern: 'm', direction: flip, required: false, severity: 'fail' }
        ])
        const statuses = new Set([a.metrics[0]!.status, b.metrics[0]!.status])
        expect(statuses).toEqual(new Set(['improved', 'regressed']))
        expect(new Set([a.verdict, b.verdict])).toEqual(new Set(['pass', 'fail']))
      })
    )
  })

  it('an improvement never fails a rule without bounds or improvement demands', () => {
    fc.assert(
      fc.property(value, fc.double({ min: 1e-6, max: 1e6, noNaN: true }), direction, (baseline, step, dir) => {
        const candidate = dir === 'higher' ? baseline + step : baseline - step
        fc.pre(candidate !== baseline)
        const rule: Rule = { pattern: 'm', direction: dir, maxRegression: 0, required: true, severity: 'fail' }
        expect(compareMetrics(set({ m: candidate }), set({ m: baseline }), [rule]).verdict).toBe('pass')
      })
    )
  })

  it('widening a tolerance never turns a pass into a fail', () => {
    fc.assert(
      fc.property(
        value,
        value,
        direction,
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        (c, b, dir, t1, extra) => {
          const narrow: Rule = { pattern: 'm', direction: dir, maxRegression: t1, required: false, severity: 'fail' }
          const wide: Rule = { ...narrow, maxRegression: t1 + extra }
          const first = compareMetrics(set({ m: c }), set({ m: b }), [narrow]).verdict
          const second = compareMetrics(set({ m: c }), set({ m: b }), [wide]).verdict
          if (first === 'pass') expect(second).toBe('pass')
        }
      )
    )
  })

  it('every metric of either side appears exactly once', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value),
        (c, b) => {
          const comparison = compareMetrics(set(c), set(b), [])
          const names = comparison.metrics.map(m => m.name)
          expect(new Set(names).size).toBe(names.length)
          expect(new Set(names)).toEqual(new Set([...Object.keys(c), ...Object.keys(b)]))
        }
      )
    )
  })
})

describe('reason wording', () => {
  it('shows enough digits that a value just below a floor does not read as equal to it', () => {
    const result = compareMetrics(set({ auc: 0.79996 }), undefined, rules('auc: { min: 0.8 }')).metrics[0]!
    expect(result.reasons[0]).toBe('0.79996 is below the floor 0.8')
  })
})

describe('toRules', () => {
  it("leaves rules on a rollout's metrics (deploy.*) to deploy-endpoint: a comparison never applies them", () => {
    const canonical = rules('accuracy: {min: 0.8}\ndeploy.error_rate: {max: 0.01}\n"deploy.*": {max: 500}')
    expect(canonical.map(rule => rule.pattern)).toEqual(['accuracy'])
    const compared = compareMetrics(set({ accuracy: 0.9 }), undefined, canonical)
    expect(compared.verdict).toBe('pass')
  })
})
