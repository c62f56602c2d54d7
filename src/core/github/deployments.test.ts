import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGitHubDouble, type GitHubDouble } from '../../../test/github-double/server.js'
import {
  clampDescription,
  deploymentTask,
  isProductionEnvironment,
  noDeploymentRecorder,
  type DeploymentRecorder,
  type DeploymentRollout
} from './deployments.js'
import { openDeploymentRecorder } from './open-deployment-recorder.js'

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b'
const RUN_URL = 'https://github.com/acme/models/actions/runs/42'
const ENDPOINT_URL = 'http://127.0.0.1:8080/invocations'

let double: GitHubDouble
let warnings: string[]

beforeEach(async () => {
  double = await startGitHubDouble()
  warnings = []
})

afterEach(async () => {
  await double.close()
})

function open(token = 'ghs_write_token'): Promise<DeploymentRecorder> {
  return openDeploymentRecorder({
    token,
    repository: { owner: 'acme', repo: 'models' },
    apiUrl: double.url,
    logUrl: RUN_URL,
    retryBaseMs: 1,
    warn: message => warnings.push(message)
  })
}

function rollout(version: string, environment: string, more: Partial<DeploymentRollout> = {}): DeploymentRollout {
  return {
    model: 'churn',
    version,
    ...(Number(version) > 1 ? { previousVersion: String(Number(version) - 1) } : {}),
    target: 'haproxy',
    endpoint: 'churn-endpoint',
    environment,
    sha: SHA,
    ...more
  }
}

async function deployOk(version: string, environment: string) {
  const recorder = await open()
  const started = await recorder.start(rollout(version, environment))
  const finished = await recorder.finish({
    state: 'success',
    environmentUrl: ENDPOINT_URL,
    summary: '200 requests, 0.0% errors, p95 35 ms'
  })
  return { started, finished }
}

/** Each deployment of the repository, oldest first: [version, environment, latest state]. */
function board(): Array<[unknown, string, string | undefined]> {
  return double
    .deployments('acme', 'models')
    .map(d => [
      (d.deployment.payload as { version?: string }).version,
      d.deployment.environment,
      d.statuses.at(-1)?.state
    ])
}

function active(environment: string): number {
  return board().filter(([, env, state]) => env === environment && state === 'success').length
}

describe('recording rollouts as GitHub deployments', () => {
  afterEach(() => {
    expect(double.violations).toEqual([])
  })

  it('records a first rollout: created, in progress, then success with the endpoint URL and the run log', async () => {
    const { started, finished } = await deployOk('1', 'production')
    expect(started).toEqual({ id: expect.any(Number), created: true, state: 'in_progress', retired: [] })
    expect(finished).toEqual({ id: started?.id, created: true, state: 'success', retired: [] })

    const [stored] = double.deployments('acme', 'models')
    expect(stored.deployment).toMatchObject({
      sha: SHA,
      ref: SHA,
      task: 'deploy:churn',
      environment: 'production',
      production_environment: true,
      transient_environment: false,
      payload: { model: 'churn', version: '1', previousVersion: null, target: 'haproxy', endpoint: 'churn-endpoint' }
    })
    expect(stored.statuses.map(s => [s.state, s.log_url, s.environment_url])).toEqual([
      ['in_progress', RUN_URL, ''],
      ['success', RUN_URL, ENDPOINT_URL]
    ])
    expect(stored.statuses[1].description).toBe(
      'churn v1 serves churn-endpoint (nothing served before): 200 requests, 0.0% errors, p95 35 ms'
    )
    // The create request is the one that avoids GitHub's 202 (auto_merge) and 409 (required_contexts).
    const create = double.requests.find(r => r.method === 'POST' && r.path.endsWith('/deployments'))
    expect(create?.body).toMatchObject({ auto_merge: false, required_contexts: [], transient_environment: false })
    expect(warnings).toEqual([])
  })

  it.each(['production', 'staging'])(
    'leaves one active deployment on %s after a second rollout: the first reads inactive',
    async environment => {
      const first = await deployOk('1', environment)
      const second = await deployOk('2', environment)
      expect(board()).toEqual([
        ['1', environment, 'inactive'],
        ['2', environment, 'success']
      ])
      expect(active(environment)).toBe(1)
      // On production the recorder retires the first; on staging GitHub's auto_inactive already did.
      expect(second.finished?.retired).toEqual(environment === 'production' ? [first.started?.id] : [])
      const third = await deployOk('3', environment)
      expect(board().map(([version, , state]) => [version, state])).toEqual([
        ['1', 'inactive'],
        ['2', 'inactive'],
        ['3', 'success']
      ])
      expect(active(environment)).toBe(1)
      expect(third.finished?.state).toBe('success')
    }
  )

  it('keeps environments and models apart', async () => {
    await deployOk('1', 'production')
    await deployOk('1', 'staging')
    await deployOk('2', 'staging')
    const other = await open()
    await other.start(rollout('9', 'production', { model: 'fraud' }))
    await other.finish({ state: 'success', environmentUrl: 'http://127.0.0.1:9090/invocations' })
    expect(board()).toEqual([
      ['1', 'production', 'success'],
      ['1', 'staging', 'inactive'],
      ['2', 'staging', 'success'],
      ['9', 'production', 'success']
    ])
    expect(double.deployments('acme', 'models').map(d => d.deployment.task)).toEqual([
      'deploy:churn',
      'deploy:churn',
      'deploy:churn',
      'deploy:fraud'
    ])
  })

  it('keeps two endpoints of one model in one environment apart: neither reuses nor retires the other', async () => {
    const deployTo = async (endpoint: string, version: string) => {
      const recorder = await open()
      const started = await recorder.start(rollout(version, 'production', { endpoint }))
      const finished = await recorder.finish({ state: 'success', environmentUrl: `http://${endpoint}/invocations` })
      return { started, finished }
    }
    await deployTo('churn-eu', '3')
    const us = await deployTo('churn-us', '3')
    expect(us.started).toMatchObject({ created: true })
    expect(us.finished?.retired).toEqual([])
    const again = await deployTo('churn-us', '3')
    expect(again.started).toMatchObject({ id: us.started!.id, created: false })
    const next = await deployTo('churn-eu', '4')
    expect(next.finished?.retired).toHaveLength(1)
    expect(
      double
        .deployments('acme', 'models')
        .map(d => [(d.deployment.payload as { endpoint: string }).endpoint, d.statuses.at(-1)?.state])
    ).toEqual([
      ['churn-eu', 'inactive'],
      ['churn-us', 'success'],
      ['churn-eu', 'success']
    ])
  })

  it('records a failed rollout as failure, saying whether it was rolled back, and leaves the previous active', async () => {
    await deployOk('1', 'production')
    const recorder = await open()
    await recorder.start(rollout('2', 'production'))
    const finished = await recorder.finish({
      state: 'failure',
      rolledBack: true,
      summary: 'error rate 12.0% > 1.0% over 200 requests'
    })
    expect(finished).toMatchObject({ state: 'failure', retired: [] })
    expect(board()).toEqual([
      ['1', 'production', 'success'],
      ['2', 'production', 'failure']
    ])
    const failed = double.deployments('acme', 'models')[1].statuses.at(-1)
    expect(failed?.description).toBe('churn v2 failed, rolled back to v1: error rate 12.0% > 1.0% over 200 requests')

    const broken = await open()
    await broken.start(rollout('3', 'production'))
    await broken.finish({ state: 'failure', rolledBack: false, summary: 'x'.repeat(300) })
    const description = double.deployments('acme', 'models')[2].statuses.at(-1)?.description ?? ''
    expect(description.startsWith('churn v3 failed, NOT rolled back: xxx')).toBe(true)
    expect([...description]).toHaveLength(140)
    expect(active('production')).toBe(1)
  })

  it('finds its deployment again on a re-run instead of creating another, and posts nothing it already has', async () => {
    const first = await deployOk('2', 'production')
    const posts = () => double.requests.filter(r => r.method === 'POST').length
    const before = posts()
    const again = await deployOk('2', 'production')
    expect(again.started).toEqual({ id: first.started?.id, created: false, state: 'success', retired: [] })
    expect(again.finished).toMatchObject({ id: first.started?.id, created: false, state: 'success' })
    expect(posts()).toBe(before)
    expect(board()).toEqual([['2', 'production', 'success']])

    // A re-run after a failed attempt reuses the deployment too, and moves it on.
    const failing = await open()
    await failing.start(rollout('3', 'production'))
    await failing.finish({ state: 'failure', rolledBack: true })
    const retry = await deployOk('3', 'production')
    expect(retry.started).toMatchObject({ created: false, state: 'in_progress' })
    expect(board()).toEqual([
      ['2', 'production', 'inactive'],
      ['3', 'production', 'success']
    ])
    expect(double.deployments('acme', 'models')[1].statuses.map(s => s.state)).toEqual([
      'in_progress',
      'failure',
      'in_progress',
      'success'
    ])
  })

  it('records a re-run of an older rollout after a newer one as a new deployment, one active still', async () => {
    const older = await open()
    await older.start(rollout('1', 'production', { sha: 'b'.repeat(40) }))
    await older.finish({ state: 'success', environmentUrl: ENDPOINT_URL })
    await deployOk('2', 'production')
    // The workflow run of v1 is re-run: v1 serves again, recorded as the newest deployment.
    const rerun = await open()
    const started = await rerun.start(rollout('1', 'production', { sha: 'b'.repeat(40) }))
    const finished = await rerun.finish({ state: 'success', environmentUrl: ENDPOINT_URL })
    expect(started).toMatchObject({ created: true })
    expect(finished?.retired).toHaveLength(1)
    expect(board()).toEqual([
      ['1', 'production', 'inactive'],
      ['2', 'production', 'inactive'],
      ['1', 'production', 'success']
    ])
  })

  it('finds its deployment beyond the first page of 100', async () => {
    // 150 earlier rollouts of other versions of the same commit, task and environment; ours is the oldest.
    const seeded = double.seedDeployments('acme', 'models', [
      {
        sha: SHA,
        task: 'deploy:churn',
        environment: 'production',
        payload: { model: 'churn', version: '7' },
        states: ['in_progress', 'failure']
      },
      ...Array.from({ length: 150 }, (_, index) => ({
        sha: SHA,
        task: 'deploy:churn',
        environment: 'production',
        payload: { model: 'churn', version: String(100 + index) },
        states: ['failure' as const]
      }))
    ])
    const recorder = await open()
    const started = await recorder.start(rollout('7', 'production'))
    expect(started).toMatchObject({ id: seeded[0].deployment.id, created: false, state: 'in_progress' })
    // The find step's requests (the later ones check that none of the 150 newer deployments served since).
    const lists = double.requests.filter(r => r.method === 'GET' && r.path.endsWith('/deployments') && r.query.sha)
    expect(lists.map(r => [r.query.page ?? '1', r.query.per_page, r.query.sha, r.query.task])).toEqual([
      ['1', '100', SHA, 'deploy:churn'],
      ['2', '100', SHA, 'deploy:churn']
    ])
    expect(double.deployments('acme', 'models')).toHaveLength(151)
  })

  it('retries rate limits and server errors through the octokit plugins', async () => {
    double.injectFault({ method: 'POST', path: /\/deployments$/, count: 1, kind: 'secondary-rate-limit' })
    double.injectFault({ method: 'POST', path: /\/statuses$/, count: 2, kind: 'server-error', status: 502 })
    const { finished } = await deployOk('1', 'production')
    expect(finished?.state).toBe('success')
    expect(board()).toEqual([['1', 'production', 'success']])
    expect(double.requests.filter(r => r.status >= 400).map(r => r.status)).toEqual([403, 502, 502])
    expect(warnings).toEqual([])
  })
})

describe('a create that GitHub stored but answered with an error', () => {
  let proxy: Server | undefined
  afterEach(async () => {
    const closing = proxy
    proxy = undefined
    if (!closing) return
    closing.closeAllConnections()
    await new Promise(done => closing.close(done))
  })

  /** Forwards to the double; the first POST of a deployment reaches it, but its client is told 502. */
  async function failingAfterCreate(): Promise<string> {
    let failed = false
    proxy = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const headers = { ...request.headers }
        delete headers.host
        delete headers['content-length']
        void fetch(`${double.url}${request.url}`, {
          method: request.method!,
          headers: headers as Record<string, string>,
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {})
        }).then(async answer => {
          const text = await answer.text()
          if (request.method === 'POST' && /\/deployments$/.test(request.url!) && !failed) {
            failed = true
            response.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Server Error"}')
            return
          }
          const passed: Record<string, string> = {}
          answer.headers.forEach((value, key) => {
            if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(key))
              passed[key] = value
          })
          response.writeHead(answer.status, passed).end(text)
        })
      })
    })
    await new Promise<void>(done => proxy!.listen(0, '127.0.0.1', done))
    return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  }

  it('finds the deployment it created instead of creating a second one', async () => {
    const recorder = await openDeploymentRecorder({
      token: 'ghs_write_token',
      repository: { owner: 'acme', repo: 'models' },
      apiUrl: await failingAfterCreate(),
      retryBaseMs: 1,
      warn: message => warnings.push(message)
    })
    const started = await recorder.start(rollout('1', 'production'))
    await recorder.finish({ state: 'success', environmentUrl: ENDPOINT_URL })
    expect(started).toMatchObject({ created: true, state: 'in_progress' })
    expect(board()).toEqual([['1', 'production', 'success']])
    expect(warnings).toEqual([])
  })

  it('creates again after a 502 that stored nothing', async () => {
    double.injectFault({ method: 'POST', path: /\/deployments$/, count: 1, kind: 'server-error', status: 502 })
    const { started } = await deployOk('1', 'production')
    expect(started).toMatchObject({ created: true, state: 'in_progress' })
    expect(board()).toEqual([['1', 'production', 'success']])
    expect(warnings).toEqual([])
  })
})

describe('when nothing can be recorded', () => {
  it('warns once and does not throw with a read-only token', async () => {
    const recorder = await open('ghs_read_token')
    expect(await recorder.start(rollout('1', 'production'))).toBeUndefined()
    expect(await recorder.finish({ state: 'success', environmentUrl: ENDPOINT_URL })).toBeUndefined()
    expect(warnings).toEqual([
      'The token may not create the deployment on GitHub (the workflow needs `permissions: deployments: write`); ' +
        'the rollout is not recorded on the Deployments page.'
    ])
    expect(double.deployments('acme', 'models')).toEqual([])
    expect(double.violations).toEqual([])
  })

  it('warns and does not throw when GitHub keeps failing', async () => {
    const recorder = await open()
    await recorder.start(rollout('1', 'production'))
    double.injectFault({ method: 'POST', path: /\/statuses$/, count: 10, kind: 'server-error', status: 503 })
    expect(await recorder.finish({ state: 'success' })).toBeUndefined()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^Could not record the rollout outcome on GitHub: /)
  })

  it('records nothing without a token or repository or in a dry run', async () => {
    const info: string[] = []
    const base = { apiUrl: double.url, warn: (m: string) => warnings.push(m), info: (m: string) => info.push(m) }
    const repository = { owner: 'acme', repo: 'models' }
    expect(await openDeploymentRecorder({ ...base, repository })).toBe(noDeploymentRecorder)
    expect(await openDeploymentRecorder({ ...base, token: 'ghs_write_token' })).toBe(noDeploymentRecorder)
    expect(await openDeploymentRecorder({ ...base, token: 'ghs_write_token', repository, dryRun: true })).toBe(
      noDeploymentRecorder
    )
    expect(await noDeploymentRecorder.start(rollout('1', 'production'))).toBeUndefined()
    expect(await noDeploymentRecorder.finish({ state: 'failure', rolledBack: true })).toBeUndefined()
    expect(info).toHaveLength(2)
    expect(warnings).toEqual([])
    expect(double.requests).toEqual([])
  })
})

describe('helpers', () => {
  it('tells production-like environments by name', () => {
    for (const name of ['production', 'Production', 'prod', 'prod-eu', 'us-production', 'models/prod']) {
      expect([name, isProductionEnvironment(name)]).toEqual([name, true])
    }
    for (const name of ['staging', 'preprod', 'product-demo', 'dev', 'production2']) {
      expect([name, isProductionEnvironment(name)]).toEqual([name, false])
    }
  })

  it('clamps descriptions to 140 characters counted in code points', () => {
    expect(clampDescription('  a \n b  ')).toBe('a b')
    expect(clampDescription('📈'.repeat(140))).toBe('📈'.repeat(140))
    expect(clampDescription('📈'.repeat(141))).toBe(`${'📈'.repeat(139)}…`)
    expect(deploymentTask('churn')).toBe('deploy:churn')
  })
})
