/**
 * The Databricks serving target against the workspace double: the update state machine, 409 and 429 on the way,
 * a failed and a never-finishing update, answers attributed by `served-model-name`, and restores read back equal.
 */
import { describe, expect, it } from '@jest/globals'
import { databricksDoublePerTest } from '../../../../test/databricks-double/per-test.js'
import {
  DOUBLE_OAUTH_ENV,
  DOUBLE_PAT_ENV,
  DOUBLE_READ_PAT,
  type DatabricksDoubleOptions
} from '../../../../test/databricks-double/server.js'
import { churnTarget } from '../../../../test/serving/databricks-target.js'
import { ConfigurationError } from '../../errors.js'
import { openWorkspace } from '../../databricks/workspace.js'
import { UnityCatalogRegistry } from '../../registry/databricks/uc-registry.js'
import { probe } from '../probe.js'
import { DeadlineExceededError, deadlineIn, routingOf, type DesiredState, type EndpointState } from '../types.js'
import { DatabricksServingTarget, entityName, type DatabricksTargetOptions } from './target.js'

const MODEL = 'main.ml.churn'
const BODY = { dataframe_split: { columns: ['x'], data: [[1], [2]] } }

const startDouble = databricksDoublePerTest({ serving: { deployMs: 60 } })

async function setup(
  options: DatabricksDoubleOptions = {},
  env: NodeJS.ProcessEnv = DOUBLE_PAT_ENV,
  targetOptions: Partial<DatabricksTargetOptions> = {}
) {
  const double = await startDouble(options)
  const versions = [double.addVersion(MODEL), double.addVersion(MODEL), double.addVersion(MODEL)]
  const lines: string[] = []
  const target = churnTarget(double, env, { log: line => lines.push(line), ...targetOptions })
  return { double, target, versions, lines }
}

const routes = (...pairs: [string, number][]): DesiredState => ({
  routes: pairs.map(([version, share]) => ({ model: { name: MODEL, version }, share }))
})

const soon = (ms = 5000) => deadlineIn(ms, 'the test')

async function send(target: DatabricksServingTarget, state: EndpointState, requests: number) {
  const invocation = target.invocation(state)
  return probe({
    url: invocation.url,
    headers: invocation.headers,
    body: BODY,
    requests,
    versionHeader: invocation.versionHeader,
    versionOf: invocation.versionOf
  })
}

describe('DatabricksServingTarget', () => {
  it('creates the endpoint when absent, splits a canary exactly, promotes, and skips a write that changes nothing', async () => {
    const { double, target } = await setup()
    expect(await target.read()).toEqual({ endpoint: 'churn', versions: [], updating: false })

    await target.apply(routes(['1', 100]), soon())
    const first = await target.waitReady(routes(['1', 100]), soon())
    expect(first.ready).toBe(true)
    expect(first.state!.versions).toEqual([
      { version: '1', member: 'churn-1', address: `${MODEL}@1`, weight: 100, share: 100, health: 'ready' }
    ])
    expect(first.state!.revision).toBe('1')

    const canary = routes(['2', 10], ['1', 90])
    await target.apply(canary, soon())
    expect((await target.read()).updating).toBe(true)
    const ready = await target.waitReady(canary, soon())
    if (!ready.ready) throw new Error(ready.reason)
    const answered = await send(target, ready.state, 100)
    expect(answered.errors).toBe(0)
    expect(answered.byVersion['1']!.requests).toBe(90)
    expect(answered.byVersion['2']!.requests).toBe(10)

    await target.apply(routes(['2', 100]), soon())
    const promoted = await target.waitReady(routes(['2', 100]), soon())
    expect(promoted.ready && routingOf(promoted.state)).toEqual([`churn-2 2 ${MODEL}@2 100`])
    const puts = () => double.requests.filter(r => r.method === 'PUT').length
    const before = puts()
    await target.apply(routes(['2', 100]), soon())
    expect(puts()).toBe(before)
    // The entity kept its deployment: an unchanged entity is sent back as it was.
    const put = double.requests.filter(r => r.method === 'PUT').at(-1)!.body as { served_entities: unknown[] }
    expect(put.served_entities).toEqual([
      { name: 'churn-2', entity_name: MODEL, entity_version: '2', workload_size: 'Small', scale_to_zero_enabled: false }
    ])
  })

  it('puts a saved state back, read back equal, and deletes an endpoint that did not exist', async () => {
    const { double, target } = await setup()
    const empty = await target.read()
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    const saved = await target.read()
    await target.apply(routes(['2', 25], ['1', 75]), soon())
    await target.waitReady(routes(['2', 25], ['1', 75]), soon())

    await target.restore(saved, soon())
    const after = await target.read()
    expect(routingOf(after)).toEqual(routingOf(saved))
    expect(after.updating).toBe(false)
    const answered = await send(target, after, 20)
    expect(answered.byVersion).toEqual({ '1': expect.objectContaining({ requests: 20, errors: 0 }) })

    await target.restore(empty, soon())
    expect(await target.read()).toEqual(empty)
    expect(double.serving.endpoint('churn')).toBeUndefined()
  })

  it('waits out an update in progress (409) and the update limit (429 with Retry-After)', async () => {
    const { double, target, lines } = await setup({
      serving: { deployMs: 300, updateLimit: { count: 3, windowMs: 1500 } }
    })
    await target.apply(routes(['1', 100]), soon())
    // Still IN_PROGRESS: the PUT is refused 409, waits for the update to finish, and is sent again.
    await target.apply(routes(['2', 50], ['1', 50]), soon())
    const putStatuses = () => double.requests.filter(r => r.method === 'PUT').map(r => r.status)
    expect(putStatuses()).toEqual([409, 200])
    expect(lines.some(line => line.includes('HTTP 409 RESOURCE_CONFLICT'))).toBe(true)
    await target.waitReady(routes(['2', 50], ['1', 50]), soon())

    // A 409 for an update started behind the target's back, between its read and its PUT.
    double.inject({ count: 1, status: 409, method: 'PUT', path: /\/config$/ })
    await target.apply(routes(['3', 100]), soon())
    expect(putStatuses()).toEqual([409, 200, 409, 200])
    await target.waitReady(routes(['3', 100]), soon())

    // Three operations in 1.5 s were spent: the fourth waits for Retry-After.
    const started = performance.now()
    await target.apply(routes(['1', 100]), soon())
    expect(double.requests.some(r => r.status === 429)).toBe(true)
    expect(performance.now() - started).toBeGreaterThan(500)
    expect(lines.some(line => line.includes('HTTP 429'))).toBe(true)
    await target.waitReady(routes(['1', 100]), soon())

    // A 429 whose Retry-After is past the deadline is the deadline running out, said so.
    double.inject({ count: 1, status: 429, retryAfterSeconds: 60, method: 'PUT' })
    const error = await target.apply(routes(['2', 100]), soon(2000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect((error as Error).message).toContain('retry after 60 s')
  })

  it('reports a failed update with the previous config still serving, and has nothing to put back', async () => {
    const { double, target, versions } = await setup()
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    const saved = await target.read()
    double.serving.failDeployment(MODEL, versions[1]!, 'Container failed to start: model load raised')

    await target.apply(routes(['2', 10], ['1', 90]), soon())
    const ready = await target.waitReady(routes(['2', 10], ['1', 90]), soon())
    expect(ready.ready).toBe(false)
    expect(!ready.ready && ready.reason).toContain('UPDATE_FAILED')
    expect(!ready.ready && ready.reason).toContain('churn-1 100%')
    expect(routingOf(await target.read())).toEqual(routingOf(saved))

    const puts = double.requests.filter(r => r.method === 'PUT').length
    await target.restore(saved, soon())
    expect(double.requests.filter(r => r.method === 'PUT')).toHaveLength(puts)
  })

  it('stops waiting for an update that never finishes at the deadline, and says a restore cannot cancel it', async () => {
    const { double, target, versions } = await setup()
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    const saved = await target.read()
    double.serving.stallDeployment(MODEL, versions[1]!)

    await target.apply(routes(['2', 100]), soon())
    const waited = await target.waitReady(routes(['2', 100]), soon(400)).catch((e: unknown) => e)
    expect(waited).toBeInstanceOf(DeadlineExceededError)
    const restore = await target.restore(saved, soon(400)).catch((e: unknown) => e)
    expect(restore).toBeInstanceOf(DeadlineExceededError)
    expect((restore as Error).message).toContain('no call to cancel an update')
    // Meanwhile the previous version still answers.
    const answered = await send(target, await target.read(), 5)
    expect(answered.byVersion).toEqual({ '1': expect.objectContaining({ requests: 5, errors: 0 }) })
  })

  it('gives the workspace time to fail an update that never finished, then finds nothing to put back', async () => {
    const { double, target, versions } = await setup({ serving: { deployMs: 60, updateTimeoutMs: 600 } })
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    const saved = await target.read()
    double.serving.stallDeployment(MODEL, versions[1]!)
    await target.apply(routes(['2', 100]), soon())
    await expect(target.waitReady(routes(['2', 100]), soon(200))).rejects.toBeInstanceOf(DeadlineExceededError)
    await target.restore(saved, soon())
    const after = await target.read()
    expect(routingOf(after)).toEqual(routingOf(saved))
    expect(double.serving.endpoint('churn')!.state).toEqual({ ready: 'READY', config_update: 'UPDATE_FAILED' })
  })

  it('attributes error answers to the version that gave them', async () => {
    const { double, target, versions } = await setup()
    double.serving.failPredictions(MODEL, versions[1]!)
    await target.apply(routes(['2', 50], ['1', 50]), soon())
    const ready = await target.waitReady(routes(['2', 50], ['1', 50]), soon())
    if (!ready.ready) throw new Error(ready.reason)
    const answered = await send(target, ready.state, 10)
    expect(answered.byVersion['2']).toMatchObject({ requests: 5, errors: 5 })
    expect(answered.byVersion['1']).toMatchObject({ requests: 5, errors: 0 })
    expect(answered.firstErrors[0]).toContain('HTTP 400')
  })

  it('logs in with OAuth M2M for its reads, writes and invocations', async () => {
    const { double, target } = await setup({}, DOUBLE_OAUTH_ENV)
    await target.apply(routes(['1', 100]), soon())
    const ready = await target.waitReady(routes(['1', 100]), soon())
    if (!ready.ready) throw new Error(ready.reason)
    expect((await send(target, ready.state, 3)).errors).toBe(0)
    expect(double.tokensIssued).toBe(1)
  })

  it("shares the Unity Catalog registry's credentials: one OAuth token for the registry and the endpoint", async () => {
    const { double } = await setup()
    const registry = new UnityCatalogRegistry({
      host: double.url,
      env: DOUBLE_OAUTH_ENV,
      retryBaseMs: 1
    })
    expect(await registry.getVersionByAlias(MODEL, 'champion')).toBeUndefined()
    const target = new DatabricksServingTarget({
      endpoint: 'churn',
      workspace: { url: registry.location, hostSource: 'DATABRICKS_HOST', credentials: registry.credentials },
      pollMinMs: 20,
      pollMaxMs: 100
    })
    await target.apply(routes(['1', 100]), soon())
    expect((await target.waitReady(routes(['1', 100]), soon())).ready).toBe(true)
    expect(double.tokensIssued).toBe(1)
  })

  it('turns refused credentials, missing permissions and a wrong version into ConfigurationErrors', async () => {
    const { target } = await setup({}, { DATABRICKS_TOKEN: DOUBLE_READ_PAT })
    const denied = await target.apply(routes(['1', 100]), soon()).catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(ConfigurationError)
    expect((denied as Error).message).toContain('CAN_MANAGE')

    const other = await setup()
    const missing = await other.target.apply(routes(['9', 100]), soon()).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ConfigurationError)
    expect((missing as Error).message).toContain(`${MODEL}/9`)

    const wrong = await setup({}, { DATABRICKS_TOKEN: 'dapi-wrong' })
    await expect(wrong.target.read()).rejects.toThrow('refused the credentials')
    expect(() => new DatabricksServingTarget({ ...wrongOptions(), endpoint: 'no spaces' })).toThrow(ConfigurationError)
  })

  it('backs off, within the deadline, from a 409 that no update in progress explains', async () => {
    const { double, target } = await setup()
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    double.inject({ count: 300, status: 409, method: 'PUT' })
    const puts = () => double.requests.filter(r => r.method === 'PUT').length
    const before = puts()
    const error = await target.apply(routes(['2', 100]), deadlineIn(1500, 'the test')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(puts() - before).toBeLessThan(40)
  })

  it('sends an update whose answer was lost once: the retry finds it under way, waits, and does not send it again', async () => {
    const { double, target } = await setup()
    await target.apply(routes(['1', 100]), soon())
    await target.waitReady(routes(['1', 100]), soon())
    double.inject({ count: 1, status: 503, method: 'PUT', after: true })
    const canary = routes(['2', 10], ['1', 90])
    await target.apply(canary, soon())
    const ready = await target.waitReady(canary, soon())
    expect(ready.ready).toBe(true)
    // config_version 1 was the create; the canary is the one update after it.
    expect(ready.state!.revision).toBe('2')
  })

  it('creates an endpoint whose answer was lost once, with no update after it', async () => {
    const { double, target } = await setup()
    double.inject({ count: 1, status: 503, method: 'POST', path: /^\/api\/2\.0\/serving-endpoints$/, after: true })
    await target.apply(routes(['1', 100]), soon())
    const ready = await target.waitReady(routes(['1', 100]), soon())
    expect(ready.ready && ready.state.revision).toBe('1')
    // The create's retry found the endpoint; the update sent after it met the create under way and was not repeated.
    expect(double.requests.filter(r => r.method === 'PUT').map(r => r.status)).toEqual([409])
  })

  it('says at once that an endpoint deleted during the update no longer exists, rather than waiting for the deadline', async () => {
    const { double, target } = await setup()
    await target.apply(routes(['1', 100]), soon())
    const deleted = await fetch(`${double.url}/api/2.0/serving-endpoints/churn`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${DOUBLE_PAT_ENV.DATABRICKS_TOKEN}` }
    })
    expect(deleted.status).toBe(200)
    const started = performance.now()
    const result = await target.waitReady(routes(['1', 100]), soon(20_000))
    expect(result).toMatchObject({ ready: false, reason: 'the serving endpoint churn no longer exists' })
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('names where the endpoint came from when the workspace refuses a request about it', async () => {
    const { target } = await setup({}, DOUBLE_PAT_ENV, { endpointSource: "deploy.endpoint in '.modelgate.yml'" })
    const missing = await target.apply(routes(['9', 100]), soon()).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ConfigurationError)
    expect((missing as Error).message).toMatch(/^deploy\.endpoint in '\.modelgate\.yml': /)
  })

  it('names entities after the model and version within 63 characters', () => {
    expect(entityName('main.ml.churn', '7')).toBe('churn-7')
    expect(entityName('main.ml.churn.v2', '12')).toBe('v2-12')
    expect(entityName(`main.ml.${'m'.repeat(80)}`, '123')).toHaveLength(63)
  })
})

function wrongOptions(): DatabricksTargetOptions {
  return {
    endpoint: 'x',
    workspace: openWorkspace({ host: 'https://example.invalid', env: { DATABRICKS_TOKEN: 't' } })
  }
}
