/**
 * (f) deploy-endpoint's rollout against Debian's HAProxy and real model server processes on loopback, once with
 * `mlflow models serve` and once with MLServer (`deploy.server: mlserver`, from .venv-mlserver):
 * - "apply → the new version answers": from the first change to the endpoint until the new version's first good
 *   answer through HAProxy (the model server's start-up, HAProxy's health check, the weight change), against the
 *   model server's own start-up in the same run (spawn until its ready path answers, recorded in the state folder);
 * - "failure seen → previous version proven": from the failed canary step (a model that raises on every prediction)
 *   until the router's state read back equals the one before and 20 requests were all answered by the previous
 *   version, against the same start-up time (what a rollback that restarted the previous version would cost at least).
 * Each run deploys a good version (traffic 100) and then a canary that fails; BENCH_DEPLOY_RUNS (default 2) runs
 * per server.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HaproxyTarget } from '../src/core/serving/haproxy/target.js'
import { mlserverLauncher } from '../src/core/serving/mlserver.js'
import { mlflowServeLauncher, ModelServers, type ModelServerLauncher } from '../src/core/serving/model-server.js'
import { rollout } from '../src/core/serving/rollout.js'
import { ROOT } from '../test/harness/run-action.js'
import { startTestHaproxy } from '../test/serving/haproxy.js'

const RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 2)
const PYTHON = join(ROOT, '.venv', 'bin', 'python')
const MLSERVER_PYTHON = join(ROOT, '.venv-mlserver', 'bin', 'python')
const GOOD = join(ROOT, 'examples', 'churn-classifier', 'model')
const BODY = JSON.parse(readFileSync(join(GOOD, 'serving_input_example.json'), 'utf8'))

if (!existsSync(PYTHON)) throw new Error("the deploy benchmark needs the project's Python environment (.venv)")
if (!existsSync(MLSERVER_PYTHON)) {
  throw new Error("the deploy benchmark needs MLServer's environment (.venv-mlserver): run scripts/setup-mlserver.sh")
}

interface Row {
  server: string
  run: number
  startupMs: number
  applyToAnswerMs: number
  failureToProvenMs: number
}

async function bench(launcher: ModelServerLauncher, python: string): Promise<Row[]> {
  const haproxy = await startTestHaproxy('churn')
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-deploy-'))
  const servers = new ModelServers({ stateDir: join(dir, 'state'), launcher })
  const target = new HaproxyTarget({ endpoint: 'churn', runtimeApi: haproxy.socket, url: haproxy.url, servers })
  const rows: Row[] = []
  try {
    // The bad model is written by the MLflow of the environment that serves it.
    execFileSync(python, [join(ROOT, 'test', 'serving', 'make_models.py'), join(dir, 'models')], { stdio: 'pipe' })
    for (let run = 1; run <= RUNS; run++) {
      const good = String(run * 2 - 1)
      const bad = String(run * 2)
      const deployed = await rollout({
        target,
        candidate: { name: 'churn', version: good, dir: GOOD },
        body: BODY,
        requests: 20,
        timeoutMs: 180_000
      })
      if (deployed.outcome !== 'deployed')
        throw new Error(`${launcher.kind} run ${run}: deploy ${deployed.outcome}: ${deployed.failure?.message}`)
      const startupMs = (await servers.find(good))?.readyMs
      const failed = await rollout({
        target,
        candidate: { name: 'churn', version: bad, dir: join(dir, 'models', 'raises') },
        body: BODY,
        traffic: 10,
        requests: 20,
        timeoutMs: 180_000
      })
      if (!failed.rolledBack) throw new Error(`${launcher.kind} run ${run}: canary ${failed.outcome}, not rolled back`)
      if (startupMs === undefined || deployed.timings.applyToAnswerMs === undefined)
        throw new Error(`${launcher.kind} run ${run}: no start-up time recorded`)
      rows.push({
        server: launcher.kind,
        run,
        startupMs,
        applyToAnswerMs: deployed.timings.applyToAnswerMs,
        failureToProvenMs: failed.timings.failureToProvenMs!
      })
    }
  } finally {
    for (const record of await servers.list()) await servers.stop(record.version)
    await haproxy.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

const rows = [
  ...(await bench(mlflowServeLauncher({ python: PYTHON }), PYTHON)),
  ...(await bench(mlserverLauncher({ python: MLSERVER_PYTHON, model: 'churn' }), MLSERVER_PYTHON))
]

console.log(
  'server'.padEnd(9) +
    'run'.padStart(4) +
    'server start ms'.padStart(17) +
    'apply→answers ms'.padStart(18) +
    'ratio'.padStart(8) +
    'failure→proven ms'.padStart(19) +
    'ratio'.padStart(8)
)
for (const r of rows) {
  console.log(
    r.server.padEnd(9) +
      String(r.run).padStart(4) +
      r.startupMs.toFixed(0).padStart(17) +
      r.applyToAnswerMs.toFixed(0).padStart(18) +
      `${(r.applyToAnswerMs / r.startupMs).toFixed(2)}x`.padStart(8) +
      r.failureToProvenMs.toFixed(0).padStart(19) +
      `${(r.failureToProvenMs / r.startupMs).toFixed(2)}x`.padStart(8)
  )
}
