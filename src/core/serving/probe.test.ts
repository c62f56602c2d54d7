import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { percentile, probe } from './probe.js'

// A small scoring server: answers alternate between two members (like a router's round robin), and paths choose
// failures: /fail-every-3rd answers 400 on every third request, /slow waits longer than the client's timeout.
let server: Server
let base: string
let counter = 0
const bodies: string[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', chunk => (body += chunk))
    request.on('end', () => {
      bodies.push(body)
      counter++
      const member = counter % 2 ? 'v1' : 'v2'
      if (request.url === '/slow') {
        setTimeout(() => response.writeHead(200).end('{"predictions":[1]}'), 400).unref()
        return
      }
      if (request.url === '/fail-every-3rd' && counter % 3 === 0) {
        response.writeHead(400, { 'x-served-by': member, 'content-type': 'application/json' })
        response.end('{"error_code": "BAD_REQUEST",\n "message": "boom\\n  at frame"}')
        return
      }
      response.writeHead(200, { 'x-served-by': member, 'content-type': 'application/json' })
      response.end('{"predictions":[0,1]}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

describe('probe', () => {
  it('counts requests, attributes each answer by the header and measures latency', async () => {
    counter = 0
    const result = await probe({
      url: `${base}/ok`,
      body: { inputs: [[1, 2]] },
      requests: 10,
      versionHeader: 'X-Served-By',
      versionOf: value => value.replace(/^v/, '')
    })
    expect(result.requests).toBe(10)
    expect(result.errors).toBe(0)
    expect(result.errorRate).toBe(0)
    expect(result.byVersion['1']!.requests).toBe(5)
    expect(result.byVersion['2']!.requests).toBe(5)
    expect(result.unattributed.requests).toBe(0)
    expect(result.latencyP95Ms).toBeGreaterThanOrEqual(result.latencyP50Ms)
    expect(result.stoppedEarly).toBe(false)
    expect(bodies.at(-1)).toBe('{"inputs":[[1,2]]}')
    // One at a time: each request is sent after the previous one was answered.
    for (let i = 1; i < 10; i++) {
      const previous = result.samples[i - 1]!
      expect(result.samples[i]!.sentAtMs).toBeGreaterThanOrEqual(previous.sentAtMs + previous.latencyMs! - 1)
    }
  })

  it('counts any non-2xx answer as an error, per version, with the body on one line', async () => {
    counter = 0
    const result = await probe({
      url: `${base}/fail-every-3rd`,
      body: '{}',
      requests: 12,
      versionHeader: 'x-served-by'
    })
    expect(result.errors).toBe(4)
    expect(result.errorRate).toBeCloseTo(4 / 12)
    // Requests 3 and 9 came from v1, 6 and 12 from v2.
    expect(result.byVersion.v1).toMatchObject({ requests: 6, errors: 2 })
    expect(result.byVersion.v2).toMatchObject({ requests: 6, errors: 2 })
    expect(result.firstErrors).toEqual(['HTTP 400: {"error_code": "BAD_REQUEST", "message": "boom\\n at frame"}'])
  })

  it('runs a check on 2xx answers and can stop at the first error', async () => {
    counter = 0
    const result = await probe({
      url: `${base}/ok`,
      body: '{}',
      requests: 10,
      check: (_status, text) => (JSON.parse(text).predictions.length === 3 ? undefined : 'expected 3 predictions'),
      stopOnError: true
    })
    expect(result.requests).toBe(1)
    expect(result.stoppedEarly).toBe(true)
    expect(result.firstErrors).toEqual(['expected 3 predictions'])
  })

  it('times out slow requests and counts them as errors with their elapsed time', async () => {
    const result = await probe({ url: `${base}/slow`, body: '{}', requests: 2, requestTimeoutMs: 100 })
    expect(result.errors).toBe(2)
    expect(result.firstErrors[0]).toMatch(/^no answer within 100 ms$/)
    expect(result.latencyP50Ms).toBeGreaterThanOrEqual(90)
  })

  it('counts connection failures as errors, unattributed and without a latency', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>(resolve => closed.close(() => resolve()))
    const result = await probe({ url: `http://127.0.0.1:${port}/`, body: '{}', requests: 3, versionHeader: 'x' })
    expect(result).toMatchObject({ requests: 3, errors: 3, errorRate: 1 })
    expect(result.unattributed.errors).toBe(3)
    expect(result.firstErrors[0]).toMatch(/ECONNREFUSED/)
    expect(result.latencyP50Ms).toBeNaN()
  })

  it('stops at the total time, not after the count', async () => {
    const started = performance.now()
    const result = await probe({ url: `${base}/slow`, body: '{}', requests: 1000, totalTimeoutMs: 250, concurrency: 2 })
    expect(performance.now() - started).toBeLessThan(2000)
    expect(result.requests).toBeLessThanOrEqual(2)
    expect(result.stoppedEarly).toBe(true)
  })

  it('percentile is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 95)).toBe(95)
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })
})
