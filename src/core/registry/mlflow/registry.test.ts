/**
 * The MLflow registry pointed at something that is not an MLflow tracking server: a web server that answers every
 * request with an HTML page. The error says so in one line, without the page's markup. (The registry against a real
 * server is the contract suite's and register.test.ts's.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { createMlflowRegistry } from './registry.js'

const PAGE = (title: string) =>
  `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>body{font:14px sans-serif}</style></head><body><h1>${title}</h1><p>${'lorem ipsum '.repeat(40)}</p></body></html>\n`

let server: Server
let url: string

beforeAll(async () => {
  // A web app: pages for GET, 405 for anything else, and a gateway error under /gateway.
  server = createServer((request, response) => {
    const [status, title] = request.url!.startsWith('/gateway')
      ? [502, '502 Bad Gateway']
      : request.method === 'GET'
        ? [200, 'Welcome to our intranet']
        : [405, '405 Method Not Allowed']
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE(title))
  })
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise(done => server.close(done))
})

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error
  )
  if (!error) throw new Error('expected a failure')
  return error
}

describe('a server that is not MLflow', () => {
  it('refusing a write with a web page: a ConfigurationError that says so, without the markup', async () => {
    const registry = createMlflowRegistry({ trackingUri: url, retryBaseMs: 1, env: {} })
    const error = await failure(registry.ensureRegisteredModel('churn'))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toContain('this does not look like an MLflow tracking server')
    expect(error.message).toContain('HTTP 405 and an HTML page ("405 Method Not Allowed")')
    expect(error.message).not.toMatch(/<|lorem/)
  })

  it('answering a read with a web page', async () => {
    const registry = createMlflowRegistry({ trackingUri: url, retryBaseMs: 1, env: {} })
    const error = await failure(registry.getVersion('churn', '1'))
    expect(error).toBeInstanceOf(ServiceError)
    expect(error.message).toContain('this does not look like an MLflow tracking server')
    expect(error.message).not.toMatch(/<|lorem/)
  })

  it("behind a gateway's error page", async () => {
    const registry = createMlflowRegistry({ trackingUri: `${url}/gateway`, retryBaseMs: 1, env: {} })
    const error = await failure(registry.getVersion('churn', '1'))
    expect(error).toBeInstanceOf(ServiceError)
    expect(error.message).toContain('HTTP 502 and an HTML page ("502 Bad Gateway")')
    expect(error.message).toContain('this does not look like an MLflow tracking server')
    expect(error.message).not.toMatch(/<|lorem/)
  })
})
