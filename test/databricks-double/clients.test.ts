/**
 * The double spoken to by clients no one here wrote: MLflow's Unity Catalog client and the official Databricks SDK,
 * from the project's .venv, with a personal access token and with OAuth M2M. Where they trip, the double strays
 * from the workspace, and the tests of modelgate against it prove less.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXAMPLE_MODEL_DIR } from '../mlflow/python-client.js'
import { mlflowPython, REPO_ROOT, requireMlflow } from '../mlflow/server.js'
import {
  DOUBLE_CLIENT_ID,
  DOUBLE_CLIENT_SECRET,
  DOUBLE_PAT,
  startDatabricksDouble,
  type DatabricksDouble
} from './server.js'

let double: DatabricksDouble | undefined

afterEach(async () => {
  await double?.close()
  double = undefined
})

const PAT = { DATABRICKS_TOKEN: DOUBLE_PAT }
const OAUTH = { DATABRICKS_CLIENT_ID: DOUBLE_CLIENT_ID, DATABRICKS_CLIENT_SECRET: DOUBLE_CLIENT_SECRET }

/** Runs one of this folder's scripts with the .venv's python against the double; its JSON line. */
/** What the registry script prints. */
interface RegistryOutput {
  auth_type: string
  workspace_id: string
  registered: { version: string; status: string }
  alias_version: string
  predictions: number[]
  mlmodel_metadata_length: number
  mlmodel_local_length: number
  mlmodel_download_matches: boolean
  listing: string[]
  local_files: string[]
  aliases_after_delete: string[]
  sdk_warnings: string[]
}

/** What the serving script prints; compared whole, so its fields stay loose. */
type ServingOutput = Record<string, unknown> & { answered_by: Record<string, number>; failed_update: string | null }

function runScript<T>(script: string, args: string[], credentials: Record<string, string>): Promise<T> {
  requireMlflow()
  const inherited = Object.fromEntries(
    // A developer's own Databricks or MLflow settings would send the clients elsewhere.
    Object.entries(process.env).filter(([key]) => !key.startsWith('MLFLOW_') && !key.startsWith('DATABRICKS_'))
  )
  const env = {
    ...inherited,
    ...credentials,
    DATABRICKS_HOST: double!.url,
    // No ~/.databrickscfg profile may add to the credentials.
    DATABRICKS_CONFIG_FILE: '/nonexistent/databrickscfg',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    PYTHONWARNINGS: 'ignore'
  }
  // MLflow writes its default tracking store (mlflow.db) in the working directory.
  const cwd = mkdtempSync(join(tmpdir(), 'databricks-clients-'))
  return new Promise<T>((resolve, reject) => {
    execFile(
      mlflowPython(),
      [join(REPO_ROOT, 'test', 'databricks-double', script), ...args],
      { env, cwd, timeout: 240_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} failed: ${error.message}\n${stderr.split('\n').slice(-30).join('\n')}`))
          return
        }
        resolve(JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as T)
      }
    )
  }).finally(() => rmSync(cwd, { recursive: true, force: true }))
}

function expectHonest(double: DatabricksDouble): void {
  expect(double.violations).toEqual([])
  // Nothing a real client sends is answered as the double's own unknown route.
  expect(double.requests.filter(r => r.status === 401)).toEqual([])
}

describe.each([
  ['a personal access token', PAT, 'pat'],
  ['OAuth M2M', OAUTH, 'oauth-m2m']
])('MLflow and the SDK against the registry and Files API, with %s', (_label, credentials, authType) => {
  it('registers, aliases, loads and predicts with MLflow; reads metadata, downloads and lists with the SDK', async () => {
    double = await startDatabricksDouble()
    const name = 'main.default.churn'
    const out = await runScript<RegistryOutput>('clients_registry.py', [EXAMPLE_MODEL_DIR, name], credentials)

    expect(out.auth_type).toBe(authType)
    expect(out.workspace_id).toBe('1234567890123456')
    expect(out.registered).toEqual({ version: '1', status: 'READY' })
    expect(out.alias_version).toBe('1')
    expect(out.predictions).toHaveLength(3)
    expect(out.mlmodel_metadata_length).toBe(out.mlmodel_local_length)
    expect(out.mlmodel_download_matches).toBe(true)
    expect(out.listing).toEqual(out.local_files)
    expect(out.aliases_after_delete).toEqual([])
    // A failed discovery probe or login shows as an SDK warning.
    expect(out.sdk_warnings.filter(line => /metadata|401|oauth|token/i.test(line))).toEqual([])

    expect(double.version(name, '1')!.files.sort()).toEqual([...out.local_files].sort())
    const paths = new Set(double.requests.map(r => `${r.method} ${r.path}`))
    expect(paths).toContain('GET /.well-known/databricks-config')
    expect(paths).toContain(`HEAD /api/2.0/fs/files/Models/main/default/churn/1/MLmodel`)
    expect(paths).toContain(`POST /api/2.0/mlflow/unity-catalog/model-versions/emit-lineage`)
    const deleted = double.requests.find(r => r.method === 'DELETE')!
    expect(deleted.query).toEqual({ name, alias: 'champion' })
    if (authType === 'oauth-m2m') {
      expect(paths).toContain('GET /oidc/.well-known/oauth-authorization-server')
      expect(double.tokensIssued).toBeGreaterThan(0)
    }
    expectHonest(double)
  }, 240_000)
})

describe('the SDK against Model Serving', () => {
  it('creates, canaries 90/10 exactly, conflicts while updating, sees a failed update leave the old config, deletes', async () => {
    double = await startDatabricksDouble({ serving: { deployMs: 200 } })
    const model = 'main.ml.churn'
    const versions = [double.addVersion(model), double.addVersion(model), double.addVersion(model)]
    double.serving.failDeployment(model, versions[2]!, 'Container failed to start: the model could not be loaded')
    const out = await runScript<ServingOutput>('clients_serving.py', [model, JSON.stringify(versions)], OAUTH)

    expect(out.created).toEqual({
      ready: 'READY',
      config_update: 'NOT_UPDATING',
      config_version: 1,
      entities: ['churn-1'],
      deployment: ['DEPLOYMENT_READY']
    })
    expect(out.conflict).toBe('ResourceConflict')
    expect(out.while_updating).toEqual({
      config_update: 'IN_PROGRESS',
      pending_config_version: 2,
      active_entities: ['churn-1']
    })
    expect(out.canary_routes).toEqual({ 'churn-1': 90, 'churn-2': 10 })
    expect(out.answered_by).toEqual({ 'churn-1': 90, 'churn-2': 10 })
    expect(out.predictions).toEqual([0, 0])
    expect(out.failed_update).toContain('UPDATE_FAILED')
    expect(out.after_failure).toEqual({
      ready: 'READY',
      config_update: 'UPDATE_FAILED',
      config_version: 2,
      entities: ['churn-1', 'churn-2']
    })
    expect(out.listed_after_delete).toEqual([])
    expectHonest(double)
  }, 240_000)
})
