import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import type { Comparison, MetricResult, MetricStatus, Outcome, Rule } from '../compare/types.js'
import type { MetricValue, Provenance } from '../metrics/types.js'
import {
  COMMENT_MAX_LENGTH,
  renderMarkdown,
  renderSummaryMarkdown,
  type ReportContext,
  SUMMARY_MAX_BYTES,
  utf8Length
} from './markdown.js'
import { summarizeComparison } from '../compare/engine.js'

// ---------------------------------------------------------------------------------------------------------------
// Building comparisons by hand.

const num = (value: number): MetricValue => ({ kind: 'number', value })

function result(name: string, status: MetricStatus, outcome: Outcome, extra: Partial<MetricResult> = {}): MetricResult {
  const baseline = 'baseline' in extra ? extra.baseline : num(0.9)
  const candidate = 'candidate' in extra ? extra.candidate : num(0.85)
  const delta =
    baseline?.kind === 'number' && candidate?.kind === 'number' ? candidate.value - baseline.value : undefined
  const deltaPct =
    delta !== undefined && baseline?.kind === 'number' && baseline.value !== 0
      ? (delta / Math.abs(baseline.value)) * 100
      : undefined
  return {
    name,
    baseline,
    candidate,
    delta,
    deltaPct,
    direction: 'higher',
    status,
    gated: true,
    outcome,
    rule: name,
    reasons: outcome === 'pass' ? [] : [`${name} is ${status}`],
    ...extra
  }
}

const CANDIDATE: Provenance = { kind: 'file', spec: 'metrics/candidate.json', path: 'metrics/candidate.json' }
const BASELINE: Provenance = {
  kind: 'git',
  spec: 'git:origin/main:metrics.json',
  path: 'metrics.json',
  ref: 'origin/main',
  commit: '3f9c2a1d5e7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d'
}

function compare(metrics: readonly MetricResult[], extra: Partial<Comparison> = {}): Comparison {
  return { ...summarizeComparison(CANDIDATE, BASELINE, metrics), ...extra }
}

const CONTEXT: ReportContext = {
  title: 'churn-classifier',
  reportId: 'compare-metrics',
  failOn: 'regression',
  passed: true,
  summaryUrl: 'https://github.com/acme/churn/actions/runs/1#summary-2',
  rulesSource: '.modelgate.yml'
}

const context = (extra: Partial<ReportContext> = {}): ReportContext => ({ ...CONTEXT, ...extra })
const firstLine = (text: string) => text.split('\n')[0]
/** The comment keeps a rule's phrases together with no-break spaces; assertions read them as spaces. */
/** An ungated result: no rule (a cast, since the helper's defaults name one). */
const UNGATED = { gated: false, rule: undefined } as unknown as Partial<MetricResult>
const spaced = (text: string) => text.replace(/\u00a0/g, ' ')
const tableRows = (text: string) => text.split('\n').filter(line => line.startsWith('|'))
const rowNames = (text: string) => tableRows(text).map(line => line.split(' | ')[0].slice(2))

/** How often `char` appears not taken by a backslash escape; for `|`, the cell separators GFM splits on. */
function unescaped(line: string, char: string): number {
  let count = 0
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++
    else if (line[i] === char) count++
  }
  return count
}
const unescapedPipes = (line: string) => unescaped(line, '|')

// ---------------------------------------------------------------------------------------------------------------

describe('renderMarkdown: verdict', () => {
  const passing = [result('accuracy', 'improved', 'pass', { candidate: num(0.95) })]
  const warning = [result('latency', 'within-tolerance', 'warn')]
  const failing = [result('accuracy', 'regressed', 'fail')]

  it.each<[string, MetricResult[], Partial<ReportContext>, string]>([
    ['a pass', passing, { passed: true }, '### ✅ modelgate: churn-classifier passes the gate'],
    ['a warning', warning, { passed: true }, '### ⚠️ modelgate: churn-classifier passes with warnings'],
    ['a failure', failing, { passed: false }, '### ❌ modelgate: churn-classifier fails the gate'],
    [
      'a warning under fail-on: warning',
      warning,
      { passed: false, failOn: 'warning' },
      '### ❌ modelgate: churn-classifier fails the gate (warnings fail under fail-on: warning)'
    ],
    [
      'a failure under fail-on: never',
      failing,
      { passed: true, failOn: 'never' },
      '### ⚠️ modelgate: churn-classifier would fail the gate (not enforced: fail-on: never)'
    ]
  ])('heads %s with the verdict and the model name', (_, metrics, extra, heading) => {
    expect(firstLine(renderMarkdown(compare(metrics), context(extra)))).toBe(heading)
  })

  it("follows the heading with the gated metrics' non-zero counts, worst first, apart from the unruled ones", () => {
    const metrics = [
      result('a', 'unchanged', 'pass'),
      result('b', 'improved', 'pass'),
      result('c', 'regressed', 'fail'),
      result('d', 'regressed', 'fail'),
      result('e', 'below-floor', 'fail'),
      result('f', 'regressed', 'pass', UNGATED),
      result('g', 'improved', 'pass', UNGATED)
    ]
    const lines = renderMarkdown(compare(metrics), context({ passed: false })).split('\n')
    // The ungated metric that regressed is not counted as "regressed": only gated metrics have a status that matters.
    expect(lines[2]).toBe(
      '**5 gated:** 2 regressed · 1 below floor · 1 improved · 1 unchanged · **2 metrics without a rule**'
    )
  })

  it('groups large counts by thousands', () => {
    const metrics = Array.from({ length: 1234 }, (_, i) => result(`m${i}`, 'unchanged', 'pass'))
    expect(renderMarkdown(compare(metrics), context()).split('\n')[2]).toBe('**1,234 gated:** 1,234 unchanged')
  })

  it('says when there was nothing to compare', () => {
    const text = renderMarkdown(compare([]), context())
    expect(text).toContain('**Nothing gated**')
    expect(text).toContain('No rule matched any metric, so nothing was gated.')
  })
})

describe('renderMarkdown: what a reviewer sees', () => {
  const rules: Rule[] = [
    { pattern: 'accuracy', direction: 'higher', min: 0.8, maxRegression: 0.02, severity: 'fail' },
    { pattern: 'latency', direction: 'lower', max: 50, maxRegressionPct: 10, severity: 'fail' }
  ]

  it('keeps the rows that worsened within tolerance in view in a passing comment, and folds the rest', () => {
    const metrics = [
      result('accuracy', 'improved', 'pass', { candidate: num(0.95) }),
      result('latency', 'within-tolerance', 'pass', { baseline: num(20), candidate: num(21), direction: 'lower' })
    ]
    const text = spaced(renderMarkdown(compare(metrics), context({ rules })))
    expect(text).toContain(
      '**Worsened within tolerance (1)**\n\n| Metric | Baseline | Candidate | Change | Rule | Status |\n| :-- | --: | --: | --: | :-- | :-- |\n| latency | 20 | 21 | 🔴 +1 (+5%) | ≤ 50, may rise 10% | ✅ **within tolerance** |'
    )
    expect(text).toContain('<details><summary>✅ 1 other gated metric passes</summary>')
    expect(text.indexOf('Worsened within tolerance')).toBeLessThan(text.indexOf('<details>'))
  })

  it('says only the number that decided the status, even when a tolerance broke too', () => {
    const metrics = [
      result('accuracy', 'below-floor', 'fail', {
        baseline: num(0.82),
        candidate: num(0.79),
        reasons: ['0.79 is below the floor 0.8', 'worsened by −0.03, more than the allowed 0.02']
      })
    ]
    expect(spaced(renderMarkdown(compare(metrics), context({ passed: false, rules })))).toContain(
      '| 🔴 −0.03 (−3.7%) | ≥ 0.8, may drop 0.02 | ❌ **below floor** 0.8 |'
    )
  })

  it("puts the gate's notices under the counts", () => {
    const metrics = [result('x', 'regressed', 'pass', UNGATED)]
    const text = renderMarkdown(
      compare(metrics, { notices: ['No rules were given, so nothing was gated.'] }),
      context()
    )
    // The notice says it once: no second "nothing was gated" line below the provenance.
    expect(text).not.toContain('No rule matched any metric')
    expect(text.split('\n').slice(2, 5)).toEqual([
      '**Nothing gated** · **1 metric without a rule**',
      '',
      '> ⚠️ No rules were given, so nothing was gated.'
    ])
  })
})

describe('renderMarkdown: provenance', () => {
  const metrics = [result('accuracy', 'improved', 'pass')]
  const render = (candidate: Provenance, baseline?: Provenance) =>
    renderMarkdown(compare(metrics, { candidate, baseline }), context())

  it('shows a file and a git ref with its short commit', () => {
    const text = render(CANDIDATE, BASELINE)
    expect(text).toContain('- **Candidate:** file metrics/candidate.json\n')
    expect(text).toContain('- **Baseline:** metrics.json at origin/main (commit 3f9c2a1)\n')
    expect(text).toContain('- **Rules:** .modelgate.yml · fail-on: regression\n')
  })

  it('shows an MLflow run and a registered model version with its alias', () => {
    const text = render(
      { kind: 'mlflow-run', spec: 'runs:/0a1b2c3d4e5f/metrics', runId: '0a1b2c3d4e5f' },
      { kind: 'model-version', spec: 'models:/churn@champion', model: 'churn', version: '7', alias: 'champion' }
    )
    expect(text).toContain('- **Candidate:** MLflow run 0a1b2c3d4e5f\n')
    expect(text).toContain('- **Baseline:** model churn version 7 (alias champion)\n')
  })

  it('shows a model by alias when the version is unknown, and falls back to the spec', () => {
    const text = render(
      { kind: 'model-version', spec: 'models:/churn@champion', model: 'churn', alias: 'champion' },
      { kind: 'git', spec: 'git:main:m.json' }
    )
    expect(text).toContain('- **Candidate:** model churn @ champion\n')
    expect(text).toContain('- **Baseline:** git:\u200bmain:\u200bm.json\n')
  })

  it('says plainly when there is no baseline, and drops the columns that need one', () => {
    const first = [result('accuracy', 'below-floor', 'fail', { baseline: undefined, delta: undefined })]
    const text = renderMarkdown(compare(first, { baseline: undefined }), context({ passed: false }))
    expect(text).toContain('- **Baseline:** none. No baseline yet: only absolute bounds were checked.\n')
    expect(text).toContain('| Metric | Candidate | Rule | Status |')
    expect(text).not.toContain('Baseline |')
  })
})

describe('renderMarkdown: tables', () => {
  const rules: Rule[] = [
    { pattern: 'accuracy', direction: 'higher', min: 0.8, maxRegression: 0.01, required: true, severity: 'fail' },
    { pattern: 'recall', direction: 'higher', maxRegressionPct: 10, required: true, severity: 'fail' },
    { pattern: 'latency_*', direction: 'lower', maxRegression: 5, required: false, severity: 'warn' },
    { pattern: 'auc', direction: 'higher', required: true, severity: 'fail' },
    { pattern: 'f1', minImprovementPct: 1, required: true, severity: 'fail' }
  ]

  it('lists the metrics needing attention first: failures, then warnings, regressions before other statuses', () => {
    const metrics = [
      result('warn-tolerance', 'within-tolerance', 'warn'),
      result('fail-floor', 'below-floor', 'fail'),
      result('pass-improved', 'improved', 'pass', { candidate: num(0.95) }),
      result('fail-missing', 'missing', 'fail', { candidate: undefined }),
      result('fail-regressed', 'regressed', 'fail'),
      result('warn-regressed', 'regressed', 'warn'),
      result('ungated', 'unchanged', 'pass', { gated: false, rule: undefined })
    ]
    const text = renderMarkdown(compare(metrics), context({ passed: false }))
    expect(rowNames(text)).toEqual([
      'Metric',
      ':--',
      'fail-regressed',
      'fail-floor',
      'fail-missing',
      'warn-regressed',
      'warn-tolerance',
      'Metric',
      ':--',
      'pass-improved',
      'Metric',
      ':--',
      'ungated'
    ])
    expect(text).toContain('**Needs attention (5)**')
    expect(text).toContain('<details><summary>✅ 1 gated metric passes</summary>\n\n| Metric |')
    expect(text).toContain('<details><summary>➖ 1 metric without a rule (shown, not gated)</summary>')
  })

  it('shows values, signed changes with good or bad markers, compact rules and reasons', () => {
    const metrics = [
      result('accuracy', 'regressed', 'fail', {
        baseline: num(0.912),
        candidate: num(0.887),
        reasons: ['accuracy fell by 0.025, more than the allowed 0.01']
      }),
      result('latency_p95', 'within-tolerance', 'warn', {
        baseline: num(120),
        candidate: num(123),
        direction: 'lower',
        rule: 'latency_*'
      }),
      result('recall', 'improved', 'pass', { baseline: num(0.7), candidate: num(0.75) }),
      result('auc', 'unchanged', 'pass', { baseline: num(0.8), candidate: num(0.8) }),
      result('f1', 'improved', 'pass', { baseline: num(0.5), candidate: num(0.6), direction: undefined })
    ]
    const text = spaced(renderMarkdown(compare(metrics), context({ passed: false, rules })))
    // The status says the word and the one number that decided it; the change is in its own cell, not repeated.
    expect(text).toContain(
      '| accuracy | 0.912 | 0.887 | 🔴 −0.025 (−2.7%) | ≥ 0.8, may drop 0.01 | ❌ **regressed** over 0.01 |'
    )
    expect(text).toContain('| latency\\_p95 | 120 | 123 | 🔴 +3 (+2.5%) | may rise 5 | ⚠️ **within tolerance** |')
    expect(text).toContain('| recall | 0.7 | 0.75 | 🟢 +0.05 (+7.1%) | may drop 10% | ✅ **improved** |')
    expect(text).toContain('| auc | 0.8 | 0.8 | ±0 (±0%) | may not drop | ✅ **unchanged** |')
    expect(text).toContain('| f1 | 0.5 | 0.6 | +0.1 (+20%) | must change 1% | ✅ **improved** |')
    // The job summary keeps every reason in full.
    expect(renderSummaryMarkdown(compare(metrics), context({ passed: false, rules }))).toContain(
      '| ❌ regressed: accuracy fell by 0.025, more than the allowed 0.01 |'
    )
  })

  it('shows the rule pattern when the rules themselves were not supplied', () => {
    const metrics = [result('latency_p95', 'regressed', 'fail', { rule: 'latency_*' })]
    expect(renderMarkdown(compare(metrics), context())).toContain('| latency\\_\\* | ❌ **regressed** |')
  })

  it('adds digits where rounding would hide a difference', () => {
    const metrics = [
      result('auc', 'below-floor', 'fail', { baseline: num(0.8), candidate: num(0.79996), rule: 'accuracy' })
    ]
    expect(renderMarkdown(compare(metrics), context({ rules }))).toContain(
      '| auc | 0.8 | 0.79996 | 🔴 −4e−5 (−0.005%) |'
    )
  })

  it('shows invalid values as what they are', () => {
    const invalid = (reason: 'nan' | 'duplicate' | 'empty' | 'non-numeric' | 'infinite', raw: string): MetricValue => ({
      kind: 'invalid',
      reason,
      raw
    })
    const metrics = [
      result('a', 'invalid', 'fail', { candidate: invalid('nan', 'NaN') }),
      result('b', 'invalid', 'fail', { candidate: invalid('duplicate', '0.5, 0.6') }),
      result('c', 'invalid', 'fail', { candidate: invalid('empty', '') }),
      result('d', 'invalid', 'fail', { candidate: invalid('non-numeric', 'a|b<c>') }),
      result('e', 'invalid', 'fail', { candidate: invalid('infinite', '-inf') }),
      result('f', 'missing', 'fail', { candidate: undefined })
    ]
    const text = renderMarkdown(compare(metrics), context({ passed: false }))
    expect(text).toContain('| a | 0.9 | *NaN* | — |')
    expect(text).toContain('| b | 0.9 | *duplicate* | — |')
    expect(text).toContain('| c | 0.9 | *empty* | — |')
    expect(text).toContain('| d | 0.9 | *non-numeric: "a\\|b&lt;c&gt;"* | — |')
    expect(text).toContain('| e | 0.9 | *−∞* | — |')
    expect(text).toContain('| f | 0.9 | — | — |')
  })

  it('links the job summary in the footer, and only a safe URL', () => {
    const metrics = [result('accuracy', 'improved', 'pass')]
    expect(renderMarkdown(compare(metrics), context())).toContain(
      '<sub>modelgate report compare-metrics · [job summary](https://github.com/acme/churn/actions/runs/1#summary-2)</sub>'
    )
    const text = renderMarkdown(compare(metrics), context({ summaryUrl: 'javascript:alert(1)' }))
    expect(text).toContain('<sub>modelgate report compare-metrics</sub>')
  })
})

describe('renderMarkdown: untrusted text', () => {
  const nasty = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc
      .array(
        fc.constantFrom(
          '|',
          '\\',
          '\\|',
          '<',
          '>',
          '<!--',
          '-->',
          '<img src=x>',
          '</details>',
          '@',
          'octocat',
          '@org/team',
          '#',
          '123',
          '[x](javascript:alert(1))',
          '`',
          '*',
          '_',
          '\n',
          '\r',
          '\u2028',
          '&lt;',
          ' ',
          'é',
          '😀',
          '\ud800'
        ),
        { maxLength: 30 }
      )
      .map(parts => parts.join(''))
  )
  const allowedTags = /<\/?(details|summary|sub)>/g

  it('cannot break a table row, inject HTML, fake the marker, mention anyone or link an issue', () => {
    fc.assert(
      fc.property(
        fc.array(nasty, { minLength: 1, maxLength: 8 }),
        nasty,
        nasty,
        fc.boolean(),
        (names, raw, provenance, withBaseline) => {
          const metrics = names.map((name, i) =>
            result(name, ['regressed', 'improved', 'unchanged'][i % 3] as MetricStatus, i % 3 === 0 ? 'fail' : 'pass', {
              gated: i % 3 !== 2,
              candidate: i % 2 === 0 ? { kind: 'invalid', reason: 'non-numeric', raw } : num(0.5),
              reasons: i % 3 === 0 ? [`${name} ${raw}`] : [],
              rule: i % 3 === 2 ? undefined : provenance
            })
          )
          const comparison = compare(metrics, {
            candidate: { kind: 'git', spec: provenance, path: provenance, ref: raw, commit: provenance },
            baseline: withBaseline ? { kind: 'model-version', spec: raw, model: provenance, alias: raw } : undefined
          })
          const text = renderMarkdown(
            comparison,
            context({ title: provenance, reportId: raw, rulesSource: provenance, passed: false })
          )

          const rows = tableRows(text)
          // One header, one delimiter and one row per metric, in each table.
          const tables = new Set(metrics.map(m => (m.outcome !== 'pass' ? 'a' : m.gated ? 'p' : 'u'))).size
          expect(rows).toHaveLength(metrics.length + 2 * tables)
          const columnsWithRule = withBaseline ? 6 : 4
          for (const row of rows) {
            const pipes = unescapedPipes(row)
            expect([columnsWithRule + 1, columnsWithRule]).toContain(pipes)
            expect(row).not.toMatch(/[<>]/)
          }
          expect(text.replace(allowedTags, '')).not.toMatch(/[<>]/)
          expect(text).not.toContain('-->')
          expect(text).not.toContain('<!--')
          expect(text).not.toMatch(/@[\p{L}\p{N}_]/u)
          expect(text).not.toMatch(/#\p{N}/u)
          for (const row of rows) expect(row).not.toMatch(/#[\p{L}\p{N}_]/u)
          for (const row of rows) for (const char of '[]`~$') expect(unescaped(row, char)).toBe(0)
        }
      ),
      { numRuns: 300 }
    )
  })

  it('gives rows without a Rule column one separator fewer, and every other row exactly as many as its header', () => {
    const metrics = [
      result('a|b', 'regressed', 'fail'),
      result('c\\|d', 'unchanged', 'pass', { gated: false, rule: undefined })
    ]
    const text = renderMarkdown(compare(metrics), context({ passed: false }))
    const rows = tableRows(text)
    expect(rows.slice(0, 3).map(unescapedPipes)).toEqual([7, 7, 7])
    expect(rows.slice(3).map(unescapedPipes)).toEqual([6, 6, 6])
  })

  it('cuts absurdly long names', () => {
    const text = renderMarkdown(compare([result('n'.repeat(5000), 'regressed', 'fail')]), context())
    expect(text).toContain(`| ${'n'.repeat(199)}… |`)
  })
})

describe('renderMarkdown: size', () => {
  const many = (count: number, make: (i: number) => MetricResult) => Array.from({ length: count }, (_, i) => make(i))
  const regressed = (i: number) =>
    result(`per_class.label_${i}.recall`, 'regressed', 'fail', {
      reasons: [`per_class.label_${i}.recall fell by 0.05, more than the allowed 0.01`]
    })
  const passing = (i: number) => result(`feature_${i}.psi`, 'unchanged', 'pass', { candidate: num(0.9) })

  it('renders a handful of metrics in full', () => {
    const metrics = many(5, regressed).concat(many(5, passing))
    const text = renderMarkdown(compare(metrics), context())
    expect(text).not.toContain('more metric')
    expect(tableRows(text)).toHaveLength(10 + 4)
  })

  it('never exceeds a small budget, however it has to cut', () => {
    const metrics = many(5, regressed).concat(
      many(5, passing),
      many(5, i => ({ ...passing(i), gated: false }))
    )
    const comparison = compare(metrics)
    const full = renderMarkdown(comparison, context()).length
    for (let max = 0; max <= full + 10; max += 7) {
      const text = renderMarkdown(comparison, context(), { maxLength: max })
      expect(text.length).toBeLessThanOrEqual(max)
      if (max >= full) expect(text.length).toBe(full)
    }
  })

  it('never exceeds any budget, in characters or in bytes (property)', () => {
    const spec = fc.record({
      kind: fc.constantFrom('fail', 'warn', 'pass', 'ungated'),
      name: fc.string({ unit: 'binary', maxLength: 300 }),
      reasons: fc.array(fc.string({ unit: 'binary', maxLength: 400 }), { maxLength: 5 })
    })
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 60 }), fc.integer({ min: 0, max: 20_000 }), (specs, max) => {
        const metrics = specs.map(({ kind, name, reasons }) =>
          kind === 'ungated'
            ? result(name, 'unchanged', 'pass', { gated: false, rule: undefined })
            : result(name, kind === 'pass' ? 'improved' : 'regressed', kind as Outcome, { reasons })
        )
        const comparison = compare(metrics)
        expect(renderMarkdown(comparison, context(), { maxLength: max }).length).toBeLessThanOrEqual(max)
        expect(utf8Length(renderSummaryMarkdown(comparison, context(), { maxBytes: max }))).toBeLessThanOrEqual(max)
      }),
      { numRuns: 200 }
    )
  })

  it('keeps the attention table and shortens the folded tables first', () => {
    const metrics = many(3, regressed).concat(many(200, passing))
    const text = renderMarkdown(compare(metrics), context(), { maxLength: 3000 })
    expect(text.length).toBeLessThanOrEqual(3000)
    expect(rowNames(text).slice(2, 5)).toEqual([0, 1, 2].map(i => `per\\_class.label\\_${i}.recall`))
    expect(text).toMatch(/\n\n… and \d+ more metrics: see the \[job summary\]\(https:\/\/github\.com\/.*\)\.\n/)
    expect(text).toContain('</details>')
  })

  // Speed is npm run bench's to measure; a wall-clock bound here fails on a busy machine, not on slow code.
  it('cuts 100,000 regressed metrics to the comment limit', () => {
    const comparison = compare(many(100_000, regressed))
    const text = renderMarkdown(comparison, context({ passed: false }))
    expect(text.length).toBeLessThanOrEqual(COMMENT_MAX_LENGTH)
    expect(text.length).toBeGreaterThan(COMMENT_MAX_LENGTH - 1000)
    const shown = tableRows(text).length - 2
    const more = /… and ([\d,]+) more metrics: see the \[job summary\]/.exec(text)
    expect(more).not.toBeNull()
    expect(shown + Number(more?.[1].replace(/,/g, ''))).toBe(100_000)
  })

  it('cuts 100,000 passing metrics to the comment limit, and says where the rest are without a URL', () => {
    const comparison = compare(many(100_000, passing))
    const text = renderMarkdown(comparison, context({ summaryUrl: undefined }))
    expect(text.length).toBeLessThanOrEqual(COMMENT_MAX_LENGTH)
    expect(text).toContain('<details><summary>✅ 100,000 gated metrics pass</summary>')
    expect(text).toMatch(/… and [\d,]+ more metrics: see the job summary\.\n\n<\/details>/)
  })
})

describe('renderSummaryMarkdown', () => {
  it('holds every metric of an ordinary comparison, with the same content as the comment', () => {
    const metrics = Array.from({ length: 2000 }, (_, i) => result(`metric_${i}`, 'unchanged', 'pass'))
    const summary = renderSummaryMarkdown(compare(metrics), CONTEXT)
    expect(tableRows(summary)).toHaveLength(2002)
    expect(summary).not.toContain('more metric')
    expect(firstLine(summary)).toBe(firstLine(renderMarkdown(compare(metrics), CONTEXT)))
    // The summary is where the link would point: it does not link to itself.
    expect(summary).not.toContain('[job summary]')
  })

  it('stays under its byte budget with multi-byte names', () => {
    const name = (i: number) => `${'指標🚀é'.repeat(40)}_${i}`
    const metrics = Array.from({ length: 20_000 }, (_, i) =>
      result(name(i), 'regressed', 'fail', { reasons: [`${name(i)} fell`] })
    )
    const summary = renderSummaryMarkdown(compare(metrics), context({ passed: false }))
    const bytes = Buffer.byteLength(summary, 'utf8')
    expect(utf8Length(summary)).toBe(bytes)
    expect(bytes).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(bytes).toBeGreaterThan(SUMMARY_MAX_BYTES - 4000)
    expect(summary).toMatch(/… and [\d,]+ more metrics: not shown, the job summary is limited to 1 MiB\./)
  })

  it('takes a smaller budget when the caller writes more to the summary', () => {
    const metrics = Array.from({ length: 500 }, (_, i) => result(`métrique_${i}`, 'regressed', 'fail'))
    const summary = renderSummaryMarkdown(compare(metrics), CONTEXT, { maxBytes: 5000 })
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(5000)
  })
})

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '指標', '😀', 'a\ud800b', '\udc00', '😀\ud83d'])('agrees with Buffer for %j', text => {
    expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'))
  })
})
