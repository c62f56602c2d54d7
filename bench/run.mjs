// npm run bench: start-up and scale of the compare-metrics gate, as ratios to references measured in the same run.
//
// (a) start-to-exit of the shipped bundle (dist/compare-metrics/index.js) on a small comparison, run as the
//     Actions runner runs it, against `node -e 0`. Runs alternate so that machine noise hits both alike.
// (b) comparing 1k, 10k and 100k metrics: time per phase and peak memory, each size in a fresh process.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const runs = Number(process.env.BENCH_RUNS ?? 30)

function timeOnce(args, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0 && !env.BENCH_ALLOW_FAIL)
    throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

const median = values => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function startup() {
  const temp = mkdtempSync(join(tmpdir(), 'modelgate-bench-'))
  const example = join(root, 'examples', 'churn-classifier')
  writeFileSync(join(temp, 'event.json'), '{}')
  // The runner creates these before a step starts; @actions/core refuses to write to a missing file.
  writeFileSync(join(temp, 'output'), '')
  writeFileSync(join(temp, 'summary'), '')
  const actionEnv = {
    PATH: process.env.PATH,
    GITHUB_WORKSPACE: example,
    GITHUB_OUTPUT: join(temp, 'output'),
    GITHUB_STEP_SUMMARY: join(temp, 'summary'),
    GITHUB_EVENT_PATH: join(temp, 'event.json'),
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'acme/churn',
    RUNNER_TEMP: temp,
    INPUT_CANDIDATE: 'metrics/candidate.json',
    INPUT_BASELINE: 'metrics/baseline.json',
    INPUT_COMMENT: 'auto',
    'INPUT_GITHUB-TOKEN': 'ghs_unused'
  }
  const subjects = [
    { name: 'node -e 0 (reference)', args: ['-e', '0'], env: { PATH: process.env.PATH } },
    {
      name: 'compare-metrics action, small comparison',
      args: [join(root, 'dist', 'compare-metrics', 'index.js')],
      env: actionEnv
    },
    {
      name: 'modelgate --version (CLI start)',
      args: [join(root, 'dist', 'cli', 'index.js'), '--version'],
      env: { PATH: process.env.PATH }
    }
  ]
  const times = subjects.map(() => [])
  for (const s of subjects) timeOnce(s.args, s.env) // warm the file cache
  for (let i = 0; i < runs; i++) subjects.forEach((s, j) => times[j].push(timeOnce(s.args, s.env)))
  const reference = median(times[0])
  console.log(`\n(a) start to exit, median of ${runs} alternating runs`)
  console.log('subject'.padEnd(46) + 'median ms'.padStart(10) + 'ratio to node -e 0'.padStart(22))
  subjects.forEach((s, j) => {
    const m = median(times[j])
    console.log(s.name.padEnd(46) + m.toFixed(1).padStart(10) + `${(m / reference).toFixed(2)}x`.padStart(22))
  })
  return { reference, action: median(times[1]) }
}

function scale() {
  console.log('\n(b) comparison at scale (each size in a fresh process; peak RSS includes the Node.js runtime)')
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')
  const baselineResult = spawnSync(process.execPath, [tsx, join(root, 'bench', 'scale.ts'), '0'], { encoding: 'utf8' })
  const idle = JSON.parse(baselineResult.stdout).maxRssMb
  console.log(
    'metrics'.padStart(8) +
      'load ms'.padStart(10) +
      'compare ms'.padStart(12) +
      'comment ms'.padStart(12) +
      'summary ms'.padStart(12) +
      'total ms'.padStart(10) +
      'peak RSS MB'.padStart(13) +
      'over idle MB'.padStart(14) +
      'comment chars'.padStart(15)
  )
  for (const size of [1_000, 10_000, 100_000]) {
    const result = spawnSync(process.execPath, ['--expose-gc', tsx, join(root, 'bench', 'scale.ts'), String(size)], {
      encoding: 'utf8'
    })
    if (result.status !== 0) throw new Error(result.stderr)
    const r = JSON.parse(result.stdout)
    console.log(
      String(size).padStart(8) +
        r.loadMs.toFixed(1).padStart(10) +
        r.compareMs.toFixed(1).padStart(12) +
        r.commentMs.toFixed(1).padStart(12) +
        r.summaryMs.toFixed(1).padStart(12) +
        r.totalMs.toFixed(1).padStart(10) +
        r.maxRssMb.toFixed(0).padStart(13) +
        (r.maxRssMb - idle).toFixed(0).padStart(14) +
        String(r.commentChars).padStart(15)
    )
  }
}

const { reference, action } = startup()
scale()
console.log(
  `\nsummary: the action starts and finishes a small comparison in ${(action / reference).toFixed(2)}x the time of node -e 0`
)
