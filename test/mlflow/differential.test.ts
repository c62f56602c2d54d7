// The engine against MLflow's own validate_evaluation_results (the project's .venv, MLflow 3.17), on seeded random
// cases written as MLflow users write them (MetricThreshold names). Every disagreement must be one of the
// differences the docs list (actions/compare-metrics/README.md, "Where modelgate deliberately differs"):
// - baseline-lacks-metric: the baseline does not report the metric; modelgate calls it `new` and checks only the
//   threshold, where MLflow fails a change rule or raises a KeyError;
// - decimal-boundary: MLflow's binary floats misjudge a boundary, shown by the same algorithm in exact decimals
//   (validate_cases.py's "exact") agreeing with modelgate.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { compareMetrics } from '../../src/core/compare/engine.js'
import { toRule } from '../../src/core/compare/rules.js'
import type { RuleObject } from '../../src/core/config/schema.js'
import { numberValue, type MetricSet } from '../../src/core/metrics/types.js'
import { mlflowPython, REPO_ROOT, requireMlflow } from './server.js'

const CASES = 600
const SEED = 20261206

interface Spec {
  threshold?: number
  min_absolute_change?: number
  min_relative_change?: number
  greater_is_better: boolean
}
interface Case {
  thresholds: Record<string, Spec>
  candidate: Record<string, number>
  baseline: Record<string, number> | null
}
type Verdict = 'pass' | 'fail' | `error:${string}`

/** mulberry32: small, seeded, and the same on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Values are integers at a decimal scale (`k × 10^-d`), parsed from text as a metrics file would be, so that
 * candidate = baseline ± change lands exactly on a boundary as often as beside it.
 */
function generate(count: number, seed: number): Case[] {
  const next = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  const int = (max: number) => Math.floor(next() * (max + 1))
  const cases: Case[] = []
  for (let n = 0; n < count; n++) {
    const scale = pick([0, 1, 2, 3, 13])
    const at = (k: number) => Number(`${k}e-${scale}`)
    const thresholds: Record<string, Spec> = {}
    const candidate: Record<string, number> = {}
    const baseline: Record<string, number> = {}
    const metrics = 1 + int(2)
    for (let m = 0; m < metrics; m++) {
      const name = `m${m}`
      const greater = next() < 0.5
      const b = pick([0, 1, -1]) * int(1000)
      const change = 1 + int(200)
      const spec: Spec = { greater_is_better: greater }
      const kinds = pick([['t'], ['a'], ['r'], ['t', 'a'], ['t', 'r'], ['a', 'r'], ['t', 'a', 'r']])
      if (kinds.includes('a')) spec.min_absolute_change = at(change)
      if (kinds.includes('r')) spec.min_relative_change = pick([0, 0.05, 0.1, 0.25, 0.5, 1, 0.001])
      const sign = greater ? 1 : -1
      const c = pick([
        b,
        b + sign * change,
        b + sign * (change - 1),
        b + sign * (change + 1),
        b - sign * change,
        b + sign * Math.round((Math.abs(b) * (spec.min_relative_change ?? 0.1)) / 1),
        b + sign * int(50),
        pick([-1, 1]) * int(1000)
      ])
      if (kinds.includes('t')) spec.threshold = at(pick([b, c, c + 1, c - 1, int(1000)]))
      thresholds[name] = spec
      if (next() > 0.05) candidate[name] = at(c)
      if (next() > 0.1) baseline[name] = at(b)
    }
    cases.push({ thresholds, candidate, baseline: next() < 0.05 ? null : baseline })
  }
  return cases
}

async function runMlflow(cases: Case[]): Promise<Array<Array<{ mlflow: Verdict; exact: Verdict }>>> {
  requireMlflow()
  const child = spawn(mlflowPython(), [join(REPO_ROOT, 'test', 'mlflow', 'validate_cases.py')], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin.end(JSON.stringify(cases))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`validate_cases.py exited ${code}: ${stderr}`)
  return JSON.parse(stdout) as Array<Array<{ mlflow: Verdict; exact: Verdict }>>
}

function set(values: Record<string, number>): MetricSet {
  return {
    values: new Map(Object.entries(values).map(([k, v]) => [k, numberValue(v)])),
    provenance: { kind: 'inline', spec: 'case' }
  }
}

function engineVerdict(c: Case, metric: string): { verdict: 'pass' | 'fail'; status: string } {
  const spec: RuleObject = { ...c.thresholds[metric]! }
  const comparison = compareMetrics(set(c.candidate), c.baseline ? set(c.baseline) : undefined, [toRule(metric, spec)])
  const result = comparison.metrics.find(m => m.name === metric)!
  return { verdict: result.outcome === 'fail' ? 'fail' : 'pass', status: result.status }
}

describe('the engine against MLflow 3.17 validate_evaluation_results', () => {
  it(`agrees on ${CASES} seeded random cases except for the documented differences`, async () => {
    const cases = generate(CASES, SEED)
    const answers = await runMlflow(cases)
    const tally: Record<string, number> = { agree: 0, 'baseline-lacks-metric': 0, 'decimal-boundary': 0 }
    const unexplained: unknown[] = []
    cases.forEach((c, i) => {
      Object.keys(c.thresholds).forEach((metric, j) => {
        const { mlflow, exact } = answers[i]![j]!
        const ours = engineVerdict(c, metric)
        if (ours.verdict === mlflow) {
          tally.agree!++
          return
        }
        const baselineLacks = c.baseline === null || !(metric in c.baseline)
        if (baselineLacks && metric in c.candidate && ours.status !== 'missing') {
          tally['baseline-lacks-metric']!++
        } else if (exact === ours.verdict) {
          tally['decimal-boundary']!++
        } else {
          unexplained.push({ case: c, metric, mlflow, exact, ours })
        }
      })
    })
    expect(unexplained).toEqual([])
    // The cases must exercise both sides: mostly agreement, and each documented difference at least once.
    expect(tally.agree).toBeGreaterThan(CASES)
    expect(tally['baseline-lacks-metric']).toBeGreaterThan(0)
    expect(tally['decimal-boundary']).toBeGreaterThan(0)
  }, 120_000)
})
