/**
 * The deploy gate with `target: databricks` against the Databricks workspace double: the version resolved through
 * Unity Catalog on the same workspace (and credentials) as Model Serving, a first deploy, a canary promoted with the
 * alias moved, a re-run that changes nothing, and a staging endpoint of another name chosen by `deploy.environments`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError } from '../src/core/errors.js'
import { runDeploy, type DeployOptions } from '../src/core/gates/deploy.js'
import { renderDeployMarkdown, renderDeployText } from '../src/core/report/deploy.js'
import { DOUBLE_PAT, startDatabricksDouble, type DatabricksDouble } from '../test/databricks-double/server.js'
import { startGitHubDouble } from '../test/github-double/server.js'

const MODEL = 'main.ml.churn'
let double: DatabricksDouble
let workspace: string

beforeAll(async () => {
  double = await startDatabricksDouble({ serving: { deployMs: 60 } })
  double.addVersion(MODEL)
  double.addVersion(MODEL)
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-deploy-databricks-'))
  writeFileSync(
    join(workspace, '.modelgate.yml'),
    `model: ${MODEL}\nregistry:\n  type: databricks-uc\n  tracking-uri: ${double.url}\ndeploy:\n  target: databricks\n  endpoint: churn\n`
  )
  writeFileSync(
    join(workspace, 'request.json'),
    JSON.stringify({ dataframe_split: { columns: ['tenure_months'], data: [[3]] } })
  )
})

afterAll(async () => {
  expect(double.violations).toEqual([])
  await double?.close()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

function deploy(options: Partial<DeployOptions> & Pick<DeployOptions, 'modelUri'>) {
  return runDeploy({
    workspace,
    smokeInput: 'request.json',
    requests: 10,
    verifyRequests: 5,
    rolloutTimeoutMs: 60_000,
    retryBaseMs: 1,
    env: { DATABRICKS_TOKEN: DOUBLE_PAT },
    ...options
  })
}

describe('deploy-endpoint on Databricks Model Serving (double)', () => {
  it('deploys version 1 to a new endpoint', async () => {
    const run = await deploy({ modelUri: `models:/${MODEL}/1` })
    expect(run.report).toMatchObject({ outcome: 'deployed', deployedVersion: '1', changed: true })
    expect(run).toMatchObject({ target: 'databricks', endpoint: 'churn', passed: true })
    expect(run.endpointUrl).toBe(`${double.url}/serving-endpoints/churn/invocations`)
  }, 60_000)

  it('runs a 20% canary of version 2, promotes it and moves the alias', async () => {
    const run = await deploy({ modelUri: `models:/${MODEL}/2`, traffic: 20, promoteAlias: 'champion' })
    expect(run.report).toMatchObject({ outcome: 'deployed', deployedVersion: '2', previousVersion: '1' })
    expect(run.report.steps.map(s => s.routes)).toEqual([
      { '2': 20, '1': 80 },
      { '2': 100, '1': 0 }
    ])
    expect(run.promotedAlias).toBe('champion')
    expect(double.version(MODEL, '2')!.aliases).toEqual(['champion'])
    expect(renderDeployMarkdown(run)).toContain('| 1 | v2 20% / v1 80% | v1: 40, v2: 10 | 10 | 0 | 0.0% |')
  }, 60_000)

  it('a re-run by the alias changes nothing', async () => {
    const puts = double.requests.filter(r => r.method === 'PUT').length
    const run = await deploy({ modelUri: `models:/${MODEL}@champion` })
    expect(run.report).toMatchObject({ outcome: 'unchanged', changed: false, deployedVersion: '2' })
    expect(double.requests.filter(r => r.method === 'PUT')).toHaveLength(puts)
  }, 60_000)

  it('deploy.environments gives staging and production endpoints of their own names', async () => {
    writeFileSync(
      join(workspace, 'environments.yml'),
      `model: ${MODEL}\nregistry:\n  type: databricks-uc\n  tracking-uri: ${double.url}\ndeploy:\n  target: databricks\n  environments:\n    staging: { endpoint: churn-staging }\n    production: { endpoint: churn }\n`
    )
    const staged = await deploy({ modelUri: `models:/${MODEL}/1`, config: 'environments.yml', environment: 'staging' })
    expect(staged).toMatchObject({ endpoint: 'churn-staging', passed: true, settings: { entry: 'staging' } })
    expect(staged.report).toMatchObject({ outcome: 'deployed', deployedVersion: '1' })
    expect(staged.endpointUrl).toBe(`${double.url}/serving-endpoints/churn-staging/invocations`)
    // Production's endpoint is untouched: it still serves version 2, as a dry run by its environment reads it.
    const planned = await deploy({
      modelUri: `models:/${MODEL}/1`,
      config: 'environments.yml',
      environment: 'production',
      dryRun: true
    })
    expect(planned).toMatchObject({ endpoint: 'churn', dryRun: true, settings: { entry: 'production' } })
    expect(planned.report.previousVersion).toBe('2')
    expect(renderDeployText(planned)).toContain(
      '  settings: deploy.environments.production over deploy in environments.yml'
    )
  }, 60_000)
})

describe('the GitHub deployment of a rollout that ends in an error', () => {
  it('is marked failed, not left in progress, when the endpoint cannot be read once the rollout started', async () => {
    const github = await startGitHubDouble()
    try {
      writeFileSync(
        join(workspace, 'unreadable.yml'),
        `model: ${MODEL}\nregistry:\n  type: databricks-uc\n  tracking-uri: ${double.url}\ndeploy:\n  target: databricks\n  endpoint: churn-unreadable\n`
      )
      // The plan's read answers; every read after it (the rollout's, under way) fails past the retries.
      let reads = 0
      double.inject({
        count: 1000,
        status: 503,
        method: 'GET',
        path: /^\/api\/2\.0\/serving-endpoints\/churn-unreadable$/,
        match: () => ++reads > 1
      })
      const error = await deploy({
        modelUri: `models:/${MODEL}/1`,
        config: 'unreadable.yml',
        environment: 'staging',
        githubToken: 'ghs_write_token',
        env: {
          DATABRICKS_TOKEN: DOUBLE_PAT,
          GITHUB_API_URL: github.url,
          GITHUB_REPOSITORY: 'acme/churn',
          GITHUB_SHA: 'c'.repeat(40)
        }
      }).then(
        () => new Error('expected the rollout to fail'),
        (e: unknown) => e as Error
      )
      expect(error.message).toContain('503')
      const [recorded, ...others] = github.deployments('acme', 'churn')
      expect(others).toEqual([])
      expect(recorded!.statuses.map(status => status.state)).toEqual(['in_progress', 'failure'])
      expect(recorded!.statuses.at(-1)!.description).toMatch(
        /^main.ml.churn v1 failed, before any change: Databricks Model Serving .* failed to read/
      )
    } finally {
      await github.close()
    }
  }, 60_000)
})

describe('a version that is not READY', () => {
  it('is refused, naming the model-uri and its status, before the endpoint or a deployment is touched', async () => {
    const version = double.addVersion(MODEL)
    double.failVersion(MODEL, version, 'the upload of model.pkl broke')
    const writes = double.requests.filter(r => r.method !== 'GET').length
    const error = await deploy({ modelUri: `models:/${MODEL}/${version}`, endpoint: 'churn-failed' }).then(
      () => new Error('expected the deploy to be refused'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).place).toEqual({ source: "input 'model-uri'" })
    expect(error.message).toContain('FAILED_REGISTRATION')
    expect(error.message).toContain('the upload of model.pkl broke')
    expect(double.requests.filter(r => r.method !== 'GET')).toHaveLength(writes)
  }, 60_000)
})

describe('a model-uri whose name is not catalog.schema.model', () => {
  it('is refused naming the model-uri input, which this action has, not a name input, which it has not', async () => {
    const error = await deploy({ modelUri: 'models:/churn/1' }).then(
      () => new Error('expected the deploy to be refused'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).place).toEqual({ source: "input 'model-uri'" })
    expect(error.message).toContain('"churn" is not a Unity Catalog model name')
  }, 60_000)
})

describe('an alias the identity may not move', () => {
  it('fails saying the rollout itself succeeded, and which alias was not moved', async () => {
    double.inject({ count: 1, status: 403, method: 'POST', path: /registered-models\/alias$/ })
    const error = await deploy({
      modelUri: `models:/${MODEL}/1`,
      endpoint: 'churn-alias',
      promoteAlias: 'staging'
    }).then(
      () => new Error('expected the alias to be refused'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toMatch(
      /^DATABRICKS_TOKEN: main\.ml\.churn version 1 was deployed to churn-alias, but the alias staging was not moved to it: Databricks .* denied the request to point the alias staging/
    )
  }, 60_000)
})

describe('an endpoint that serves another model', () => {
  it("is refused, naming the endpoint's source and the other model, and left as it was", async () => {
    const other = 'main.ml.other'
    double.addVersion(other)
    const created = await fetch(`${double.url}/api/2.0/serving-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DOUBLE_PAT}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'shared',
        config: { served_entities: [{ name: 'other-1', entity_name: other, entity_version: '1' }] }
      })
    })
    expect(created.status).toBe(200)
    await new Promise(resolve => setTimeout(resolve, 200))
    const writes = double.requests.filter(r => r.method !== 'GET').length
    // Its version 1 is not main.ml.churn's version 1, though the numbers are the same.
    const error = await deploy({ modelUri: `models:/${MODEL}/1`, endpoint: 'shared' }).then(
      () => new Error('expected the deploy to be refused'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).place).toEqual({ source: "input 'endpoint'" })
    expect(error.message).toContain(`serves other-1 (${other} version 1), which is not ${MODEL}`)
    expect(double.requests.filter(r => r.method !== 'GET')).toHaveLength(writes)
  }, 60_000)
})

describe('a dry run', () => {
  it('says what a real run would also change: the alias it would move and the deployment it would record', async () => {
    const log: string[] = []
    const run = await deploy({
      modelUri: `models:/${MODEL}/1`,
      endpoint: 'churn-dry',
      promoteAlias: 'champion',
      environment: 'staging',
      dryRun: true,
      log: line => log.push(line)
    })
    expect(run.report.outcome).toBe('planned')
    expect(run.promotedAlias).toBeUndefined()
    const champion = double.version(MODEL, '2')!.aliases.includes('champion') ? '2' : undefined
    expect(log).toContain(
      `dry run: after a successful rollout, alias champion would move to version 1${champion ? ` (it is on version ${champion} now)` : ''}`
    )
    expect(log).toContain('dry run: the rollout would be recorded as a GitHub deployment in environment staging')
  }, 60_000)
})
