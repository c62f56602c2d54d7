/**
 * One HAProxy endpoint with real model server processes behind it, for the rollout tests of each model server
 * (rollout.test.ts: `mlflow models serve`; mlserver.test.ts: MLServer). It owns the parts' lifetimes: Debian's
 * HAProxy, a temporary folder with the bad models make_models.py writes and the state folder, and every process
 * group a test saw started, which `close` ends whatever a failed case left. Its proof is the one every failure case
 * ends with: the router's state read back, real requests all answered by one version, and no other process left.
 */
import { afterAll, beforeAll, expect } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HaproxyTarget } from '../../src/core/serving/haproxy/target.js'
import { ModelServers, type ModelServerLauncher } from '../../src/core/serving/model-server.js'
import { probe } from '../../src/core/serving/probe.js'
import { rollout, type RolloutOptions, type RolloutReport } from '../../src/core/serving/rollout.js'
import { routingOf, type EndpointState } from '../../src/core/serving/types.js'
import { REPO_ROOT } from '../mlflow/server.js'
import { startTestHaproxy, type TestHaproxy } from './haproxy.js'

export const GOOD_MODEL = join(REPO_ROOT, 'examples', 'churn-classifier', 'model')
export const SERVING_BODY = JSON.parse(readFileSync(join(GOOD_MODEL, 'serving_input_example.json'), 'utf8'))
/** Model servers take 4–16 s to start on this machine; a rollout's deadline leaves them room under load. */
export const START_MS = 120_000

export type TestModel = 'good' | 'raises' | 'slow' | 'unloadable'

export interface TestEndpointOptions {
  /** The Python of the environment that serves (and writes the bad models, so they load there). */
  readonly python: string
  /** What to run when that Python is missing. */
  readonly setup: string
  readonly launcher: ModelServerLauncher
  readonly prefix: string
}

/**
 * Call at the top level of a test file: one endpoint for all its cases, which run in order, each from the state the
 * one before left (model servers are too slow to start to start again per case).
 */
export function testEndpointPerFile(options: TestEndpointOptions): TestEndpoint {
  const endpoint = new TestEndpoint(options)
  beforeAll(() => endpoint.start(), 120_000)
  afterAll(() => endpoint.close(), 60_000)
  return endpoint
}

/** Its helpers are arrow functions so that a test file can take them out of the instance and call them bare. */
export class TestEndpoint {
  dir = ''
  haproxy!: TestHaproxy
  servers!: ModelServers
  target!: HaproxyTarget
  readonly events: string[] = []
  private readonly started = new Set<number>()

  constructor(private readonly options: TestEndpointOptions) {}

  async start(): Promise<void> {
    const { python, setup, launcher, prefix } = this.options
    if (!existsSync(python)) throw new Error(`these tests need the Python environment ${python}: run ${setup}`)
    this.haproxy = await startTestHaproxy('churn')
    this.dir = mkdtempSync(join(tmpdir(), prefix))
    const models = join(REPO_ROOT, 'test', 'serving', 'make_models.py')
    execFileSync(python, [models, join(this.dir, 'models')], { stdio: 'pipe' })
    this.servers = new ModelServers({ stateDir: join(this.dir, 'state'), launcher })
    this.target = new HaproxyTarget({
      endpoint: 'churn',
      runtimeApi: this.haproxy.socket,
      url: this.haproxy.url,
      servers: this.servers
    })
  }

  async close(): Promise<void> {
    const records = (await this.servers?.list()) ?? []
    for (const record of records) this.started.add(record.pid)
    for (const record of records) await this.servers.stop(record.version)
    // Whatever a failed case left: every group a test saw started is ended.
    for (const pid of this.started) this.kill(pid)
    await this.haproxy?.close()
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
  }

  /** Kills a process group now, and remembers it so `close` does not miss it. */
  kill(pid: number): void {
    this.started.add(pid)
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }

  model = (version: string, name: TestModel) => ({
    name: 'churn',
    version,
    dir: name === 'good' ? GOOD_MODEL : join(this.dir, 'models', name)
  })

  deploy = async (options: Partial<RolloutOptions> & Pick<RolloutOptions, 'candidate'>): Promise<RolloutReport> => {
    const report = await rollout({
      target: this.target,
      body: SERVING_BODY,
      requests: 20,
      timeoutMs: START_MS,
      onEvent: event => this.events.push(`${event.phase}: ${event.message}`),
      ...options
    })
    for (const record of await this.servers.list()) this.started.add(record.pid)
    return report
  }

  /**
   * The test's own proof, apart from the rollout's: state read back (equal to `before` when given), every request
   * answered by `version`, and its process the only one left.
   */
  expectServing = async (version: string, before?: EndpointState): Promise<void> => {
    const state = await this.target.read()
    if (before) expect(routingOf(state)).toEqual(routingOf(before))
    expect(state.versions.filter(v => v.share > 0).map(v => [v.version, v.share, v.health])).toEqual([
      [version, 100, 'ready']
    ])
    const result = await probe({
      url: `${this.haproxy.url}/invocations`,
      body: SERVING_BODY,
      requests: 30,
      versionHeader: 'x-served-by'
    })
    expect(result.errors).toBe(0)
    expect(Object.keys(result.byVersion)).toEqual([`v${version}`])
    await this.expectOnlyProcess(version)
  }

  /**
   * The case every model server shares: version 2 as a 10% canary beside version 1, split exactly (180 and 20 of
   * the 200 requests), passed and promoted. The caller adds what its server shows beyond that.
   */
  deployExactCanary = async (): Promise<RolloutReport> => {
    const report = await this.deploy({ candidate: this.model('2', 'good'), traffic: 10 })
    expect(report.failure).toBeUndefined()
    expect(report).toMatchObject({ outcome: 'deployed', deployedVersion: '2', previousVersion: '1', changed: true })
    const canary = report.steps[0]!
    expect(canary.routes).toEqual({ '1': 90, '2': 10 })
    expect(canary.byVersion['1']).toMatchObject({ requests: 180, errors: 0 })
    expect(canary.byVersion['2']).toMatchObject({ requests: 20, errors: 0 })
    return report
  }

  /**
   * The rollout's own proof of its rollback (state restored to `before`, the verification's requests all answered
   * by `serving`), then the test's: `expectServing`.
   */
  expectProvenRollback = async (report: RolloutReport, before: EndpointState, serving: string): Promise<void> => {
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: true })
    expect(report.rollback!.after).toEqual(routingOf(before))
    expect(report.rollback!.verification!.byVersion[serving]).toMatchObject({ requests: 20, errors: 0 })
    await this.expectServing(serving, before)
  }

  /** Every owned process but the serving version's has been stopped. */
  expectOnlyProcess = async (version: string): Promise<void> => {
    expect((await this.servers.list()).map(r => [r.version, r.alive])).toEqual([[version, true]])
  }

  /**
   * The case every model server shares: a version whose model cannot load fails at apply with the server's
   * `message`, before any request, and `serving` still serves as before.
   */
  expectUnloadableRefused = async (version: string, serving: string, message: RegExp): Promise<void> => {
    const before = await this.target.read()
    const report = await this.deploy({ candidate: this.model(version, 'unloadable'), traffic: 10 })
    expect(report).toMatchObject({ outcome: 'rolled-back', rolledBack: true })
    expect(report.failure!.phase).toBe('apply')
    expect(report.failure!.message).toMatch(message)
    expect(report.steps).toEqual([])
    await this.expectServing(serving, before)
  }
}
