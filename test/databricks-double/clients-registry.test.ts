/**
 * The double's Unity Catalog registry and Files API driven by MLflow's own UC client and the official Databricks
 * SDK from the project's .venv (clients_registry.py), with a personal access token and with OAuth M2M. Where they
 * trip, the double strays from the workspace, and the tests of modelgate against it prove less.
 */
import { describe, expect, it } from '@jest/globals'
import { EXAMPLE_MODEL_DIR } from '../mlflow/python-client.js'
import { databricksDoublePerTest } from './per-test.js'
import { expectHonest, runScript } from './python-clients.js'
import { DOUBLE_OAUTH_ENV, DOUBLE_PAT_ENV } from './server.js'

const startDouble = databricksDoublePerTest()

/** What the registry script prints. */
interface RegistryOutput {
  auth_type: string
  workspace_id: string
  registered: { version: string; status: string }
  alias_version: string
  description_answered: string
  description_read: string
  predictions: number[]
  mlmodel_metadata_length: number
  mlmodel_local_length: number
  mlmodel_download_matches: boolean
  listing: string[]
  local_files: string[]
  aliases_after_delete: string[]
  sdk_warnings: string[]
}

describe.each([
  ['a personal access token', DOUBLE_PAT_ENV, 'pat'],
  ['OAuth M2M', DOUBLE_OAUTH_ENV, 'oauth-m2m']
])('MLflow and the SDK against the registry and Files API, with %s', (_label, credentials, authType) => {
  it('registers, aliases, describes, loads and predicts with MLflow; reads metadata, downloads and lists with the SDK', async () => {
    const double = await startDouble()
    const name = 'main.default.churn'
    const out = await runScript<RegistryOutput>(double, 'clients_registry.py', [EXAMPLE_MODEL_DIR, name], credentials)

    expect(out.auth_type).toBe(authType)
    expect(out.workspace_id).toBe('1234567890123456')
    expect(out.registered).toEqual({ version: '1', status: 'READY' })
    expect(out.alias_version).toBe('1')
    expect(out.description_answered).toBe('churn, trained on March data')
    expect(out.description_read).toBe('churn, trained on March data')
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
    expect(paths).toContain(`PATCH /api/2.0/mlflow/unity-catalog/model-versions/update`)
    const deleted = double.requests.find(r => r.method === 'DELETE')!
    expect(deleted.query).toEqual({ name, alias: 'champion' })
    if (authType === 'oauth-m2m') {
      expect(paths).toContain('GET /oidc/.well-known/oauth-authorization-server')
      expect(double.tokensIssued).toBeGreaterThan(0)
    }
    expectHonest(double)
  }, 240_000)
})
