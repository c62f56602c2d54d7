/**
 * register-model, bundled, against the kinds of MLflow server teams run besides the open default: one behind
 * MLflow's own basic-auth app (users, passwords, permissions), and one without MLflow 3's logged models (an MLflow 2
 * server answers their routes with a bare 404, played here by a proxy in front of a real server).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction, type ActionRun } from '../test/harness/run-action.js'
import { startFaultProxy, type FaultProxy } from '../test/mlflow/fault-proxy.js'
import { readVersionWithPythonClient } from '../test/mlflow/python-client.js'
import { callMlflow, startMlflowServer, type MlflowServer } from '../test/mlflow/server.js'

let workspace: string

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-mlflow-servers-'))
  cpSync(join(ROOT, 'examples', 'churn-classifier', 'model'), join(workspace, 'model'), { recursive: true })
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

function register(url: string, name: string, env: Record<string, string> = {}, inputs = {}): Promise<ActionRun> {
  return runAction('register-model', {
    workspace,
    inputs: { registry: 'mlflow', 'tracking-uri': url, name, 'model-path': 'model', ...inputs },
    env: { MODELGATE_RETRY_BASE_MS: '10', ...env }
  })
}

describe('an MLflow server with the basic-auth app', () => {
  const ADMIN = { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'modelgate-admin-Passw0rd' }
  const READER = { MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'reader-Passw0rd-1' }
  let mlflow: MlflowServer

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-basic-auth-'))
    const ini = join(dir, 'basic_auth.ini')
    // MLflow 3.17 refuses to start with the default admin password that older versions shipped.
    writeFileSync(
      ini,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${join(dir, 'basic_auth.db')}`,
        `admin_username = ${ADMIN.MLFLOW_TRACKING_USERNAME}`,
        `admin_password = ${ADMIN.MLFLOW_TRACKING_PASSWORD}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        ''
      ].join('\n')
    )
    mlflow = await startMlflowServer({
      args: ['--app-name', 'basic-auth'],
      env: { MLFLOW_AUTH_CONFIG_PATH: ini, MLFLOW_FLASK_SERVER_SECRET_KEY: 'modelgate-tests' }
    })
    const auth = Buffer.from(`${ADMIN.MLFLOW_TRACKING_USERNAME}:${ADMIN.MLFLOW_TRACKING_PASSWORD}`).toString('base64')
    const created = await fetch(`${mlflow.url}/api/2.0/mlflow/users/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${auth}` },
      body: JSON.stringify({ username: READER.MLFLOW_TRACKING_USERNAME, password: READER.MLFLOW_TRACKING_PASSWORD })
    })
    expect(created.status).toBe(200)
  }, 180_000)
  afterAll(() => mlflow?.stop(), 60_000)

  it('says credentials are needed when none are set', async () => {
    const run = await register(mlflow.url, 'secured')
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      expect.stringContaining(
        "input 'tracking-uri': the MLflow server at " +
          mlflow.url +
          ' needs credentials for create registered model (HTTP 401'
      )
    ])
    expect(run.errors[0]).toContain(
      'set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN'
    )
  }, 60_000)

  it('registers with basic auth from the environment, and masks the password', async () => {
    const run = await register(mlflow.url, 'secured', ADMIN, { aliases: 'challenger' })
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    expect(run.stdout).toContain(`::add-mask::${ADMIN.MLFLOW_TRACKING_PASSWORD}`)
    const python = await readVersionWithPythonClient(mlflow.url, 'secured', 1, { env: ADMIN })
    expect(python.tags['modelgate.digest']).toBe(run.outputs.digest)
  }, 60_000)

  it('names the refused credentials, and the permission a read-only user lacks', async () => {
    const wrong = await register(mlflow.url, 'secured', { ...READER, MLFLOW_TRACKING_PASSWORD: 'not-it' })
    expect(wrong.errors).toEqual([
      expect.stringContaining('refused the credentials in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD')
    ])
    const reader = await register(mlflow.url, 'secured', READER, { aliases: 'champion' })
    expect(reader.exitCode).toBe(1)
    expect(reader.errors).toHaveLength(1)
    expect(reader.errors[0]).toContain('(HTTP 403')
    expect(reader.errors[0]).toContain('needs EDIT permission')
  }, 60_000)
})

describe('an MLflow server without logged models (MLflow 2)', () => {
  let mlflow: MlflowServer
  let proxy: FaultProxy

  beforeAll(async () => {
    mlflow = await startMlflowServer()
    proxy = await startFaultProxy(mlflow.url)
  }, 180_000)
  afterAll(async () => {
    await proxy?.close()
    await mlflow?.stop()
  }, 60_000)

  it('stores the model under the run’s artifacts and registers it from there, readable by URI', async () => {
    // What an MLflow 2 server answers to a route it does not have.
    proxy.failNext(100, 404, {
      when: { path: /^\/api\/2\.0\/mlflow\/logged-models/ },
      body: '',
      headers: { 'content-type': 'text/html' }
    })
    const run = await register(proxy.url, 'legacy')
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    expect(run.stdout).toContain('has no logged models (MLflow 2)')
    const python = await readVersionWithPythonClient(mlflow.url, 'legacy', 1)
    expect(python.source).toMatch(/^mlflow-artifacts:\/\d+\/[0-9a-f]{32}\/artifacts\/model$/)
    expect(python.source).toContain(python.run_id)

    const again = await register(proxy.url, 'legacy')
    expect(again.outputs.created).toBe('false')
    const validated = await runAction('validate-model', {
      workspace,
      inputs: { 'model-uri': 'models:/legacy/1', 'tracking-uri': proxy.url }
    })
    expect(validated.errors).toEqual([])
    expect(validated.outputs.digest).toBe(run.outputs.digest)
    const run2 = await callMlflow(mlflow.url, 'GET', '/runs/get', { run_id: python.run_id })
    expect(run2.body.run.info.status).toBe('FINISHED')
  }, 120_000)
})
