/**
 * The rollout against real parts: Debian's HAProxy driven through its Runtime API, and real `mlflow models serve`
 * processes from the project's .venv, all on loopback, started and stopped here.
 *
 * The cases run in order on one endpoint, each starting from the state the previous one left (model servers take
 * 4–16 s to start on this machine, so the serving version is reused rather than started again per case). Every
 * failure case ends with the test itself proving the previous version serves: the router's state read back equal
 * to before, and real requests all answered by that version.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { HaproxyTarget } from '../../src/core/serving/haproxy/target.js'
import { mlflowServeLauncher, ModelServers } from '../../src/core/serving/model-server.js'
import { rollout } from '../../src/core/serving/rollout.js'
import { deadlineIn, routingOf } from '../../src/core/serving/types.js'
import { REPO_ROOT } from '../mlflow/server.js'
import { SERVING_BODY, testEndpointPerFile } from './endpoint.js'
import { startTestHaproxy } from './haproxy.js'

const PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python')
const endpoint = testEndpointPerFile({
  python: PYTHON,
  setup: 'scripts/setup-python.sh',
  launcher: mlflowServeLauncher({ python: PYTHON }),
  prefix: 'modelgate-rollout-'
})
const { events, model, deploy, expectServing, expectOnlyProcess } = endpoint

describe('rollout to HAProxy with mlflow models serve', () => {
  it('first deploy: an empty backend gets version 1 at 100%', async () => {
    const report = await deploy({ candidate: model('1', 'good') })
    expect(report.failure).toBeUndefined()
    expect(report).toMatchObject({ outcome: 'deployed', changed: true, rolledBack: false, deployedVersion: '1' })
    expect(report.previousVersion).toBeUndefined()
    expect(report.steps).toHaveLength(1)
    expect(report.steps[0]!.candidate).toMatchObject({ requests: 20, errors: 0, errorRate: 0 })
    expect(report.metrics['deploy.latency_p95_ms']).toBeGreaterThan(0)
    // Apply → first good answer includes the model server's start-up, which the state folder records.
    expect(report.timings.applyToAnswerMs).toBeGreaterThan((await endpoint.servers.find('1'))!.readyMs!)
    await expectServing('1')
  }, 180_000)

  it('a re-run of the finished deployment changes nothing', async () => {
    const before = await endpoint.target.read()
    const pid = (await endpoint.servers.find('1'))!.pid
    const report = await deploy({ candidate: model('1', 'good') })
    expect(report).toMatchObject({ outcome: 'unchanged', changed: false, rolledBack: false, deployedVersion: '1' })
    expect(routingOf(await endpoint.target.read())).toEqual(routingOf(before))
    expect((await endpoint.servers.find('1'))!.pid).toBe(pid)
  })

  it('dry-run returns the plan and touches nothing', async () => {
    const before = await endpoint.target.read()
    const report = await deploy({ candidate: model('2', 'good'), traffic: 10, dryRun: true })
    expect(report.outcome).toBe('planned')
    expect(report.changed).toBe(true)
    expect(report.plan.steps.map(s => [s.routes, s.requests])).toEqual([
      [{ '1': 90, '2': 10 }, 200],
      [{ '1': 0, '2': 100 }, 20]
    ])
    expect(routingOf(await endpoint.target.read())).toEqual(routingOf(before))
    expect(await endpoint.servers.find('2')).toBeUndefined()
  })

  it('canary 90/10 splits exactly, passes, and is promoted; the previous version is removed and stopped', async () => {
    const report = await endpoint.deployExactCanary()
    expect(report.steps[1]!.byVersion['2']).toMatchObject({ requests: 20, errors: 0 })
    await expectServing('2')
    expect(events).toContain('promote: version 2 takes all traffic; removing the previous version')
  }, 180_000)

  it('a model that raises on every prediction (400s, health check up) is rolled back, proven', async () => {
    const before = await endpoint.target.read()
    const report = await deploy({ candidate: model('3', 'raises') })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true, changed: true, previousVersion: '2' })
    expect(report.failure!.phase).toBe('observe')
    expect(report.failure!.message).toMatch(
      /^version 3 failed at v3 100% \/ v2 0%: deploy\.error_rate 1 > max 0; first error: HTTP 400: /
    )
    expect(report.metrics['deploy.error_rate']).toBe(1)
    expect(report.timings.failureToProvenMs).toBeGreaterThan(0)
    await endpoint.expectProvenRollback(report, before, '2')
  }, 180_000)

  it('a slow model breaking the latency rule is rolled back from its canary, proven', async () => {
    const before = await endpoint.target.read()
    const report = await deploy({
      candidate: model('4', 'slow'),
      traffic: 50,
      requests: 10,
      rules: [{ name: 'deploy.latency_p95_ms', max: 150 }]
    })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure!.message).toMatch(
      /^version 4 failed at v4 50% \/ v2 50%: deploy\.latency_p95_ms \d+(\.\d+)? > max 150$/
    )
    expect(report.metrics['deploy.latency_p95_ms']).toBeGreaterThanOrEqual(250)
    expect(report.metrics['deploy.error_rate']).toBe(0)
    await expectServing('2', before)
  }, 180_000)

  it('a model that cannot load fails with its exception and leaves the endpoint as it was, proven', async () => {
    await endpoint.expectUnloadableRefused(
      '5',
      '2',
      /version 5 exited with 1 before \/ping answered: RuntimeError: this model cannot be loaded/
    )
  }, 180_000)

  it('a model server killed mid-canary is rolled back, proven', async () => {
    const before = await endpoint.target.read()
    // The kill is synchronous with the observe event, the pid read from the state folder there and then: a timer
    // after the event raced the requests, and on a fast runner all 80 were answered before it fired.
    let killed: number | undefined
    const report = await deploy({
      candidate: model('6', 'good'),
      traffic: 50,
      requests: 40,
      onEvent: event => {
        events.push(`${event.phase}: ${event.message}`)
        if (event.phase !== 'observe' || killed !== undefined) return
        killed = (JSON.parse(readFileSync(join(endpoint.dir, 'state', 'v6.json'), 'utf8')) as { pid: number }).pid
        endpoint.kill(killed)
      }
    })
    expect(killed).toBeDefined()
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure!.phase).toBe('observe')
    // HAProxy re-sends a refused connection to the other server, so the dead canary shows as answering too little.
    expect(report.failure!.message).toMatch(
      /^version 6 failed at v6 50% \/ v2 50%: version 6 answered \d+ of 80 requests at a 50% share/
    )
    await expectServing('2', before)
  }, 180_000)

  it('a rollout whose deadline runs out is rolled back, proven', async () => {
    const before = await endpoint.target.read()
    const report = await deploy({ candidate: model('7', 'good'), traffic: 10, timeoutMs: 1500 })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure!.message).toBe(
      'the deadline for the rollout ran out while waiting for the model server of version 7 to answer /ping'
    )
    await expectServing('2', before)
  }, 180_000)

  it('a second rollout of the same endpoint waits for the first one, and touches nothing when it cannot', async () => {
    const before = await endpoint.target.read()
    const release = await endpoint.target.lock('another job', deadlineIn(1000, 'test'))
    try {
      const waiting: string[] = []
      const error = await deploy({
        candidate: model('8', 'good'),
        timeoutMs: 500,
        onEvent: event => waiting.push(event.message)
      }).catch(e => e)
      expect(error.message).toMatch(
        /^the deadline for the rollout ran out while waiting for the rollout lock held by pid \d+ /
      )
      expect(waiting).toEqual([
        expect.stringMatching(/^waiting for pid \d+ \(another job, since .*\) to finish with this endpoint$/)
      ])
    } finally {
      await release()
    }
    expect(routingOf(await endpoint.target.read())).toEqual(routingOf(before))
    await expectOnlyProcess('2')
  })

  it('a cancelled rollout (the job cancelled while the new version starts) puts the endpoint back, proven', async () => {
    const before = await endpoint.target.read()
    const cancel = new AbortController()
    const report = await deploy({
      candidate: model('8', 'good'),
      traffic: 10,
      signal: cancel.signal,
      onEvent: event => {
        if (event.phase === 'apply') setTimeout(() => cancel.abort(), 500)
      }
    })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure).toEqual({
      phase: 'apply',
      cancelled: true,
      message: 'the rollout was cancelled while waiting for the model server of version 8 to answer /ping'
    })
    await expectServing('2', before)
  }, 180_000)

  it('an HAProxy reload mid-canary (runtime servers forgotten) is seen, and the state is rebuilt, proven', async () => {
    const before = await endpoint.target.read()
    let reloaded = false
    const report = await deploy({
      candidate: model('9', 'good'),
      traffic: 50,
      requests: 40,
      onEvent: event => {
        if (event.phase !== 'observe' || reloaded) return
        reloaded = true
        endpoint.haproxy.reload()
      }
    })
    expect(reloaded).toBe(true)
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure!.phase).toBe('observe')
    // After the reload the backend has no servers: HAProxy answers 503 itself, attributed to no version.
    expect(report.steps[0]!.unattributed.errors).toBeGreaterThan(0)
    expect(report.rollback!.after).toEqual(routingOf(before))
    await expectServing('2', before)
  }, 180_000)
})

describe('rollout to an empty HAProxy backend', () => {
  it('a first deploy that fails leaves the endpoint empty again, proven by reading it back', async () => {
    const fresh = await startTestHaproxy('fresh')
    try {
      const own = new ModelServers({
        stateDir: join(endpoint.dir, 'fresh-state'),
        launcher: mlflowServeLauncher({ python: PYTHON })
      })
      const empty = new HaproxyTarget({ endpoint: 'fresh', runtimeApi: fresh.socket, url: fresh.url, servers: own })
      const report = await rollout({
        target: empty,
        candidate: model('1', 'good'),
        body: SERVING_BODY,
        timeoutMs: 1000
      })
      expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true, changed: true })
      expect(report.rollback).toMatchObject({
        before: [],
        after: [],
        stateRestored: true,
        proven: true,
        message: 'nothing served before; the endpoint is empty again'
      })
      expect(report.rollback!.verification).toBeUndefined()
      expect((await empty.read()).versions).toEqual([])
      expect(await own.list()).toEqual([])
    } finally {
      await fresh.close()
    }
  }, 60_000)
})
