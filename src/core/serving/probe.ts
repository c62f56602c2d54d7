/**
 * The probe: real scoring requests sent to a URL, each timed and attributed to the version that answered it.
 *
 * Shared by the rollout (is the new version answering well?) and validate-model's smoke test (does the model
 * answer at all?). An error is any answer that is not 2xx, a connection failure or a timeout: a model that raises
 * on every prediction is answered 400 by `mlflow models serve` and stays "ready" to every health check, so only
 * counting real answers shows it (serving-facts §2, §4).
 *
 * Bounded twice: a number of requests and a total time, with a timeout on each request.
 */

export interface ProbeOptions {
  readonly url: string
  /** The request body: a string is sent as is, anything else as JSON. */
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
  /** How many requests to send. */
  readonly requests: number
  /** Requests in flight at once. Default 1, so the router's round robin sees them in order. */
  readonly concurrency?: number
  /** Per request. Default 30 s. */
  readonly requestTimeoutMs?: number
  /** For the whole probe; requests not started by then are not sent (`stoppedEarly`). Default 5 min. */
  readonly totalTimeoutMs?: number
  /** The response header naming the member that answered (case-insensitive). */
  readonly versionHeader?: string
  /** Maps the header's value to a version; default the value itself. */
  readonly versionOf?: (headerValue: string) => string | undefined
  /**
   * A further check of every answer (its shape); a returned text makes the request an error, and for a non-2xx
   * answer (always an error) replaces the default `HTTP <status>: <body>` text.
   */
  readonly check?: (status: number, body: string) => string | undefined
  /** Stop after the first error (the smoke test wants the first failure, not fifty of the same). */
  readonly stopOnError?: boolean
  /** Called after every request, for progress lines and tests that act mid-probe. */
  readonly onSample?: (sample: ProbeSample, index: number) => void
  readonly signal?: AbortSignal
}

export interface ProbeSample {
  /** When the request was sent, in ms after the probe started. */
  readonly sentAtMs: number
  /** HTTP status, or undefined when no answer came (connection failure, timeout). */
  readonly status?: number
  /** The version the answer was attributed to, when the header named one. */
  readonly version?: string
  /** Time until the answer was read in full, or until the timeout; undefined for a connection failure. */
  readonly latencyMs?: number
  /** Why the request counts as an error; undefined for a good answer. */
  readonly error?: string
}

export interface ProbeStats {
  readonly requests: number
  readonly errors: number
  /** errors / requests, a fraction; NaN for no requests. */
  readonly errorRate: number
  /** Percentiles of the latencies of requests that were answered or timed out; NaN without any. */
  readonly latencyP50Ms: number
  readonly latencyP95Ms: number
}

export interface ProbeResult extends ProbeStats {
  readonly samples: readonly ProbeSample[]
  /** Per version that answered; requests no header attributed are under `unattributed`. */
  readonly byVersion: Readonly<Record<string, ProbeStats>>
  readonly unattributed: ProbeStats
  /** The first few distinct error texts, for a report. */
  readonly firstErrors: readonly string[]
  /** Fewer requests were sent than asked: the total time ran out, the signal fired, or stopOnError. */
  readonly stoppedEarly: boolean
  /** `performance.now()` when the first request was sent; sample times are relative to it. */
  readonly startedAt: number
  readonly durationMs: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
const DEFAULT_TOTAL_TIMEOUT_MS = 300_000
const ERROR_SAMPLES = 5

export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const started = performance.now()
  const stopAt = started + (options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS)
  const header = options.versionHeader?.toLowerCase()
  const samples: ProbeSample[] = []
  let next = 0
  let stop = false

  const one = async (): Promise<ProbeSample> => {
    const remaining = Math.max(1, Math.ceil(Math.min(requestTimeoutMs, stopAt - performance.now())))
    const signals = [AbortSignal.timeout(remaining)]
    if (options.signal) signals.push(options.signal)
    const sent = performance.now()
    const sentAtMs = sent - started
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body,
        signal: AbortSignal.any(signals)
      })
      const text = await response.text()
      const latencyMs = performance.now() - sent
      const named = header ? response.headers.get(header) : null
      const version = named === null ? undefined : options.versionOf ? options.versionOf(named) : named
      const checked = options.check?.(response.status, text)
      const error =
        response.status < 200 || response.status > 299
          ? (checked ?? `HTTP ${response.status}: ${oneLine(text)}`)
          : checked
      return {
        sentAtMs,
        status: response.status,
        latencyMs,
        ...(version === undefined ? {} : { version }),
        ...(error === undefined ? {} : { error })
      }
    } catch (caught) {
      const elapsed = performance.now() - sent
      // Checked by name: errors from fetch may come from another realm (a test VM), where instanceof fails.
      const name = (caught as { name?: unknown } | null)?.name
      const timedOut = name === 'TimeoutError' || name === 'AbortError'
      if (timedOut && !options.signal?.aborted) {
        return { sentAtMs, latencyMs: elapsed, error: `no answer within ${Math.round(remaining)} ms` }
      }
      return { sentAtMs, error: `request failed: ${failureText(caught)}` }
    }
  }

  const worker = async () => {
    while (!stop) {
      if (next >= options.requests || performance.now() >= stopAt || options.signal?.aborted) return
      const index = next++
      const sample = await one()
      samples[index] = sample
      options.onSample?.(sample, index)
      if (sample.error !== undefined && options.stopOnError) stop = true
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency ?? 1, options.requests))
  await Promise.all(Array.from({ length: workers }, worker))

  const sent = samples.filter(s => s !== undefined)
  return summarizeProbe(sent, started, performance.now() - started, sent.length < options.requests)
}

/** Builds a result from samples (also used to judge a subset, e.g. only what a canary answered). */
export function summarizeProbe(
  samples: readonly ProbeSample[],
  startedAt: number,
  durationMs: number,
  stoppedEarly: boolean
): ProbeResult {
  const groups = new Map<string, ProbeSample[]>()
  const unattributed: ProbeSample[] = []
  for (const sample of samples) {
    if (sample.version === undefined) unattributed.push(sample)
    else groups.set(sample.version, [...(groups.get(sample.version) ?? []), sample])
  }
  const firstErrors: string[] = []
  for (const sample of samples) {
    if (sample.error !== undefined && !firstErrors.includes(sample.error)) firstErrors.push(sample.error)
    if (firstErrors.length >= ERROR_SAMPLES) break
  }
  return {
    ...statsOf(samples),
    samples,
    byVersion: Object.fromEntries([...groups].map(([version, group]) => [version, statsOf(group)])),
    unattributed: statsOf(unattributed),
    firstErrors,
    stoppedEarly,
    startedAt,
    durationMs
  }
}

export function statsOf(samples: readonly ProbeSample[]): ProbeStats {
  const latencies = samples.flatMap(s => (s.latencyMs === undefined ? [] : [s.latencyMs]))
  const errors = samples.filter(s => s.error !== undefined).length
  return {
    requests: samples.length,
    errors,
    errorRate: samples.length ? errors / samples.length : Number.NaN,
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95)
  }
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

function oneLine(text: string): string {
  // Model servers' messages embed stack frames across lines; a report line is one line.
  return text.replace(/\s+/g, ' ').trim().slice(0, 300)
}

function failureText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message
  if (typeof message !== 'string') return String(error)
  // fetch wraps the socket error (ECONNREFUSED, ECONNRESET) in `cause`.
  const cause = (error as { cause?: unknown }).cause
  const code = cause && typeof cause === 'object' ? (cause as { code?: unknown }).code : undefined
  return typeof code === 'string' ? `${message} (${code})` : message
}
