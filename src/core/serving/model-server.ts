/**
 * Model server processes, one per model version, owned by modelgate and remembered in a state folder so a later
 * run (another job on the same self-hosted runner) finds the processes it started, and notices those that died.
 *
 * `mlflow models serve` (serving-facts §3): run from the project's Python environment with its bin first on PATH
 * (mlflow execs `uvicorn` through bash; without it: exit 127), `--env-manager local`, loopback, a free port, in a
 * process group of its own (mlflow starts uvicorn as a child) which is signalled as a whole to stop. A model that
 * cannot load makes the process exit 1 before `/ping` answers: that is reported with the tail of its output.
 *
 * The launcher is the seam between the two servers: `mlflowServeLauncher` here, `mlserverLauncher` (MLServer with its
 * MLflow runtime, from a separate environment, a settings folder per version) in mlserver.ts.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { delimiter, dirname, join, resolve } from 'node:path'
import { freePort } from './ports.js'
import { DeadlineExceededError, pause, remainingMs, type Deadline } from './types.js'

export interface LaunchSpec {
  readonly command: string
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string>>
  /** The process's working directory; default this process's. */
  readonly cwd?: string
  /** The path answering 200 once this process's model is loaded, when it is not the launcher's `readyPath`. */
  readonly readyPath?: string
  /**
   * What the process's command line holds, by which a later run tells this server from an unrelated process that
   * got its pid. Default: the model directory and the port.
   */
  readonly identifiedBy?: readonly string[]
}

/** What a launcher gets besides the model directory and the HTTP address. */
export interface LaunchContext {
  readonly version: string
  /** A folder of this version's own in the state folder, created empty, for the server's settings files. */
  readonly workDir: string
  /** Another port free on the host, for a listener beside the HTTP one. */
  freePort(): Promise<number>
}

/** How one kind of model server is started and asked whether it is ready. */
export interface ModelServerLauncher {
  readonly kind: string
  /**
   * The path answering 200 once the model is loaded, the same on every server of a backend: HAProxy's
   * `option httpchk` GETs it (one path per backend). A launch may wait on a more precise path of its own.
   */
  readonly readyPath: string
  launch(modelDir: string, host: string, port: number, context: LaunchContext): LaunchSpec | Promise<LaunchSpec>
}

/** `mlflow models serve` from a Python environment that has MLflow and the model's requirements. */
export function mlflowServeLauncher(options: { python: string; requestTimeoutMs?: number }): ModelServerLauncher {
  const python = options.python
  return {
    kind: 'mlflow',
    readyPath: '/ping',
    launch: (modelDir, host, port) => ({
      command: python,
      args: [
        '-m',
        'mlflow',
        'models',
        'serve',
        '-m',
        modelDir,
        '--env-manager',
        'local',
        '-h',
        host,
        '-p',
        String(port)
      ],
      env: {
        ...(python.includes('/') ? { PATH: `${dirname(python)}${delimiter}${process.env.PATH ?? ''}` } : {}),
        MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: String(Math.ceil((options.requestTimeoutMs ?? 60_000) / 1000))
      }
    })
  }
}

/** What the state folder remembers of one process. */
export interface ModelServerRecord {
  readonly version: string
  readonly modelDir: string
  readonly kind: string
  /** The process group leader; the group is signalled to stop. */
  readonly pid: number
  readonly host: string
  readonly port: number
  /** `host:port`, what the router sends requests to. */
  readonly address: string
  readonly readyPath: string
  readonly logFile: string
  /** The launcher's folder for this version (settings files), removed with the record. */
  readonly workDir?: string
  /** See `LaunchSpec.identifiedBy`; absent: the model directory and the port. */
  readonly identifiedBy?: readonly string[]
  /** ISO time. */
  readonly startedAt: string
  /** From spawn until the ready path answered, once it did (the benchmark's baseline). */
  readonly readyMs?: number
}

export interface ListedServer extends ModelServerRecord {
  /** The pid still runs this server (checked against its command line where /proc exists). */
  readonly alive: boolean
}

export class ModelServerStartError extends Error {
  constructor(
    message: string,
    /** The last lines the server wrote. */
    readonly outputTail: readonly string[],
    /** The Python exception that stopped it, when the log has one (`RuntimeError: cannot load`). */
    readonly exception?: string
  ) {
    super(
      `${message}${exception ? `: ${exception}` : ''}` +
        (outputTail.length ? `; last output: ${outputTail.slice(-3).join(' | ')}` : '')
    )
    this.name = 'ModelServerStartError'
  }
}

export interface ModelServersOptions {
  /** One folder per endpoint: `<version>.json` and `<version>.log` per process. */
  readonly stateDir: string
  readonly launcher: ModelServerLauncher
  /** Loopback by default; the router runs on the same machine. */
  readonly host?: string
  readonly log?: (line: string) => void
}

const TAIL_LINES = 15
/** Starts on a port taken between choosing and binding it, before giving up. */
const PORT_ATTEMPTS = 3
/** What uvicorn (mlflow, MLServer) and Node say when their port is taken. */
const ADDRESS_IN_USE = /address already in use|EADDRINUSE|Errno 98/i
const STOP_GRACE_MS = 10_000

export class ModelServers {
  readonly stateDir: string
  readonly launcher: ModelServerLauncher
  private readonly host: string
  private readonly log: (line: string) => void

  constructor(options: ModelServersOptions) {
    this.stateDir = resolve(options.stateDir)
    this.launcher = options.launcher
    this.host = options.host ?? '127.0.0.1'
    this.log = options.log ?? (() => undefined)
  }

  /** Every process the state folder remembers, with whether it still runs. */
  async list(): Promise<ListedServer[]> {
    let names: string[]
    try {
      names = await readdir(this.stateDir)
    } catch {
      return []
    }
    const records: ListedServer[] = []
    for (const name of names.filter(n => n.endsWith('.json')).sort()) {
      try {
        const record = JSON.parse(await readFile(join(this.stateDir, name), 'utf8')) as ModelServerRecord
        records.push({ ...record, alive: isAlive(record) })
      } catch {
        // A record cut short by a crash while writing: nothing to own.
      }
    }
    return records
  }

  async find(version: string): Promise<ListedServer | undefined> {
    return (await this.list()).find(record => record.version === version)
  }

  /**
   * A server for the version: the running one when it serves the same model directory, else a new one (a dead one,
   * or one serving another directory, is stopped and forgotten first). A running one is not judged by a slow
   * answer here: it may be the version serving all traffic, and the router's health check decides about it.
   */
  async ensure(version: string, modelDir: string, deadline: Deadline): Promise<ModelServerRecord> {
    const known = await this.find(version)
    if (known) {
      if (known.alive && known.modelDir === resolve(modelDir)) return known
      this.log(
        known.alive
          ? `model server for version ${version} (pid ${known.pid}) serves ${known.modelDir}, not ${resolve(modelDir)}; replacing it`
          : `model server for version ${version} (pid ${known.pid}) is gone; starting a new one`
      )
      await this.stop(version)
    }
    return this.start(version, modelDir, deadline)
  }

  /** Starts a server and waits until its ready path answers 200, the process exits, or the deadline passes. */
  async start(version: string, modelDir: string, deadline: Deadline): Promise<ModelServerRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(version, modelDir, deadline)
      } catch (error) {
        // The port was free when chosen but taken before the server bound it (the servers take no port 0): another
        // port is as good, and the rollout should not fail for that race.
        const taken = error instanceof ModelServerStartError && error.outputTail.some(line => ADDRESS_IN_USE.test(line))
        if (!taken || attempt >= PORT_ATTEMPTS || remainingMs(deadline) <= 0) throw error
        this.log(`the port of the model server for version ${version} was taken before it bound it; another port`)
      }
    }
  }

  private async startOnce(version: string, modelDir: string, deadline: Deadline): Promise<ModelServerRecord> {
    await mkdir(this.stateDir, { recursive: true })
    const port = await freePort(this.host)
    const dir = resolve(modelDir)
    const workDir = this.workDirOf(version)
    await rm(workDir, { recursive: true, force: true })
    await mkdir(workDir)
    const host = this.host
    const spec = await this.launcher.launch(dir, host, port, { version, workDir, freePort: () => freePort(host) })
    const readyPath = spec.readyPath ?? this.launcher.readyPath
    const logFile = join(this.stateDir, `${fileName(version)}.log`)
    const out = openSync(logFile, 'w')
    const spawned = performance.now()
    this.log(`starting ${this.launcher.kind} model server for version ${version} on ${this.host}:${port}`)
    // Detached: its own process group (stopped as a whole) that outlives this process when the job ends; output
    // goes to a file because nobody reads a pipe after this process exits. The Actions runner ends, after a job,
    // every process that still carries the job's RUNNER_TRACKING_ID; cleared, the server is not the job's.
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', out, out],
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
      env: { ...process.env, ...spec.env, RUNNER_TRACKING_ID: '' }
    })
    closeSync(out)
    let ended: string | undefined
    child.once('error', error => (ended = `could not start ${spec.command}: ${error.message}`))
    child.once('exit', (code, signal) => (ended = `exited with ${code ?? signal} before ${readyPath} answered`))
    child.unref()
    if (child.pid === undefined) {
      await new Promise(resolve => setImmediate(resolve))
      throw new ModelServerStartError(ended ?? `could not start ${spec.command}`, tail(logFile))
    }
    const record: ModelServerRecord = {
      version,
      modelDir: dir,
      kind: this.launcher.kind,
      pid: child.pid,
      host: this.host,
      port,
      address: `${this.host}:${port}`,
      readyPath,
      logFile,
      workDir,
      ...(spec.identifiedBy ? { identifiedBy: spec.identifiedBy } : {}),
      startedAt: new Date().toISOString()
    }
    // Written before waiting, so a run killed while waiting leaves a record the next run can clean up.
    await writeFile(join(this.stateDir, `${fileName(version)}.json`), `${JSON.stringify(record, null, 2)}\n`)
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      if (ended !== undefined) {
        // The first process is gone, but what it started may live on in its group (uvicorn under mlflow).
        await stopGroup(record.pid)
        await this.forget(version)
        throw new ModelServerStartError(
          `model server for version ${version} ${ended}`,
          tail(logFile),
          exceptionIn(logFile)
        )
      }
      if (await answers(record, 2000)) {
        const ready = { ...record, readyMs: Math.round(performance.now() - spawned) }
        await writeFile(join(this.stateDir, `${fileName(version)}.json`), `${JSON.stringify(ready, null, 2)}\n`)
        return ready
      }
      if (remainingMs(deadline) <= 0) {
        await this.stop(version)
        throw new DeadlineExceededError(
          deadline,
          `the model server of version ${version} to answer ${record.readyPath}`
        )
      }
      await pause(delay, deadline)
    }
  }

  /** Stops the version's process group (SIGTERM, then SIGKILL after a grace period) and forgets it. */
  async stop(version: string): Promise<void> {
    const record = await this.find(version)
    if (!record) return
    if (record.alive) {
      this.log(`stopping model server for version ${version} (pid ${record.pid})`)
      await stopGroup(record.pid)
    } else if (leftInGroup(record.pid)) {
      this.log(`stopping what is left of the model server for version ${version} (process group ${record.pid})`)
      await stopGroup(record.pid)
    }
    await this.forget(version)
  }

  private async forget(version: string): Promise<void> {
    await rm(join(this.stateDir, `${fileName(version)}.json`), { force: true })
    await rm(this.workDirOf(version), { recursive: true, force: true })
  }

  /** The launcher's folder for a version's settings files, beside its record. */
  private workDirOf(version: string): string {
    return join(this.stateDir, `${fileName(version)}.server`)
  }
}

/** The last lines of a server's log, for a report. */
export function tail(logFile: string, lines = TAIL_LINES): string[] {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(line => line.trim())
      .slice(-lines)
  } catch {
    return []
  }
}

/**
 * The first Python exception line of a log, skipping mlflow's own wrapper (`Exception: Command '[...uvicorn...]'
 * returned non zero`), which says only that the worker died.
 */
export function exceptionIn(logFile: string): string | undefined {
  let text: string
  try {
    text = readFileSync(logFile, 'utf8')
  } catch {
    return undefined
  }
  return text
    .split('\n')
    .find(line => /^[A-Za-z_][\w.]*(Error|Exception)\b.*:/.test(line) && !/^Exception: Command '/.test(line))
    ?.trim()
    .slice(0, 300)
}

async function answers(record: ModelServerRecord, timeoutMs: number): Promise<boolean> {
  return fetch(`http://${record.address}${record.readyPath}`, { signal: AbortSignal.timeout(timeoutMs) }).then(
    response => {
      void response.body?.cancel()
      return response.status === 200
    },
    () => false
  )
}

function isAlive(record: ModelServerRecord): boolean {
  try {
    process.kill(record.pid, 0)
  } catch {
    return false
  }
  // A pid can be reused by an unrelated process after a reboot or a long time: check it is still ours.
  const cmdline = `/proc/${record.pid}/cmdline`
  if (!existsSync('/proc/self/cmdline')) return true
  try {
    const args = readFileSync(cmdline, 'utf8')
    return (record.identifiedBy ?? [record.modelDir, String(record.port)]).every(mark => args.includes(mark))
  } catch {
    return false
  }
}

/**
 * Whether processes a server started outlive its first process (killed, say, by the OOM killer): its group still
 * has members though its leader is gone. Where the leader's pid runs another process (reused), that group is not
 * ours; where it runs none, the group can only be ours, as a group's id is not handed out while it has members.
 */
function leftInGroup(pid: number): boolean {
  if (!existsSync('/proc/self/stat')) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // A zombie (exited, not yet reaped) is as gone as a pid without an entry.
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') return false
  } catch {
    // No such process.
  }
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

async function stopGroup(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, name)
      return true
    } catch {
      return false
    }
  }
  if (!signal('SIGTERM')) return
  const deadline = performance.now() + STOP_GRACE_MS
  while (performance.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 50))
    if (!signal(0)) return
  }
  signal('SIGKILL')
}

function fileName(version: string): string {
  return `v${version.replace(/[^A-Za-z0-9_.-]/g, '_')}`
}
