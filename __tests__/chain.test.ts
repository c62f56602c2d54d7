/**
 * The whole chain, from the workflow files: the steps of model-pr-gate.yml, model-promote.yml and
 * model-pr-comment.yml run in order with the inputs the example caller workflows give them, each of our actions run
 * as its bundle the way the runner runs it, against a real MLflow server (the registry every job shares through
 * tracking-uri), two real HAProxy instances with `mlflow models serve` behind them (staging and production) and the
 * GitHub API double. Third-party actions are stood in for by the functions named below, which do the same on local
 * folders. The scenarios run in order, each from the registry and serving state the one before left.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { dump, load } from 'js-yaml'
import { probe } from '../src/core/serving/probe.js'
import { startGitHubDouble, type GitHubDouble } from '../test/github-double/server.js'
import { ROOT, runAction } from '../test/harness/run-action.js'
import { startMlflowServer, type MlflowServer } from '../test/mlflow/server.js'
import {
  exampleMetrics,
  logAndRegisterExampleModel,
  readAliasWithPythonClient,
  runPythonClient
} from '../test/mlflow/python-client.js'
import { startTestHaproxy, type TestHaproxy } from '../test/serving/haproxy.js'
import { interpolate, runWorkflow, type JobRun, type StandIn, type StandInCall } from '../test/chain/workflow-runner.js'

const run = promisify(execFile)
const NAME = 'churn-classifier'
const OWNER = 'acme'
const REPO = 'churn'
const PR = 7
const FORK_PR = 8
const PYTHON = join(ROOT, '.venv', 'bin', 'python')
const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')
const BODY = JSON.parse(readFileSync(join(EXAMPLE, 'model', 'serving_input_example.json'), 'utf8')) as unknown

let mlflow: MlflowServer
let github: GitHubDouble
let staging: TestHaproxy
let production: TestHaproxy
let root: string
/** Pull request number -> its head commit, as the double reports it. */
const heads = new Map<number, string>()
/** Artifacts uploaded by a workflow run, by run id, then artifact name: what upload/download-artifact share. */
const artifacts = new Map<string, string>()
const logs: string[] = []

beforeAll(async () => {
  if (!existsSync(PYTHON))
    throw new Error(`this test needs the project's Python environment: run scripts/setup-python.sh`)
  if (!existsSync(join(ROOT, 'dist', 'deploy-endpoint', 'index.js'))) throw new Error('run npm run bundle first')
  root = mkdtempSync(join(tmpdir(), 'modelgate-chain-'))
  ;[mlflow, github, staging, production] = await Promise.all([
    startMlflowServer(),
    startGitHubDouble(),
    startTestHaproxy(`${NAME}-staging`),
    startTestHaproxy(NAME)
  ])
  await run(PYTHON, [join(ROOT, 'test', 'chain', 'make_broken_model.py'), join(EXAMPLE, 'model'), join(root, 'broken')])
  // The champion in production before the chain: trained and registered by a training job with MLflow's own client.
  await logAndRegisterExampleModel(mlflow.url, NAME, { metrics: exampleMetrics('baseline'), alias: 'champion' })
  for (const number of [PR, FORK_PR]) {
    const pull = await fetch(`${github.url}/repos/${OWNER}/${REPO}/pulls/${number}`, {
      headers: { authorization: 'Bearer ghs_write_token' }
    })
    heads.set(number, ((await pull.json()) as { head: { sha: string } }).head.sha)
  }
  // ...and serving in production, deployed before the chain, so the promotion's canary runs beside it.
  const seed = mkdtempSync(join(root, 'seed-production-'))
  // Its environment picks the production settings of deploy.environments; with no token it records no deployment.
  await checkoutStandIn(EXAMPLE)({ with: {}, env: {}, workspace: seed, runnerTemp: seed })
  const seeded = await runAction('deploy-endpoint', {
    workspace: seed,
    inputs: {
      'model-uri': `models:/${NAME}@champion`,
      'tracking-uri': mlflow.url,
      endpoint: NAME,
      requests: '10',
      environment: 'production',
      'github-token': ''
    },
    env: { MODELGATE_RETRY_BASE_MS: '20' }
  })
  if (seeded.exitCode !== 0) throw new Error(`serving the champion failed:\n${seeded.stdout}${seeded.stderr}`)
}, 300_000)

afterAll(async () => {
  // The model servers the rollouts started are recorded in each runner's state folder.
  for (const dir of ['staging', 'production']) {
    const state = join(root ?? '/nonexistent', 'runners', dir, 'state')
    for (const endpoint of existsSync(state) ? readdirSync(state) : []) {
      const { ModelServers, mlflowServeLauncher } = await import('../src/core/serving/model-server.js')
      const servers = new ModelServers({
        stateDir: join(state, endpoint),
        launcher: mlflowServeLauncher({ python: PYTHON })
      })
      for (const record of await servers.list()) await servers.stop(record.version)
    }
  }
  await Promise.all([staging?.close(), production?.close(), github?.close(), mlflow?.stop()])
  if (root) rmSync(root, { recursive: true, force: true })
}, 120_000)

/** A project as a pull request proposes it: the example, with its metrics or model changed by `change`. */
function project(name: string, change?: (dir: string) => void): string {
  const dir = join(root, 'projects', name)
  cpSync(EXAMPLE, dir, { recursive: true })
  change?.(dir)
  return dir
}

// --- Stand-ins for the third-party actions the workflows use. ---

/**
 * The project's config with this machine's serving settings in its `deploy:` section, as a repository served by one
 * self-hosted runner would write it: one HAProxy per GitHub environment in `deploy.environments`, so the product
 * picks staging's or production's by the environment the workflow gives deploy-endpoint. The example's own
 * `deploy:` names the same keys with a real machine's addresses.
 */
function withServingSettings(config: string): string {
  const parsed = load(config) as Record<string, unknown>
  const haproxy = (instance: TestHaproxy, environment: string) => ({
    url: instance.url,
    'runtime-api': instance.socket,
    'state-dir': join(root, 'runners', environment, 'state')
  })
  parsed.deploy = {
    target: 'haproxy',
    python: PYTHON,
    environments: { staging: haproxy(staging, 'staging'), production: haproxy(production, 'production') }
  }
  return dump(parsed)
}

/**
 * actions/checkout: the project at the event's commit into the workspace, or (with `path: .modelgate-actions`) this
 * repository's actions and bundles, as the workflows check out their own commit.
 */
const checkoutStandIn =
  (source: string): StandIn =>
  ({ with: inputs, workspace }) => {
    if (inputs.path === '.modelgate-actions') {
      mkdirSync(join(workspace, '.modelgate-actions'), { recursive: true })
      for (const dir of ['actions', 'dist']) symlinkSync(join(ROOT, dir), join(workspace, '.modelgate-actions', dir))
      return Promise.resolve()
    }
    if (inputs.path) throw new Error(`checkout stand-in: no path ${inputs.path}`)
    cpSync(source, workspace, { recursive: true })
    const config = join(workspace, '.modelgate.yml')
    writeFileSync(config, withServingSettings(readFileSync(config, 'utf8')))
    return Promise.resolve()
  }

/** actions/upload-artifact: the folder at `path` kept under the run's id and the artifact's name. */
const uploadArtifactStandIn =
  (runId: string): StandIn =>
  ({ with: inputs }) => {
    if (!inputs.name || !inputs.path || !existsSync(inputs.path))
      throw new Error(`upload-artifact: nothing at ${inputs.path}`)
    const kept = join(root, 'artifacts', runId, inputs.name)
    cpSync(inputs.path, kept, { recursive: true })
    artifacts.set(`${runId}/${inputs.name}`, kept)
    return Promise.resolve()
  }

/** actions/download-artifact with `pattern` and `run-id`: each matching artifact into `path/<name>`. */
const downloadArtifactStandIn: StandIn = ({ with: inputs }) => {
  const pattern = new RegExp(`^${(inputs.pattern ?? '').replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`)
  for (const [key, dir] of artifacts) {
    const [runId, name] = key.split('/') as [string, string]
    if (runId === inputs['run-id'] && pattern.test(name)) cpSync(dir, join(inputs.path!, name), { recursive: true })
  }
  return Promise.resolve()
}

/**
 * actions/github-script: the script as github-script runs it (an async function of require, github, context and
 * core), in its own Node process with the step's environment, `github` an authenticated Octokit on the double.
 */
const githubScriptStandIn =
  (token: string): StandIn =>
  async ({ with: inputs, env }: StandInCall) => {
    const runner = [
      "import { createRequire } from 'node:module'",
      "import * as actionsGithub from '@actions/github'",
      "import * as core from '@actions/core'",
      'const script = process.env.SCRIPT',
      'const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor',
      'const github = actionsGithub.getOctokit(process.env.TOKEN)',
      "await new AsyncFunction('require', 'github', 'context', 'core', script)(createRequire(import.meta.url), github, actionsGithub.context, core)"
    ].join('\n')
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', runner], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...env,
        SCRIPT: inputs.script,
        TOKEN: token,
        GITHUB_API_URL: github.url,
        GITHUB_REPOSITORY: `${OWNER}/${REPO}`
      }
    })
    logs.push(stdout)
  }

// --- The workflows, called as the example callers call them. ---

/** The `with:` of an example caller workflow's job, evaluated with the repository variables. */
function callerInputs(file: string): Record<string, string> {
  const caller = load(readFileSync(join(ROOT, file), 'utf8')) as { jobs: Record<string, { with?: object }> }
  const withs = Object.values(caller.jobs)[0]!.with ?? {}
  const contexts = { vars: { MLFLOW_TRACKING_URI: mlflow.url }, github: {}, inputs: {} }
  return Object.fromEntries(Object.entries(withs).map(([k, v]) => [k, interpolate(v, contexts)]))
}

interface PullRequest {
  source: string
  fork?: boolean
  runId: string
}

async function gate({ source, fork = false, runId }: PullRequest): Promise<Record<string, JobRun>> {
  const number = fork ? FORK_PR : PR
  const headSha = heads.get(number)!
  const token = fork ? 'ghs_read_token' : 'ghs_write_token'
  return runWorkflow('.github/workflows/model-pr-gate.yml', {
    inputs: callerInputs('examples/workflows/model-gate.yml'),
    github: {
      event_name: 'pull_request',
      repository: `${OWNER}/${REPO}`,
      ref: `refs/pull/${number}/merge`,
      sha: headSha,
      token,
      event: {
        number,
        pull_request: {
          number,
          head: { sha: headSha, repo: { full_name: fork ? `someone/${REPO}` : `${OWNER}/${REPO}` } },
          base: { ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } }
        }
      }
    },
    runnerEnv: { GITHUB_API_URL: github.url, GITHUB_RUN_ID: runId, MODELGATE_RETRY_BASE_MS: '20' },
    standIns: {
      'actions/checkout': checkoutStandIn(source),
      'actions/upload-artifact': uploadArtifactStandIn(runId),
      'actions/download-artifact': () => Promise.reject(new Error('the gate downloads no artifact here'))
    },
    workspaceFor: jobId => mkdtempSync(join(root, `gate-${jobId}-`)),
    tempRoot: root,
    onStep: (jobId, step) => logs.push(`--- ${jobId}/${step.id}: ${step.outcome}\n${step.log}`)
  })
}

async function promote(source: string, runId: string): Promise<Record<string, JobRun>> {
  return runWorkflow('.github/workflows/model-promote.yml', {
    inputs: callerInputs('examples/workflows/model-promote.yml'),
    github: {
      event_name: 'push',
      repository: `${OWNER}/${REPO}`,
      ref: 'refs/heads/main',
      sha: 'b'.repeat(40),
      token: 'ghs_write_token',
      event: { ref: 'refs/heads/main', after: 'b'.repeat(40) }
    },
    runnerEnv: { GITHUB_API_URL: github.url, GITHUB_RUN_ID: runId, MODELGATE_RETRY_BASE_MS: '20' },
    standIns: {
      'actions/checkout': checkoutStandIn(source),
      'actions/download-artifact': () => Promise.reject(new Error('the promotion downloads no artifact here'))
    },
    // The production environment's required reviewers approved: the job runs when its needs are met.
    workspaceFor: jobId => mkdtempSync(join(root, `promote-${jobId}-`)),
    tempRoot: root,
    onStep: (jobId, step) => logs.push(`--- ${jobId}/${step.id}: ${step.outcome}\n${step.log}`)
  })
}

async function commentOnFork(gatedRunId: string): Promise<Record<string, JobRun>> {
  return runWorkflow('.github/workflows/model-pr-comment.yml', {
    inputs: {},
    github: {
      event_name: 'workflow_run',
      repository: `${OWNER}/${REPO}`,
      token: 'ghs_write_token',
      event: {
        workflow_run: {
          id: Number(gatedRunId),
          event: 'pull_request',
          conclusion: 'success',
          head_sha: heads.get(FORK_PR)
        }
      }
    },
    runnerEnv: { GITHUB_API_URL: github.url },
    standIns: {
      'actions/download-artifact': downloadArtifactStandIn,
      'actions/github-script': githubScriptStandIn('ghs_write_token')
    },
    tempRoot: root,
    onStep: (jobId, step) => logs.push(`--- ${jobId}/${step.id}: ${step.outcome}\n${step.log}`)
  })
}

// --- What the test reads back. ---

const comments = () => github.comments(OWNER, REPO, PR)
const deployments = () => github.deployments(OWNER, REPO)
const alias = (name: string) => readAliasWithPythonClient(mlflow.url, NAME, name).then(v => v?.version)
const versionCount = () =>
  runPythonClient<number>(
    mlflow.url,
    `def main():
    return len(client.search_model_versions(f"name = '{ARGS['name']}'"))`,
    { name: NAME }
  )
const stepOf = (job: JobRun, id: string) => job.runs[0]!.steps.find(step => step.id === id)

async function servedBy(haproxy: TestHaproxy): Promise<string[]> {
  const result = await probe({
    url: `${haproxy.url}/invocations`,
    body: BODY,
    requests: 10,
    versionHeader: 'x-served-by'
  })
  expect(result.errors).toBe(0)
  return Object.keys(result.byVersion)
}

/** The log of every step so far, when an expectation fails. */
function explain<T>(check: () => T): T {
  try {
    return check()
  } catch (error) {
    ;(error as Error).message += `\n\nsteps:\n${logs.join('\n').slice(-20_000)}`
    throw error
  }
}

describe('the chain: pull-request gate, promotion, fork comments', () => {
  it('a better model: one comment and a passing check; merged, it is registered, staged, promoted and champion', async () => {
    const source = project('better')
    const pr = await gate({ source, runId: '101' })
    explain(() => {
      expect(pr['model-gate']!.result).toBe('success')
      expect(pr['model-gate']!.outputs.passed).toBe('true')
      expect(pr.gate!.runs.map(r => r.matrix.model)).toEqual([NAME])
    })
    expect(comments()).toHaveLength(1)
    expect(comments()[0]!.body).toContain(`modelgate:report-id=${NAME}`)
    expect(comments()[0]!.body).not.toContain('fails the gate')

    const before = await versionCount()
    expect(await alias('champion')).toBe('1')
    expect(await servedBy(production)).toEqual(['v1'])
    const merged = await promote(source, '201')
    explain(() => {
      for (const job of ['models', 'register', 'staging', 'production'])
        expect([job, merged[job]!.result]).toEqual([job, 'success'])
    })
    expect(await versionCount()).toBe(before + 1)
    const registered = stepOf(merged.register!, 'register')!.outputs.version!
    expect(await alias('challenger')).toBe(registered)
    expect(await alias('champion')).toBe(registered)
    expect(stepOf(merged.production!, 'deploy')!.outputs).toMatchObject({
      'deployed-version': registered,
      'previous-version': '1',
      'rolled-back': 'false'
    })
    // A canary beside version 1 first, then all traffic.
    expect(stepOf(merged.production!, 'deploy')!.log).toContain(`traffic v${registered} 10% / v1 90%`)
    expect(deployments().map(d => [d.deployment.environment, d.statuses.at(-1)!.state])).toEqual([
      ['staging', 'success'],
      ['production', 'success']
    ])
    expect(await servedBy(staging)).toEqual([`v${registered}`])
    expect(await servedBy(production)).toEqual([`v${registered}`])
    // One config for both jobs: each environment's HAProxy was chosen by the environment the workflow named.
    for (const environment of ['staging', 'production'] as const) {
      const deploy = stepOf(merged[environment]!, 'deploy')!
      expect(deploy.log).toContain(
        `deploy settings: deploy.environments.${environment} over deploy in .modelgate.yml; endpoint from the inputs`
      )
      expect(deploy.outputs['endpoint-url']).toBe((environment === 'staging' ? staging : production).url)
    }
    expect(github.violations).toEqual([])
  }, 300_000)

  it('a worse model: the check fails and nothing is registered', async () => {
    const source = project('worse', dir => {
      const file = join(dir, 'metrics', 'candidate.json')
      const metrics = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      writeFileSync(file, JSON.stringify({ ...metrics, accuracy: 0.85 }, null, 2))
    })
    const before = await versionCount()
    const champion = await alias('champion')
    const pr = await gate({ source, runId: '102' })
    explain(() => {
      expect(pr.gate!.result).toBe('failure')
      expect(pr['model-gate']!.result).toBe('failure')
      // Within the config's floor, so validation passes: the comparison with the champion is what fails.
      expect(stepOf(pr.gate!, 'validate')!.outcome).toBe('success')
      expect(stepOf(pr.gate!, 'compare')!.outcome).toBe('failure')
    })
    // The same sticky comment, now saying the model regressed.
    expect(comments()).toHaveLength(1)
    expect(comments()[0]!.body).toContain('fails the gate')
    // Merged anyway (no branch rule): the promotion's own comparison stops it before registration.
    const merged = await promote(source, '202')
    explain(() => {
      expect(merged.register!.result).toBe('failure')
      expect(stepOf(merged.register!, 'compare')!.outcome).toBe('failure')
      expect(stepOf(merged.register!, 'register')!.outcome).toBe('skipped')
      expect(merged.staging!.result).toBe('skipped')
      expect(merged.production!.result).toBe('skipped')
    })
    expect(await versionCount()).toBe(before)
    expect(await alias('champion')).toBe(champion)
    expect(deployments()).toHaveLength(2)
  }, 300_000)

  it('a broken model that passes the gates but fails in serving: rolled back, champion unmoved', async () => {
    const source = project('broken', dir => {
      rmSync(join(dir, 'model'), { recursive: true })
      cpSync(join(root, 'broken'), join(dir, 'model'), { recursive: true })
    })
    const champion = await alias('champion')
    const pr = await gate({ source, runId: '103' })
    explain(() => expect(pr['model-gate']!.result).toBe('success'))
    const merged = await promote(source, '203')
    explain(() => {
      expect(merged.register!.result).toBe('success')
      expect(merged.staging!.result).toBe('failure')
      expect(merged.production!.result).toBe('skipped')
    })
    const deploy = stepOf(merged.staging!, 'deploy')!
    expect(deploy.log).toMatch(/deploy\.error_rate 1 > max 0/)
    expect(deploy.log).toContain('failed, rolled back (proven)')
    expect(deploy.outputs).toMatchObject({ 'rolled-back': 'true', 'deployed-version': champion })
    expect(await alias('champion')).toBe(champion)
    expect(deployments().map(d => [d.deployment.environment, d.statuses.at(-1)!.state])).toEqual([
      ['staging', 'success'],
      ['production', 'success'],
      ['staging', 'failure']
    ])
    expect(await servedBy(staging)).toEqual([`v${champion}`])
    expect(await servedBy(production)).toEqual([`v${champion}`])
  }, 300_000)

  it("a fork's pull request: the gate writes nothing, the workflow_run half posts the comment", async () => {
    const thread = () => github.comments(OWNER, REPO, FORK_PR)
    const writes = () => github.requests.filter(r => r.method !== 'GET').length
    const writesBefore = writes()
    const pr = await gate({ source: project('fork'), fork: true, runId: '104' })
    explain(() => {
      expect(pr['model-gate']!.result).toBe('success')
      expect(stepOf(pr.gate!, 'upload-comment')!.outcome).toBe('success')
    })
    expect(writes()).toBe(writesBefore)
    expect(thread()).toEqual([])

    const posted = await commentOnFork('104')
    explain(() => expect(posted.comment!.result).toBe('success'))
    const mine = thread().filter(c => c.body.startsWith(`<!-- modelgate:report-id=${NAME} -->`))
    expect(mine).toHaveLength(1)
    expect(mine[0]!.body).toContain(NAME)
    expect(github.violations).toEqual([])
  }, 300_000)
})
