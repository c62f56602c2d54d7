/**
 * The shipped deploy-endpoint bundle, run as the Actions runner runs it, against Debian's HAProxy and real
 * `mlflow models serve` processes on loopback, with the versions registered by the register-model bundle in a file
 * registry (register-model's default). The cases run in order on one endpoint, each from the state the one before
 * left: a first deploy, a re-run that changes nothing, a dry run that starts nothing, a canary of a model that
 * raises on every prediction (failed, rolled back, proven), a bad input, and `deploy.environments` chosen by the
 * environment input.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mlflowServeLauncher, ModelServers } from '../src/core/serving/model-server.js'
import { probe } from '../src/core/serving/probe.js'
import { main } from '../src/cli/main.js'
import { startGitHubDouble, type GitHubDouble } from '../test/github-double/server.js'
import {
  inputVariable,
  parseOutputFile,
  readActionMetadata,
  ROOT,
  runAction,
  type ActionRun
} from '../test/harness/run-action.js'
import { startTestHaproxy, type TestHaproxy } from '../test/serving/haproxy.js'

const PYTHON = join(ROOT, '.venv', 'bin', 'python')
const GOOD = join(ROOT, 'examples', 'churn-classifier', 'model')
const BODY = JSON.parse(readFileSync(join(GOOD, 'serving_input_example.json'), 'utf8'))

let workspace: string
let haproxy: TestHaproxy
let github: GitHubDouble
let servers: ModelServers
const stateDir = () => join(workspace, 'serving-state')

beforeAll(async () => {
  if (!existsSync(PYTHON))
    throw new Error(`these tests need the project's Python environment: run scripts/setup-python.sh`)
  haproxy = await startTestHaproxy('churn')
  github = await startGitHubDouble()
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-deploy-action-'))
  execFileSync(PYTHON, [join(ROOT, 'test', 'serving', 'make_models.py'), join(workspace, 'models')], { stdio: 'pipe' })
  mkdirSync(join(workspace, 'requests'))
  copyFileSync(join(GOOD, 'serving_input_example.json'), join(workspace, 'requests', 'churn.json'))
  writeFileSync(
    join(workspace, '.modelgate.yml'),
    [
      'model: churn',
      'metrics:',
      '  deploy.error_rate: { max: 0 }',
      '  deploy.latency_p95_ms: { max: 5000 }',
      'deploy:',
      '  target: haproxy',
      '  endpoint: churn',
      `  url: ${haproxy.url}`,
      `  runtime-api: ${haproxy.socket}`,
      `  python: ${PYTHON}`,
      `  state-dir: ${stateDir()}`,
      ''
    ].join('\n')
  )
  // Both versions registered as a workflow would: the good model is version 1, the one that raises version 2.
  for (const [path, version] of [
    [GOOD, '1'],
    [join(workspace, 'models', 'raises'), '2'],
    [join(workspace, 'models', 'slow'), '3']
  ] as const) {
    const registered = await runAction('register-model', { workspace, inputs: { name: 'churn', 'model-path': path } })
    expect(registered.errors).toEqual([])
    expect(registered.outputs.version).toBe(version)
  }
  servers = new ModelServers({
    stateDir: join(stateDir(), 'churn'),
    launcher: mlflowServeLauncher({ python: PYTHON })
  })
}, 180_000)

afterAll(async () => {
  for (const record of (await servers?.list()) ?? []) await servers.stop(record.version)
  await haproxy?.close()
  await github?.close()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
}, 60_000)

async function deploy(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('deploy-endpoint', {
    workspace,
    inputs: { requests: '20', timeout: '3m', ...inputs },
    githubToken: 'ghs_write_token',
    env: { MODELGATE_RETRY_BASE_MS: '20', GITHUB_API_URL: github.url }
  })
}

/** The test's own proof: every request through HAProxy answered, without error, by `version`. */
async function expectServing(version: string): Promise<void> {
  const result = await probe({
    url: `${haproxy.url}/invocations`,
    body: BODY,
    requests: 20,
    versionHeader: 'x-served-by'
  })
  expect(result.errors).toBe(0)
  expect(Object.keys(result.byVersion)).toEqual([`v${version}`])
}

function report(run: ActionRun): Record<string, unknown> {
  return JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as Record<string, unknown>
}

describe('deploy-endpoint (bundle) on HAProxy with mlflow models serve', () => {
  it('a first deploy puts version 1 behind the endpoint, reports it, records it and moves the alias', async () => {
    const run = await deploy({ 'model-uri': 'models:/churn/1', environment: 'staging', 'promote-alias': 'champion' })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      'endpoint-url': haproxy.url,
      'deployed-version': '1',
      'previous-version': '',
      'rolled-back': 'false',
      changed: 'true',
      'error-rate': '0'
    })
    const [recorded] = github.deployments('acme', 'churn')
    expect(run.outputs['deployment-id']).toBe(String(recorded!.deployment.id))
    expect(recorded!.deployment).toMatchObject({ environment: 'staging', task: 'deploy:churn' })
    expect(recorded!.statuses.map(s => [s.state, s.environment_url])).toEqual([
      ['in_progress', ''],
      ['success', haproxy.url]
    ])
    expect(run.summary).toContain('| Alias | champion → version 1 |')
    expect(Number(run.outputs['latency-p95-ms'])).toBeGreaterThan(0)
    expect(run.summary).toContain('churn version 1 → churn (haproxy): deployed')
    expect(run.summary).toContain('deploy.error_rate ≤ 0, deploy.latency_p95_ms ≤ 5000')
    expect(run.summary).toMatch(/\| 1 \| v1 100% \| v1: 20 \| 20 \| 0 \| 0\.0% \|/)
    expect(report(run)).toMatchObject({ passed: true, version: '1', rollout: { outcome: 'deployed' } })
    // The version's files were copied where a later job finds them, and its server is recorded there.
    expect(existsSync(join(stateDir(), 'churn', 'models', 'churn-1', 'MLmodel'))).toBe(true)
    expect((await servers.list()).map(r => [r.version, r.alive])).toEqual([['1', true]])
    await expectServing('1')
  }, 240_000)

  it('a re-run (by the alias now on version 1) changes nothing and records nothing', async () => {
    const pid = (await servers.find('1'))!.pid
    const run = await deploy({ 'model-uri': 'models:/churn@champion', environment: 'staging' })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ changed: 'false', 'deployed-version': '1', 'rolled-back': 'false' })
    expect(run.summary).toContain('already serving, nothing changed')
    expect((await servers.find('1'))!.pid).toBe(pid)
    expect(github.deployments('acme', 'churn')).toHaveLength(1)
  }, 60_000)

  it('a dry run prints the plan and starts nothing', async () => {
    const run = await deploy({ 'model-uri': 'models:/churn/2', traffic: '10', 'dry-run': 'true' })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ changed: 'false', 'previous-version': '1', 'rolled-back': 'false' })
    expect(run.summary).toContain('planned (dry run, nothing changed)')
    expect(run.summary).toContain('| Before | v1 100% (previous version 1) |')
    expect(run.summary).toContain('v2 10% / v1 90% (200 requests) → v2 100% / v1 0% (20 requests)')
    expect(await servers.find('2')).toBeUndefined()
    expect(existsSync(join(stateDir(), 'churn', 'models', 'churn-2'))).toBe(false)
    await expectServing('1')
  }, 60_000)

  it('modelgate deploy --dry-run prints the plan as JSON and exits 0', async () => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(
      [
        'deploy',
        '--workspace',
        workspace,
        '--model-uri',
        'models:/churn/2',
        '--traffic',
        '25',
        '--dry-run',
        '--format',
        'json'
      ],
      { out: text => void out.push(text), error: text => void err.push(text), isTerminal: false },
      {}
    )
    expect(err.join('\n')).not.toMatch(/error/i)
    expect(code).toBe(0)
    const printed = JSON.parse(out.join('')) as { rollout: { outcome: string; plan: { steps: unknown[] } } }
    expect(printed.rollout.outcome).toBe('planned')
    expect(printed.rollout.plan.steps).toEqual([
      { routes: { '1': 75, '2': 25 }, requests: 200 },
      { routes: { '1': 0, '2': 100 }, requests: 50 }
    ])
    expect(await servers.find('2')).toBeUndefined()
  }, 60_000)

  it('a canary of a model that raises on every prediction fails and is rolled back, proven', async () => {
    const run = await deploy({
      'model-uri': 'models:/churn/2',
      traffic: '10',
      'smoke-input': 'requests/churn.json',
      environment: 'staging',
      'promote-alias': 'champion'
    })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({
      'rolled-back': 'true',
      changed: 'true',
      'deployed-version': '1',
      'previous-version': '1'
    })
    expect(Number(run.outputs['error-rate'])).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/version 2 failed at v2 10% \/ v1 90%: deploy\.error_rate 1 > max 0/)
    expect(run.errors[0]).toMatch(
      /\. Rolled back: state read back equal to before, and 20 requests all answered by version 1/
    )
    expect(run.summary).toContain('failed, rolled back (proven)')
    expect(run.summary).toMatch(/\| 1 \| v2 10% \/ v1 90% \| .*v2: \d+.* \| \d+ \| \d+ \| 100\.0% \|/)
    expect(run.summary).toContain('### Rollback')
    expect(run.summary).toContain('Verification: 20 requests, 0 errors, answered by v1 (20)')
    expect(report(run).rollout).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    const failed = github.deployments('acme', 'churn')[1]!
    expect(failed.statuses.map(s => s.state)).toEqual(['in_progress', 'failure'])
    expect(run.outputs['deployment-id']).toBe(String(failed.deployment.id))
    expect(github.violations).toEqual([])
    // The alias stays on the version that serves.
    const champion = await deploy({ 'model-uri': 'models:/churn@champion', 'dry-run': 'true' })
    expect(champion.summary).toContain('churn version 1 → churn (haproxy): planned')
    await expectServing('1')
    expect((await servers.list()).map(r => r.version)).toEqual(['1'])
  }, 240_000)

  it('a cancelled job (SIGTERM mid-rollout) leaves the previous version serving, proven', async () => {
    // The runner's way: the step's process gets SIGINT, then SIGTERM, then is killed; here SIGTERM while the new
    // version's model server is starting.
    const temp = mkdtempSync(join(tmpdir(), 'modelgate-deploy-cancel-'))
    const inputs: Record<string, string> = {}
    for (const [name, spec] of Object.entries(readActionMetadata('deploy-endpoint').inputs ?? {})) {
      if (spec.default !== undefined) inputs[inputVariable(name)] = String(spec.default).replace(/\$\{\{.*\}\}/, '')
    }
    writeFileSync(join(temp, 'output'), '')
    writeFileSync(join(temp, 'summary'), '')
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'deploy-endpoint', 'index.js')], {
      cwd: workspace,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? temp,
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: join(temp, 'output'),
        GITHUB_STEP_SUMMARY: join(temp, 'summary'),
        RUNNER_TEMP: temp,
        ...inputs,
        [inputVariable('model-uri')]: 'models:/churn/3',
        [inputVariable('traffic')]: '10',
        [inputVariable('requests')]: '20',
        [inputVariable('smoke-input')]: 'requests/churn.json'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let signalled = false
    child.stdout.on('data', chunk => {
      stdout += chunk
      if (stdout.includes('[apply 1]') && !signalled) {
        signalled = true
        setTimeout(() => child.kill('SIGTERM'), 1500)
      }
    })
    const code = await new Promise<number | null>(done => child.on('close', done))
    const outputs = parseOutputFile(readFileSync(join(temp, 'output'), 'utf8'))
    rmSync(temp, { recursive: true, force: true })
    expect(stdout).toContain('received SIGTERM')
    expect(code).toBe(1)
    expect(outputs).toMatchObject({ 'rolled-back': 'true', 'deployed-version': '1', 'previous-version': '1' })
    await expectServing('1')
    expect((await servers.list()).map(r => r.version)).toEqual(['1'])
  }, 240_000)

  it('a bad traffic input fails the step with one error line naming it, touching nothing', async () => {
    const run = await deploy({ 'model-uri': 'models:/churn/2', traffic: 'half' })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      `input 'traffic': expected a whole percentage from 1 to 100 (below 100 is a canary beside the version serving now), got "half"`
    ])
    expect(run.stdout).not.toMatch(/at .*\.js:\d+/)
    await expectServing('1')
  }, 60_000)

  it('deploy.environments: the environment input picks its settings; one the map lacks fails, touching nothing', async () => {
    // The top-level keys point where nothing listens: only the staging entry reaches this HAProxy.
    writeFileSync(
      join(workspace, 'environments.yml'),
      [
        'model: churn',
        'deploy:',
        '  target: haproxy',
        '  endpoint: churn',
        '  url: http://127.0.0.1:9',
        '  runtime-api: 127.0.0.1:9',
        `  python: ${PYTHON}`,
        `  state-dir: ${stateDir()}`,
        '  environments:',
        '    staging:',
        `      url: ${haproxy.url}`,
        `      runtime-api: ${haproxy.socket}`,
        ''
      ].join('\n')
    )
    const recorded = github.deployments('acme', 'churn').length
    const planned = await deploy({
      'model-uri': 'models:/churn/2',
      config: 'environments.yml',
      environment: 'staging',
      'dry-run': 'true'
    })
    expect(planned.errors).toEqual([])
    expect(planned.exitCode).toBe(0)
    expect(planned.summary).toContain('| Settings | deploy.environments.staging over deploy in environments.yml |')
    expect(planned.summary).toContain('| Before | v1 100% (previous version 1) |')
    expect(planned.outputs['endpoint-url']).toBe(haproxy.url)
    expect(report(planned).settings).toEqual({
      configFile: 'environments.yml',
      environment: 'staging',
      entry: 'deploy.environments.staging',
      fromInputs: []
    })

    const refused = await deploy({
      'model-uri': 'models:/churn/2',
      config: 'environments.yml',
      environment: 'production'
    })
    expect(refused.exitCode).toBe(1)
    expect(refused.errors).toEqual([
      `environments.yml (deploy.environments): has no settings for environment "production" (input 'environment'); it names "staging". Add "production" to deploy.environments, or give one of those names: with a deploy.environments map, a rollout never falls back to the top-level deploy settings`
    ])
    expect(github.deployments('acme', 'churn')).toHaveLength(recorded)
    await expectServing('1')
    expect((await servers.list()).map(r => r.version)).toEqual(['1'])
  }, 60_000)
})
