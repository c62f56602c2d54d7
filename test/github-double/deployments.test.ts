import { afterEach, describe, expect, it } from '@jest/globals'
import type { Deployment, DeploymentStatus } from './deployments.js'
import { loadApiDescription } from './openapi.js'
import { gitHubDoublePerTest, READ, WRITE } from './per-test.js'

const DEPLOYMENTS = '/repos/acme/models/deployments'
const SHA = 'a'.repeat(40)

const github = gitHubDoublePerTest()
const { call } = github

async function deploy(body: Record<string, unknown>): Promise<Deployment> {
  const response = await call('POST', DEPLOYMENTS, WRITE, {
    ref: SHA,
    auto_merge: false,
    required_contexts: [],
    ...body
  })
  expect(response.status).toBe(201)
  return (await response.json()) as Deployment
}

async function status(id: number, body: Record<string, unknown>): Promise<DeploymentStatus> {
  const response = await call('POST', `${DEPLOYMENTS}/${id}/statuses`, WRITE, body)
  expect(response.status).toBe(201)
  return (await response.json()) as DeploymentStatus
}

function states(): Array<[string, string[]]> {
  return github.double.deployments('acme', 'models').map(d => [d.deployment.environment, d.statuses.map(s => s.state)])
}

describe('deployments as GitHub keeps them', () => {
  afterEach(() => {
    expect(github.double.violations).toEqual([])
  })

  it('creates a deployment with GitHub defaults and lists it newest first with filters', async () => {
    const first = await deploy({ task: 'deploy:churn', environment: 'staging', payload: { version: '1' } })
    expect(first).toMatchObject({
      sha: SHA,
      ref: SHA,
      task: 'deploy:churn',
      environment: 'staging',
      original_environment: 'staging',
      production_environment: false,
      transient_environment: false,
      payload: { version: '1' },
      creator: { login: 'github-actions[bot]' }
    })
    const second = await deploy({ environment: 'production' })
    expect(second).toMatchObject({ task: 'deploy', production_environment: true })
    const branch = await deploy({ ref: 'main', environment: 'staging' })
    expect(branch.sha).toMatch(/^[0-9a-f]{40}$/)

    const all = (await (await call('GET', DEPLOYMENTS, READ)).json()) as Deployment[]
    expect(all.map(d => d.id)).toEqual([branch.id, second.id, first.id])
    const filtered = await call('GET', `${DEPLOYMENTS}?sha=${SHA}&environment=staging&task=deploy:churn`, READ)
    expect(((await filtered.json()) as Deployment[]).map(d => d.id)).toEqual([first.id])
    expect((await call('GET', `${DEPLOYMENTS}/${first.id}`, READ)).status).toBe(200)
    expect((await call('GET', `${DEPLOYMENTS}/1`, READ)).status).toBe(404)
  })

  it('pages deployments like comments, with Link headers', async () => {
    github.double.seedDeployments(
      'acme',
      'models',
      Array.from({ length: 150 }, () => ({ sha: SHA, task: 'deploy:churn', environment: 'production' }))
    )
    const first = await call('GET', `${DEPLOYMENTS}?per_page=100`, READ)
    expect((await first.json()) as unknown[]).toHaveLength(100)
    expect(first.headers.get('link')).toContain('page=2>; rel="next"')
  })

  it('answers 202 and creates nothing when auto_merge is left on and the ref is behind', async () => {
    github.double.markBehind('acme', 'models', 'topic')
    const merged = await call('POST', DEPLOYMENTS, WRITE, { ref: 'topic', required_contexts: [] })
    expect(merged.status).toBe(202)
    expect(await merged.json()).toEqual({ message: 'Auto-merged main into topic on deployment.' })
    expect(github.double.deployments('acme', 'models')).toEqual([])

    github.double.markBehind('acme', 'models', 'topic')
    expect((await call('POST', DEPLOYMENTS, WRITE, { ref: 'topic', auto_merge: false })).status).toBe(201)
  })

  it('answers 409 when required_contexts is omitted and a commit status is not green', async () => {
    github.double.setCommitStatuses('acme', 'models', SHA, { 'ci/tests': 'success', 'ci/lint': 'failure' })
    const refused = await call('POST', DEPLOYMENTS, WRITE, { ref: SHA, auto_merge: false })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({
      message: `Conflict: Commit status checks failed for ${SHA}.`,
      errors: [
        {
          contexts: [
            { context: 'ci/tests', state: 'success' },
            { context: 'ci/lint', state: 'failure' }
          ],
          field: 'required_contexts'
        }
      ]
    })
    const listed = await call('POST', DEPLOYMENTS, WRITE, {
      ref: SHA,
      auto_merge: false,
      required_contexts: ['ci/tests']
    })
    expect(listed.status).toBe(201)
    await deploy({})
    expect(github.double.deployments('acme', 'models')).toHaveLength(2)
  })

  it('records statuses, newest first, with log_url as target_url', async () => {
    const deployment = await deploy({ environment: 'staging' })
    await status(deployment.id, { state: 'in_progress', log_url: 'https://github.com/acme/models/actions/runs/1' })
    const done = await status(deployment.id, {
      state: 'success',
      description: 'serving',
      environment_url: 'http://127.0.0.1:8080/invocations'
    })
    expect(done).toMatchObject({ state: 'success', environment: 'staging', target_url: '', log_url: '' })
    const listed = (await (await call('GET', `${DEPLOYMENTS}/${deployment.id}/statuses`, READ)).json()) as Array<
      DeploymentStatus & { target_url: string }
    >
    expect(listed.map(s => [s.state, s.target_url])).toEqual([
      ['success', ''],
      ['in_progress', 'https://github.com/acme/models/actions/runs/1']
    ])
    const one = await call('GET', `${DEPLOYMENTS}/${deployment.id}/statuses/${done.id}`, READ)
    expect(((await one.json()) as DeploymentStatus).environment_url).toBe('http://127.0.0.1:8080/invocations')
    expect((await call('POST', `${DEPLOYMENTS}/1/statuses`, WRITE, { state: 'success' })).status).toBe(404)
  })

  it('refuses a status description over 140 characters', async () => {
    const deployment = await deploy({})
    const refused = await call('POST', `${DEPLOYMENTS}/${deployment.id}/statuses`, WRITE, {
      state: 'success',
      description: 'x'.repeat(141)
    })
    expect(refused.status).toBe(422)
    expect(await refused.json()).toMatchObject({
      message: 'Validation Failed',
      errors: [{ field: 'description', message: 'description is too long (maximum is 140 characters)' }]
    })
    await status(deployment.id, { state: 'success', description: '📈'.repeat(140) })
  })

  it('retires earlier successful non-production deployments on a success (auto_inactive), never production', async () => {
    const stagingOld = await deploy({ environment: 'staging' })
    await status(stagingOld.id, { state: 'success' })
    const stagingFailed = await deploy({ environment: 'staging' })
    await status(stagingFailed.id, { state: 'failure' })
    const productionOld = await deploy({ environment: 'production' })
    await status(productionOld.id, { state: 'success' })
    const transient = await deploy({ environment: 'staging', transient_environment: true })
    await status(transient.id, { state: 'success' })

    const stagingNew = await deploy({ environment: 'staging' })
    await status(stagingNew.id, { state: 'success' })
    const productionNew = await deploy({ environment: 'production' })
    await status(productionNew.id, { state: 'success' })

    expect(states()).toEqual([
      ['staging', ['success', 'inactive']],
      ['staging', ['failure']],
      ['production', ['success']],
      ['staging', ['success']],
      ['staging', ['success']],
      ['production', ['success']]
    ])
    // auto_inactive: false leaves the earlier one active.
    const again = await deploy({ environment: 'staging' })
    await status(again.id, { state: 'success', auto_inactive: false })
    expect(states()[4]).toEqual(['staging', ['success']])
  })

  it('lets a read-only token list but not create deployments or statuses', async () => {
    const deployment = await deploy({})
    for (const [path, body] of [
      [DEPLOYMENTS, { ref: SHA }],
      [`${DEPLOYMENTS}/${deployment.id}/statuses`, { state: 'success' }]
    ] as const) {
      const refused = await call('POST', path, READ, body)
      expect(refused.status).toBe(403)
      expect(refused.headers.get('x-accepted-github-permissions')).toBe('deployments=write')
      expect(((await refused.json()) as { message: string }).message).toBe('Resource not accessible by integration')
    }
    expect((await call('GET', DEPLOYMENTS, READ)).status).toBe(200)
    expect((await call('GET', `${DEPLOYMENTS}/${deployment.id}/statuses`, READ)).status).toBe(200)
  })
})

describe('requests outside the description', () => {
  it('answers an unknown status state with 422 and records a violation', async () => {
    const deployment = await deploy({})
    const refused = await call('POST', `${DEPLOYMENTS}/${deployment.id}/statuses`, WRITE, { state: 'done' })
    expect(refused.status).toBe(422)
    expect(github.double.violations).toHaveLength(1)
    expect(github.double.violations[0]).toContain('is not one of')
  })
})

describe('the referee', () => {
  it('would catch a deployment or status the double got wrong', async () => {
    const created = loadApiDescription().find('POST', DEPLOYMENTS)
    if (created.kind !== 'operation') throw new Error(`expected an operation, got ${created.kind}`)
    expect(created.operation.validateResponse(201, { id: 1 })).toEqual(["(root) must have required property 'node_id'"])
    const deployment = await deploy({})
    const statuses = loadApiDescription().find('POST', `${DEPLOYMENTS}/${deployment.id}/statuses`)
    if (statuses.kind !== 'operation') throw new Error(`expected an operation, got ${statuses.kind}`)
    const good = await status(deployment.id, { state: 'success', environment_url: 'http://127.0.0.1:1/' })
    expect(statuses.operation.validateResponse(201, good)).toEqual([])
    // "" is what GitHub sends for a URL it was not given; anything else must be a URL.
    expect(statuses.operation.validateResponse(201, { ...good, environment_url: 'not a url' })).toEqual([
      '/environment_url must match format "uri-or-empty"'
    ])
    expect(statuses.operation.validateResponse(201, { ...good, state: 'done' })).toHaveLength(1)
  })
})
