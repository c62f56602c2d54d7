/**
 * One rollout per endpoint at a time on a machine: two jobs rolling out to the same HAProxy backend would each
 * restore a state the other changed. The lock is a file created exclusively in the endpoint's state folder,
 * holding the owner's pid and, where /proc exists, when that process started; a lock whose process no longer runs
 * was left by a killed job and is taken over. The start time tells a pid reused after a reboot (or a long time)
 * by an unrelated process from the owner itself, which would otherwise hold the lock for ever.
 */
import { readFileSync } from 'node:fs'
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { DeadlineExceededError, pause, remainingMs, type Deadline } from './types.js'

export interface LockOwner {
  readonly pid: number
  readonly host: string
  /** ISO time. */
  readonly since: string
  /** What holds it, for the message another run prints while it waits. */
  readonly purpose: string
  /** `<boot id>:<start time in clock ticks>` of the owner's process, where /proc tells it. */
  readonly started?: string
}

export type Release = () => Promise<void>

const UNREADABLE_STALE_MS = 5000

export async function acquireLock(
  dir: string,
  purpose: string,
  deadline: Deadline,
  onWait?: (owner: LockOwner) => void
): Promise<Release> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'rollout.lock')
  const started = startedOf(process.pid)
  const mine: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    purpose,
    ...(started === undefined ? {} : { started })
  }
  let told = false
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(`${JSON.stringify(mine)}\n`)
      await handle.close()
      return async () => {
        const owner = await readOwner(path)
        if (owner?.pid === mine.pid && owner.since === mine.since) await rm(path, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const text = await readFile(path, 'utf8').catch(() => '')
    const owner = parseOwner(text)
    // A file without an owner is either being written this instant or was cut short by a crash: only an old one
    // is taken over.
    const stale = owner ? owner.host === mine.host && !runs(owner) : (await ageMs(path)) > UNREADABLE_STALE_MS
    if (stale) {
      // Left by a run that died: take it over, if it still holds what was read (a second run recovering at the
      // same instant may have replaced it already; then that run holds the lock and this one waits).
      if ((await readFile(path, 'utf8').catch(() => '')) === text) await rm(path, { force: true })
      continue
    }
    if (owner && !told) {
      onWait?.(owner)
      told = true
    }
    if (remainingMs(deadline) <= 0) {
      throw new DeadlineExceededError(
        deadline,
        owner
          ? `the rollout lock held by pid ${owner.pid} on ${owner.host} (${owner.purpose}, since ${owner.since})`
          : `the rollout lock ${path}, which holds no owner yet`
      )
    }
    await pause(delay, deadline)
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  return parseOwner(await readFile(path, 'utf8').catch(() => ''))
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as LockOwner
    return typeof owner.pid === 'number' ? owner : undefined
  } catch {
    return undefined
  }
}

async function ageMs(path: string): Promise<number> {
  return stat(path).then(
    info => Date.now() - info.mtimeMs,
    () => Number.POSITIVE_INFINITY
  )
}

/** Whether the lock's owner still runs: its pid, and the same process under that pid when both start times are known. */
function runs(owner: LockOwner): boolean {
  if (!running(owner.pid)) return false
  const now = owner.started === undefined ? undefined : startedOf(owner.pid)
  return now === undefined || now === owner.started
}

/** The boot and the clock tick a process started at (/proc/<pid>/stat's 22nd field), or undefined without /proc. */
function startedOf(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (2nd field) is in parentheses and may hold spaces: count fields after its last `)`.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    return ticks ? `${boot}:${ticks}` : undefined
  } catch {
    return undefined
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
