/**
 * Runs HAProxy from the system's packages in master-worker mode in the foreground of its own process group
 * (`haproxy -W -db -f <cfg>`), and waits for its admin socket. Used by the tests and by a self-hosted runner that
 * has no HAProxy of its own; a runner with one only gives modelgate its admin socket.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import { haproxyConfig, type HaproxyConfigOptions } from './config.js'
import { RuntimeApi } from './runtime-api.js'

export const HAPROXY_INSTALL_HINT =
  'install it from the distribution: apt-get install -y --no-install-recommends haproxy'

export interface RunningHaproxy {
  readonly pid: number
  readonly socket: string
  readonly configPath: string
  readonly api: RuntimeApi
  /** Output of HAProxy (warnings, alerts), for reports. */
  log(): string
  /** SIGUSR2 to the master: a hitless reload that forgets runtime servers and weights. */
  reload(): void
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

export interface StartHaproxyOptions extends Omit<HaproxyConfigOptions, 'socket' | 'pidFile'> {
  /** A folder for the configuration, socket, pid file and log. */
  readonly dir: string
  /** The haproxy binary. Default `haproxy` on PATH. */
  readonly binary?: string
  readonly startTimeoutMs?: number
}

export async function startHaproxy(options: StartHaproxyOptions): Promise<RunningHaproxy> {
  await mkdir(options.dir, { recursive: true })
  const socket = join(options.dir, 'admin.sock')
  const configPath = join(options.dir, 'haproxy.cfg')
  const logPath = join(options.dir, 'haproxy.log')
  await writeFile(configPath, haproxyConfig({ ...options, socket, pidFile: join(options.dir, 'haproxy.pid') }))
  const out = openSync(logPath, 'a')
  // Outlives the job like the model servers (see model-server.ts on RUNNER_TRACKING_ID).
  const child = spawn(options.binary ?? 'haproxy', ['-W', '-db', '-f', configPath], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, RUNNER_TRACKING_ID: '' }
  })
  closeSync(out)
  const failure = new Promise<Error>(resolve => {
    child.once('error', error => resolve(error))
    child.once('exit', code => resolve(new Error(`haproxy exited with ${code}`)))
  })
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8')
    } catch {
      return ''
    }
  }
  const api = new RuntimeApi({ address: socket, timeoutMs: 2000 })
  const deadline = performance.now() + (options.startTimeoutMs ?? 15_000)
  let ended: Error | undefined
  void failure.then(error => (ended = error))
  for (;;) {
    if (ended) {
      if ((ended as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ConfigurationError(`haproxy is not installed (not found on PATH); ${HAPROXY_INSTALL_HINT}`)
      }
      throw new Error(`haproxy did not start (${ended.message}): ${log().trim().slice(-1000)}`)
    }
    const up = await api.query('show info').then(
      answer => answer.includes('Name: HAProxy'),
      () => false
    )
    if (up) break
    if (performance.now() > deadline) {
      killGroup(child.pid, 'SIGKILL')
      throw new Error(`haproxy did not open its admin socket within the start timeout: ${log().trim().slice(-1000)}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const pid = child.pid!
  return {
    pid,
    socket,
    configPath,
    api,
    log,
    reload: () => process.kill(pid, 'SIGUSR2'),
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
      killGroup(pid, 'SIGTERM')
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}
