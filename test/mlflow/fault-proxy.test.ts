import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { startFaultProxy, type FaultProxy } from './fault-proxy.js'
import { readVersionWithPythonClient } from './python-client.js'
import { callMlflow, startMlflowServer, type MlflowServer } from './server.js'

// Starting MLflow takes seconds, twice that with the other worker's server on the second core.
jest.setTimeout(120_000)

const CREATE_MODEL = '/api/2.0/mlflow/registered-models/create'

let mlflow: MlflowServer
let proxy: FaultProxy
let experimentId: string
let runId: string

beforeAll(async () => {
  mlflow = await startMlflowServer()
  proxy = await startFaultProxy(mlflow.url)
  experimentId = (await callMlflow(mlflow.url, 'POST', '/experiments/create', { name: 'proxy' })).body.experiment_id
  runId = (await callMlflow(mlflow.url, 'POST', '/runs/create', { experiment_id: experimentId })).body.run.info.run_id
})

afterEach(() => {
  proxy.reset()
})

afterAll(async () => {
  await proxy?.close()
  await mlflow?.stop()
})

function artifactUrl(base: string, file: string): string {
  return `${base}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/${file}`
}

/** A raw request, because fetch will not let a test choose the Host header. */
function withHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers: { host } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

describe('passing traffic through', () => {
  it('forwards REST calls to MLflow and logs each with its status', async () => {
    const created = await callMlflow(proxy.url, 'POST', '/registered-models/create', { name: 'through-proxy' })
    expect(created).toEqual({
      status: 200,
      body: { registered_model: expect.objectContaining({ name: 'through-proxy' }) }
    })
    const read = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })
    expect(read.body.registered_model.name).toBe('through-proxy')
    const missing = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'nobody' })
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST')

    expect(proxy.requests).toEqual([
      { method: 'POST', path: CREATE_MODEL, query: '', status: 200, upstreamStatus: 200, bytesIn: 24, forwarded: true },
      expect.objectContaining({ method: 'GET', query: 'name=through-proxy', status: 200 }),
      expect.objectContaining({ method: 'GET', query: 'name=nobody', status: 404, forwarded: true })
    ])
    expect(proxy.count({ method: 'GET', path: /\/registered-models\/get$/ })).toBe(2)
  })

  it("sends the upstream's own Host, which MLflow's DNS-rebinding check lets through", async () => {
    const path = '/api/2.0/mlflow/registered-models/get?name=through-proxy'
    const direct = await withHost(`${mlflow.url}${path}`, 'mlflow.example.com')
    expect(direct).toEqual({ status: 403, body: 'Invalid Host header - possible DNS rebinding attack detected' })
    expect((await withHost(`${proxy.url}${path}`, 'mlflow.example.com')).status).toBe(200)
  })

  it('streams a large artifact up and down unchanged', async () => {
    const content = randomBytes(8 * 1024 * 1024)
    const put = await fetch(artifactUrl(proxy.url, 'large.bin'), { method: 'PUT', body: content })
    expect(put.status).toBe(200)
    const got = await fetch(artifactUrl(proxy.url, 'large.bin'))
    expect(Buffer.from(await got.arrayBuffer()).equals(content)).toBe(true)
    expect(proxy.requests.map(r => [r.method, r.status, r.bytesIn])).toEqual([
      ['PUT', 200, content.length],
      ['GET', 200, 0]
    ])
  })
})

describe('failNext', () => {
  it('answers with an MLflow error body and does not forward the request', async () => {
    proxy.failNext(1, 500)
    const failed = await callMlflow(proxy.url, 'POST', '/registered-models/create', { name: 'never-created' })
    expect(failed).toEqual({
      status: 500,
      body: { error_code: 'INTERNAL_ERROR', message: 'Injected by the fault proxy (HTTP 500)' }
    })
    const after = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'never-created' })
    expect(after.status).toBe(404)
    expect(proxy.requests.map(r => [r.status, r.fault, r.forwarded])).toEqual([
      [500, 'failed', false],
      [404, undefined, true]
    ])
  })

  it('fails only matching requests, with Retry-After and the status code MLflow uses for rate limits', async () => {
    proxy.failNext(2, 429, { retryAfter: 3, when: { method: 'POST', path: CREATE_MODEL } })
    expect((await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })).status).toBe(200)
    for (let attempt = 0; attempt < 2; attempt++) {
      const limited = await fetch(`${proxy.url}${CREATE_MODEL}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'rate-limited' })
      })
      expect(limited.status).toBe(429)
      expect(limited.headers.get('retry-after')).toBe('3')
      expect(((await limited.json()) as { error_code: string }).error_code).toBe('REQUEST_LIMIT_EXCEEDED')
    }
    const created = await callMlflow(proxy.url, 'POST', '/registered-models/create', { name: 'rate-limited' })
    expect(created.status).toBe(200)
    expect(proxy.requests.filter(r => r.method === 'POST').map(r => r.status)).toEqual([429, 429, 200])
  })

  it('can answer like a load balancer, with a text body', async () => {
    proxy.failNext(1, 502, {
      body: '<html><body>502 Bad Gateway</body></html>',
      headers: { 'content-type': 'text/html' }
    })
    const answer = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })
    expect(answer).toEqual({ status: 502, body: '<html><body>502 Bad Gateway</body></html>' })
  })

  it("is retried by MLflow's own Python client", async () => {
    await callMlflow(mlflow.url, 'POST', '/registered-models/create', { name: 'retried' })
    const source = `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`
    await callMlflow(mlflow.url, 'POST', '/model-versions/create', { name: 'retried', source, run_id: runId })
    proxy.failNext(2, 503, { when: { path: '/api/2.0/mlflow/model-versions/get' } })
    const version = await readVersionWithPythonClient(proxy.url, 'retried', 1, {
      env: {
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '3',
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0',
        MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0'
      }
    })
    expect(version).toMatchObject({ version: '1', run_id: runId, status: 'READY' })
    const gets = proxy.requests.filter(r => r.path === '/api/2.0/mlflow/model-versions/get')
    expect(gets.map(r => r.status)).toEqual([503, 503, 200])
  })
})

describe('delay', () => {
  it('holds the answer back after MLflow has done the work, so a client that times out misses a success', async () => {
    proxy.delay(2_000, { path: CREATE_MODEL })
    const timedOut = fetch(`${proxy.url}${CREATE_MODEL}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'slow-answer' }),
      signal: AbortSignal.timeout(300)
    })
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' })
    await until(() => proxy.requests[0]?.upstreamStatus !== undefined)
    expect(proxy.requests[0]).toMatchObject({ status: null, upstreamStatus: 200, fault: 'delayed' })
    expect((await callMlflow(mlflow.url, 'GET', '/registered-models/get', { name: 'slow-answer' })).status).toBe(200)
  })

  it('delays only matching requests', async () => {
    proxy.delay(600, { path: CREATE_MODEL })
    await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'slow-answer' })
    const started = Date.now()
    const created = await callMlflow(proxy.url, 'POST', '/registered-models/create', { name: 'slow-answer-2' })
    expect(created.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(600)
    // The log, not a stopwatch, for the request that was not held: a busy CI machine can be slow on its own.
    expect(proxy.requests.map(r => [r.method, r.status, r.fault])).toEqual([
      ['GET', 200, undefined],
      ['POST', 200, 'delayed']
    ])
  })
})

describe('cutUploadAfter', () => {
  it('ends an artifact upload in a socket error once, leaving no partial file, and lets the next upload through', async () => {
    proxy.cutUploadAfter(64 * 1024)
    const content = randomBytes(1024 * 1024)
    const cut = await fetch(artifactUrl(proxy.url, 'cut.bin'), { method: 'PUT', body: content }).catch(
      (error: unknown) => error
    )
    expect(cut).toMatchObject({ name: 'TypeError', message: 'fetch failed' })
    expect(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']).toContain((cut as { cause: { code: string } }).cause.code)
    expect(proxy.requests[0]).toMatchObject({ method: 'PUT', status: null, fault: 'cut', forwarded: true })

    // MLflow writes uploads to a staging file and publishes it only when the body is complete.
    const listing = await fetch(
      `${mlflow.url}/api/2.0/mlflow-artifacts/artifacts?path=${experimentId}/${runId}/artifacts/model`
    )
    const files = ((await listing.json()) as { files?: { path: string }[] }).files ?? []
    expect(files.map(f => f.path)).not.toContain('cut.bin')

    const retried = await fetch(artifactUrl(proxy.url, 'cut.bin'), { method: 'PUT', body: content })
    expect(retried.status).toBe(200)
    const stored = await fetch(artifactUrl(mlflow.url, 'cut.bin'))
    expect(Buffer.from(await stored.arrayBuffer()).equals(content)).toBe(true)
  })

  it('lets a matching request with a shorter body through, and does not cut requests that do not match', async () => {
    proxy.cutUploadAfter(1024, { method: 'PUT' }, 2)
    const small = await fetch(artifactUrl(proxy.url, 'small.txt'), { method: 'PUT', body: 'short' })
    expect(small.status).toBe(200)
    const post = await callMlflow(proxy.url, 'POST', '/registered-models/create', {
      name: 'described',
      description: 'x'.repeat(2_000)
    })
    expect(post.status).toBe(200)
    for (let attempt = 0; attempt < 3; attempt++) {
      await fetch(artifactUrl(proxy.url, 'big.bin'), { method: 'PUT', body: randomBytes(256 * 1024) }).catch(
        () => undefined
      )
    }
    expect(proxy.requests.map(r => r.fault ?? r.status)).toEqual([200, 200, 'cut', 'cut', 200])
  })
})

describe('a client that goes away', () => {
  it('mid-upload leaves the proxy serving and MLflow without a partial file', async () => {
    const upload = httpRequest(artifactUrl(proxy.url, 'abandoned.bin'), {
      method: 'PUT',
      headers: { 'content-length': String(1024 * 1024) }
    })
    upload.on('error', () => undefined)
    upload.write(randomBytes(64 * 1024))
    await until(() => (proxy.requests[0]?.bytesIn ?? 0) > 0)
    upload.destroy()

    const read = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })
    expect(read.status).toBe(200)
    const file = await fetch(artifactUrl(mlflow.url, 'abandoned.bin'))
    expect(file.status).toBe(404)
    expect(proxy.requests[0]).toMatchObject({ method: 'PUT', status: null, forwarded: true })
  })
})

describe('an upstream that dies', () => {
  it('is a 502 from the proxy until the server is back, with its data', async () => {
    await mlflow.kill()
    const down = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })
    expect(down.status).toBe(502)
    expect(proxy.requests[0]).toMatchObject({ status: 502, fault: 'upstream-error', forwarded: true })

    await mlflow.restart()
    const back = await callMlflow(proxy.url, 'GET', '/registered-models/get', { name: 'through-proxy' })
    expect(back.status).toBe(200)
  })
})
