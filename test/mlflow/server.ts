/**
 * A real MLflow tracking server (`mlflow server` from the project's .venv) for tests, with a SQLite backend store and
 * proxied artifacts in a temporary directory.
 *
 * It takes several seconds to start, so a test file starts one in `beforeAll` and stops it in `afterAll`:
 *
 *   let mlflow: MlflowServer
 *   beforeAll(async () => { mlflow = await startMlflowServer() }, 120_000)
 *   afterAll(() => mlflow?.stop(), 30_000)
 *
 * `kill()` then `restart()` is a server that crashes and comes back on the same port with the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const DEFAULT_VENV = join(REPO_ROOT, '.venv')

export interface MlflowServerOptions {
  /** The virtual environment holding mlflow. Default: the repository's .venv. */
  venv?: string
  /** Use this directory for the database and artifacts instead of a fresh temporary one; stop() then keeps it. */
  dir?: string
  /** Keep the temporary directory after stop() (for looking at what the server wrote). */
  keepDir?: boolean
  /** Extra arguments to `mlflow server`. It must stay on uvicorn (the default): start-up waits for uvicorn's line. */
  args?: string[]
  /** Extra environment for the server. */
  env?: Record<string, string>
  /** How long to wait for GET /health to answer OK. Default 90 s. */
  startTimeoutMs?: number
  /** How long stop() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number
}

export interface MlflowServer {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** The directory holding mlflow.db and artifacts/. */
  readonly dir: string
  readonly backendStoreUri: string
  readonly artifactsDir: string
  /** The process group id (the leader's pid) while running. */
  readonly pid: number | undefined
  readonly running: boolean
  /** The last part of the server's combined stdout and stderr. */
  logs(): string
  /** Stops the whole process group (SIGTERM, then SIGKILL after a grace period) and removes a temporary dir. */
  stop(): Promise<void>
  /** Stops (if running) and starts again on the same port with the same database and artifacts. */
  restart(): Promise<void>
  /** SIGKILLs the whole process group at once, as a crash would. The data stays for restart(). */
  kill(): Promise<void>
}

export function mlflowPython(venv = DEFAULT_VENV): string {
  return join(venv, 'bin', 'python')
}

function mlflowExecutable(venv: string): string {
  return join(venv, 'bin', 'mlflow')
}

/** True when the virtual environment has the mlflow command. */
export function hasMlflow(venv = DEFAULT_VENV): boolean {
  return existsSync(mlflowPython(venv)) && existsSync(mlflowExecutable(venv))
}

/**
 * Throws unless the venv has mlflow. CI always builds the venv (npm's pretest), so a missing one is a broken setup
 * that must fail loudly: a skipped test would pass a build that tested nothing.
 */
export function requireMlflow(venv = DEFAULT_VENV): void {
  if (!hasMlflow(venv)) {
    throw new Error(
      `MLflow is not installed in ${venv} (no ${mlflowExecutable(venv)}). ` +
        `Run \`bash scripts/setup-python.sh\` (npm test runs it as pretest) to create it.`
    )
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise(resolveFree => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolveFree(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)))
  })
}

const sleep = (ms: number) => new Promise<void>(done => setTimeout(done, ms))

/**
 * The group leader is this shell, not mlflow. It keeps a read end of a pipe whose write end only the test process
 * holds: when the test process dies in any way (a crash, jest's force exit, Ctrl-C, which never reaches a detached
 * group), the read sees EOF and the shell SIGKILLs its whole group, so no server outlives the tests. Otherwise it
 * waits for mlflow and exits with its status, so an early failure is seen as an exit.
 */
const WATCHDOG = [
  'exec 3<&0',
  '{ read -r _ <&3; kill -KILL 0; } &',
  'watchdog=$!',
  '"$@" </dev/null &',
  'wait $!',
  'status=$?',
  'kill $watchdog 2>/dev/null',
  'exit $status'
].join('\n')

const LOG_TAIL_CHARS = 16_000

class PortTaken extends Error {}

/**
 * True while a process of the group still runs. Zombies do not count: a killed server's processes are orphans that
 * only init reaps, and some container inits take a second per zombie, while the port and the database are free at
 * once. A zombie's other threads do count: they may still hold the listening socket.
 */
export function groupAlive(pgid: number): boolean {
  if (existsSync('/proc/self/task')) return liveGroupMembers(pgid) > 0
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** "pid (comm) state ppid pgrp ...", where comm may hold spaces and parentheses. */
function readStat(path: string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(path, 'utf8')
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state, pgrp: Number(pgrp) }
  } catch {
    return undefined
  }
}

function liveGroupMembers(pgid: number): number {
  let count = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || readStat(`/proc/${pid}/stat`)?.pgrp !== pgid) continue
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    const running = tasks.some(tid => {
      const state = readStat(`/proc/${pid}/task/${tid}/stat`)?.state
      return state !== undefined && state !== 'Z' && state !== 'X'
    })
    if (running) count++
  }
  return count
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
  return true
}

export async function startMlflowServer(options: MlflowServerOptions = {}): Promise<MlflowServer> {
  const venv = options.venv ?? DEFAULT_VENV
  requireMlflow(venv)
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'modelgate-mlflow-'))
  const artifactsDir = join(dir, 'artifacts')
  mkdirSync(artifactsDir, { recursive: true })
  const backendStoreUri = `sqlite:///${join(dir, 'mlflow.db')}`
  let port = await freePort()
  const startTimeoutMs = options.startTimeoutMs ?? 90_000
  const stopGraceMs = options.stopGraceMs ?? 10_000

  const inherited = Object.fromEntries(
    // A developer's shell pointing MLflow at a real server must not leak into a test server.
    Object.entries(process.env).filter(([key]) => !key.startsWith('MLFLOW_') && !key.startsWith('DATABRICKS_'))
  )
  const env: Record<string, string | undefined> = {
    ...inherited,
    // mlflow starts uvicorn by name, so the venv's bin must come first.
    PATH: [join(venv, 'bin'), process.env.PATH ?? ''].join(delimiter),
    VIRTUAL_ENV: venv,
    PYTHONUNBUFFERED: '1',
    // The job runner (for GenAI jobs no test runs) adds eight processes, makes start-up take about 10 s instead of
    // 6 s, and leaves a directory in /dev/shm behind every server.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    ...options.env
  }
  const serverArgs = () => [
    'server',
    '--backend-store-uri',
    backendStoreUri,
    '--artifacts-destination',
    artifactsDir,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    '1',
    ...(options.args ?? [])
  ]

  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let log = ''
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS)
  }

  async function launch(): Promise<void> {
    // After a crash the port stays taken until the last process of the old group is gone.
    if (!(await portFreeWithin(port, 15_000))) {
      throw new Error(`MLflow server: port ${port} is still in use, so it cannot start on it again`)
    }
    log = ''
    const url = `http://127.0.0.1:${port}`
    const command = [mlflowExecutable(venv), ...serverArgs()]
    const proc = spawn('bash', ['-c', WATCHDOG, 'mlflow-server-watchdog', ...command], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    child = proc
    proc.stdout?.on('data', append)
    proc.stderr?.on('data', append)
    let exitReason: string | undefined
    exited = new Promise(done => {
      proc.once('exit', (code, signal) => {
        exitReason = signal ? `signal ${signal}` : `exit code ${code}`
        done()
      })
      proc.once('error', error => {
        exitReason = error.message
        done()
      })
    })

    // Another process may bind the port between freePort() and uvicorn, and would answer /health for us: only
    // uvicorn's own line says the server listening there is this one.
    const announcement = new RegExp(`running on http://127\\.0\\.0\\.1:${port}\\b`, 'i')
    let announced = false
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      if (exitReason !== undefined) {
        await terminate(proc, 'SIGKILL', 0, false)
        const message = `MLflow server exited during start-up (${exitReason}). Its output ended with:\n${log}`
        throw /address already in use/i.test(log) ? new PortTaken(message) : new Error(message)
      }
      announced ||= announcement.test(log)
      if (announced && (await healthy(url))) return
      if (Date.now() >= deadline) {
        await terminate(proc, 'SIGKILL', 0, false)
        throw new Error(
          `MLflow server did not answer GET ${url}/health with OK within ${startTimeoutMs} ms. ` +
            `Its output ended with:\n${log}`
        )
      }
      await sleep(200)
    }
  }

  async function terminate(proc: ChildProcess, signal: NodeJS.Signals, graceMs: number, waitForPort = true) {
    const pgid = proc.pid
    if (pgid === undefined) {
      if (child === proc) child = undefined
      return
    }
    signalGroup(pgid, signal)
    if (signal !== 'SIGKILL' && !(await waitUntil(() => !groupAlive(pgid), graceMs))) {
      signalGroup(pgid, 'SIGKILL')
    }
    await exited
    await waitUntil(() => !groupAlive(pgid), 10_000)
    // What "stopped" means to a client: nothing accepts connections on the port any more.
    if (waitForPort) await portFreeWithin(port, 10_000)
    proc.stdin?.destroy()
    if (child === proc) child = undefined
  }

  for (let attempt = 1; ; attempt++) {
    try {
      await launch()
      break
    } catch (error) {
      if (error instanceof PortTaken && attempt < 3) {
        port = await freePort()
        continue
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true })
      throw error
    }
  }

  const server: MlflowServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    backendStoreUri,
    artifactsDir,
    get pid() {
      return child?.pid
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
    },
    logs: () => log,
    async stop() {
      if (child) await terminate(child, 'SIGTERM', stopGraceMs)
      if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true })
    },
    async restart() {
      if (child) await terminate(child, 'SIGTERM', stopGraceMs)
      await launch()
    },
    async kill() {
      if (child) await terminate(child, 'SIGKILL', 0)
    }
  }
  return server
}

async function portFreeWithin(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await portIsFree(port))) {
    if (Date.now() >= deadline) return false
    await sleep(100)
  }
  return true
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
    return response.ok && (await response.text()).trim() === 'OK'
  } catch {
    return false
  }
}

export interface MlflowAnswer {
  status: number
  /** The parsed JSON body, or the text when it is not JSON (MLflow's 403 for a foreign Host, a bare 404…). */
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One call to MLflow's REST API the way MLflow's own client makes it: a GET's fields in the query string, anything
 * else's as a JSON body. `path` is under /api/2.0/mlflow (e.g. "/registered-models/create").
 */
export async function callMlflow(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  fields: Record<string, unknown> = {}
): Promise<MlflowAnswer> {
  const url = new URL(`${baseUrl}/api/2.0/mlflow${path}`)
  const init: RequestInit = { method }
  if (method === 'GET') {
    for (const [key, value] of Object.entries(fields)) url.searchParams.set(key, String(value))
  } else {
    init.headers = { 'content-type': 'application/json' }
    init.body = JSON.stringify(fields)
  }
  const response = await fetch(url, init)
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body }
}
