// One size of the scale benchmark, run by bench/run.mjs in a fresh process: load two metric files of N metrics,
// compare them under a glob rule, render the comment and the job summary; print phase times and peak RSS as JSON.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareMetrics } from '../src/core/compare/engine.js'
import { toRules } from '../src/core/compare/rules.js'
import { loadMetrics } from '../src/core/metrics/source.js'
import { renderMarkdown, renderSummaryMarkdown } from '../src/core/report/markdown.js'

const size = Number(process.argv[2] ?? 1000)
if (size === 0) {
  console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }))
  process.exit(0)
}
const dir = mkdtempSync(join(tmpdir(), 'modelgate-scale-'))
const candidate: Record<string, number> = {}
const baseline: Record<string, number> = {}
for (let i = 0; i < size; i++) {
  const name = `segment_${Math.floor(i / 100)}.feature_${i}.auc`
  baseline[name] = 0.9 + (i % 7) / 1000
  candidate[name] = baseline[name] + ((i % 11) - 5) / 1000
}
writeFileSync(join(dir, 'candidate.json'), JSON.stringify(candidate))
writeFileSync(join(dir, 'baseline.json'), JSON.stringify(baseline))

const context = { workspace: dir, role: 'candidate' }
const t0 = performance.now()
const [c, b] = await Promise.all([
  loadMetrics('candidate.json', context),
  loadMetrics('baseline.json', { ...context, role: 'baseline' })
])
const t1 = performance.now()
const comparison = compareMetrics(
  c,
  b,
  toRules({ 'segment_*.feature_*.auc': { direction: 'higher', 'max-regression': 0.002 } })
)
const t2 = performance.now()
const reportContext = {
  title: 'bench',
  reportId: 'bench',
  failOn: 'regression' as const,
  passed: false,
  summaryUrl: 'https://example.invalid/run'
}
const comment = renderMarkdown(comparison, reportContext)
const t3 = performance.now()
renderSummaryMarkdown(comparison, reportContext)
const t4 = performance.now()
console.log(
  JSON.stringify({
    loadMs: t1 - t0,
    compareMs: t2 - t1,
    commentMs: t3 - t2,
    summaryMs: t4 - t3,
    totalMs: t4 - t0,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    commentChars: [...comment].length
  })
)
