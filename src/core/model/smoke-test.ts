/**
 * The smoke test: serve the model with `mlflow models serve` on a free loopback port, wait for /ping, send the
 * serving input example to /invocations a number of times, check each answer's shape and measure latency. The
 * server is always stopped, whatever happens: it runs in its own process group (mlflow starts uvicorn as a child),
 * and the whole group is signalled.
 */
import { SMOKE_METRIC_PREFIX } from '../vocabulary.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { basename, delimiter, dirname, join } from 'node:path'
import { probe } from '../serving/probe.js'
import { freePort } from '../serving/ports.js'
import { checkResult, skippedCheck, type CheckResult, type Finding } from './types.js'

export interface SmokeTestOptions {
  modelDir: string
  /** The Python that has mlflow installed; its directory is put first on PATH because mlflow runs `uvicorn`. */
  python: string
  /** How many scoring requests to time. */
  requests: number
  /** How long the server may take to answer /ping. */
  startTimeoutMs: number
  requestTimeoutMs: number
  /** The body to send; default the model's serving_input_example.json. */
  input?: unknown
  log?: (line: string) => void
}

export const SMOKE_DEFAULTS = { python: 'python3', requests: 20, startTimeoutMs: 180_000, requestTimeoutMs: 30_000 }

const TITLE = 'Serves and answers (mlflow models serve)'
const OUTPUT_TAIL_LINES = 15

export async function runSmokeTest(options: SmokeTestOptions): Promise<CheckResult> {
  const input = options.input ?? (await readServingExample(options.modelDir))
  if (input === undefined) {
    return checkResult('smoke-test', TITLE, 'no serving input example to send', [
      {
        severity: 'warning',
        message: 'the model has no serving_input_example.json, so the smoke test had nothing to send',
        fix: 'log the model with input_example=... so MLflow writes a serving example'
      }
    ])
  }
  const rows = expectedRows(input)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const output: string[] = []
  const server = startServer(options, port, output)
  const started = performance.now()
  try {
    const up = await waitForPing(base, server, options.startTimeoutMs)
    const startupMs = performance.now() - started
    if (up !== 'up') {
      return failed(
        up === 'exited'
          ? `mlflow models serve exited before answering /ping (exit ${server.exitCode ?? server.signalCode})`
          : `mlflow models serve did not answer /ping within ${Math.round(options.startTimeoutMs / 1000)} s`,
        output
      )
    }
    const result = await probe({
      url: `${base}/invocations`,
      body: input,
      requests: options.requests,
      requestTimeoutMs: options.requestTimeoutMs,
      totalTimeoutMs: options.requests * options.requestTimeoutMs,
      check: (status, text) => answerProblem(status, text, rows),
      // The first failure says what is wrong; the same one twenty times says nothing more.
      stopOnError: true
    })
    const findings: Finding[] = []
    const failedAt = result.samples.findIndex(sample => sample.error !== undefined)
    const failure = result.samples[failedAt]
    if (failure?.status === undefined && failure?.error !== undefined) {
      findings.push({
        severity: 'error',
        message: `request ${failedAt + 1} failed: ${failure.error.replace(/^request failed: /, '')}`
      })
    } else if (failure?.error !== undefined) {
      findings.push({
        severity: 'error',
        message: `request ${failedAt + 1}: ${failure.error}`,
        fix: 'the serving example must be accepted by the model: run mlflow.models.validate_serving_input(model_uri, example)'
      })
    }
    const p50 = result.latencyP50Ms
    const p95 = result.latencyP95Ms
    const answered = result.requests - result.errors
    const summary =
      `answered ${answered}/${options.requests} requests` +
      (Number.isFinite(p50) ? `; p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms` : '') +
      `; up in ${(startupMs / 1000).toFixed(1)} s`
    return checkResult('smoke-test', TITLE, summary, findings, {
      requests: options.requests,
      answered,
      latencyP50Ms: p50,
      latencyP95Ms: p95,
      startupMs,
      ...(findings.length ? { serverOutput: output.slice(-OUTPUT_TAIL_LINES) } : {})
    })
  } finally {
    await stop(server)
  }
}

/** The metrics a smoke test contributes, named so rules in `.modelgate.yml` can gate them. */
export function smokeTestMetrics(result: CheckResult): Record<string, number> {
  const data = result.data as { latencyP50Ms?: number; latencyP95Ms?: number; startupMs?: number } | undefined
  if (!data || data.latencyP50Ms === undefined || !Number.isFinite(data.latencyP50Ms)) return {}
  return {
    [`${SMOKE_METRIC_PREFIX}latency_p50_ms`]: data.latencyP50Ms,
    [`${SMOKE_METRIC_PREFIX}latency_p95_ms`]: data.latencyP95Ms!,
    [`${SMOKE_METRIC_PREFIX}startup_ms`]: data.startupMs!
  }
}

export function skippedSmokeTest(why: string): CheckResult {
  return skippedCheck('smoke-test', TITLE, why)
}

async function readServingExample(modelDir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(modelDir, 'serving_input_example.json'), 'utf8'))
  } catch {
    return undefined
  }
}

/** Rows the answer must hold, when the input format says so. */
function expectedRows(input: unknown): number | undefined {
  if (!input || typeof input !== 'object') return undefined
  const body = input as Record<string, unknown>
  const split = body.dataframe_split as { data?: unknown[] } | undefined
  if (split && Array.isArray(split.data)) return split.data.length
  if (Array.isArray(body.dataframe_records)) return body.dataframe_records.length
  if (Array.isArray(body.instances)) return body.instances.length
  if (Array.isArray(body.inputs)) return body.inputs.length
  return undefined
}

function answerProblem(status: number, text: string, rows: number | undefined): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return `HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`
  }
  if (status !== 200) {
    const error = parsed as { error_code?: string; message?: string }
    // MLflow's messages embed the frame across lines; a finding is one line.
    return `HTTP ${status} ${error.error_code ?? ''}: ${(error.message ?? text).replace(/\s+/g, ' ').slice(0, 400)}`
  }
  const predictions = (parsed as { predictions?: unknown }).predictions
  if (predictions === undefined) return 'the answer has no "predictions" field'
  if (rows !== undefined && Array.isArray(predictions) && predictions.length !== rows) {
    return `sent ${rows} rows and got ${predictions.length} predictions`
  }
  return undefined
}

function startServer(options: SmokeTestOptions, port: number, output: string[]): ChildProcess {
  const pythonDir = dirname(options.python)
  const path = options.python.includes('/') ? `${pythonDir}${delimiter}${process.env.PATH ?? ''}` : process.env.PATH
  const args = [
    '-m',
    'mlflow',
    'models',
    'serve',
    '-m',
    options.modelDir,
    '--env-manager',
    'local',
    '-h',
    '127.0.0.1',
    '-p',
    String(port)
  ]
  options.log?.(`starting ${basename(options.python)} ${args.join(' ')}`)
  const child = spawn(options.python, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: path,
      MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: String(Math.ceil(options.requestTimeoutMs / 1000))
    }
  })
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line)
    if (output.length > 200) output.splice(0, output.length - 200)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  child.on('error', error => output.push(`could not start ${options.python}: ${error.message}`))
  return child
}

async function waitForPing(
  base: string,
  server: ChildProcess,
  timeoutMs: number
): Promise<'up' | 'exited' | 'timeout'> {
  const deadline = performance.now() + timeoutMs
  let exited = false
  server.once('exit', () => (exited = true))
  server.once('error', () => (exited = true))
  while (performance.now() < deadline) {
    if (exited || server.exitCode !== null) return 'exited'
    const ok = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(2000) }).then(
      response => response.status === 200,
      () => false
    )
    if (ok) return 'up'
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return 'timeout'
}

/** Stops the server's whole process group: SIGTERM, then SIGKILL if it lingers. */
async function stop(server: ChildProcess): Promise<void> {
  if (server.pid === undefined) return
  const group = -server.pid
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(group, name)
      return true
    } catch {
      return false
    }
  }
  if (!signal('SIGTERM')) return
  const deadline = performance.now() + 10_000
  while (performance.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
    // Signal 0 tests whether any process of the group is left.
    if (!signal(0 as unknown as NodeJS.Signals)) return
  }
  signal('SIGKILL')
}

function failed(message: string, output: string[]): CheckResult {
  const tail = output.slice(-OUTPUT_TAIL_LINES)
  return checkResult(
    'smoke-test',
    TITLE,
    message,
    [
      {
        severity: 'error',
        message: `${message}${tail.length ? `; last output: ${tail.slice(-3).join(' | ')}` : ''}`,
        fix: "check that mlflow and the model's requirements are installed in the Python given by validation.smoke-test.python"
      }
    ],
    { serverOutput: tail }
  )
}
