/**
 * RestClient against a local HTTP server: the answer's schema is checked, a 404 is "absent" only where the dialect
 * says so, failures come out in the dialect's words, and a download cut mid-body starts again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../errors.js'
import { HttpError, NetworkError } from './client.js'
import { RestClient, encodePath, isAlreadyExists, isDoesNotExist, type RestDialect } from './rest.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

let server: Server
let url: string
let scratch: string
const routes = new Map<string, Handler>()

beforeAll(async () => {
  server = createServer((request, response) => {
    const handler = routes.get(new URL(request.url!, 'http://x').pathname)
    if (handler) handler(request, response)
    else response.writeHead(404).end()
  })
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  scratch = await mkdtemp(join(tmpdir(), 'modelgate-rest-'))
})

afterAll(async () => {
  await new Promise(done => server.close(done))
  await rm(scratch, { recursive: true, force: true })
})

function json(status: number, body: unknown): Handler {
  return (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

const dialect: RestDialect<string> = {
  name: 'the test service',
  describe: operation => operation,
  unexpectedHint: 'is it the test service?',
  isAbsent: (_operation, answer) => isDoesNotExist(answer),
  translate: (operation, error) =>
    error instanceof NetworkError
      ? new ServiceError(`${operation}: ${error.reason}`)
      : error.status === 401
        ? new ConfigurationError(`${operation} refused: ${error.serverMessage}`, { source: 'TEST_TOKEN' })
        : new ServiceError(`${operation} failed: HTTP ${error.status}`, error.status, error.code)
}

const client = () => new RestClient({ baseUrl: url, label: 'Test', dialect, retryBaseMs: 1, retries: 1 })
const Thing = z.looseObject({ thing: z.looseObject({ id: z.string() }) })

describe('RestClient.call', () => {
  it('returns the answer checked against its schema', async () => {
    routes.set('/thing', json(200, { thing: { id: 'a', extra: 1 } }))
    expect(await client().call('get thing', Thing, { method: 'GET', path: '/thing' })).toMatchObject({
      thing: { id: 'a' }
    })
  })

  it('refuses an answer of another shape with the operation, the route and the hint', async () => {
    routes.set('/thing', json(200, { other: true }))
    const error = await client()
      .call('get thing', Thing, { method: 'GET', path: '/thing' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ServiceError)
    expect((error as Error).message).toMatch(
      /^the test service gave an unexpected answer when asked to get thing \(GET \/thing\): .*; is it the test service\?$/
    )
  })

  it('refuses a 200 whose body is not JSON (a login page), even where every field of the schema is optional', async () => {
    const Listing = z.looseObject({ items: z.optional(z.array(z.string())) })
    routes.set('/login', (_request, response) =>
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!DOCTYPE html><html><head><title>Sign in - Acme SSO</title></head><body>…</body></html>')
    )
    const page = await client()
      .call('list items', Listing, { method: 'GET', path: '/login' })
      .catch((e: unknown) => e)
    expect(page).toBeInstanceOf(ServiceError)
    expect((page as Error).message).toBe(
      'the test service gave an unexpected answer when asked to list items (GET /login): an HTML page ' +
        '("Sign in - Acme SSO") instead of JSON; is it the test service?'
    )

    routes.set('/text', (_request, response) => response.writeHead(200).end('OK, all good'))
    const text = await client()
      .call('list items', Listing, { method: 'GET', path: '/text' })
      .catch((e: unknown) => e)
    expect((text as Error).message).toContain('(GET /text): text that is not JSON ("OK, all good")')

    // An empty answer is the service's `{}` (MLflow's answer to a delete, say).
    routes.set('/empty', (_request, response) => response.writeHead(200).end())
    expect(await client().call('list items', Listing, { method: 'GET', path: '/empty' })).toEqual({})
  })

  it('takes a 404 the dialect calls absent as undefined, and translates any other', async () => {
    routes.set('/gone', json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such thing' }))
    expect(await client().call('get thing', Thing, { method: 'GET', path: '/gone', accept: [404] })).toBeUndefined()
    const bare = await client()
      .call('get thing', Thing, { method: 'GET', path: '/nowhere', accept: [404] })
      .catch((e: unknown) => e)
    expect(bare).toMatchObject({ message: 'get thing failed: HTTP 404', status: 404 })
  })

  it("puts failures in the dialect's words", async () => {
    routes.set('/secret', json(401, { error_code: 'UNAUTHENTICATED', message: 'bad token' }))
    const refused = await client()
      .call('read secret', Thing, { method: 'GET', path: '/secret' })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ConfigurationError)
    expect((refused as Error).message).toContain('read secret refused: bad token')

    routes.set('/busy', json(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'later' }))
    const busy = await client()
      .call('get busy', Thing, { method: 'GET', path: '/busy' })
      .catch((e: unknown) => e)
    expect(busy).toMatchObject({ status: 503, code: 'TEMPORARILY_UNAVAILABLE' })
  })
})

describe('RestClient.download', () => {
  it('starts a body cut off mid-way again, and writes the whole file', async () => {
    let calls = 0
    routes.set('/file', (_request, response) => {
      calls++
      response.writeHead(200, { 'content-length': '10' })
      if (calls === 1) {
        response.write('12345')
        response.socket?.destroy()
      } else response.end('0123456789')
    })
    const destination = join(scratch, 'nested', 'file.bin')
    await client().download('download file', '/file', destination)
    expect(await readFile(destination, 'utf8')).toBe('0123456789')
    expect(calls).toBe(2)
  })

  it("gives up on a body cut off on every attempt in the dialect's words, not as fetch's bare error", async () => {
    let calls = 0
    routes.set('/cut', (_request, response) => {
      calls++
      response.writeHead(200, { 'content-length': '10' })
      response.write('12345')
      // Later than the headers, so that the body itself is what breaks.
      setTimeout(() => response.socket?.destroy(), 50)
    })
    const error = await client()
      .download('download file', '/cut', join(scratch, 'cut.bin'))
      .catch((e: unknown) => e)
    expect(calls).toBe(4)
    expect(error).toBeInstanceOf(ServiceError)
    expect((error as Error).message).toBe('download file: the connection was closed mid-request')
  })

  it('translates an error status without trying again itself', async () => {
    routes.set('/forbidden', json(401, { error_code: 'UNAUTHENTICATED', message: 'no' }))
    await expect(client().download('download file', '/forbidden', join(scratch, 'x'))).rejects.toBeInstanceOf(
      ConfigurationError
    )
  })
})

describe('the {error_code} convention', () => {
  it('knows both codes for "already exists", a 404 that says "does not exist", and encodes path segments', () => {
    expect(isAlreadyExists({ code: 'RESOURCE_ALREADY_EXISTS' })).toBe(true)
    expect(isAlreadyExists({ code: 'ALREADY_EXISTS' })).toBe(true)
    expect(isAlreadyExists(new Error('x'))).toBe(false)
    expect(isDoesNotExist(new HttpError('GET', url, 404, '', { error_code: 'NOT_FOUND' }))).toBe(true)
    expect(isDoesNotExist(new HttpError('GET', url, 404, '', undefined))).toBe(false)
    expect(encodePath('/Models/a b/c#d')).toBe('/Models/a%20b/c%23d')
  })
})
