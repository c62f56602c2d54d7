// npm run bench: the gates' costs, as ratios to references measured in the same run.
//
// (a) start-to-exit of the shipped bundles (compare-metrics on a small comparison, validate-model on the example
//     model), run as the Actions runner runs them, against `node -e 0`. Runs alternate so that machine noise hits both alike.
// (b) comparing 1k, 10k and 100k metrics: time per phase and peak memory, each size in a fresh process.
// (c) hashing a 1 GiB model and 8 x 128 MiB files, against openssl dgst -sha256 on the same files (bench/hash.ts).
// (d) the pickle scanner's throughput on a ~200 MB pickle (bench/pickle-scan.ts).
// (e) registering a 200 MB model on a local MLflow server against MLflow's own Python client (bench/register.ts).
// (f) a rollout on HAProxy: apply → new version answers, failure → previous version proven, against the model
//     server's own start-up in the same run (bench/deploy.ts).
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
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
  const bare = join(temp, 'bare')
  mkdirSync(bare)
  copyFileSync(join(example, 'metrics', 'candidate.json'), join(bare, 'candidate.json'))
  copyFileSync(join(example, 'metrics', 'baseline.json'), join(bare, 'baseline.json'))
  writeFileSync(join(temp, 'event.json'), '{}')
  // The runner creates these before a step starts; @actions/core refuses to write to a missing file.
  writeFileSync(join(temp, 'output'), '')
  writeFileSync(join(temp, 'summary'), '')
  const runner = {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: join(temp, 'output'),
    GITHUB_STEP_SUMMARY: join(temp, 'summary'),
    GITHUB_EVENT_PATH: join(temp, 'event.json'),
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'acme/churn',
    RUNNER_TEMP: temp,
    INPUT_COMMENT: 'auto',
    'INPUT_GITHUB-TOKEN': 'ghs_unused'
  }
  const action = join(root, 'dist', 'compare-metrics', 'index.js')
  // The floor under validate-model: an ES module that does nothing but load the built-in modules any check of a
  // model needs (hashing, a zip's deflate, file reads). No code of ours runs; what it costs is Node's, in any bundle.
  const floor = join(temp, 'floor.mjs')
  writeFileSync(floor, "import 'node:crypto'\nimport 'node:zlib'\nimport 'node:fs/promises'\nimport 'node:os'\n")
  const subjects = [
    { name: 'node -e 0 (reference)', args: ['-e', '0'], env: { PATH: process.env.PATH } },
    { name: 'ESM importing crypto, zlib, fs/promises (floor)', args: [floor], env: { PATH: process.env.PATH } },
    {
      name: 'compare-metrics, example with .modelgate.yml',
      args: [action],
      env: {
        ...runner,
        GITHUB_WORKSPACE: example,
        INPUT_CANDIDATE: 'metrics/candidate.json',
        INPUT_BASELINE: 'metrics/baseline.json'
      }
    },
    {
      name: 'compare-metrics, two files, no config',
      args: [action],
      env: { ...runner, GITHUB_WORKSPACE: bare, INPUT_CANDIDATE: 'candidate.json', INPUT_BASELINE: 'baseline.json' }
    },
    {
      // A small model must not pay for a worker pool or modules it does not use.
      name: 'validate-model, the example model',
      args: [join(root, 'dist', 'validate-model', 'index.js')],
      env: { ...runner, GITHUB_WORKSPACE: join(root, 'examples', 'churn-classifier'), 'INPUT_MODEL-PATH': 'model' }
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
  const stats = times.map(t => ({ min: Math.min(...t), median: median(t) }))
  console.log(`\n(a) start to exit, ${runs} alternating runs (min is the least disturbed run; this VM is noisy)`)
  console.log(
    'subject'.padEnd(48) +
      'min ms'.padStart(8) +
      'median ms'.padStart(11) +
      'ratio min'.padStart(11) +
      'ratio median'.padStart(14)
  )
  subjects.forEach((s, j) => {
    const { min, median: m } = stats[j]
    console.log(
      s.name.padEnd(48) +
        min.toFixed(1).padStart(8) +
        m.toFixed(1).padStart(11) +
        `${(min / stats[0].min).toFixed(2)}x`.padStart(11) +
        `${(m / stats[0].median).toFixed(2)}x`.padStart(14)
    )
  })
  return { reference: stats[0], floor: stats[1], action: stats[2], validate: stats[4] }
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

/** A benchmark written in TypeScript, run with tsx in its own process, printing its own table. */
function section(title, script) {
  console.log(`\n${title}`)
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')
  const result = spawnSync(process.execPath, [tsx, join(root, 'bench', script)], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`bench/${script} exited ${result.status}`)
}

// BENCH_ONLY=startup,hash (any of startup, scale, hash, pickle, register, deploy) runs only those sections.
const only = new Set((process.env.BENCH_ONLY ?? 'startup,scale,hash,pickle,register,deploy').split(','))
const started = only.has('startup') ? startup() : undefined
if (only.has('scale')) scale()
if (only.has('hash')) section('(c) model manifest hashing against openssl dgst -sha256 (validate-model)', 'hash.ts')
if (only.has('pickle')) section('(d) pickle scanner throughput (validate-model)', 'pickle-scan.ts')
if (only.has('register')) {
  section('(e) upload and registration of a 200 MB model on a local MLflow server (register-model)', 'register.ts')
}
if (only.has('deploy')) {
  section(
    '(f) rollout on HAProxy with mlflow models serve and MLServer, against the model server start-up (deploy-endpoint)',
    'deploy.ts'
  )
}
if (started) {
  const { reference, floor, action, validate } = started
  const ratio = s =>
    `${(s.median / reference.median).toFixed(2)}x (median) / ${(s.min / reference.min).toFixed(2)}x (min)`
  console.log(
    `\nsummary: the action starts and finishes a small comparison (the example, with its config) in ` +
      `${ratio(action)} the time of node -e 0; validate-model checks the example model in ${ratio(validate)}, ` +
      `of which Node's own floor (an ES module loading the built-ins a model check needs) is ${ratio(floor)}`
  )
}
