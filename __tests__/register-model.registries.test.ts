/**
 * The shipped register-model bundle on the registries that need no MLflow server: the folder registry a team starts
 * with (and the PR gate reading its champion), Unity Catalog through the Databricks double (Databricks cannot be
 * reached here; the double follows the documented API), and the user mistakes that must end in one clear line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, dump } from 'js-yaml'
import { ROOT, runAction, type ActionRun } from '../test/harness/run-action.js'
import {
  DOUBLE_CLIENT_ID,
  DOUBLE_CLIENT_SECRET,
  DOUBLE_READ_PAT,
  startDatabricksDouble,
  type DatabricksDouble
} from '../test/databricks-double/server.js'

const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')
let workspace: string

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-registries-'))
  cpSync(EXAMPLE, workspace, { recursive: true })
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

function register(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('register-model', { workspace, inputs, env: { MODELGATE_RETRY_BASE_MS: '5', ...env } })
}

describe('the file registry (no server)', () => {
  let comparison: ActionRun
  let first: ActionRun

  beforeAll(async () => {
    comparison = await runAction('compare-metrics', {
      workspace,
      inputs: { candidate: 'metrics/candidate.json', baseline: 'metrics/baseline.json', comment: 'never' }
    })
    // No registry input, no tracking URI: the name comes from .modelgate.yml, the registry is .modelgate/registry.
    first = await register({
      'model-path': 'model',
      aliases: 'champion',
      'comparison-report': comparison.outputs.report!
    })
  }, 60_000)

  it('registers version 1 in .modelgate/registry, readable JSON beside a copy of the model', () => {
    expect(first.errors).toEqual([])
    expect(first.outputs).toMatchObject({ created: 'true', version: '1', 'model-uri': 'models:/churn-classifier/1' })
    const versionDir = join(workspace, '.modelgate', 'registry', 'models', 'churn-classifier', 'versions', '1')
    const version = JSON.parse(readFileSync(join(versionDir, 'version.json'), 'utf8'))
    expect(version.tags['modelgate.digest']).toBe(first.outputs.digest)
    expect(readFileSync(join(versionDir, 'artifacts', 'MLmodel'))).toEqual(
      readFileSync(join(EXAMPLE, 'model', 'MLmodel'))
    )
    const report = JSON.parse(readFileSync(first.outputs.report!, 'utf8'))
    expect(report).toMatchObject({
      tool: 'modelgate register-model',
      registry: { kind: 'file' },
      aliases: ['champion']
    })
  })

  it('does not register the same model twice', async () => {
    const again = await register({ 'model-path': 'model', aliases: 'champion' })
    expect(again.outputs).toMatchObject({ created: 'false', version: '1', digest: first.outputs.digest })
    expect(existsSync(join(workspace, '.modelgate', 'registry', 'models', 'churn-classifier', 'versions', '2'))).toBe(
      false
    )
  }, 60_000)

  it('lets the PR gate compare with the champion it holds, and say when there is none', async () => {
    const gate = await runAction('compare-metrics', {
      workspace,
      inputs: { candidate: 'metrics/candidate.json', baseline: 'models:/churn-classifier@champion', comment: 'never' }
    })
    expect(gate.errors).toEqual([])
    const report = JSON.parse(readFileSync(gate.outputs.report!, 'utf8'))
    expect(report.baseline).toMatchObject({ kind: 'model-version', model: 'churn-classifier', version: '1' })
    expect(report.metrics.find((m: { name: string }) => m.name === 'accuracy').status).toBe('unchanged')

    const none = await runAction('compare-metrics', {
      workspace,
      inputs: { candidate: 'metrics/candidate.json', baseline: 'models:/churn-classifier@gold', comment: 'never' }
    })
    expect(none.errors).toEqual([])
    expect(none.summary).toContain('no version of churn-classifier has the alias gold yet')
  }, 60_000)

  it('validates a version of the folder registry by URI', async () => {
    const run = await runAction('validate-model', {
      workspace,
      inputs: { 'model-uri': 'models:/churn-classifier@champion' }
    })
    expect(run.errors).toEqual([])
    expect(run.outputs.digest).toBe(first.outputs.digest)
  }, 60_000)
})

describe('Unity Catalog, through the Databricks double', () => {
  let double: DatabricksDouble
  const oauth = () => ({
    DATABRICKS_HOST: double.url,
    DATABRICKS_CLIENT_ID: DOUBLE_CLIENT_ID,
    DATABRICKS_CLIENT_SECRET: DOUBLE_CLIENT_SECRET
  })

  beforeAll(async () => {
    double = await startDatabricksDouble()
  })
  afterAll(() => double?.close())

  it('registers with OAuth machine-to-machine credentials, once, and masks the secret', async () => {
    const inputs = { registry: 'databricks-uc', name: 'main.ml.churn', 'model-path': 'model', aliases: 'challenger' }
    const run = await register(inputs, oauth())
    expect(run.errors).toEqual([])
    expect(run.outputs).toMatchObject({ created: 'true', version: '1', 'model-uri': 'models:/main.ml.churn/1' })
    expect(double.version('main.ml.churn', '1')).toMatchObject({ status: 'READY' })
    expect(run.stdout).toContain(`::add-mask::${DOUBLE_CLIENT_SECRET}`)
    const again = await register(inputs, oauth())
    expect(again.outputs).toMatchObject({ created: 'false', version: '1' })
    expect(double.versions('main.ml.churn')).toEqual(['1'])
    expect(double.violations).toEqual([])
  }, 120_000)

  it('refuses a two-level name and a model without a full signature, before anything is created', async () => {
    const twoLevel = await register({ registry: 'databricks-uc', name: 'ml.churn', 'model-path': 'model' }, oauth())
    expect(twoLevel.exitCode).toBe(1)
    expect(twoLevel.errors).toEqual([expect.stringContaining("input 'name'")])

    const unsigned = join(workspace, 'unsigned')
    cpSync(join(workspace, 'model'), unsigned, { recursive: true })
    const mlmodel = load(readFileSync(join(unsigned, 'MLmodel'), 'utf8')) as Record<string, unknown>
    delete mlmodel.signature
    writeFileSync(join(unsigned, 'MLmodel'), dump(mlmodel))
    const run = await register(
      { registry: 'databricks-uc', name: 'main.ml.unsigned', 'model-path': 'unsigned' },
      oauth()
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain('signature')
    expect(double.versions('main.ml.unsigned')).toEqual([])
  }, 120_000)

  it('says which privilege a read-only token lacks', async () => {
    const run = await register(
      { registry: 'databricks-uc', name: 'main.ml.readonly', 'model-path': 'model' },
      { DATABRICKS_HOST: double.url, DATABRICKS_TOKEN: DOUBLE_READ_PAT }
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/CREATE_MODEL|owner/)
    expect(run.stdout).toContain(`::add-mask::${DOUBLE_READ_PAT}`)
  }, 60_000)
})

describe('user mistakes end in one clear line', () => {
  it.each([
    [{ name: 'x' }, "input 'model-path': is required"],
    [
      { name: 'x', 'model-path': 'model', source: 'runs:/abc/model' },
      "input 'model-path': and input 'source' are both set"
    ],
    [
      { name: 'x', 'model-path': 'model', registry: 'sagemaker' },
      'input \'registry\': expected "file", "mlflow", "databricks-uc"'
    ],
    [
      { name: 'x', 'model-path': 'model', registry: 'mlflow' },
      "input 'tracking-uri': the mlflow registry needs a tracking server URL"
    ],
    [
      { name: 'x', 'model-path': 'model', registry: 'mlflow', 'tracking-uri': 'localhost:5000' },
      "input 'tracking-uri'"
    ],
    [{ name: 'x', 'model-path': 'model', tags: 'team: [a, b' }, "input 'tags'"],
    [{ name: 'x', 'model-path': 'model', tags: 'modelgate.digest: x' }, 'reserved for lineage'],
    [{ name: 'x', 'model-path': 'model', aliases: 'v2' }, 'input \'aliases\': alias "v2" is reserved'],
    [{ name: 'x', 'model-path': 'no-such-dir' }, "input 'model-path'"],
    [
      { name: 'x', 'model-path': 'model', 'comparison-report': 'missing.json' },
      "input 'comparison-report': missing.json does not exist"
    ],
    [
      { name: 'x', 'model-path': 'model', 'validation-report': 'metrics/baseline.json' },
      'is not a validate-model report'
    ]
  ])(
    '%j',
    async (inputs, expected) => {
      const run = await register(inputs as Record<string, string>)
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain(expected)
      expect(run.stdout).not.toContain('modelgate bug')
    },
    60_000
  )
})
