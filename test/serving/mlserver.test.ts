/**
 * The rollout with `deploy.server: mlserver` against real parts: Debian's HAProxy and real MLServer processes
 * (mlserver + mlserver-mlflow 1.7.1 from .venv-mlserver, which scripts/setup-mlserver.sh creates), one per version,
 * on loopback, started and stopped here. Like rollout.test.ts the cases run in order on one endpoint, and every
 * failure ends with the test's own proof that the previous version serves: the router's state read back equal to
 * before, and real requests all answered by that version.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runDeploy } from '../../src/core/gates/deploy.js'
import { runRegistration } from '../../src/core/gates/register.js'
import { mlserverLauncher } from '../../src/core/serving/mlserver.js'
import { ModelServers } from '../../src/core/serving/model-server.js'
import { REPO_ROOT } from '../mlflow/server.js'
import { GOOD_MODEL, SERVING_BODY, testEndpointPerFile } from './endpoint.js'
import { startTestHaproxy } from './haproxy.js'

const PYTHON = join(REPO_ROOT, '.venv-mlserver', 'bin', 'python')
const launcher = mlserverLauncher({ python: PYTHON, model: 'churn' })
// The bad models are written by the MLflow of the environment that loads them.
const endpoint = testEndpointPerFile({
  python: PYTHON,
  setup: "bash scripts/setup-mlserver.sh (npm test's pretest does)",
  launcher,
  prefix: 'modelgate-mlserver-'
})
const { model, deploy, expectServing } = endpoint

/** The serving example as a V2 request: one input per column, decoded back into a DataFrame (`pd`). */
function v2Request(body: { dataframe_split: { columns: string[]; data: unknown[][] } }) {
  const { columns, data } = body.dataframe_split
  const datatype = (value: unknown) =>
    typeof value === 'boolean'
      ? 'BOOL'
      : typeof value === 'string'
        ? 'BYTES'
        : Number.isInteger(value)
          ? 'INT64'
          : 'FP64'
  return {
    parameters: { content_type: 'pd' },
    inputs: columns.map((name, i) => ({
      name,
      shape: [data.length, 1],
      datatype: datatype(data[0]![i]),
      data: data.map(row => row[i])
    }))
  }
}

describe('rollout to HAProxy with MLServer', () => {
  it('first deploy: version 1 is started from its settings folder, ready on the versioned path, and serves', async () => {
    const report = await deploy({ candidate: model('1', 'good') })
    expect(report.failure).toBeUndefined()
    expect(report).toMatchObject({ outcome: 'deployed', changed: true, rolledBack: false, deployedVersion: '1' })
    expect(report.steps[0]!.candidate).toMatchObject({ requests: 20, errors: 0, errorRate: 0 })
    const record = (await endpoint.servers.find('1'))!
    expect(record).toMatchObject({ kind: 'mlserver', readyPath: '/v2/models/churn/versions/1/ready' })
    const settings = JSON.parse(readFileSync(join(record.workDir!, 'settings.json'), 'utf8'))
    expect(settings.http_port).toBe(record.port)
    // The versioned path answers for this version only; another version is unknown to this process.
    expect((await fetch(`http://${record.address}${record.readyPath}`)).status).toBe(200)
    expect((await fetch(`http://${record.address}/v2/models/churn/versions/2/ready`)).status).toBe(404)
    // A later run (a new instance over the same state folder) finds the process and knows it for its own.
    const later = new ModelServers({ stateDir: join(endpoint.dir, 'state'), launcher })
    expect((await later.list()).map(r => [r.version, r.pid, r.alive])).toEqual([['1', record.pid, true]])
    await expectServing('1')
  }, 180_000)

  it('a re-run of the finished deployment changes nothing', async () => {
    const pid = (await endpoint.servers.find('1'))!.pid
    const report = await deploy({ candidate: model('1', 'good') })
    expect(report).toMatchObject({ outcome: 'unchanged', changed: false })
    expect((await endpoint.servers.find('1'))!.pid).toBe(pid)
  })

  it('canary 90/10 splits exactly, passes, and is promoted; the previous process is stopped', async () => {
    const first = (await endpoint.servers.find('1'))!
    await endpoint.deployExactCanary()
    await expectServing('2')
    // The Open Inference Protocol through the same frontend: the answer names the version.
    const v2 = await fetch(`${endpoint.haproxy.url}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v2Request(SERVING_BODY))
    })
    expect(v2.headers.get('x-served-by')).toBe('v2')
    expect(await v2.json()).toMatchObject({ model_name: 'churn', model_version: '2' })
    // Stopped as a whole group (the inference worker too), and its settings folder removed.
    expect(() => process.kill(-first.pid, 0)).toThrow()
    expect(existsSync(first.workDir!)).toBe(false)
  }, 180_000)

  it('a model that raises on every prediction (still ready) is rolled back, proven', async () => {
    const before = await endpoint.target.read()
    const report = await deploy({ candidate: model('3', 'raises') })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true, changed: true, previousVersion: '2' })
    expect(report.failure!.phase).toBe('observe')
    // Every request reached version 3 and was answered with an error by it: none was lost to a reset connection
    // and re-sent to version 2 (the reason for an inference worker process, see mlserver.ts).
    expect(report.steps[0]!.byVersion['3']).toMatchObject({ requests: 20, errors: 20 })
    expect(report.failure!.message).toMatch(
      /^version 3 failed at v3 100% \/ v2 0%: deploy\.error_rate 1 > max 0; first error: HTTP 400: .*mlserver.errors.InferenceError/
    )
    await endpoint.expectProvenRollback(report, before, '2')
  }, 180_000)

  it('a model that cannot load fails with its exception and leaves the endpoint as it was, proven', async () => {
    await endpoint.expectUnloadableRefused(
      '4',
      '2',
      /version 4 exited with \d+ before \/v2\/models\/churn\/versions\/4\/ready answered: RuntimeError: this model cannot be loaded/
    )
  }, 180_000)
})

describe('the deploy gate with deploy.server: mlserver', () => {
  it('reads the server and its Python from .modelgate.yml and serves the registered version with MLServer', async () => {
    const gate = await startTestHaproxy('gate')
    const workspace = join(endpoint.dir, 'gate-workspace')
    const stateDir = join(workspace, 'serving-state')
    const own = new ModelServers({ stateDir: join(stateDir, 'gate'), launcher })
    try {
      await runRegistration({ workspace, name: 'churn', modelPath: GOOD_MODEL, aliases: [] })
      writeFileSync(
        join(workspace, '.modelgate.yml'),
        [
          'model: churn',
          'deploy:',
          '  target: haproxy',
          '  endpoint: gate',
          `  url: ${gate.url}`,
          `  runtime-api: ${gate.socket}`,
          '  server: mlserver',
          `  python: ${PYTHON}`,
          `  state-dir: ${stateDir}`,
          ''
        ].join('\n')
      )
      const run = await runDeploy({ workspace, modelUri: 'models:/churn/1', requests: 10, verifyRequests: 10 })
      expect(run.report.failure).toBeUndefined()
      expect(run).toMatchObject({ passed: true, version: '1', target: 'haproxy', endpoint: 'gate' })
      const [record] = await own.list()
      expect(record).toMatchObject({ kind: 'mlserver', alive: true, readyPath: '/v2/models/churn/versions/1/ready' })
    } finally {
      // Whatever the gate started is stopped, passed or not.
      for (const server of await own.list()) await own.stop(server.version)
      await gate.close()
    }
  }, 180_000)
})
