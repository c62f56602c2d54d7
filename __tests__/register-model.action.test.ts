/**
 * The shipped register-model, compare-metrics and validate-model bundles against a real MLflow tracking server
 * (`mlflow server`, SQLite store, proxied artifacts on loopback): the pull-request gate compares a candidate with the
 * real champion, registration is idempotent by digest, a changed model makes the next version and moves the alias,
 * and MLflow's own Python client reads back every tag modelgate set.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction, type ActionRun } from '../test/harness/run-action.js'
import { freePort, startMlflowServer, type MlflowServer } from '../test/mlflow/server.js'
import {
  exampleMetrics,
  logAndRegisterExampleModel,
  readAliasWithPythonClient,
  readVersionWithPythonClient,
  runPythonClient
} from '../test/mlflow/python-client.js'

const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')
const NAME = 'churn-classifier'
let mlflow: MlflowServer
let workspace: string

const BASELINE = exampleMetrics('baseline')
const CANDIDATE = exampleMetrics('candidate')

/** The runner's environment for a push to main after the pull request merged. */
function runnerEnv(run: number): Record<string, string> {
  return {
    GITHUB_SHA: `${run}`.padStart(40, 'a'),
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_RUN_ID: String(9000 + run),
    GITHUB_WORKFLOW: 'model-promote',
    GITHUB_SERVER_URL: 'https://github.com',
    MODELGATE_RETRY_BASE_MS: '20'
  }
}

async function register(inputs: Record<string, string>, run = 1): Promise<ActionRun> {
  return runAction('register-model', {
    workspace,
    inputs: { registry: 'mlflow', 'tracking-uri': mlflow.url, name: NAME, ...inputs },
    env: runnerEnv(run),
    event: { pull_request: { number: 42, head: { repo: { full_name: 'acme/churn' } } } }
  })
}

async function versionCount(name = NAME): Promise<number> {
  return runPythonClient<number>(
    mlflow.url,
    `def main():
    return len(client.search_model_versions(f"name = '{ARGS['name']}'"))`,
    { name }
  )
}

beforeAll(async () => {
  mlflow = await startMlflowServer()
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-register-'))
  cpSync(EXAMPLE, workspace, { recursive: true })
  // The champion in production: trained, logged and registered by a training job with MLflow's own client.
  await logAndRegisterExampleModel(mlflow.url, NAME, { metrics: BASELINE, alias: 'champion' })
}, 180_000)

afterAll(async () => {
  await mlflow?.stop()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
}, 60_000)

describe('the pull-request gate against a real champion', () => {
  it('compares the candidate with the metrics of the run behind models:/<name>@champion', async () => {
    const run = await runAction('compare-metrics', {
      workspace,
      inputs: {
        candidate: 'metrics/candidate.json',
        baseline: `models:/${NAME}@champion`,
        'tracking-uri': mlflow.url,
        comment: 'never'
      }
    })
    expect(run.errors).toEqual([])
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    expect(report.baseline).toMatchObject({ kind: 'model-version', model: NAME, version: '1', alias: 'champion' })
    expect(report.baseline.runId).toMatch(/^[0-9a-f]{32}$/)
    const accuracy = report.metrics.find((m: { name: string }) => m.name === 'accuracy')
    expect(accuracy.baseline).toBe(BASELINE.accuracy)
    expect(accuracy.candidate).toBe(CANDIDATE.accuracy)
    expect(run.summary).toContain(`model ${NAME} version 1 (alias champion)`)
    expect(run.outputs.verdict).toBe(report.verdict)
  }, 60_000)

  it('says plainly that there is no baseline yet when no version has the alias', async () => {
    const run = await runAction('compare-metrics', {
      workspace,
      inputs: {
        candidate: 'metrics/candidate.json',
        baseline: `models:/${NAME}@never-set`,
        'tracking-uri': mlflow.url,
        comment: 'never'
      }
    })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    expect(report.baseline).toBeNull()
    expect(report.baselineNote).toContain('no version of churn-classifier has the alias never-set yet')
    expect(run.summary).toContain('No baseline yet')
    expect(run.summary).toContain('never-set')
  }, 60_000)

  it('fails clearly when the tracking URI is not an MLflow server, instead of reading "no baseline"', async () => {
    const run = await runAction('compare-metrics', {
      workspace,
      inputs: {
        candidate: 'metrics/candidate.json',
        baseline: `models:/${NAME}@champion`,
        'tracking-uri': `${mlflow.url}/not-mlflow`,
        comment: 'never'
      }
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain("input 'tracking-uri'")
    expect(run.errors[0]).toContain('is not an MLflow REST endpoint')
  }, 60_000)
})

describe('register-model, bundled, against a real MLflow server', () => {
  let first: ActionRun
  let validation: ActionRun
  let comparison: ActionRun

  beforeAll(async () => {
    validation = await runAction('validate-model', { workspace, inputs: { 'model-path': 'model' } })
    comparison = await runAction('compare-metrics', {
      workspace,
      inputs: { candidate: 'metrics/candidate.json', baseline: 'metrics/baseline.json', comment: 'never' }
    })
    expect(validation.outputs.passed).toBe('true')
    first = await register({
      'model-path': 'model',
      aliases: 'challenger',
      tags: 'team: retention\nowner: data-science',
      description: 'churn model from PR 42',
      'validation-report': validation.outputs.report!,
      'comparison-report': comparison.outputs.report!
    })
  }, 180_000)

  it('registers a new version with the digest validate-model computed, and sets the alias', async () => {
    expect(first.errors).toEqual([])
    expect(first.exitCode).toBe(0)
    expect(first.outputs.created).toBe('true')
    expect(first.outputs.version).toBe('2')
    expect(first.outputs['model-uri']).toBe(`models:/${NAME}/2`)
    expect(first.outputs.digest).toBe(validation.outputs.digest)
    expect(first.summary).toContain(`Registered ${NAME} version 2`)
    const challenger = await readAliasWithPythonClient(mlflow.url, NAME, 'challenger')
    expect(challenger.version).toBe('2')
  })

  it('sets every lineage and gate tag, and MLflow’s Python client reads each one back', async () => {
    const report = JSON.parse(readFileSync(first.outputs.report!, 'utf8'))
    const python = await readVersionWithPythonClient(mlflow.url, NAME, 2)
    expect(python.tags).toEqual(report.tags)
    expect(python.tags).toMatchObject({
      'modelgate.digest': first.outputs.digest,
      'modelgate.git.commit': '1'.padStart(40, 'a'),
      'modelgate.git.repository': 'acme/churn',
      'modelgate.git.ref': 'refs/heads/main',
      'modelgate.github.pull-request': '42',
      'modelgate.github.run-url': 'https://github.com/acme/churn/actions/runs/9001',
      'modelgate.github.workflow': 'model-promote',
      'modelgate.validation.verdict': 'pass',
      'modelgate.validation.digest': first.outputs.digest,
      'modelgate.comparison.verdict': JSON.parse(readFileSync(comparison.outputs.report!, 'utf8')).verdict,
      'modelgate.comparison.baseline': 'metrics/baseline.json',
      team: 'retention',
      owner: 'data-science'
    })
    expect(python.description).toBe('churn model from PR 42')
    expect(python.status).toBe('READY')
    expect(python.source).toMatch(/^models:\/m-[0-9a-f]{32}$/)
    expect(python.run_id).toMatch(/^[0-9a-f]{32}$/)
  }, 60_000)

  it('records the candidate metrics on the run behind the version, so it can be the next baseline', async () => {
    const run = await runAction('compare-metrics', {
      workspace,
      inputs: {
        candidate: 'metrics/candidate.json',
        baseline: `models:/${NAME}@challenger`,
        'tracking-uri': mlflow.url,
        comment: 'never'
      }
    })
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    expect(report.baseline).toMatchObject({ model: NAME, version: '2', alias: 'challenger' })
    for (const metric of report.metrics as { name: string; candidate: unknown; baseline: unknown }[]) {
      expect(metric.baseline).toBe(metric.candidate)
    }
    expect(report.metrics.length).toBe(Object.keys(CANDIDATE).length)
  }, 60_000)

  it('does not make a second version when run again on the same model', async () => {
    const again = await register({ 'model-path': 'model', aliases: 'challenger' }, 2)
    expect(again.errors).toEqual([])
    expect(again.outputs.created).toBe('false')
    expect(again.outputs.version).toBe('2')
    expect(again.outputs.digest).toBe(first.outputs.digest)
    expect(again.summary).toContain('already holds this model')
    expect(await versionCount()).toBe(2)
    // The lineage is the first run's: a re-run does not rewrite where the version came from.
    const python = await readVersionWithPythonClient(mlflow.url, NAME, 2)
    expect(python.tags['modelgate.github.run-url']).toBe('https://github.com/acme/churn/actions/runs/9001')
  }, 120_000)

  it('registers a changed model as the next version and moves the alias to it', async () => {
    const changed = join(workspace, 'model-v2')
    cpSync(join(workspace, 'model'), changed, { recursive: true })
    writeFileSync(join(changed, 'README.txt'), 'retrained on November data\n')
    const run = await register({ 'model-path': 'model-v2', aliases: 'challenger' }, 3)
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    expect(run.outputs.version).toBe('3')
    expect(run.outputs.digest).not.toBe(first.outputs.digest)
    expect((await readAliasWithPythonClient(mlflow.url, NAME, 'challenger')).version).toBe('3')
    expect((await readVersionWithPythonClient(mlflow.url, NAME, 2)).aliases).toEqual([])
    expect((await readAliasWithPythonClient(mlflow.url, NAME, 'champion')).version).toBe('1')
  }, 120_000)

  it('validates a registered version by URI, downloading the files it holds (same digest)', async () => {
    const run = await runAction('validate-model', {
      workspace,
      inputs: { 'model-uri': `models:/${NAME}@challenger`, 'tracking-uri': mlflow.url }
    })
    expect(run.errors).toEqual([])
    expect(run.outputs.passed).toBe('true')
    const registered = await readVersionWithPythonClient(mlflow.url, NAME, 3)
    expect(run.outputs.digest).toBe(registered.tags['modelgate.digest'])
  }, 120_000)

  it('registers an existing run artifact by source, hashing what the registry holds', async () => {
    const logged = await logAndRegisterExampleModel(mlflow.url, 'by-source', {})
    const run = await register({ name: 'by-source', source: `runs:/${logged.runId}/model` }, 4)
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    expect(run.outputs.digest).toBe(first.outputs.digest)
    const again = await register({ name: 'by-source', source: `runs:/${logged.runId}/model` }, 5)
    expect(again.outputs.created).toBe('false')
    expect(again.outputs.version).toBe(run.outputs.version)
  }, 120_000)

  it('fails with one clear line for a bad alias, a wrong digest and unreachable servers', async () => {
    const reserved = await register({ 'model-path': 'model', aliases: 'latest' })
    expect(reserved.exitCode).toBe(1)
    expect(reserved.errors).toEqual([expect.stringContaining('input \'aliases\': alias "latest" is reserved')])

    const mismatch = await register({ 'model-path': 'model-v2', 'validation-report': validation.outputs.report! })
    expect(mismatch.errors).toEqual([expect.stringContaining("input 'validation-report'")])
    expect(mismatch.errors[0]).toContain('the files changed between the steps')

    const closed = await freePort()
    const down = await runAction('register-model', {
      workspace,
      inputs: { registry: 'mlflow', 'tracking-uri': `http://127.0.0.1:${closed}`, name: NAME, 'model-path': 'model' },
      env: { MODELGATE_RETRY_BASE_MS: '1' }
    })
    expect(down.exitCode).toBe(1)
    expect(down.errors).toHaveLength(1)
    expect(down.errors[0]).toContain(
      `could not get an answer from the MLflow server at http://127.0.0.1:${closed} (connection refused`
    )
    expect(down.stdout).not.toContain('    at ')
  }, 120_000)
})
