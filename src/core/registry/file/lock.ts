/**
 * The file registry's writer lock: one lock file per registry folder, created with `open(path, 'wx')`, which the
 * file system grants to exactly one caller whether the callers are promises of one process, processes of one
 * runner, or jobs sharing the folder.
 *
 * The lock file is JSON naming its holder (pid, host, pid namespace, boot id, when, what for) and a random token.
 * Holds are short (renames and small JSON writes; model files are copied before the lock is taken), so a waiter
 * polls with short sleeps. A lock whose holder is gone is taken over: on the same host (and the same pid namespace,
 * since containers on one host may share a hostname but not pids) a holder whose pid no longer runs, or whose boot
 * id is from an earlier boot, is gone; on any host a lock older than `staleMs` is. Two waiters that both judge a
 * lock stale must not both remove it (the second would remove the first one's fresh lock), so taking over is done
 * under a second, short-lived `.break` lock file, after checking the lock is still the very one judged stale.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { ServiceError } from '../../errors.js'

/** Who is doing something in the registry folder: written into lock files and staging directories. */
export interface ProcessIdentity {
  readonly pid: number
  readonly hostname: string
  /** Linux's `/proc/self/ns/pid` link text, which tells containers sharing a hostname apart. */
  readonly pidNamespace?: string
  /** Linux's boot id: a pid recorded before a reboot says nothing about the processes after it. */
  readonly bootId?: string
}

interface LockHolder extends ProcessIdentity {
  /** ISO 8601, for people reading the file. */
  readonly created: string
  /** ms since the epoch, for the age check. */
  readonly createdMs: number
  readonly purpose: string
  readonly token: string
}

export interface LockOptions {
  /** The lock file. */
  readonly path: string
  /** What the lock protects, for the timeout message (`the file registry at /x`). */
  readonly what: string
  readonly timeoutMs: number
  /** A lock older than this is taken over whoever holds it. */
  readonly staleMs: number
  /** What the holder is doing, recorded in the lock for whoever finds it. */
  readonly purpose: string
}

/** An unreadable lock (its holder died between creating and writing it) is only judged stale after this. */
const UNREADABLE_GRACE_MS = 10_000
/** A `.break` file is held for a read and an unlink; one this old belongs to a breaker that died. */
const BREAKER_STALE_MS = 30_000
const MAX_SLEEP_MS = 100

let identity: ProcessIdentity | undefined

export function currentProcess(): ProcessIdentity {
  identity ??= {
    pid: process.pid,
    hostname: hostname(),
    ...optional('pidNamespace', () => readlinkSync('/proc/self/ns/pid')),
    ...optional('bootId', () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())
  }
  return identity
}

function optional<K extends string>(key: K, read: () => string): { [P in K]?: string } {
  try {
    const value = read()
    return value ? ({ [key]: value } as { [P in K]?: string }) : {}
  } catch {
    return {}
  }
}

/**
 * Why the process that recorded `owner` can be known not to run any more, or undefined when it may still run
 * (another host, another container, or a live pid).
 */
export function goneReason(owner: Partial<ProcessIdentity>): string | undefined {
  const me = currentProcess()
  if (owner.hostname !== me.hostname || owner.pidNamespace !== me.pidNamespace) return undefined
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId) return 'it was taken before the host last booted'
  if (typeof owner.pid !== 'number' || !Number.isInteger(owner.pid) || owner.pid <= 0) return undefined
  if (!isRunning(owner.pid)) return `process ${owner.pid} is no longer running`
  return undefined
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

export class HeldLock {
  private released = false

  constructor(
    readonly path: string,
    private readonly token: string
  ) {}

  /**
   * Throws unless the lock file is still this holder's: only a hold longer than the stale limit (a suspended
   * machine) lets another writer take it over, and then this holder must not commit.
   */
  async verify(): Promise<void> {
    const seen = await observe(this.path)
    if (seen?.holder?.token !== this.token) {
      throw new ServiceError(
        `the lock ${this.path} was taken over by another writer while this one held it (held longer than the stale limit); nothing was changed, run again`
      )
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    // Never remove a lock that is no longer ours: after a takeover it belongs to the writer that took it.
    const seen = await observe(this.path)
    if (seen?.holder?.token === this.token) await unlink(this.path).catch(ignoreMissing)
  }
}

export async function acquireLock(options: LockOptions): Promise<HeldLock> {
  const started = Date.now()
  let sleep = 2
  for (;;) {
    const token = randomBytes(16).toString('hex')
    if (await tryCreate(options, token)) return new HeldLock(options.path, token)

    const seen = await observe(options.path)
    if (!seen) continue // released between our attempt and the look: try again at once
    const waited = Date.now() - started
    if (staleReason(seen, options.staleMs)) {
      // Normally at once; only a breaker that died holding `.break` makes this wait (BREAKER_STALE_MS).
      if (waited < options.timeoutMs) {
        await breakLock(options.path, seen)
        continue
      }
    }
    if (waited >= options.timeoutMs) throw timeoutError(options, seen, waited)
    await delay(Math.min(sleep, options.timeoutMs - waited) * (0.5 + Math.random()))
    sleep = Math.min(sleep * 2, MAX_SLEEP_MS)
  }
}

async function tryCreate(options: LockOptions, token: string): Promise<boolean> {
  let handle
  try {
    handle = await open(options.path, 'wx', 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  const createdMs = Date.now()
  const holder: LockHolder = {
    ...currentProcess(),
    created: new Date(createdMs).toISOString(),
    createdMs,
    purpose: options.purpose,
    token
  }
  try {
    await handle.writeFile(`${JSON.stringify(holder, null, 2)}\n`)
  } catch (error) {
    await handle.close()
    await unlink(options.path).catch(ignoreMissing)
    throw error
  }
  await handle.close()
  return true
}

interface Observed {
  /** The file's bytes and inode: what a takeover compares to be sure it removes the lock it judged. */
  readonly identity: string
  readonly mtimeMs: number
  readonly holder: LockHolder | undefined
}

async function observe(path: string): Promise<Observed | undefined> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const info = await handle.stat()
    const text = await handle.readFile('utf8')
    return { identity: `${info.ino}:${text}`, mtimeMs: info.mtimeMs, holder: parseHolder(text) }
  } finally {
    await handle.close()
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null
    if (value && typeof value === 'object' && typeof value.token === 'string' && typeof value.createdMs === 'number') {
      return value as LockHolder
    }
  } catch {
    // A holder that died between creating the file and writing it leaves it empty or cut short.
  }
  return undefined
}

function staleReason(seen: Observed, staleMs: number): string | undefined {
  const now = Date.now()
  if (!seen.holder) return now - seen.mtimeMs > UNREADABLE_GRACE_MS ? 'it is unreadable' : undefined
  if (now - seen.holder.createdMs > staleMs) return `it is older than ${formatMs(staleMs)}`
  return goneReason(seen.holder)
}

async function breakLock(path: string, judged: Observed): Promise<void> {
  const breaker = `${path}.break`
  let handle
  try {
    handle = await open(breaker, 'wx', 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const other = await observe(breaker)
    if (other && Date.now() - other.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(ignoreMissing)
    else await delay(5)
    return
  }
  try {
    await handle.writeFile(`${JSON.stringify(currentProcess())}\n`)
    const now = await observe(path)
    if (now?.identity === judged.identity) await unlink(path).catch(ignoreMissing)
  } finally {
    await handle.close()
    await unlink(breaker).catch(ignoreMissing)
  }
}

function timeoutError(options: LockOptions, seen: Observed, waitedMs: number): ServiceError {
  const holder = seen.holder
  const who = holder
    ? `process ${holder.pid} on ${holder.hostname} (${holder.purpose}) since ${holder.created}`
    : 'a writer that has not said who it is'
  return new ServiceError(
    `${options.what} is locked by ${who}; gave up after waiting ${formatMs(waitedMs)}. ` +
      `If no modelgate step is writing to it any more, delete ${options.path} and run again` +
      ` (modelgate takes over a lock older than ${formatMs(options.staleMs)} on its own).`
  )
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`
  return `${Math.round(ms / 60_000)} min`
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
}

function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
