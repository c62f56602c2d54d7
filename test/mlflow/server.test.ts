import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import {
  EXAMPLE_MODEL_DIR,
  logAndRegisterExampleModel,
  logRunWithMetrics,
  PythonClientError,
  readAliasWithPythonClient,
  readVersionWithPythonClient
} from './python-client.js'
import { callMlflow, groupAlive, hasMlflow, startMlflowServer, type MlflowServer } from './server.js'

// Starting MLflow takes seconds, twice that with the other worker's server on the second core.
jest.setTimeout(120_000)

const MLMODEL = readFileSync(join(EXAMPLE_MODEL_DIR, 'MLmodel'))

let mlflow: MlflowServer

beforeAll(async () => {
  mlflow = await startMlflowServer()
})

afterAll(async () => {
  await mlflow?.stop()
})

/** What our register-model client does over REST: a run holding the model files, then a version pointing at them. */
async function createVersionOverRest(name: string): Promise<{ runId: string; experimentId: string; version: string }> {
  const experiment = await callMlflow(mlflow.url, 'POST', '/experiments/create', { name: `exp-${name}` })
  expect(experiment.status).toBe(200)
  const experimentId: string = experiment.body.experiment_id
  const run = await callMlflow(mlflow.url, 'POST', '/runs/create', { experiment_id: experimentId })
  const runId: string = run.body.run.info.run_id
  const upload = await fetch(
    `${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/MLmodel`,
    { method: 'PUT', body: MLMODEL }
  )
  expect(upload.status).toBe(200)
  expect((await callMlflow(mlflow.url, 'POST', '/registered-models/create', { name })).status).toBe(200)
  const created = await callMlflow(mlflow.url, 'POST', '/model-versions/create', {
    name,
    source: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`,
    run_id: runId
  })
  expect(created.status).toBe(200)
  return { runId, experimentId, version: created.body.model_version.version }
}

/** A fresh connection: fetch could pick a pooled socket to the dead server and fail differently. */
function connectionError(port: number): Promise<string | undefined> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
  })
}

describe('startMlflowServer', () => {
  it('answers GET /health with OK and /version with the pinned MLflow', async () => {
    expect(mlflow.url).toBe(`http://127.0.0.1:${mlflow.port}`)
    expect(mlflow.running).toBe(true)
    expect(mlflow.backendStoreUri).toBe(`sqlite:///${join(mlflow.dir, 'mlflow.db')}`)
    expect(await (await fetch(`${mlflow.url}/health`)).text()).toBe('OK')
    expect(await (await fetch(`${mlflow.url}/version`)).text()).toBe('3.17.2')
  })

  it('stores artifacts under artifactsDir and the database in dir', async () => {
    const { runId, experimentId } = await createVersionOverRest('where-files-go')
    expect(readFileSync(join(mlflow.artifactsDir, experimentId, runId, 'artifacts', 'model', 'MLmodel'))).toEqual(
      MLMODEL
    )
    expect(existsSync(join(mlflow.dir, 'mlflow.db'))).toBe(true)
  })

  it('reports a server that exits during start-up with its output', async () => {
    await expect(startMlflowServer({ args: ['--no-such-option'] })).rejects.toThrow(
      /exited during start-up \(exit code 2\)[\s\S]*No such option '--no-such-option'/
    )
  })

  it('fails, rather than skips, without the Python environment', async () => {
    // CI builds .venv in pretest, so here it must exist.
    expect(hasMlflow()).toBe(true)
    expect(hasMlflow('/nonexistent/venv')).toBe(false)
    await expect(startMlflowServer({ venv: '/nonexistent/venv' })).rejects.toThrow(
      'MLflow is not installed in /nonexistent/venv (no /nonexistent/venv/bin/mlflow). ' +
        'Run `bash scripts/setup-python.sh` (npm test runs it as pretest) to create it.'
    )
  })
})

describe("MLflow's Python client against the server", () => {
  it('reads back the tag and alias of a version created over REST', async () => {
    const { runId, experimentId, version } = await createVersionOverRest('rest-made')
    expect(version).toBe('1')
    const tag = { name: 'rest-made', version, key: 'modelgate.digest', value: 'sha256:abc' }
    expect((await callMlflow(mlflow.url, 'POST', '/model-versions/set-tag', tag)).status).toBe(200)
    const alias = { name: 'rest-made', alias: 'champion', version }
    expect((await callMlflow(mlflow.url, 'POST', '/registered-models/alias', alias)).status).toBe(200)

    const expected = {
      name: 'rest-made',
      version: '1',
      tags: { 'modelgate.digest': 'sha256:abc' },
      aliases: ['champion'],
      source: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`,
      run_id: runId,
      status: 'READY',
      description: ''
    }
    expect(await readVersionWithPythonClient(mlflow.url, 'rest-made', 1)).toEqual(expected)
    expect(await readAliasWithPythonClient(mlflow.url, 'rest-made', 'champion')).toEqual(expected)
  })

  it("turns the client's exceptions into errors with MLflow's error code", async () => {
    const missing = await readVersionWithPythonClient(mlflow.url, 'rest-made', 99).catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(PythonClientError)
    expect(missing).toMatchObject({
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      message: expect.stringContaining('Model Version (name=rest-made, version=99) not found')
    })
    // A missing alias is not a 404 in MLflow.
    await expect(readAliasWithPythonClient(mlflow.url, 'rest-made', 'nobody')).rejects.toMatchObject({
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('Registered model alias nobody not found')
    })
  })

  it('logRunWithMetrics logs a finished run with its metrics', async () => {
    const runId = await logRunWithMetrics(mlflow.url, 'metrics-only', { auc: 0.91, 'log loss': 0.3 })
    const run = await callMlflow(mlflow.url, 'GET', '/runs/get', { run_id: runId })
    expect(run.body.run.info.status).toBe('FINISHED')
    const metrics = Object.fromEntries(
      (run.body.run.data.metrics as { key: string; value: number }[]).map(m => [m.key, m.value])
    )
    expect(metrics).toEqual({ auc: 0.91, 'log loss': 0.3 })
  })

  it('logAndRegisterExampleModel registers the committed example model as a training job would', async () => {
    const registered = await logAndRegisterExampleModel(mlflow.url, 'churn', {
      alias: 'challenger',
      metrics: { auc: 0.88 }
    })
    expect(registered.version).toBe('1')
    // register_model resolves runs:/<run>/model to where the files are.
    expect(registered.source).toBe(`mlflow-artifacts:/${registered.experimentId}/${registered.runId}/artifacts/model`)

    const byAlias = await callMlflow(mlflow.url, 'GET', '/registered-models/alias', {
      name: 'churn',
      alias: 'challenger'
    })
    expect(byAlias.body.model_version).toMatchObject({
      version: '1',
      run_id: registered.runId,
      source: registered.source,
      status: 'READY',
      aliases: ['challenger']
    })
    const files = await fetch(
      `${mlflow.url}/api/2.0/mlflow-artifacts/artifacts?path=${registered.experimentId}/${registered.runId}/artifacts/model`
    )
    const listed = ((await files.json()) as { files: { path: string }[] }).files.map(f => f.path)
    expect(listed).toEqual(expect.arrayContaining(['MLmodel', 'model.skops', 'input_example.json']))
    const run = await callMlflow(mlflow.url, 'GET', '/runs/get', { run_id: registered.runId })
    expect(run.body.run.data.metrics).toEqual([expect.objectContaining({ key: 'auc', value: 0.88 })])
  })
})

describe('restart and kill', () => {
  it('restart comes back on the same port with the same database and artifacts', async () => {
    const { experimentId, runId, version } = await createVersionOverRest('survives-restart')
    await callMlflow(mlflow.url, 'POST', '/registered-models/alias', {
      name: 'survives-restart',
      alias: 'prod',
      version
    })
    const { url, port } = mlflow
    const before = mlflow.pid
    await mlflow.restart()
    expect(mlflow.pid).not.toBe(before)
    expect([mlflow.url, mlflow.port]).toEqual([url, port])
    expect((await readVersionWithPythonClient(mlflow.url, 'survives-restart', version)).aliases).toEqual(['prod'])
    const mlmodel = await fetch(
      `${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/MLmodel`
    )
    expect(Buffer.from(await mlmodel.arrayBuffer())).toEqual(MLMODEL)
  })

  it('kill is a crash: connections are refused until restart, and the data survives', async () => {
    const { version } = await createVersionOverRest('survives-crash')
    const pid = mlflow.pid as number
    await mlflow.kill()
    expect(mlflow.running).toBe(false)
    expect(groupAlive(pid)).toBe(false)
    expect(await connectionError(mlflow.port)).toBe('ECONNREFUSED')

    await mlflow.restart()
    expect(mlflow.running).toBe(true)
    const read = await callMlflow(mlflow.url, 'GET', '/model-versions/get', { name: 'survives-crash', version })
    expect(read.body.model_version).toMatchObject({ name: 'survives-crash', version, status: 'READY' })
  })

  it('stop ends every process of the group and removes the temporary directory', async () => {
    const pid = mlflow.pid as number
    expect(groupAlive(pid)).toBe(true)
    await mlflow.stop()
    expect(groupAlive(pid)).toBe(false)
    expect(existsSync(mlflow.dir)).toBe(false)
    // afterAll stops it again: that must be harmless.
    await mlflow.stop()
  })
})
