/**
 * (e) Uploading and registering a 200 MB model directory on a local MLflow server (SQLite store, proxied artifacts):
 * the shipped register-model bundle, run as the runner runs it, against MLflow's own Python client doing what a
 * training job does (`mlflow.log_artifacts` in a run, then `mlflow.register_model`). Both are timed from process
 * start to exit, alternating, each run registering under a fresh name so every run uploads; the re-run row is the
 * idempotent case (same model, same name: hash, look up, done).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../test/harness/run-action.js'
import { mlflowPython, startMlflowServer } from '../test/mlflow/server.js'

const RUNS = Number(process.env.BENCH_REGISTER_RUNS ?? 3)
const MB = 1024 * 1024

function buildModel(dir: string): number {
  cpSync(join(ROOT, 'examples', 'churn-classifier', 'model'), dir, { recursive: true })
  mkdirSync(join(dir, 'data'))
  // A realistic shape: one large weights file and a few shards, incompressible like real weights.
  const files: [string, number][] = [
    ['data/weights.bin', 150 * MB],
    ...[0, 1, 2, 3, 4].map(i => [`data/shard-${i}.bin`, 10 * MB] as [string, number])
  ]
  for (const [path, size] of files) writeFileSync(join(dir, path), randomBytes(size))
  return files.reduce((sum, [, size]) => sum + size, 0)
}

function time(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, { env, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return ms
}

const PYTHON_REGISTER = `
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("bench-python")
with mlflow.start_run() as run:
    mlflow.log_artifacts(sys.argv[2], "model")
mlflow.register_model(f"runs:/{run.info.run_id}/model", sys.argv[3])
`

async function main(): Promise<void> {
  const temp = mkdtempSync(join(tmpdir(), 'modelgate-bench-register-'))
  const server = await startMlflowServer()
  try {
    const model = join(temp, 'model')
    const bytes = buildModel(model)
    const runnerFiles = (i: number) => {
      const dir = join(temp, `runner-${i}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'output'), '')
      writeFileSync(join(dir, 'summary'), '')
      writeFileSync(join(dir, 'event.json'), '{}')
      return dir
    }
    const ours = (name: string, i: number) => {
      const dir = runnerFiles(i)
      return time(process.execPath, [join(ROOT, 'dist', 'register-model', 'index.js')], {
        PATH: process.env.PATH,
        GITHUB_WORKSPACE: temp,
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        GITHUB_EVENT_PATH: join(dir, 'event.json'),
        RUNNER_TEMP: dir,
        INPUT_REGISTRY: 'mlflow',
        'INPUT_TRACKING-URI': server.url,
        INPUT_NAME: name,
        'INPUT_MODEL-PATH': 'model'
      })
    }
    const python = (name: string) =>
      time(mlflowPython(), ['-c', PYTHON_REGISTER, server.url, model, name], { PATH: process.env.PATH, HOME: temp })

    python('warm-up-python')
    ours('warm-up-ours', 0)
    const oursMs: number[] = []
    const pythonMs: number[] = []
    for (let i = 1; i <= RUNS; i++) {
      oursMs.push(ours(`bench-ours-${i}`, i))
      pythonMs.push(python(`bench-python-${i}`))
    }
    const rerun = ours(`bench-ours-1`, RUNS + 1)
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const o = median(oursMs)
    const p = median(pythonMs)
    const row = (name: string, ms: number) =>
      console.log(
        name.padEnd(66) +
          ms.toFixed(0).padStart(9) +
          `${((bytes / MB / ms) * 1000).toFixed(0)}`.padStart(10) +
          `${(ms / p).toFixed(2)}x`.padStart(9)
      )
    console.log(
      `${(bytes / MB).toFixed(0)} MB in 6 data files plus the example model's files; median of ${RUNS} alternating runs`
    )
    console.log('subject'.padEnd(66) + 'ms'.padStart(9) + 'MB/s'.padStart(10) + 'ratio'.padStart(9))
    row('MLflow Python client: log_artifacts + register_model (reference)', p)
    row('register-model bundle: hash, upload, register', o)
    row('register-model bundle, re-run (same digest: no upload)', rerun)
    console.log(
      `register-model takes ${(o / p).toFixed(2)}x the time of MLflow's own client on the same model and server`
    )
  } finally {
    await server.stop()
    rmSync(temp, { recursive: true, force: true })
  }
}

await main()
