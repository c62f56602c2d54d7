/**
 * One way to call a JSON REST service, whichever it is (MLflow's tracking server, Databricks' Unity Catalog and
 * Files APIs, a workspace's OAuth token endpoint, the serving endpoints to come), as MLflow's REST store sends every
 * call through `call_endpoint`: the HTTP client does the URL, the body, the credentials, the timeout and the retries
 * (429 and 5xx with backoff, honouring Retry-After); this checks the answer against its schema and turns every
 * failure into a ServiceError or ConfigurationError through the service's own translator, so a message speaks of
 * that service and says what to fix.
 */
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../errors.js'
import {
  HttpClient,
  HttpError,
  NetworkError,
  networkReason,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse
} from './client.js'

// A response is parsed once; compiling each schema to a function would cost more than it saves.
z.config({ jitless: true })

/** What one service says in its own words; `C` is what its calls carry for that (an operation, a privilege). */
export interface RestDialect<C> {
  /** The service in messages, as in `the MLflow server at http://…` or `Databricks at https://…`. */
  readonly name: string
  /** Whether this 404 answer means "absent", so the call returns undefined; otherwise it is translated. */
  isAbsent(call: C, answer: HttpError, request: HttpRequest): boolean
  /** A failed call: the user's to fix (ConfigurationError) or the service's after retries (ServiceError). */
  translate(call: C, error: HttpError | NetworkError, url: string): Error
  /** What to add when an answer does not have the expected shape (a hint at a wrong URL), or nothing. */
  readonly unexpectedHint?: string
  /** How a call is named in messages. */
  describe(call: C): string
}

export interface RestClientOptions<C> extends Omit<HttpClientOptions, 'onRetry' | 'userAgent'> {
  readonly dialect: RestDialect<C>
  /** Names the service in the step log's retry lines (`MLflow`, `Databricks`). */
  readonly label: string
  readonly log?: (line: string) => void
}

/** Attempts at a download whose body was cut off mid-way; each starts again from the first byte. */
const DOWNLOAD_ATTEMPTS = 4

export class RestClient<C> {
  readonly http: HttpClient
  private readonly dialect: RestDialect<C>

  constructor(options: RestClientOptions<C>) {
    const { dialect, label, log, ...http } = options
    this.dialect = dialect
    this.http = new HttpClient({
      ...http,
      userAgent: 'modelgate',
      onRetry: event =>
        log?.(
          `${label} ${event.method} ${event.path}: ${event.reason}; retrying in ${Math.round(event.delayMs)} ms (attempt ${event.attempt + 1})`
        )
    })
  }

  get baseUrl(): string {
    return this.http.baseUrl
  }

  /**
   * Sends the request and returns its answer checked against `schema`; undefined when the service says the object
   * is absent (a 404 the dialect takes as an answer, which the request must `accept`).
   */
  async call<S extends z.ZodMiniType>(call: C, schema: S, request: HttpRequest): Promise<z.infer<S> | undefined> {
    const url = this.http.url(request.path, request.query)
    let response: HttpResponse
    try {
      response = await this.http.request(request)
    } catch (error) {
      throw this.translate(call, error, url)
    }
    if (response.status === 404) {
      const answer = new HttpError(request.method, url, 404, response.text, response.json)
      if (this.dialect.isAbsent(call, answer, request)) return undefined
      throw this.dialect.translate(call, answer, url)
    }
    const hint = this.dialect.unexpectedHint ? `; ${this.dialect.unexpectedHint}` : ''
    const unexpected = (what: string) =>
      new ServiceError(
        `${this.dialect.name} gave an unexpected answer when asked to ${this.dialect.describe(call)} (${request.method} ${request.path}): ${what}${hint}`
      )
    // An empty body is the service's `{}`; any other text that is not JSON came from something else (a login page
    // behind a redirect), and read as `{}` it would pass a schema of optional fields as "nothing there".
    if (response.json === undefined && response.text.trim() !== '') throw unexpected(notJson(response.text))
    const parsed = z.safeParse(schema, response.json ?? {})
    if (!parsed.success) throw unexpected(z.prettifyError(parsed.error).split('\n')[0] ?? '')
    return parsed.data
  }

  /**
   * Streams a file to disk (a model file can be gigabytes, more than a JSON answer should ever hold). The HTTP
   * client retries until the body starts; a body cut off mid-way is fetched again from the start.
   */
  async download(call: C, path: string, destination: string): Promise<void> {
    const url = this.http.url(path)
    await mkdir(dirname(destination), { recursive: true })
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await this.http.stream(url)
        const signal = this.http.signal
        await pipeline(Readable.fromWeb(body as never), createWriteStream(destination), signal ? { signal } : {})
        return
      } catch (error) {
        this.http.signal?.throwIfAborted()
        // Refused credentials and the like are not a broken stream, and an error status was retried already.
        if (error instanceof ConfigurationError || error instanceof ServiceError) throw error
        if (error instanceof HttpError) throw this.translate(call, error, url)
        if (attempt >= DOWNLOAD_ATTEMPTS) {
          // The body's own failure is fetch's bare `TypeError: terminated`; it is the network's, like the rest.
          const failure =
            error instanceof NetworkError ? error : new NetworkError('GET', url, networkReason(error), false)
          throw this.translate(call, failure, url)
        }
      }
    }
  }

  /** Our error for a failure of a call: the dialect's words for what the service said; anything else as it is. */
  translate(call: C, error: unknown, url: string): Error {
    if (error instanceof HttpError || error instanceof NetworkError) return this.dialect.translate(call, error, url)
    return error as Error
  }
}

// MLflow's error convention, which Databricks shares: `{error_code, message}` bodies.

/** The object to create is there already: MLflow says RESOURCE_ALREADY_EXISTS (400), Databricks ALREADY_EXISTS (409). */
export function isAlreadyExists(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return code === 'RESOURCE_ALREADY_EXISTS' || code === 'ALREADY_EXISTS'
}

/** A 404 body that says the object does not exist (rather than a route that does not). */
export function isDoesNotExist(answer: HttpError): boolean {
  return answer.code === 'RESOURCE_DOES_NOT_EXIST' || answer.code === 'NOT_FOUND'
}

/** Each segment percent-encoded, the slashes kept (the SDKs' `urllib.parse.quote`). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

/**
 * `an HTML page ("502 Bad Gateway")` when the body of an error is a web page rather than the service's JSON: a web
 * server, a login portal or a gateway answered, and its markup pasted into an error line would bury the point.
 */
export function htmlPage(error: HttpError): string | undefined {
  return error.json === undefined ? htmlTitle(error.body) : undefined
}

function htmlTitle(body: string): string | undefined {
  const head = body.slice(0, 2000)
  if (!/^\s*<(!doctype html|html|head|body)\b/i.test(head) && !/<html[\s>]/i.test(head)) return undefined
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(head)?.[1]?.replace(/\s+/g, ' ').trim()
  return `an HTML page${title ? ` ("${title.slice(0, 100)}")` : ''}`
}

/** What a successful answer that is not JSON looks like, in a few words. */
function notJson(text: string): string {
  const page = htmlTitle(text)
  if (page) return `${page} instead of JSON`
  const start = text.trim().replace(/\s+/g, ' ')
  return `text that is not JSON ("${start.length > 100 ? `${start.slice(0, 100)}…` : start}")`
}
