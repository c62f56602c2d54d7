/**
 * The one HTTP client of the registry layer: JSON requests and streamed uploads with a timeout on every attempt,
 * retries with exponential backoff and jitter on 429 and 5xx (honouring Retry-After), and retries on network
 * failures only where repeating the request cannot do harm.
 *
 * It is built on the runtime's fetch: no dependency, and nothing to load until a registry is used. Errors come out
 * as HttpError (the service answered, with its status and body) or NetworkError (it did not); rest.ts turns those
 * into ServiceError or ConfigurationError with words about the service called.
 */
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'

export type Auth =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string }
  /** A token that may change between requests (an OAuth access token refreshed before it expires). */
  | { readonly kind: 'token-provider'; readonly token: () => Promise<string> }

export interface HttpClientOptions {
  readonly baseUrl: string
  readonly auth?: Auth | undefined
  /** Per attempt, for JSON calls. Default 30 s. */
  readonly timeoutMs?: number
  /** Attempts after the first. Default 5. */
  readonly retries?: number
  /** First backoff delay; doubles each attempt, with jitter. Default 500 ms. */
  readonly retryBaseMs?: number
  /** Longest wait between attempts, including a server's Retry-After. Default 30 s. */
  readonly maxRetryDelayMs?: number
  readonly userAgent?: string
  readonly fetch?: typeof fetch
  /** Called before each retry, for the step log. */
  readonly onRetry?: (event: RetryEvent) => void
  /**
   * The deadline of the whole operation the requests serve: when it aborts, the request in flight and any wait
   * between attempts stop at once, and the call throws the signal's reason.
   */
  readonly signal?: AbortSignal
}

export interface RetryEvent {
  readonly method: string
  readonly path: string
  readonly attempt: number
  readonly delayMs: number
  readonly reason: string
}

type QueryValue = string | number | boolean | undefined | readonly string[]

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** Appended to baseUrl; each segment the caller interpolates must already be encoded. */
  readonly path: string
  readonly query?: Readonly<Record<string, QueryValue>>
  readonly json?: unknown
  /** A file streamed as the raw body (artifact uploads), re-opened for each attempt. */
  readonly file?: { readonly path: string; readonly size: number; readonly contentType?: string }
  readonly headers?: Readonly<Record<string, string>>
  readonly timeoutMs?: number
  /**
   * Whether a request that may have reached the server can be sent again after a network failure or a 5xx.
   * Reads, PUTs of the same bytes and set-style writes can; a create that is not idempotent on the server cannot,
   * and its caller recovers by looking for what it created. Default: true except for POST.
   */
  readonly idempotent?: boolean
  /** Statuses the caller handles itself (returned, not thrown or retried), e.g. 404 for "absent". */
  readonly accept?: readonly number[]
  /** Form-encoded body (OAuth token requests). */
  readonly form?: Readonly<Record<string, string>>
}

export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed as JSON, undefined when it is not JSON. */
  readonly json: unknown
}

/** The service answered with an error status (after any retries). */
export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: string,
    readonly json: unknown
  ) {
    super(`${method} ${url} answered HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ''}`)
    this.name = 'HttpError'
  }

  /** The `error_code` of an MLflow- or Databricks-style error body. */
  get code(): string | undefined {
    const code = (this.json as { error_code?: unknown } | undefined)?.error_code
    return typeof code === 'string' ? code : undefined
  }

  /** The `message` of an error body, else the raw text. */
  get serverMessage(): string {
    const message = (this.json as { message?: unknown } | undefined)?.message
    return typeof message === 'string' ? message : this.body.trim().slice(0, 300)
  }
}

/** The service could not be reached or did not answer in time (after any retries). */
export class NetworkError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly reason: string,
    readonly timedOut: boolean
  ) {
    super(`${method} ${url} failed: ${reason}`)
    this.name = 'NetworkError'
  }
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  readonly baseUrl: string
  readonly signal: AbortSignal | undefined
  private readonly fetch: typeof fetch
  private readonly retries: number
  private readonly retryBaseMs: number
  private readonly maxRetryDelayMs: number
  private readonly timeoutMs: number

  constructor(private readonly options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.signal = options.signal
    this.fetch = options.fetch ?? globalThis.fetch
    this.retries = options.retries ?? 5
    this.retryBaseMs = options.retryBaseMs ?? 500
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000
    this.timeoutMs = options.timeoutMs ?? 30_000
  }

  url(path: string, query?: Readonly<Record<string, QueryValue>>): string {
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue
      if (Array.isArray(value)) for (const item of value) search.append(key, item)
      else search.append(key, String(value))
    }
    const text = search.toString()
    return `${this.baseUrl}${path}${text ? `?${text}` : ''}`
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const url = this.url(request.path, request.query)
    const idempotent = request.idempotent ?? request.method !== 'POST'
    for (let attempt = 0; ; attempt++) {
      this.signal?.throwIfAborted()
      let failure: { reason: string; retryAfterMs?: number | undefined; error: Error }
      // Outside the try: a token provider's failure (refused client credentials) is its own error, not the network's.
      const authorization = await this.authorization()
      try {
        const response = await this.attempt(url, request, authorization)
        if (response.status < 400 || request.accept?.includes(response.status)) return response
        const error = new HttpError(request.method, url, response.status, response.text, response.json)
        // A 429 was refused before any work was done, so even a create can be repeated; a 5xx may have done it.
        const retryable = response.status === 429 || (RETRY_STATUSES.has(response.status) && idempotent)
        if (!retryable) throw error
        failure = { reason: `HTTP ${response.status}`, retryAfterMs: retryAfter(response.headers), error }
      } catch (error) {
        if (error instanceof HttpError) throw error
        this.signal?.throwIfAborted()
        const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError'
        const reason = timedOut
          ? `no answer within ${duration(timeoutOf(request, this.timeoutMs))}`
          : networkReason(error)
        const networkError = new NetworkError(request.method, url, reason, timedOut)
        if (!idempotent) throw networkError
        failure = { reason, error: networkError }
      }
      if (attempt >= this.retries) throw failure.error
      await this.pause(attempt, failure.retryAfterMs, request.method, request.path, failure.reason)
    }
  }

  /**
   * GETs a body to stream (a file download). The timeout covers the wait for the response's headers only: a
   * large file's body takes as long as it takes. 429 and 5xx are retried like JSON calls.
   */
  async stream(url: string): Promise<ReadableStream<Uint8Array>> {
    for (let attempt = 0; ; attempt++) {
      this.signal?.throwIfAborted()
      const authorization = await this.authorization()
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), this.timeoutMs)
      const stop = () => controller.abort()
      this.signal?.addEventListener('abort', stop, { once: true })
      const done = () => {
        clearTimeout(timer)
        this.signal?.removeEventListener('abort', stop)
      }
      let response: Response
      let text: string
      try {
        response = await this.fetch(url, {
          headers: authorization ? { authorization } : {},
          signal: controller.signal
        })
        if (response.ok && response.body) {
          done()
          return response.body
        }
        // An error answer's body is read under the same timeout: a gateway that sends its headers and then nothing
        // would otherwise hold the download until the socket's own five-minute limit.
        text = await response.text()
      } catch (error) {
        done()
        this.signal?.throwIfAborted()
        const timedOut = controller.signal.aborted
        const failure = new NetworkError(
          'GET',
          url,
          timedOut ? `no answer within ${duration(this.timeoutMs)}` : networkReason(error),
          timedOut
        )
        if (attempt >= this.retries) throw failure
        await this.pause(attempt, undefined, 'GET', url, failure.reason)
        continue
      }
      done()
      const error = new HttpError('GET', url, response.status, text, parseJson(text))
      if (!RETRY_STATUSES.has(response.status) || attempt >= this.retries) throw error
      await this.pause(attempt, retryAfter(response.headers), 'GET', url, `HTTP ${response.status}`)
    }
  }

  private async pause(
    attempt: number,
    retryAfterMs: number | undefined,
    method: string,
    path: string,
    reason: string
  ): Promise<void> {
    const backoff = Math.min(this.maxRetryDelayMs, this.retryBaseMs * 2 ** attempt)
    const delayMs = Math.min(this.maxRetryDelayMs, retryAfterMs ?? backoff * (0.5 + Math.random() / 2))
    this.options.onRetry?.({ method, path, attempt: attempt + 1, delayMs, reason })
    await sleep(delayMs, this.signal)
  }

  private async attempt(url: string, request: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers }
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent
    if (authorization) headers.authorization = authorization
    let body: string | ReadableStream | undefined
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(request.json)
    } else if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(request.form as Record<string, string>).toString()
    } else if (request.file) {
      headers['content-type'] = request.file.contentType ?? 'application/octet-stream'
      headers['content-length'] = String(request.file.size)
      body = Readable.toWeb(createReadStream(request.file.path, { highWaterMark: 1 << 20 })) as ReadableStream
    }
    const timeoutMs = timeoutOf(request, this.timeoutMs)
    const response = await this.fetch(url, {
      method: request.method,
      headers,
      body,
      signal: this.signal
        ? AbortSignal.any([AbortSignal.timeout(timeoutMs), this.signal])
        : AbortSignal.timeout(timeoutMs),
      ...(request.file ? { duplex: 'half' } : {})
    } as RequestInit)
    const text = await response.text()
    return { status: response.status, headers: response.headers, text, json: parseJson(text) }
  }

  private async authorization(): Promise<string | undefined> {
    const auth = this.options.auth
    if (!auth) return undefined
    if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    if (auth.kind === 'bearer') return `Bearer ${auth.token}`
    return `Bearer ${await auth.token()}`
  }
}

/** Waits ms, or less when the signal aborts: then it throws the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise(resolve => setTimeout(resolve, ms))
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      resolve()
    }, ms)
    signal.addEventListener('abort', stop, { once: true })
  })
}

/** A body as JSON, or undefined when it is empty or not JSON (a proxy's HTML page, a bare 404). */
function parseJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** Uploads get a budget that grows with their size (10 MB/s worst case) on top of the base timeout. */
function timeoutOf(request: HttpRequest, base: number): number {
  return request.timeoutMs ?? base + (request.file ? Math.ceil(request.file.size / 10_000) : 0)
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`
}

/** Retry-After in ms (delta-seconds or an HTTP date), undefined when absent or unreadable. */
export function retryAfter(headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (!value) return undefined
  // delta-seconds is a non-negative integer; anything else numeric-looking is unreadable, not a date.
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  if (/^\s*[-+]?[\d.]+\s*$/.test(value)) return undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** Why a request or its body failed, in words (fetch's own error says only `fetch failed` or `terminated`). */
export function networkReason(error: unknown): string {
  // fetch wraps the socket error: `TypeError: fetch failed` with the useful part in `cause`.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the server running, and is the URL right?)'
  if (cause?.code === 'ENOTFOUND') return 'host not found'
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'the connection was closed mid-request'
  return cause?.message ?? (error as Error).message
}
