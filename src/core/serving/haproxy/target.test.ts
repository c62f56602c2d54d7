/**
 * The haproxy target against a real HAProxy, with small Node HTTP servers as the model servers where the model
 * itself does not matter (the launcher is the seam): what a rollout does to the backend around the model servers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestHaproxy, type TestHaproxy } from '../../../../test/serving/haproxy.js'
import { ModelServers, type ModelServerLauncher } from '../model-server.js'
import { rollout } from '../rollout.js'
import { deadlineIn, sameRouting } from '../types.js'
import { HaproxyTarget } from './target.js'

// A model server answering /ping and every prediction with 200, or 500 when its model directory ends in `-bad`,
// or never when the directory holds a file `hang`.
const STUB = `
const { createServer } = require('node:http')
const { existsSync } = require('node:fs')
const [port, dir] = process.argv.slice(1)
createServer((request, response) => {
  // A file \`hang\` in the model directory: predictions are never answered.
  if (request.url !== '/ping' && existsSync(dir + '/hang')) return
  request.resume()
  request.on('end', () => response.writeHead(request.url === '/ping' || !dir.endsWith('-bad') ? 200 : 500).end('{"predictions":[1]}'))
}).listen(Number(port), '127.0.0.1')
`
const launcher: ModelServerLauncher = {
  kind: 'stub',
  readyPath: '/ping',
  launch: (dir, _host, port) => ({ command: process.execPath, args: ['-e', STUB, String(port), dir], env: {} })
}

let haproxy: TestHaproxy
let dir: string
let servers: ModelServers
let target: HaproxyTarget
let other: Server
let otherAddress: string

beforeAll(async () => {
  haproxy = await startTestHaproxy('churn')
  dir = mkdtempSync(join(tmpdir(), 'modelgate-target-'))
  servers = new ModelServers({ stateDir: join(dir, 'state'), launcher })
  target = new HaproxyTarget({
    endpoint: 'churn',
    runtimeApi: haproxy.socket,
    url: haproxy.url,
    servers,
    check: { interval: 200 }
  })
  other = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(200).end('not a model'))
  })
  await new Promise<void>(resolve => other.listen(0, '127.0.0.1', resolve))
  otherAddress = `127.0.0.1:${(other.address() as AddressInfo).port}`
}, 30_000)

afterEach(async () => {
  for (const record of await servers.list()) await servers.stop(record.version)
  for (const server of await target.backend.servers()) await target.backend.removeServer(server.name)
})

afterAll(async () => {
  await haproxy?.close()
  await new Promise(resolve => other?.close(resolve))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const model = (version: string, suffix = '') => ({ name: 'churn', version, dir: join(dir, `m${version}${suffix}`) })
const options = { body: {}, requests: 10, verifyRequests: 5, timeoutMs: 30_000, rollbackTimeoutMs: 20_000 }
const routing = async () =>
  (await target.read()).versions.map(v => `${v.member} ${v.address} ${v.weight} ${v.health}`).sort()

describe('a proven deployment', () => {
  it('stays deployed when stopping the previous model server fails afterwards', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    const events: string[] = []
    // The same target, whose housekeeping after the proof throws.
    const failing: HaproxyTarget = Object.assign(Object.create(target) as HaproxyTarget, {
      release: async () => Promise.reject(new Error('EPERM: operation not permitted, kill'))
    })
    const report = await rollout({
      ...options,
      target: failing,
      candidate: model('2'),
      onEvent: event => void events.push(`${event.phase}: ${event.message}`)
    })
    expect(report).toMatchObject({ outcome: 'deployed', rolledBack: false, deployedVersion: '2' })
    expect(events).toContain(
      'verify: could not stop what no longer serves (EPERM: operation not permitted, kill); a later rollout retries it'
    )
    expect(await routing()).toEqual([expect.stringMatching(/^v2 127\.0\.0\.1:\d+ 100 /)])
  }, 60_000)
})

describe('HaproxyTarget: servers modelgate did not add', () => {
  it('leaves a server of someone else at weight 0 in the backend through a rollout', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    await target.backend.addServer('fallback', otherAddress)
    const report = await rollout({ ...options, target, candidate: model('2') })
    expect(report.failure?.message).toBeUndefined()
    expect(report.outcome).toBe('deployed')
    const after = await target.read()
    expect(after.versions.map(v => `${v.member} ${v.weight}`).sort()).toEqual(['fallback 0', 'v2 100'])
    expect(after.versions.find(v => v.member === 'fallback')?.address).toBe(otherAddress)
  }, 60_000)

  it('refuses at once, and rolls back, when a server of someone else takes traffic', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    await target.backend.addServer('web1', otherAddress)
    await target.backend.setWeight('web1', 10)
    const before = await routing()
    const started = performance.now()
    const report = await rollout({ ...options, target, candidate: model('2') })
    expect(performance.now() - started).toBeLessThan(15_000)
    expect(report.failure?.message).toMatch(
      /^endpoint: backend churn has server web1 \(weight 10\), which modelgate did not add, taking traffic/
    )
    expect(report.rolledBack).toBe(true)
    expect(await routing()).toEqual(before)
  }, 60_000)
})

describe('HaproxyTarget.restore', () => {
  it('takes a server out of maintenance that was serving before (a removal cut short leaves it there)', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    const saved = await target.read()
    await target.backend.setWeight('v1', 0)
    await target.backend.disable('v1')
    // The router's state differs while v1 is in maintenance, weights aside.
    await target.backend.setWeight('v1', 100)
    expect(sameRouting(saved, await target.read())).toBe(false)
    await target.restore(saved, deadlineIn(10_000, 'the restore'))
    const restored = await target.read()
    expect(sameRouting(saved, restored)).toBe(true)
    expect((await target.backend.servers()).map(s => [s.name, s.weight, s.maintenance])).toEqual([['v1', 100, false]])
  }, 60_000)
})

describe('a rollback that cannot be proven', () => {
  it('is not reported proven when the previous model server died, and stops the candidate it started', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    const previous = (await servers.find('1'))!
    const report = await rollout({
      ...options,
      target,
      candidate: model('2', '-bad'),
      onEvent: event => {
        if (event.phase === 'observe') process.kill(-previous.pid, 'SIGKILL')
      }
    })
    expect(report).toMatchObject({ outcome: 'failed', rolledBack: false })
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: false })
    expect((await servers.list()).map(record => `${record.version} ${record.alive}`)).toEqual(['1 false'])
  }, 60_000)
})

describe('the rollback proof', () => {
  it('stops at the first failed request: a previous version that hangs does not hold the job for every timeout', async () => {
    mkdirSync(join(dir, 'm1'), { recursive: true })
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    let failedAt = 0
    const report = await rollout({
      ...options,
      verifyRequests: 10,
      requestTimeoutMs: 1000,
      target,
      candidate: model('2', '-bad'),
      onEvent: event => {
        if (event.phase === 'rollback' && !failedAt) {
          failedAt = performance.now()
          writeFileSync(join(dir, 'm1', 'hang'), '')
        }
      }
    })
    rmSync(join(dir, 'm1', 'hang'))
    expect(report).toMatchObject({ outcome: 'failed', rolledBack: false })
    expect(report.rollback).toMatchObject({ stateRestored: true, proven: false })
    expect(report.rollback?.message).toMatch(/no answer within/)
    expect(performance.now() - failedAt).toBeLessThan(5000)
  }, 60_000)
})

describe('HaproxyTarget and drained servers', () => {
  it('reads a drained server as taking no traffic, routes to it again when asked, and drains it again on a restore', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    await target.backend.drain('v1')
    const saved = await target.read()
    expect(saved.versions.map(v => [v.member, v.weight, v.share, v.health])).toEqual([['v1', 100, 0, 'maintenance']])
    const report = await rollout({ ...options, timeoutMs: 8000, target, candidate: model('1') })
    expect(report.failure?.message).toBeUndefined()
    expect((await target.backend.servers()).map(s => [s.name, s.draining])).toEqual([['v1', false]])
    await target.restore(saved, deadlineIn(10_000, 'the restore'))
    expect((await target.backend.servers()).map(s => [s.name, s.weight, s.draining])).toEqual([['v1', 100, true]])
  }, 60_000)
})

describe('HaproxyTarget.apply', () => {
  it('takes a server it routes to out of maintenance (a run before left it there) instead of waiting out the deadline', async () => {
    expect((await rollout({ ...options, target, candidate: model('1') })).outcome).toBe('deployed')
    await target.backend.disable('v1')
    const report = await rollout({ ...options, timeoutMs: 8000, target, candidate: model('1') })
    expect(report.failure?.message).toBeUndefined()
    expect(report.outcome).toBe('deployed')
    expect((await target.backend.servers()).map(s => [s.name, s.weight, s.maintenance])).toEqual([['v1', 100, false]])
  }, 60_000)
})
