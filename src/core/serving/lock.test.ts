import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireLock } from './lock.js'
import { DeadlineExceededError, deadlineIn } from './types.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-lock-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('acquireLock', () => {
  it('lets one holder in; another waits, names the holder, and runs out of its deadline', async () => {
    const folder = join(dir, 'a')
    const release = await acquireLock(folder, 'rollout of version 3', deadlineIn(1000, 'first'))
    const waits: string[] = []
    const error = await acquireLock(folder, 'rollout of version 4', deadlineIn(300, 'the rollout'), owner =>
      waits.push(`${owner.pid} ${owner.purpose}`)
    ).catch(e => e)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(error.message).toMatch(
      new RegExp(
        `^the deadline for the rollout ran out while waiting for the rollout lock held by pid ${process.pid} on .* \\(rollout of version 3, since `
      )
    )
    expect(waits).toEqual([`${process.pid} rollout of version 3`])
    await release()
    const again = await acquireLock(folder, 'rollout of version 4', deadlineIn(1000, 'second'))
    await again()
  })

  it('a waiting run gets the lock once the holder releases it', async () => {
    const folder = join(dir, 'b')
    const release = await acquireLock(folder, 'one', deadlineIn(1000, 'one'))
    setTimeout(() => void release(), 200)
    const started = performance.now()
    const second = await acquireLock(folder, 'two', deadlineIn(5000, 'two'))
    expect(performance.now() - started).toBeGreaterThanOrEqual(150)
    await second()
  })

  it('takes over a lock left by a run that died', async () => {
    const folder = join(dir, 'c')
    await acquireLock(folder, 'setup', deadlineIn(1000, 'setup')).then(release => release())
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    writeFileSync(
      join(folder, 'rollout.lock'),
      JSON.stringify({ pid: Number(dead), host: hostname(), since: 'x', purpose: 'killed' })
    )
    const release = await acquireLock(folder, 'after a crash', deadlineIn(1000, 'crash'))
    await release()
  })

  it('takes over a lock whose pid now belongs to another process (a reboot, or pids wrapped around)', async () => {
    const folder = join(dir, 'e')
    await acquireLock(folder, 'setup', deadlineIn(1000, 'setup')).then(release => release())
    const other = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      // The pid runs, but started at another time than the owner the lock names.
      writeFileSync(
        join(folder, 'rollout.lock'),
        JSON.stringify({ pid: other.pid, host: hostname(), since: 'x', purpose: 'before the reboot', started: 'b:1' })
      )
      const release = await acquireLock(folder, 'after the reboot', deadlineIn(1000, 'reboot'))
      await release()
      // A live owner that is who the lock says stays the owner.
      const held = await acquireLock(folder, 'holder', deadlineIn(1000, 'holder'))
      await expect(acquireLock(folder, 'second', deadlineIn(300, 'second'))).rejects.toThrow(DeadlineExceededError)
      await held()
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('waits on an unreadable lock file while it is fresh (being written), takes it over once old', async () => {
    const folder = join(dir, 'd')
    await acquireLock(folder, 'setup', deadlineIn(1000, 'setup')).then(release => release())
    const path = join(folder, 'rollout.lock')
    writeFileSync(path, '')
    await expect(acquireLock(folder, 'fresh', deadlineIn(300, 'fresh'))).rejects.toThrow(DeadlineExceededError)
    utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    const release = await acquireLock(folder, 'old', deadlineIn(1000, 'old'))
    await release()
  })
})
