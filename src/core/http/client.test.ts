/**
 * HttpClient against a real node:http server on 127.0.0.1: every request the client makes is seen by the server
 * (method, URL, headers, the exact body bytes), and each test scripts the answers attempt by attempt.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError } from '../errors.js'
import { HttpClient, HttpError, NetworkError, retryAfter, type HttpClientOptions, type RetryEvent } from './client.js'

interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

/** Answers one request; `index` counts the requests since the test began (0 for the first attempt). */
type Handler = (res: ServerResponse, seen: Seen, index: number, req: IncomingMessage) => void

let server: Server
let base: string
let handler: Handler
let seen: Seen[]
const sockets = new Set<Socket>()
let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelgate-http-'))
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request: Seen = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', base),
        headers: req.headers,
        body: Buffer.concat(chunks)
      }
      seen.push(request)
      handler(res, request, seen.length - 1, req)
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

beforeEach(() => {
  seen = []
  handler = (res, request) => json(res, 200, { ok: true, path: request.url.pathname })
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
  await rm(scratch, { recursive: true, force: true })
})

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** A client on the test server that records its retry events; fast backoff unless a test says otherwise. */
function client(options: Partial<HttpClientOptions> = {}): { http: HttpClient; retries: RetryEvent[] } {
  const retries: RetryEvent[] = []
  const http = new HttpClient({
    baseUrl: base,
    retryBaseMs: 1,
    onRetry: event => retries.push(event),
    ...options
  })
  return { http, retries }
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>(resolve => probe.close(() => resolve()))
  return port
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(type)
    return error as T
  }
  throw new Error(`expected a ${type.name}`)
}

async function randomFile(name: string, size: number): Promise<{ path: string; size: number; sha256: string }> {
  const bytes = randomBytes(size)
  const path = join(scratch, name)
  await writeFile(path, bytes)
  return { path, size, sha256: sha256(bytes) }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('HttpClient JSON requests', () => {
  it('GETs JSON with repeated array parameters, scalars stringified and undefined values dropped', async () => {
    const { http } = client({ userAgent: 'modelgate-test' })
    handler = (res, request) => json(res, 200, { registered_models: [{ name: 'churn' }], echo: request.url.search })
    const response = await http.request({
      method: 'GET',
      path: '/api/2.0/mlflow/registered-models/search',
      query: {
        filter: "name = 'churn'",
        order_by: ['name ASC', 'last_updated_timestamp DESC'],
        max_results: 50,
        include_deleted: false,
        page_token: undefined,
        none: []
      }
    })

    expect(response.status).toBe(200)
    expect(response.json).toEqual({ registered_models: [{ name: 'churn' }], echo: expect.any(String) })
    expect(JSON.parse(response.text)).toEqual(response.json)
    expect(response.headers.get('content-type')).toBe('application/json')

    expect(seen).toHaveLength(1)
    const [request] = seen
    expect(request.method).toBe('GET')
    expect(request.url.pathname).toBe('/api/2.0/mlflow/registered-models/search')
    expect(request.url.searchParams.getAll('order_by')).toEqual(['name ASC', 'last_updated_timestamp DESC'])
    expect(request.url.searchParams.get('filter')).toBe("name = 'churn'")
    expect(request.url.searchParams.get('max_results')).toBe('50')
    expect(request.url.searchParams.get('include_deleted')).toBe('false')
    expect(request.url.searchParams.has('page_token')).toBe(false)
    expect(request.url.searchParams.has('none')).toBe(false)
    expect([...request.url.searchParams.keys()]).toEqual([
      'filter',
      'order_by',
      'order_by',
      'max_results',
      'include_deleted'
    ])
    expect(request.headers.accept).toBe('application/json')
    expect(request.headers['user-agent']).toBe('modelgate-test')
    expect(request.headers['content-type']).toBeUndefined()
    expect(request.headers.authorization).toBeUndefined()
    expect(request.body).toHaveLength(0)
  })

  it('builds URLs: repeated keys in order, no "?" without a query, trailing slashes of the base dropped', () => {
    const http = new HttpClient({ baseUrl: `${base}/mlflow//` })
    expect(http.baseUrl).toBe(`${base}/mlflow`)
    expect(http.url('/api/x')).toBe(`${base}/mlflow/api/x`)
    expect(http.url('/api/x', { a: undefined })).toBe(`${base}/mlflow/api/x`)
    expect(http.url('/api/x', { order_by: ['a', 'b'], n: 3 })).toBe(`${base}/mlflow/api/x?order_by=a&order_by=b&n=3`)
    expect(http.url('/api/x', { q: 'a b&c=d' })).toBe(`${base}/mlflow/api/x?q=a+b%26c%3Dd`)
  })

  it('POSTs a JSON body with content-type application/json', async () => {
    const { http } = client()
    handler = (res, request) => json(res, 200, { registered_model: { name: JSON.parse(request.body.toString()).name } })
    const body = { name: 'churn', tags: [{ key: 'team', value: 'fraud' }], description: 'ünïcödé' }
    const response = await http.request({
      method: 'POST',
      path: '/api/2.0/mlflow/registered-models/create',
      json: body
    })

    expect(response.json).toEqual({ registered_model: { name: 'churn' } })
    expect(seen).toHaveLength(1)
    expect(seen[0].method).toBe('POST')
    expect(seen[0].headers['content-type']).toBe('application/json')
    expect(seen[0].headers.accept).toBe('application/json')
    expect(JSON.parse(seen[0].body.toString('utf8'))).toEqual(body)
    expect(seen[0].headers['content-length']).toBe(String(seen[0].body.length))
  })

  it('sends a form body form-encoded, and the caller headers', async () => {
    const { http } = client()
    await http.request({
      method: 'POST',
      path: '/oidc/v1/token',
      form: { grant_type: 'client_credentials', scope: 'all-apis sql' },
      headers: { 'x-request-id': 'abc' }
    })
    expect(seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(seen[0].headers['x-request-id']).toBe('abc')
    const form = new URLSearchParams(seen[0].body.toString())
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', scope: 'all-apis sql' })
  })

  it('gives json undefined for a body that is not JSON, and for an empty body', async () => {
    const { http } = client()
    handler = (res, _request, index) => {
      if (index === 0) {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('plain words')
      } else {
        res.writeHead(204)
        res.end()
      }
    }
    const text = await http.request({ method: 'GET', path: '/text' })
    expect(text.text).toBe('plain words')
    expect(text.json).toBeUndefined()
    const empty = await http.request({ method: 'DELETE', path: '/thing' })
    expect(empty.status).toBe(204)
    expect(empty.text).toBe('')
    expect(empty.json).toBeUndefined()
    expect(seen.map(request => request.method)).toEqual(['GET', 'DELETE'])
  })
})

describe('HttpClient authentication', () => {
  it('sends no authorization header without auth', async () => {
    await client().http.request({ method: 'GET', path: '/x' })
    expect(seen[0].headers.authorization).toBeUndefined()
  })

  it('sends basic auth as base64 of username:password', async () => {
    const { http } = client({ auth: { kind: 'basic', username: 'mlflow-user', password: 'p@ss:wörd' } })
    await http.request({ method: 'GET', path: '/x' })
    const header = seen[0].headers.authorization ?? ''
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/)
    expect(Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8')).toBe('mlflow-user:p@ss:wörd')
  })

  it('sends a bearer token', async () => {
    const { http } = client({ auth: { kind: 'bearer', token: 'dapi123' } })
    await http.request({ method: 'POST', path: '/x', json: {} })
    expect(seen[0].headers.authorization).toBe('Bearer dapi123')
  })

  it('asks a token provider before every attempt, so a refreshed token is used on the next request and retry', async () => {
    let calls = 0
    const { http } = client({ auth: { kind: 'token-provider', token: async () => `token-${++calls}` } })
    handler = (res, _request, index) => json(res, index === 1 ? 503 : 200, {})
    await http.request({ method: 'GET', path: '/first' })
    await http.request({ method: 'GET', path: '/second' })
    expect(seen.map(request => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
      'Bearer token-3'
    ])
    expect(calls).toBe(3)
  })

  // A refused OAuth client is a ConfigurationError naming DATABRICKS_CLIENT_ID/SECRET: it must not become a
  // NetworkError, nor ask for a token again on every retry.
  it('lets an error thrown by the token provider through as it is, without retrying', async () => {
    let calls = 0
    const refused = new ConfigurationError('the workspace refused the OAuth client credentials', {
      source: 'DATABRICKS_CLIENT_ID'
    })
    const { http, retries } = client({
      retries: 3,
      auth: {
        kind: 'token-provider',
        token: async () => {
          calls++
          throw refused
        }
      }
    })
    const error = await http.request({ method: 'GET', path: '/x' }).catch((thrown: unknown) => thrown)
    expect(error).toBe(refused)
    expect(calls).toBe(1)
    expect(retries).toHaveLength(0)
    expect(seen).toHaveLength(0)
  })

  it('lets an error thrown by the token provider through as it is from stream()', async () => {
    let calls = 0
    const refused = new ConfigurationError('the workspace refused the OAuth client credentials', {
      source: 'DATABRICKS_CLIENT_ID'
    })
    const { http } = client({
      retries: 3,
      auth: {
        kind: 'token-provider',
        token: async () => {
          calls++
          throw refused
        }
      }
    })
    const error = await http.stream(`${base}/file`).catch((thrown: unknown) => thrown)
    expect(error).toBe(refused)
    expect(calls).toBe(1)
  })

  it('sends the authorization header on stream downloads too', async () => {
    const { http } = client({ auth: { kind: 'bearer', token: 'download-token' } })
    handler = res => {
      res.writeHead(200)
      res.end('bytes')
    }
    const body = await http.stream(`${base}/artifact`)
    expect(Buffer.from(await new Response(body).arrayBuffer()).toString()).toBe('bytes')
    expect(seen[0].headers.authorization).toBe('Bearer download-token')
  })
})

describe('HttpClient retries on answers', () => {
  it.each([500, 502, 503, 504, 429])('retries a GET answered %i, then returns the success', async status => {
    const { http, retries } = client()
    handler = (res, _request, index) =>
      index < 2 ? json(res, status, { error_code: 'TEMPORARILY_UNAVAILABLE' }) : json(res, 200, { done: true })
    const response = await http.request({ method: 'GET', path: '/api/x', query: { a: '1' } })
    expect(response.status).toBe(200)
    expect(response.json).toEqual({ done: true })
    expect(seen).toHaveLength(3)
    expect(seen.every(request => request.url.search === '?a=1')).toBe(true)
    expect(retries.map(event => [event.method, event.path, event.attempt, event.reason])).toEqual([
      ['GET', '/api/x', 1, `HTTP ${status}`],
      ['GET', '/api/x', 2, `HTTP ${status}`]
    ])
  })

  it('backs off exponentially with jitter: attempt n waits between half and all of base × 2^(n-1)', async () => {
    const { http, retries } = client({ retries: 5, retryBaseMs: 1 })
    handler = (res, _request, index) => json(res, index < 5 ? 502 : 200, {})
    await http.request({ method: 'GET', path: '/x' })
    expect(retries.map(event => event.attempt)).toEqual([1, 2, 3, 4, 5])
    retries.forEach((event, n) => {
      const full = 2 ** n
      expect(event.delayMs).toBeGreaterThanOrEqual(full / 2)
      expect(event.delayMs).toBeLessThanOrEqual(full)
    })
  })

  it('caps the backoff at maxRetryDelayMs', async () => {
    const { http, retries } = client({ retries: 3, retryBaseMs: 60_000, maxRetryDelayMs: 8 })
    handler = (res, _request, index) => json(res, index < 3 ? 503 : 200, {})
    const started = Date.now()
    await http.request({ method: 'GET', path: '/x' })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(retries).toHaveLength(3)
    for (const event of retries) {
      expect(event.delayMs).toBeGreaterThanOrEqual(4)
      expect(event.delayMs).toBeLessThanOrEqual(8)
    }
  })

  it('waits exactly a Retry-After of 0 seconds', async () => {
    const { http, retries } = client({ maxRetryDelayMs: 50 })
    handler = (res, _request, index) =>
      json(res, index === 0 ? 429 : 200, {}, index === 0 ? { 'retry-after': '0' } : {})
    await http.request({ method: 'GET', path: '/x' })
    expect(retries).toHaveLength(1)
    expect(retries[0].delayMs).toBe(0)
  })

  it('waits exactly the Retry-After seconds when below the cap', async () => {
    const { http, retries } = client({ maxRetryDelayMs: 1_500 })
    handler = (res, _request, index) =>
      json(res, index === 0 ? 503 : 200, {}, index === 0 ? { 'retry-after': '1' } : {})
    const started = Date.now()
    await http.request({ method: 'GET', path: '/x' })
    const elapsed = Date.now() - started
    expect(retries).toHaveLength(1)
    expect(retries[0].delayMs).toBe(1_000)
    expect(retries[0].reason).toBe('HTTP 503')
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(seen).toHaveLength(2)
  })

  it('caps a long Retry-After at maxRetryDelayMs', async () => {
    const { http, retries } = client({ maxRetryDelayMs: 25 })
    handler = (res, _request, index) =>
      json(res, index === 0 ? 429 : 200, {}, index === 0 ? { 'retry-after': '3600' } : {})
    const started = Date.now()
    await http.request({ method: 'GET', path: '/x' })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(retries[0].delayMs).toBe(25)
  })

  it('honours a Retry-After HTTP date: a future date waits (up to the cap), a past one not at all', async () => {
    const { http, retries } = client({ maxRetryDelayMs: 30 })
    const future = new Date(Date.now() + 3_600_000).toUTCString()
    const past = new Date(Date.now() - 3_600_000).toUTCString()
    handler = (res, _request, index) => {
      if (index === 0) json(res, 503, {}, { 'retry-after': future })
      else if (index === 1) json(res, 503, {}, { 'retry-after': past })
      else json(res, 200, {})
    }
    await http.request({ method: 'GET', path: '/x' })
    expect(retries.map(event => event.delayMs)).toEqual([30, 0])
  })

  it('gives up after `retries` and throws HttpError with the status, error_code and message', async () => {
    const { http, retries } = client({ retries: 2 })
    handler = res =>
      json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The service is overloaded; try later.' })
    const error = await rejection(
      http.request({ method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: 'r1' } }),
      HttpError
    )
    expect(seen).toHaveLength(3)
    expect(retries).toHaveLength(2)
    expect(error.status).toBe(503)
    expect(error.code).toBe('TEMPORARILY_UNAVAILABLE')
    expect(error.serverMessage).toBe('The service is overloaded; try later.')
    expect(error.method).toBe('GET')
    expect(error.url).toBe(`${base}/api/2.0/mlflow/runs/get?run_id=r1`)
    expect(error.json).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: 'The service is overloaded; try later.'
    })
    expect(error.name).toBe('HttpError')
    expect(error.message).toContain(`GET ${base}/api/2.0/mlflow/runs/get?run_id=r1 answered HTTP 503: {"error_code"`)
  })

  it('retries: 0 makes a single attempt', async () => {
    const { http, retries } = client({ retries: 0 })
    handler = res => json(res, 500, {})
    const error = await rejection(http.request({ method: 'GET', path: '/x' }), HttpError)
    expect(error.status).toBe(500)
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it('does not retry a 4xx other than 429', async () => {
    const { http, retries } = client()
    handler = res => json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Bad alias' })
    const error = await rejection(http.request({ method: 'GET', path: '/x' }), HttpError)
    expect(error.status).toBe(400)
    expect(error.code).toBe('INVALID_PARAMETER_VALUE')
    expect(error.serverMessage).toBe('Bad alias')
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it('falls back to the raw text for serverMessage and has no code when the body is not an MLflow error', async () => {
    const { http } = client({ retries: 0 })
    const page = `  <html>${'x'.repeat(500)}</html>\n`
    handler = res => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end(page)
    }
    const error = await rejection(http.request({ method: 'GET', path: '/x' }), HttpError)
    expect(error.status).toBe(502)
    expect(error.code).toBeUndefined()
    expect(error.json).toBeUndefined()
    expect(error.body).toBe(page)
    expect(error.serverMessage).toBe(page.trim().slice(0, 300))
    expect(error.message.length).toBeLessThan(page.length + 100)
    expect(error.message).toContain(page.slice(0, 300))
    expect(error.message).not.toContain(page.slice(0, 301))
  })

  it('gives no code when error_code is not a string', async () => {
    const { http } = client({ retries: 0 })
    handler = res => json(res, 400, { error_code: 42, message: ['not', 'text'] })
    const error = await rejection(http.request({ method: 'GET', path: '/x' }), HttpError)
    expect(error.code).toBeUndefined()
    expect(error.serverMessage).toBe(error.body.trim())
  })

  it('does not retry a POST answered 500: it may have created the thing', async () => {
    const { http, retries } = client()
    handler = res => json(res, 500, { error_code: 'INTERNAL_ERROR', message: 'boom' })
    const error = await rejection(
      http.request({ method: 'POST', path: '/api/2.0/mlflow/model-versions/create', json: { name: 'churn' } }),
      HttpError
    )
    expect(error.status).toBe(500)
    expect(error.code).toBe('INTERNAL_ERROR')
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it.each([502, 503, 504])('does not retry a POST answered %i either', async status => {
    const { http } = client()
    handler = res => json(res, status, {})
    const error = await rejection(http.request({ method: 'POST', path: '/create', json: {} }), HttpError)
    expect(error.status).toBe(status)
    expect(seen).toHaveLength(1)
  })

  it('retries a POST answered 429 (refused before any work), re-sending the same body', async () => {
    const { http, retries } = client()
    handler = (res, _request, index) => json(res, index < 2 ? 429 : 200, { ok: index })
    const response = await http.request({ method: 'POST', path: '/create', json: { name: 'churn', n: 1 } })
    expect(response.json).toEqual({ ok: 2 })
    expect(seen).toHaveLength(3)
    for (const request of seen) expect(JSON.parse(request.body.toString())).toEqual({ name: 'churn', n: 1 })
    expect(retries.map(event => event.reason)).toEqual(['HTTP 429', 'HTTP 429'])
  })

  it('retries a POST marked idempotent on 500', async () => {
    const { http, retries } = client()
    handler = (res, _request, index) => json(res, index === 0 ? 500 : 200, {})
    const response = await http.request({ method: 'POST', path: '/set-tag', json: { key: 'k' }, idempotent: true })
    expect(response.status).toBe(200)
    expect(seen).toHaveLength(2)
    expect(retries).toHaveLength(1)
  })

  it('does not retry a PUT marked not idempotent on 503, but does on 429', async () => {
    const { http } = client()
    handler = res => json(res, 503, {})
    await rejection(http.request({ method: 'PUT', path: '/x', json: {}, idempotent: false }), HttpError)
    expect(seen).toHaveLength(1)
    seen = []
    handler = (res, _request, index) => json(res, index === 0 ? 429 : 200, {})
    await http.request({ method: 'PUT', path: '/x', json: {}, idempotent: false })
    expect(seen).toHaveLength(2)
  })

  it('returns an accepted 404 instead of throwing, without retrying', async () => {
    const { http, retries } = client()
    handler = res => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such model' })
    const response = await http.request({ method: 'GET', path: '/models/get', accept: [404] })
    expect(response.status).toBe(404)
    expect(response.json).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such model' })
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it('throws the same 404 when it is not accepted', async () => {
    const { http } = client()
    handler = res => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such model' })
    const error = await rejection(http.request({ method: 'GET', path: '/models/get', accept: [409] }), HttpError)
    expect(error.status).toBe(404)
    expect(error.code).toBe('RESOURCE_DOES_NOT_EXIST')
    expect(seen).toHaveLength(1)
  })

  it('returns an accepted retryable status at once', async () => {
    const { http } = client()
    handler = res => json(res, 503, {})
    const response = await http.request({ method: 'GET', path: '/x', accept: [503] })
    expect(response.status).toBe(503)
    expect(seen).toHaveLength(1)
  })
})

describe('HttpClient network failures', () => {
  it('retries a GET on connection refused, then throws NetworkError with a readable reason', async () => {
    const port = await closedPort()
    const { http, retries } = client({ baseUrl: `http://127.0.0.1:${port}`, retries: 2 })
    const error = await rejection(http.request({ method: 'GET', path: '/api/x' }), NetworkError)
    expect(error.reason).toBe('connection refused (is the server running, and is the URL right?)')
    expect(error.timedOut).toBe(false)
    expect(error.method).toBe('GET')
    expect(error.url).toBe(`http://127.0.0.1:${port}/api/x`)
    expect(error.name).toBe('NetworkError')
    expect(error.message).toBe(`GET http://127.0.0.1:${port}/api/x failed: ${error.reason}`)
    expect(retries.map(event => [event.attempt, event.reason])).toEqual([
      [1, error.reason],
      [2, error.reason]
    ])
  })

  it('does not retry a POST on connection refused', async () => {
    const port = await closedPort()
    const { http, retries } = client({ baseUrl: `http://127.0.0.1:${port}`, retries: 3 })
    const error = await rejection(http.request({ method: 'POST', path: '/create', json: {} }), NetworkError)
    expect(error.reason).toMatch(/connection refused/)
    expect(error.method).toBe('POST')
    expect(retries).toHaveLength(0)
  })

  it('retries an idempotent POST on connection refused', async () => {
    const port = await closedPort()
    const { http, retries } = client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 })
    await rejection(http.request({ method: 'POST', path: '/x', json: {}, idempotent: true }), NetworkError)
    expect(retries).toHaveLength(1)
  })

  it('names a connection closed mid-request', async () => {
    const { http } = client({ retries: 1 })
    handler = (_res, _request, _index, req) => req.socket.destroy()
    const error = await rejection(http.request({ method: 'GET', path: '/x' }), NetworkError)
    expect(error.reason).toBe('the connection was closed mid-request')
    expect(error.timedOut).toBe(false)
    expect(seen).toHaveLength(2)
  })

  it('gives up on a server that never answers within timeoutMs, with timedOut true', async () => {
    const { http, retries } = client({ timeoutMs: 300, retries: 0 })
    handler = () => {}
    const started = Date.now()
    const error = await rejection(http.request({ method: 'GET', path: '/hang' }), NetworkError)
    const elapsed = Date.now() - started
    expect(error.timedOut).toBe(true)
    expect(error.reason).toMatch(/^no answer within \d+ m?s$/)
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(3_000)
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it('times out each attempt and retries a GET, with the per-request timeout overriding the client’s', async () => {
    const { http, retries } = client({ timeoutMs: 60_000, retries: 1 })
    handler = () => {}
    const started = Date.now()
    const error = await rejection(http.request({ method: 'GET', path: '/hang', timeoutMs: 200 }), NetworkError)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(error.timedOut).toBe(true)
    expect(seen).toHaveLength(2)
    expect(retries).toHaveLength(1)
    expect(retries[0].reason).toMatch(/^no answer within/)
  })

  it('does not retry a POST that timed out', async () => {
    const { http, retries } = client({ timeoutMs: 200, retries: 3 })
    handler = () => {}
    const error = await rejection(http.request({ method: 'POST', path: '/create', json: {} }), NetworkError)
    expect(error.timedOut).toBe(true)
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })
})

describe('HttpClient file uploads', () => {
  it('streams a 5 MB file byte for byte with content-length and octet-stream', async () => {
    const file = await randomFile('model.bin', 5 * 1024 * 1024)
    const { http } = client()
    handler = (res, request) => json(res, 200, { sha256: sha256(request.body), size: request.body.length })
    const response = await http.request({
      method: 'PUT',
      path: '/api/2.0/mlflow-artifacts/artifacts/1/model.bin',
      file: { path: file.path, size: file.size }
    })
    expect(response.json).toEqual({ sha256: file.sha256, size: file.size })
    expect(seen).toHaveLength(1)
    expect(seen[0].method).toBe('PUT')
    expect(seen[0].headers['content-length']).toBe(String(file.size))
    expect(seen[0].headers['transfer-encoding']).toBeUndefined()
    expect(seen[0].headers['content-type']).toBe('application/octet-stream')
  })

  it('uses the given content type', async () => {
    const file = await randomFile('MLmodel', 300)
    await client().http.request({
      method: 'PUT',
      path: '/a',
      file: { path: file.path, size: file.size, contentType: 'text/yaml' }
    })
    expect(seen[0].headers['content-type']).toBe('text/yaml')
    expect(sha256(seen[0].body)).toBe(file.sha256)
  })

  it('re-sends the whole file on a retry after a 503', async () => {
    const file = await randomFile('weights.bin', 5 * 1024 * 1024)
    const { http, retries } = client()
    handler = (res, _request, index) => json(res, index === 0 ? 503 : 200, {})
    const response = await http.request({
      method: 'PUT',
      path: '/upload',
      file: { path: file.path, size: file.size },
      idempotent: true
    })
    expect(response.status).toBe(200)
    expect(retries).toHaveLength(1)
    expect(seen).toHaveLength(2)
    for (const request of seen) {
      expect(request.body.length).toBe(file.size)
      expect(sha256(request.body)).toBe(file.sha256)
      expect(request.headers['content-length']).toBe(String(file.size))
    }
  })

  it('sends an empty file as an empty body', async () => {
    const file = await randomFile('empty', 0)
    await client().http.request({ method: 'PUT', path: '/empty', file: { path: file.path, size: 0 } })
    expect(seen[0].body).toHaveLength(0)
    expect(seen[0].headers['content-length']).toBe('0')
  })
})

describe('HttpClient.stream', () => {
  it('returns the body of a download', async () => {
    const bytes = randomBytes(2 * 1024 * 1024)
    const { http } = client()
    handler = res => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.end(bytes)
    }
    const body = await http.stream(`${base}/get-artifact?path=model.pkl`)
    const received = Buffer.from(await new Response(body).arrayBuffer())
    expect(sha256(received)).toBe(sha256(bytes))
    expect(seen[0].method).toBe('GET')
    expect(seen[0].url.searchParams.get('path')).toBe('model.pkl')
  })

  it('retries a 503 (honouring Retry-After) and returns the body of the success', async () => {
    const { http, retries } = client({ maxRetryDelayMs: 1_000 })
    handler = (res, _request, index) => {
      if (index === 0) return json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE' }, { 'retry-after': '0' })
      res.writeHead(200)
      res.end('the model')
    }
    const body = await http.stream(`${base}/file`)
    expect(await new Response(body).text()).toBe('the model')
    expect(seen).toHaveLength(2)
    expect(retries).toEqual([{ method: 'GET', path: `${base}/file`, attempt: 1, delayMs: 0, reason: 'HTTP 503' }])
  })

  it('throws HttpError at once for a 404', async () => {
    const { http, retries } = client()
    handler = res => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'gone' })
    const error = await rejection(http.stream(`${base}/missing`), HttpError)
    expect(error.status).toBe(404)
    expect(error.code).toBe('RESOURCE_DOES_NOT_EXIST')
    expect(error.serverMessage).toBe('gone')
    expect(seen).toHaveLength(1)
    expect(retries).toHaveLength(0)
  })

  it('gives up after `retries` on a persistent 503', async () => {
    const { http } = client({ retries: 2 })
    handler = res => json(res, 503, {})
    const error = await rejection(http.stream(`${base}/busy`), HttpError)
    expect(error.status).toBe(503)
    expect(seen).toHaveLength(3)
  })

  it('retries connection refused, then throws NetworkError', async () => {
    const port = await closedPort()
    const { http, retries } = client({ retries: 1 })
    const error = await rejection(http.stream(`http://127.0.0.1:${port}/file`), NetworkError)
    expect(error.reason).toMatch(/connection refused/)
    expect(error.timedOut).toBe(false)
    expect(retries).toHaveLength(1)
  })

  it('times out waiting for the headers', async () => {
    const { http } = client({ timeoutMs: 200, retries: 0 })
    handler = () => {}
    const started = Date.now()
    const error = await rejection(http.stream(`${base}/hang`), NetworkError)
    expect(error.timedOut).toBe(true)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('times out the body of an error answer that never ends, and retries it like a network failure', async () => {
    const { http, retries } = client({ timeoutMs: 200, retries: 1 })
    handler = res => {
      res.writeHead(503, { 'content-type': 'text/html' })
      res.write('<html>')
    }
    const started = Date.now()
    const error = await rejection(http.stream(`${base}/stuck`), NetworkError)
    expect(error.timedOut).toBe(true)
    expect(error.reason).toBe('no answer within 200 ms')
    expect(retries).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('does not time out a body that takes longer than timeoutMs once the headers came', async () => {
    const { http } = client({ timeoutMs: 150, retries: 0 })
    handler = res => {
      res.writeHead(200)
      res.write('first ')
      setTimeout(() => res.end('second'), 500)
    }
    const body = await http.stream(`${base}/slow`)
    expect(await new Response(body).text()).toBe('first second')
  })
})

describe('retryAfter', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value })

  it('reads delta-seconds', () => {
    expect(retryAfter(headers('3'))).toBe(3_000)
    expect(retryAfter(headers('0'))).toBe(0)
    expect(retryAfter(headers('120'))).toBe(120_000)
  })

  it('reads an HTTP date as the time until then, and a past date as 0', () => {
    const inTenSeconds = retryAfter(headers(new Date(Date.now() + 10_000).toUTCString()))
    // HTTP dates have whole seconds: the date can lie up to a second before the instant it was made from.
    expect(inTenSeconds).toBeGreaterThan(8_000)
    expect(inTenSeconds).toBeLessThanOrEqual(10_000)
    expect(retryAfter(headers('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(0)
  })

  it('is undefined when absent or unreadable', () => {
    expect(retryAfter(headers())).toBeUndefined()
    expect(retryAfter(headers('soon'))).toBeUndefined()
  })

  // RFC 9110 allows only 1*DIGIT or an HTTP-date; V8's lenient Date.parse would read "-5" as a date in 2001.
  it('is undefined for a negative number of seconds', () => {
    expect(retryAfter(headers('-5'))).toBeUndefined()
  })
})
