import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestHaproxy, type TestHaproxy } from '../../../../test/serving/haproxy.js'
import { ConfigurationError } from '../../errors.js'
import { freePort } from '../ports.js'
import { probe } from '../probe.js'
import { HaproxyBackend } from './backend.js'
import { RuntimeApi, RuntimeApiError } from './runtime-api.js'
import { parseServersState, parseStat } from './stats.js'

// Two small model servers: /ping for HAProxy's check, anything else answered 200 (or 500 for the broken one).
const servers: Server[] = []
async function modelServer(status: number): Promise<string> {
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(request.url === '/ping' ? 200 : status).end('{"predictions":[1]}'))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

let haproxy: TestHaproxy
let backend: HaproxyBackend
let good: string
let bad: string

beforeAll(async () => {
  haproxy = await startTestHaproxy('churn')
  backend = new HaproxyBackend(haproxy.api, 'churn')
  good = await modelServer(200)
  bad = await modelServer(500)
}, 30_000)

afterAll(async () => {
  await haproxy?.close()
  await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
})

async function waitUp(names: string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = (await backend.servers()).filter(s => names.includes(s.name) && s.status === 'UP')
    if (up.length === names.length) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`not UP: ${names}`)
}

describe('HaproxyBackend against a real HAProxy', () => {
  it('starts with no servers', async () => {
    expect(await backend.servers()).toEqual([])
  })

  it('adds servers at weight 0, checks them up, and splits 90/10 exactly', async () => {
    await backend.addServer('v1', good)
    await backend.addServer('v2', bad)
    await waitUp(['v1', 'v2'])
    let read = await backend.servers()
    expect(read.map(s => [s.name, s.address, s.weight, s.maintenance])).toEqual([
      ['v1', good, 0, false],
      ['v2', bad, 0, false]
    ])
    await backend.setWeight('v1', 90)
    await backend.setWeight('v2', 10)
    const result = await probe({
      url: `${haproxy.url}/invocations`,
      body: '{}',
      requests: 1000,
      versionHeader: 'x-served-by',
      concurrency: 4
    })
    expect(result.byVersion.v1).toMatchObject({ requests: 900, errors: 0 })
    // The broken server is UP to the check and answers 500 to every request: only real requests show it.
    expect(result.byVersion.v2).toMatchObject({ requests: 100, errors: 100 })
    read = await backend.servers()
    expect(read.map(s => [s.name, s.weight, s.status, s.responses2xx, s.responses5xx])).toEqual([
      ['v1', 90, 'UP', 900, 0],
      ['v2', 10, 'UP', 0, 100]
    ])
  }, 60_000)

  it('names the endpoint input when the backend does not exist', async () => {
    await expect(new HaproxyBackend(haproxy.api, 'nope').servers()).rejects.toThrow(
      `endpoint: HAProxy at ${haproxy.socket} has no backend named "nope"`
    )
  })

  it('refuses an endpoint HAProxy cannot name a backend as a configuration error, naming where it was set', () => {
    const refused = (() => {
      try {
        return new HaproxyBackend(haproxy.api, 'churn model', "input 'endpoint'")
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(ConfigurationError)
    expect((refused as Error).message).toMatch(
      /^input 'endpoint': "churn model" is not an HAProxy backend name: expected/
    )
  })

  it('raises what HAProxy refused, with the command', async () => {
    await expect(backend.setWeight('v9', 5)).rejects.toThrow(RuntimeApiError)
    await expect(backend.setWeight('v9', 5)).rejects.toThrow(/refused `set weight churn\/v9 5`: No such server\./)
    await expect(haproxy.api.run('set weight churn/v1 300')).rejects.toThrow(
      /Absolute weight can only be between 0 and 256/
    )
  })

  it('drains and deletes a server; all traffic then goes to the one left', async () => {
    await backend.removeServer('v2')
    expect((await backend.servers()).map(s => s.name)).toEqual(['v1'])
    const result = await probe({
      url: `${haproxy.url}/invocations`,
      body: '{}',
      requests: 20,
      versionHeader: 'x-served-by'
    })
    expect(result.byVersion.v1).toMatchObject({ requests: 20, errors: 0 })
  })

  it('a reload forgets runtime servers, which is why targets read state back', async () => {
    haproxy.reload()
    for (let i = 0; i < 50; i++) {
      if ((await backend.servers().catch(() => ['?'])).length === 0) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(await backend.servers()).toEqual([])
  }, 20_000)
})

/** An HAProxy of its own for one test: `socket` is the `stats socket` line's address and level. */
async function withHaproxy(socket: string, address: string, test: (api: RuntimeApi) => Promise<void>): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'modelgate-haproxy-socket-'))
  writeFileSync(
    join(folder, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${socket.replace('{folder}', folder)}`,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 5s',
      '  timeout server 5s',
      'backend churn',
      '  server v1 127.0.0.1:9 weight 10',
      ''
    ].join('\n')
  )
  const child = spawn('haproxy', ['-db', '-f', join(folder, 'haproxy.cfg')], { stdio: 'ignore' })
  try {
    const api = new RuntimeApi({ address: address.replace('{folder}', folder), timeoutMs: 2000 })
    for (
      let i = 0;
      i < 50 &&
      !(await api.query('show info').then(
        answer => answer.includes('Name: HAProxy'),
        () => false
      ));
      i++
    ) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await test(api)
  } finally {
    child.kill('SIGKILL')
    rmSync(folder, { recursive: true, force: true })
  }
}

describe('Runtime API sockets', () => {
  it('reaches a TCP socket on an IPv6 address written with brackets, [::1]:port', async () => {
    const port = await freePort('::1')
    await withHaproxy(`ipv6@[::1]:${port} level admin`, `[::1]:${port}`, async api => {
      expect(await api.query('show info')).toMatch(/^Name: HAProxy$/m)
    })
  }, 30_000)

  it('says that the socket needs level admin when HAProxy refuses a change', async () => {
    await withHaproxy('{folder}/operator.sock mode 600 level operator', '{folder}/operator.sock', async api => {
      await expect(new HaproxyBackend(api, 'churn').setWeight('v1', 5)).rejects.toThrow(
        "HAProxy Runtime API refused `set weight churn/v1 5`: Permission denied (the socket's `stats socket` line in HAProxy's configuration needs `level admin`)"
      )
    })
  }, 30_000)
})

describe('stats parsing', () => {
  it('reads servers state and stat lines of one backend', () => {
    const state = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord',
      '3 churn 1 v1 127.0.0.1 2 0 90 0 5 6 3 4 6 0 0 0 - 41001 -',
      '3 churn 2 v2 127.0.0.1 0 1 0 0 1 1 0 0 2 0 0 0 - 41002 -',
      ''
    ].join('\n')
    expect(parseServersState(state)).toEqual([
      { name: 'v1', address: '127.0.0.1:41001', weight: 90, admin: 0 },
      { name: 'v2', address: '127.0.0.1:41002', weight: 0, admin: 1 }
    ])
    const stat = [
      '# pxname,svname,stot,status,check_status,hrsp_2xx,hrsp_4xx,hrsp_5xx,last_chk',
      'churn,v1,12,UP,L7OK,10,2,0,OK, with a comma',
      'churn,BACKEND,12,UP,,10,2,0,',
      'other,v1,3,UP,L7OK,3,0,0,'
    ].join('\n')
    expect(parseStat(stat, 'churn')).toEqual([
      {
        name: 'v1',
        status: 'UP',
        checkStatus: 'L7OK',
        sessions: 12,
        responses2xx: 10,
        responses4xx: 2,
        responses5xx: 0
      }
    ])
  })
})
