/**
 * An HTTP proxy on a free loopback port in front of a real server (an MLflow tracking server), whose faults tests
 * switch on at run time: injected error answers in MLflow's JSON error format, slow answers, and connections cut in
 * the middle of an upload. It streams both ways with back-pressure, so large artifact uploads are never held in
 * memory, and logs every request for assertions such as "model-versions/create was called exactly once".
 *
 *   const proxy = await startFaultProxy(mlflow.url)
 *   proxy.failNext(2, 503, { when: { method: 'POST', path: '/api/2.0/mlflow/model-versions/create' } })
 *   ... point the client under test at proxy.url ...
 *   expect(proxy.count({ path: '/api/2.0/mlflow/model-versions/create' })).toBe(3)
 *
 * The Host header sent upstream is always the upstream's own (127.0.0.1:<port>): MLflow ≥ 3.5 answers a Host it does
 * not know with 403 and a text body, which would look like a fault of the client under test.
 */
import {
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RequestInfo {
  method: string
  /** The URL path without the query string. */
  path: string
  /** The query string without "?", or "". */
  query: string
}

/** Which requests a fault applies to: method and path (exact string or RegExp) must both match; omitted = any. */
export type RequestMatcher = { method?: string; path?: string | RegExp } | ((request: RequestInfo) => boolean)

export interface FailOptions {
  /** Only requests that match; the others pass through and do not use up the count. */
  when?: RequestMatcher
  /** Sent as the Retry-After header (seconds, or an HTTP date). */
  retryAfter?: number | string
  /** MLflow's error_code. Default: the one MLflow uses for the status (500 INTERNAL_ERROR, 429 REQUEST_LIMIT_EXCEEDED…). */
  errorCode?: string
  message?: string
  /** Replaces the JSON error body: a string is sent as is (text/plain unless headers say otherwise), else as JSON. */
  body?: unknown
  headers?: Record<string, string>
}

export type Fault = 'failed' | 'delayed' | 'cut' | 'upstream-error'

export interface ProxiedRequest extends RequestInfo {
  /** The status the client was sent; null while pending, or when the client never got an answer. */
  status: number | null
  /** The upstream's status, when the request reached it and it answered (even if the client was gone by then). */
  upstreamStatus?: number | undefined
  /** What the proxy did instead of passing the request through untouched. */
  fault?: Fault
  /** Request body bytes received from the client. */
  bytesIn: number
  /** Whether the request was sent on to the upstream. */
  forwarded: boolean
}

export interface FaultProxy {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  readonly url: string
  readonly port: number
  readonly upstream: string
  /** Every request in order of arrival; entries are updated as answers go out. */
  readonly requests: ProxiedRequest[]
  /** How many logged requests match. */
  count(matcher?: RequestMatcher): number
  /** Answers the next n (matching) requests with this status and an MLflow error body, without forwarding them. */
  failNext(n: number, status: number, options?: FailOptions): void
  /**
   * Holds back the answers to matching requests by ms until reset(). The upstream has already done the work, so a
   * client that times out meanwhile sees a failure for something that happened. Injected failures are delayed too.
   */
  delay(ms: number, when?: RequestMatcher): void
  /**
   * Once `bytes` of a matching request's body have been forwarded, destroys the client's connection and aborts the
   * upstream request, as a server that dies mid-upload would. `when` defaults to artifact uploads
   * (PUT /api/2.0/mlflow-artifacts/artifacts/…); `times` (default 1) is how many requests to cut. A matching request
   * whose body is shorter than `bytes` passes and does not use up a time.
   */
  cutUploadAfter(bytes: number, when?: RequestMatcher, times?: number): void
  /** Removes every fault and clears the request log. */
  reset(): void
  close(): Promise<void>
}

/** MLflow's error_code for each HTTP status it uses (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS). */
const ERROR_CODES: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  499: 'CANCELLED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED'
}

const UPLOADS: RequestMatcher = { method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts\// }

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
])

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())))
}

export function matches(matcher: RequestMatcher | undefined, request: RequestInfo): boolean {
  if (matcher === undefined) return true
  if (typeof matcher === 'function') return matcher(request)
  if (matcher.method !== undefined && matcher.method.toUpperCase() !== request.method) return false
  if (matcher.path === undefined) return true
  return typeof matcher.path === 'string' ? matcher.path === request.path : matcher.path.test(request.path)
}

interface FailRule {
  remaining: number
  status: number
  options: FailOptions
}

interface CutRule {
  remaining: number
  bytes: number
  when: RequestMatcher
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const base = new URL(upstream)
  if (base.protocol !== 'http:') throw new Error(`fault proxy: only http upstreams, got ${upstream}`)
  const basePath = base.pathname.replace(/\/$/, '')
  const requests: ProxiedRequest[] = []
  let failRules: FailRule[] = []
  let delayRules: { ms: number; when?: RequestMatcher | undefined }[] = []
  let cutRules: CutRule[] = []
  const timers = new Set<NodeJS.Timeout>()
  const upstreamRequests = new Set<ClientRequest>()

  function later(ms: number, action: () => void): void {
    if (ms <= 0) return action()
    const timer = setTimeout(() => {
      timers.delete(timer)
      action()
    }, ms)
    timers.add(timer)
  }

  function answerWithFault(
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxiedRequest,
    rule: FailRule,
    wait: number
  ) {
    entry.fault = 'failed'
    const { status, options } = rule
    const errorBody = {
      error_code: options.errorCode ?? ERROR_CODES[status] ?? 'INTERNAL_ERROR',
      message: options.message ?? `Injected by the fault proxy (HTTP ${status})`
    }
    const text = typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? errorBody)
    const headers: Record<string, string> = {
      'content-type': typeof options.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      ...(options.retryAfter !== undefined ? { 'retry-after': String(options.retryAfter) } : {}),
      ...options.headers,
      'content-length': String(Buffer.byteLength(text))
    }
    // Answering before the body is read would reset a client that is still uploading: that is cutUploadAfter's job.
    req.on('data', (chunk: Buffer) => (entry.bytesIn += chunk.length))
    req.on('error', () => res.destroy())
    req.once('end', () =>
      later(wait, () => {
        if (res.destroyed) return
        entry.status = status
        res.writeHead(status, headers).end(text)
      })
    )
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxiedRequest,
    cut: CutRule | undefined,
    wait: number
  ) {
    const headers = { ...endToEnd(req.headers), host: base.host }
    const upstreamReq = httpRequest({
      host: base.hostname,
      port: base.port,
      method: req.method,
      path: basePath + (req.url ?? '/'),
      headers,
      // A pooled connection to a server that was killed and restarted would fail on reuse: a fault of the proxy.
      agent: false
    })
    upstreamRequests.add(upstreamReq)
    upstreamReq.once('close', () => upstreamRequests.delete(upstreamReq))
    entry.forwarded = true
    let cutDone = false

    upstreamReq.once('response', (upstreamRes: IncomingMessage) => {
      upstreamRes.on('error', () => res.destroy())
      entry.upstreamStatus = upstreamRes.statusCode
      if (wait > 0) entry.fault ??= 'delayed'
      later(wait, () => {
        if (res.destroyed) {
          upstreamRes.resume()
          return
        }
        entry.status = upstreamRes.statusCode ?? 502
        res.writeHead(entry.status, endToEnd(upstreamRes.headers))
        upstreamRes.pipe(res)
      })
    })

    upstreamReq.once('error', () => {
      if (cutDone) return
      if (res.headersSent || res.destroyed) {
        res.destroy()
        return
      }
      // What a load balancer in front of a dead MLflow answers.
      entry.fault = 'upstream-error'
      entry.status = 502
      const text = '<html><body><h1>502 Bad Gateway</h1></body></html>'
      res.writeHead(502, { 'content-type': 'text/html', 'content-length': String(text.length) }).end(text)
    })

    // A client that gives up after sending everything leaves the upstream to finish (the work happens anyway);
    // one that gives up mid-upload must not leave the upstream waiting for the rest.
    res.once('close', () => {
      if (!res.writableFinished && !req.complete) upstreamReq.destroy()
    })

    const cutNow = (last: Buffer) => {
      cutDone = true
      entry.fault = 'cut'
      if (cut) cut.remaining--
      const hangUp = () => {
        upstreamReq.destroy()
        req.socket.destroy()
      }
      // The last bytes reach the upstream before both connections go, so it sees exactly `bytes`.
      if (last.length > 0) upstreamReq.write(last, hangUp)
      else hangUp()
    }
    if (cut && cut.bytes === 0) return cutNow(Buffer.alloc(0))

    let forwarded = 0
    req.on('data', (chunk: Buffer) => {
      entry.bytesIn += chunk.length
      if (cutDone) return
      if (cut && cut.remaining > 0 && forwarded + chunk.length >= cut.bytes) {
        return cutNow(chunk.subarray(0, cut.bytes - forwarded))
      }
      forwarded += chunk.length
      if (!upstreamReq.write(chunk)) {
        req.pause()
        upstreamReq.once('drain', () => req.resume())
      }
    })
    req.once('end', () => {
      if (!cutDone) upstreamReq.end()
    })
    // A client that goes away mid-request is an everyday event here, not a reason to crash the test process.
    req.on('error', () => upstreamReq.destroy())
    res.on('error', () => undefined)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const info: RequestInfo = { method: req.method ?? 'GET', path: url.pathname, query: url.search.replace(/^\?/, '') }
    const entry: ProxiedRequest = { ...info, status: null, bytesIn: 0, forwarded: false }
    requests.push(entry)
    const wait = delayRules.find(rule => matches(rule.when, info))?.ms ?? 0
    const fail = failRules.find(rule => rule.remaining > 0 && matches(rule.options.when, info))
    if (fail) {
      fail.remaining--
      failRules = failRules.filter(rule => rule.remaining > 0)
      return answerWithFault(req, res, entry, fail, wait)
    }
    const cut = cutRules.find(rule => rule.remaining > 0 && matches(rule.when, info))
    forward(req, res, entry, cut, wait)
  })
  // Cutting a connection mid-request is the point; do not let its errors escape as unhandled.
  server.on('clientError', (_error, socket) => socket.destroy())

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolveListen())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    upstream,
    requests,
    count: matcher => requests.filter(request => matches(matcher, request)).length,
    failNext(n, status, options = {}) {
      if (n > 0) failRules.push({ remaining: n, status, options })
    },
    delay(ms, when) {
      delayRules.push({ ms, when })
    },
    cutUploadAfter(bytes, when = UPLOADS, times = 1) {
      if (times > 0) cutRules.push({ remaining: times, bytes, when })
    },
    reset() {
      failRules = []
      delayRules = []
      cutRules = []
      requests.length = 0
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const upstreamReq of upstreamRequests) upstreamReq.destroy()
      await new Promise<void>(done => {
        server.close(() => done())
        server.closeAllConnections()
      })
    }
  }
}
