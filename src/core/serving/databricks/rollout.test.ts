/**
 * The rollout (rollout.ts) through the Databricks target against the workspace double: first deploy, an exact
 * canary and its promotion, and the failures, each ending with the previous version proven serving.
 */
import { describe, expect, it } from '@jest/globals'
import { databricksDoublePerTest } from '../../../../test/databricks-double/per-test.js'
import {
  DOUBLE_OAUTH_ENV,
  DOUBLE_PAT_ENV,
  type DatabricksDoubleOptions
} from '../../../../test/databricks-double/server.js'
import { churnTarget } from '../../../../test/serving/databricks-target.js'
import { rollout, type RolloutOptions } from '../rollout.js'
import { ConfigurationError } from '../../errors.js'
import { deadlineIn, routingOf } from '../types.js'

const MODEL = 'main.ml.churn'
const BODY = { dataframe_split: { columns: ['tenure_months'], data: [[3], [40]] } }

const startDouble = databricksDoublePerTest({ serving: { deployMs: 60 } })

async function setup(options: DatabricksDoubleOptions = {}) {
  const d = await startDouble(options)
  const versions = [d.addVersion(MODEL), d.addVersion(MODEL)]
  const target = churnTarget(d, undefined, { pollMaxMs: 1000 })
  const run = (version: string, options: Partial<RolloutOptions> = {}) =>
    rollout({
      target,
      candidate: { name: MODEL, version },
      body: BODY,
      requests: 20,
      verifyRequests: 10,
      timeoutMs: 10_000,
      rollbackTimeoutMs: 10_000,
      ...options
    })
  /** Version 1 serving all traffic, as before every failure here. */
  const serveFirst = async () => {
    const first = await run(versions[0]!)
    expect(first.outcome).toBe('deployed')
    return target.read()
  }
  const puts = () => d.requests.filter(r => r.method === 'PUT')
  return { double: d, target, versions, run, serveFirst, puts }
}

describe('rollout on Databricks Model Serving', () => {
  it('deploys first, then runs an exact 10% canary and promotes it; a re-run changes nothing', async () => {
    const { double, versions, run, puts } = await setup()
    const first = await run(versions[0]!)
    expect(first).toMatchObject({ outcome: 'deployed', deployedVersion: '1', changed: true })
    expect(first.plan.before.versions).toEqual([])
    expect(double.requests.filter(r => r.method === 'POST' && r.path === '/api/2.0/serving-endpoints')).toHaveLength(1)

    const canary = await run(versions[1]!, { traffic: 10 })
    expect(canary).toMatchObject({ outcome: 'deployed', deployedVersion: '2', previousVersion: '1' })
    expect(canary.steps[0]!.routes).toEqual({ '2': 10, '1': 90 })
    expect(canary.steps[0]!.byVersion['2']!.requests).toBe(20)
    expect(canary.steps[0]!.byVersion['1']!.requests).toBe(180)
    expect(canary.steps[1]!.byVersion).toEqual({ '2': expect.objectContaining({ requests: 20, errors: 0 }) })
    const endpoint = double.serving.endpoint('churn') as {
      config: { served_entities: { name: string }[]; traffic_config: { routes: unknown[] } }
    }
    expect(endpoint.config.served_entities.map(e => e.name)).toEqual(['churn-2'])
    expect(endpoint.config.traffic_config.routes).toEqual([
      { served_model_name: 'churn-2', served_entity_name: 'churn-2', traffic_percentage: 100 }
    ])

    const writes = puts().length
    const again = await run(versions[1]!)
    expect(again).toMatchObject({ outcome: 'unchanged', changed: false })
    expect(puts()).toHaveLength(writes)
  })

  it('rolls back a model that errors on every prediction, proven by the config read back and real answers', async () => {
    const { double, versions, run, serveFirst } = await setup()
    const before = await serveFirst()
    double.serving.failPredictions(MODEL, versions[1]!)

    const report = await run(versions[1]!, { traffic: 50 })
    expect(report.outcome).toBe('rolled-back')
    expect(report.failure!.phase).toBe('observe')
    expect(report.failure!.message).toContain('deploy.error_rate 1 > max 0')
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true, before: routingOf(before) })
    expect(report.rollback!.verification!.byVersion).toEqual({
      '1': expect.objectContaining({ requests: 10, errors: 0 })
    })
    expect(double.serving.endpoint('churn')).toMatchObject({ state: { ready: 'READY', config_update: 'NOT_UPDATING' } })
  })

  it('rolls back a slow model that breaks the latency rule', async () => {
    const { double, versions, run, serveFirst } = await setup()
    await serveFirst()
    double.serving.slowPredictions(MODEL, versions[1]!, 150)
    const report = await run(versions[1]!, {
      traffic: 50,
      requests: 4,
      rules: [{ name: 'deploy.latency_p95_ms', max: 100 }]
    })
    expect(report.outcome).toBe('rolled-back')
    expect(report.failure!.message).toContain('deploy.latency_p95_ms')
    expect(report.steps[0]!.metrics['deploy.latency_p95_ms']).toBeGreaterThanOrEqual(150)
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true })
  })

  it('reports a failed update (UPDATE_FAILED) and proves the old config still serves, with nothing put back', async () => {
    const { double, versions, run, serveFirst, puts } = await setup()
    await serveFirst()
    double.serving.failDeployment(MODEL, versions[1]!, 'Container failed to start: the model could not be loaded')
    const writes = puts().length

    const report = await run(versions[1]!, { traffic: 10 })
    expect(report.outcome).toBe('rolled-back')
    expect(report.failure!.phase).toBe('wait')
    expect(report.failure!.message).toMatch(/^the endpoint did not become ready: Databricks reports UPDATE_FAILED/)
    expect(report.failure!.message).toContain('churn-1 100%')
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true })
    // The canary's PUT only: the old config never stopped serving, so nothing was put back.
    expect(puts()).toHaveLength(writes + 1)
  })

  it('stops at the deadline for an update that never finishes; the rollback waits until the workspace gives up', async () => {
    const { double, versions, run, serveFirst } = await setup({ serving: { deployMs: 60, updateTimeoutMs: 2500 } })
    await serveFirst()
    double.serving.stallDeployment(MODEL, versions[1]!)

    const report = await run(versions[1]!, { traffic: 10, timeoutMs: 1000 })
    expect(report.failure!.phase).toBe('wait')
    expect(report.failure!.message).toContain('ran out')
    expect(report.outcome).toBe('rolled-back')
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true })
    expect(double.serving.endpoint('churn')).toMatchObject({ state: { config_update: 'UPDATE_FAILED' } })
  })

  it('says so when an update that never finishes outlives the rollback too, while the old version still answers', async () => {
    const { double, versions, run, serveFirst } = await setup()
    await serveFirst()
    double.serving.stallDeployment(MODEL, versions[1]!)

    const report = await run(versions[1]!, { traffic: 10, timeoutMs: 600, rollbackTimeoutMs: 600 })
    expect(report.outcome).toBe('failed')
    expect(report.rolledBack).toBe(false)
    expect(report.rollback!.message).toContain('no call to cancel an update')
    expect(double.serving.answeredBy('churn')).toEqual({ 'churn-1': expect.any(Number) })
  })

  it('waits out a 409 and a 429 with Retry-After on the way, and deploys', async () => {
    const { double, versions, run, serveFirst } = await setup()
    await serveFirst()
    double.inject({ count: 1, status: 409, method: 'PUT', path: /\/config$/ })
    double.inject({ count: 1, status: 429, retryAfterSeconds: 1, method: 'PUT', path: /\/config$/ })

    const report = await run(versions[1]!, { traffic: 10 })
    expect(report.outcome).toBe('deployed')
    const statuses = double.requests.filter(r => r.method === 'PUT').map(r => r.status)
    expect(statuses).toEqual(expect.arrayContaining([409, 429]))
  })

  it('ends its waits at once when the job is cancelled, and leaves the old config serving, proven', async () => {
    const { double, versions, run, serveFirst } = await setup({ serving: { deployMs: 1500 } })
    const before = await serveFirst()
    const controller = new AbortController()
    // "At once" without a clock: the update takes 1.5 s, the job is cancelled 200 ms into it, so a wait that ended
    // at the cancel starts the rollback while the double still reports that update in progress.
    let updateAtRollback: string | undefined
    const report = await run(versions[1]!, {
      traffic: 10,
      signal: controller.signal,
      onEvent: event => {
        if (event.phase === 'wait') setTimeout(() => controller.abort(), 200)
        if (event.phase === 'rollback' && updateAtRollback === undefined) {
          const state = double.serving.endpoint('churn')?.state as { config_update?: string } | undefined
          updateAtRollback = state?.config_update
        }
      }
    })
    expect(report.failure).toMatchObject({ phase: 'wait', cancelled: true })
    expect(updateAtRollback).toBe('IN_PROGRESS')
    expect(report.outcome).toBe('rolled-back')
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true, after: routingOf(before) })
    expect(double.serving.endpoint('churn')).toMatchObject({ state: { ready: 'READY', config_update: 'NOT_UPDATING' } })
  })

  it('rolls a failed first deploy back to no endpoint at all', async () => {
    const { double, versions, run } = await setup()
    double.serving.failPredictions(MODEL, versions[0]!, 500)
    const report = await run(versions[0]!)
    expect(report.outcome).toBe('rolled-back')
    expect(report.rollback!.message).toContain('nothing served before')
    expect(double.serving.endpoint('churn')).toBeUndefined()
  })

  it('refuses an endpoint that serves another model, rather than calling it served or removing its entities', async () => {
    const { double, run } = await setup()
    const OTHER = 'main.ml.other'
    double.addVersion(OTHER)
    double.addVersion(OTHER)
    // Another model's version 1 serves: the same number as churn's version 1, which it is not.
    const other = churnTarget(double, undefined, { model: OTHER })
    const serveOther = { routes: [{ model: { name: OTHER, version: '1' }, share: 100 }] }
    await other.apply(serveOther, deadlineIn(5000, 'the test'))
    expect((await other.waitReady(serveOther, deadlineIn(5000, 'the test'))).ready).toBe(true)
    const endpointBefore = double.serving.endpoint('churn')!.config

    const target = churnTarget(double, undefined, { pollMaxMs: 1000, model: MODEL })
    for (const version of ['1', '2']) {
      const error = await run(version, { target }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as Error).message).toContain(`serves other-1 (${OTHER} version 1), which is not ${MODEL}`)
    }
    // Without the model named, the update itself is still refused.
    const unnamed = await run('2').catch((e: unknown) => e)
    expect(unnamed).toMatchObject({ outcome: 'rolled-back', failure: { phase: 'apply' } })
    expect((unnamed as { failure: { message: string } }).failure.message).toContain('which is not main.ml.churn')
    expect(double.serving.endpoint('churn')!.config).toEqual(endpointBefore)
    expect(double.requests.filter(r => r.method === 'PUT')).toHaveLength(0)
  })

  it('gives a new entity a name of its own when the entity it keeps was named by hand with that name', async () => {
    const { double, run } = await setup()
    // Version 1 serves under the name modelgate would give version 2.
    const put = await fetch(`${double.url}/api/2.0/serving-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DOUBLE_PAT_ENV.DATABRICKS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'churn',
        config: {
          served_entities: [{ name: 'churn-2', entity_name: MODEL, entity_version: '1', workload_size: 'Small' }],
          traffic_config: { routes: [{ served_entity_name: 'churn-2', traffic_percentage: 100 }] }
        }
      })
    })
    expect(put.status).toBe(200)
    await new Promise(resolve => setTimeout(resolve, 200))

    const report = await run('2', { traffic: 10 })
    expect(report.failure).toBeUndefined()
    expect(report).toMatchObject({ outcome: 'deployed', previousVersion: '1', deployedVersion: '2' })
    expect(report.steps[0]!.byVersion['1']!.requests).toBe(180)
    const endpoint = double.serving.endpoint('churn') as { config: { served_entities: { name: string }[] } }
    expect(endpoint.config.served_entities.map(e => e.name)).toEqual(['churn-2_2'])
  })

  it('plans from the config another update in progress is deploying, and rolls back to it, not to the one it replaced', async () => {
    const { double, versions, run, serveFirst } = await setup({ serving: { deployMs: 300 } })
    await serveFirst()
    const third = double.addVersion(MODEL)
    // Someone else's update to version 3 is in progress when the rollout starts.
    const put = await fetch(`${double.url}/api/2.0/serving-endpoints/churn/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${DOUBLE_PAT_ENV.DATABRICKS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        served_entities: [{ name: 'churn-3', entity_name: MODEL, entity_version: third, workload_size: 'Small' }],
        traffic_config: { routes: [{ served_entity_name: 'churn-3', traffic_percentage: 100 }] }
      })
    })
    expect(put.status).toBe(200)
    double.serving.failPredictions(MODEL, versions[1]!)
    const events: string[] = []
    const report = await run(versions[1]!, { traffic: 50, onEvent: e => events.push(e.message) })
    expect(events[0]).toContain('the update to config_version 2 in progress on churn')
    expect(report.previousVersion).toBe(third)
    expect(report.steps[0]!.routes).toEqual({ '2': 50, '3': 50 })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.rollback!.after).toEqual([`churn-3 3 ${MODEL}@3 100`])
  })

  it('keeps sending a live OAuth token while observing for longer than a token lives', async () => {
    // Tokens live 4 s here (an hour on Databricks); observing takes about 6 s, as a long canary can outlast an hour.
    const { double, versions, run } = await setup({ tokenLifetimeSeconds: 4 })
    const target = churnTarget(double, DOUBLE_OAUTH_ENV, { pollMaxMs: 1000, model: MODEL })
    expect(await run(versions[0]!, { target })).toMatchObject({ outcome: 'deployed' })
    double.serving.slowPredictions(MODEL, versions[1]!, 150)
    const report = await run(versions[1]!, { target, requests: 40 })
    expect(report.failure).toBeUndefined()
    expect(report.steps[0]!.candidate).toMatchObject({ requests: 40, errors: 0 })
    expect(report.outcome).toBe('deployed')
  }, 30_000)
})
