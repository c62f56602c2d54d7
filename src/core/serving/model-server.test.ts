import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ModelServers, ModelServerStartError, mlflowServeLauncher, type ModelServerLauncher } from './model-server.js'
import { DeadlineExceededError, deadlineIn } from './types.js'

// The process lifecycle with a stand-in server (a few lines of Node) that starts in milliseconds; the real
// `mlflow models serve` runs in test/serving/rollout.test.ts. The stand-in reads its behaviour from the model
// directory's name: `good` answers /ping, `broken` prints a Python-like traceback and exits 1, `mute` never answers,
// `orphan` exits 1 leaving a child of its own behind.
const SERVER = `
const [dir, host, port] = process.argv.slice(1)
if (dir.endsWith('broken')) {
  console.error('Traceback (most recent call last):')
  console.error('RuntimeError: this model cannot be loaded')
  console.error("Exception: Command '['bash', '-c', 'exec uvicorn']' returned non zero return code. Return code = 1")
  process.exit(1)
}
if (dir.endsWith('orphan')) {
  // A server whose first process dies at start while a process it started lives on (uvicorn under mlflow).
  const child = require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' })
  console.log('child ' + child.pid)
  setTimeout(() => process.exit(1), 100)
} else if (dir.endsWith('family')) {
  // A server that started a process of its own (uvicorn under mlflow), which outlives it when it is killed.
  const child = require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' })
  console.log('child ' + child.pid)
  require('node:http').createServer((q, r) => r.end('pong')).listen(Number(port), host)
} else if (!dir.endsWith('mute')) require('node:http').createServer((q, r) => r.end('pong')).listen(Number(port), host)
else setInterval(() => {}, 1000)
`
const launcher: ModelServerLauncher = {
  kind: 'stand-in',
  readyPath: '/ping',
  launch: (dir, host, port) => ({ command: process.execPath, args: ['-e', SERVER, dir, host, String(port)], env: {} })
}

let dir: string
let servers: ModelServers
const lines: string[] = []

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-servers-'))
  servers = new ModelServers({ stateDir: join(dir, 'state'), launcher, log: line => lines.push(line) })
})

afterAll(async () => {
  for (const record of await servers.list()) await servers.stop(record.version)
  rmSync(dir, { recursive: true, force: true })
})

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ModelServers', () => {
  it('a server that exited before it was ready leaves no process of its group behind', async () => {
    const error = await servers.start('9', join(dir, 'orphan'), deadlineIn(10_000, 'test')).catch(e => e)
    expect(error).toBeInstanceOf(ModelServerStartError)
    const child = Number(/child (\d+)/.exec((error as ModelServerStartError).outputTail.join('\n'))?.[1])
    expect(child).toBeGreaterThan(0)
    let alive = true
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(child, 0)
        await new Promise(resolve => setTimeout(resolve, 100))
      } catch {
        alive = false
      }
    }
    if (alive) process.kill(child, 'SIGKILL')
    expect(alive).toBe(false)
  })

  it('starts a server, waits for its ready path and remembers it in the state folder', async () => {
    const record = await servers.start('1', join(dir, 'good'), deadlineIn(10_000, 'test'))
    expect(record).toMatchObject({ version: '1', host: '127.0.0.1', readyPath: '/ping', kind: 'stand-in' })
    expect(await (await fetch(`http://${record.address}/ping`)).text()).toBe('pong')
    const saved = JSON.parse(readFileSync(join(dir, 'state', 'v1.json'), 'utf8'))
    expect(saved).toMatchObject({ version: '1', pid: record.pid, port: record.port, modelDir: join(dir, 'good') })
    expect(record.readyMs).toBeGreaterThan(0)
    // A later run (a new instance over the same folder) finds it running.
    const later = new ModelServers({ stateDir: join(dir, 'state'), launcher })
    expect(await later.list()).toEqual([{ ...record, alive: true }])
  })

  it("clears the job's RUNNER_TRACKING_ID so the runner does not end the server with the job", async () => {
    const saved = process.env.RUNNER_TRACKING_ID
    process.env.RUNNER_TRACKING_ID = 'github_test-job'
    try {
      const record = await servers.start('4', join(dir, 'good'), deadlineIn(10_000, 'test'))
      const environ = readFileSync(`/proc/${record.pid}/environ`, 'utf8').split('\0')
      expect(environ).toContain('RUNNER_TRACKING_ID=')
      expect(environ).not.toContain('RUNNER_TRACKING_ID=github_test-job')
      await servers.stop('4')
    } finally {
      if (saved === undefined) delete process.env.RUNNER_TRACKING_ID
      else process.env.RUNNER_TRACKING_ID = saved
    }
  })

  it('ensure reuses a running server of the same model and replaces a dead one', async () => {
    const first = (await servers.find('1'))!
    expect(await servers.ensure('1', join(dir, 'good'), deadlineIn(10_000, 'test'))).toMatchObject({ pid: first.pid })
    process.kill(-first.pid, 'SIGKILL')
    for (let i = 0; i < 50 && groupAlive(first.pid); i++) await new Promise(r => setTimeout(r, 20))
    expect((await servers.find('1'))!.alive).toBe(false)
    const second = await servers.ensure('1', join(dir, 'good'), deadlineIn(10_000, 'test'))
    expect(second.pid).not.toBe(first.pid)
    expect(lines.some(line => /version 1 \(pid \d+\) is gone; starting a new one/.test(line))).toBe(true)
    // The same version asked for from another directory is another model: the old process is replaced.
    const third = await servers.ensure('1', join(dir, 'good-too'), deadlineIn(10_000, 'test'))
    expect(third.pid).not.toBe(second.pid)
    expect(groupAlive(second.pid)).toBe(false)
    expect(lines.some(line => /version 1 \(pid \d+\) serves .*good, not .*good-too; replacing it/.test(line))).toBe(
      true
    )
  })

  it('reports a server that exits before it is ready, with the exception and the tail of its output', async () => {
    const error = await servers.start('2', join(dir, 'broken'), deadlineIn(10_000, 'test')).catch(e => e)
    expect(error).toBeInstanceOf(ModelServerStartError)
    expect(error.message).toMatch(
      /^model server for version 2 exited with 1 before \/ping answered: RuntimeError: this model cannot be loaded; last output: /
    )
    expect(error.outputTail).toContain('Traceback (most recent call last):')
    expect(await servers.find('2')).toBeUndefined()
  })

  it('stops a server that does not get ready before the deadline', async () => {
    const error = await servers.start('3', join(dir, 'mute'), deadlineIn(800, 'the test rollout')).catch(e => e)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(error.message).toBe(
      'the deadline for the test rollout ran out while waiting for the model server of version 3 to answer /ping'
    )
    expect(await servers.find('3')).toBeUndefined()
  })

  it('stops what is left of a server whose first process died (an OOM kill) rather than leaving it running', async () => {
    const record = await servers.start('8', join(dir, 'family'), deadlineIn(10_000, 'test'))
    const child = Number(/child (\d+)/.exec(readFileSync(record.logFile, 'utf8'))?.[1])
    expect(child).toBeGreaterThan(0)
    process.kill(record.pid, 'SIGKILL')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect((await servers.find('8'))?.alive).toBe(false)
    await servers.stop('8')
    await new Promise(resolve => setTimeout(resolve, 200))
    const alive = (() => {
      try {
        process.kill(child, 0)
        return true
      } catch {
        return false
      }
    })()
    if (alive) process.kill(child, 'SIGKILL')
    expect(alive).toBe(false)
    expect(await servers.find('8')).toBeUndefined()
  })

  it('never signals a process that got the pid of a dead server (a reboot), nor its group', async () => {
    const other = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' })
    try {
      mkdirSync(join(dir, 'state'), { recursive: true })
      writeFileSync(
        join(dir, 'state', 'v7.json'),
        JSON.stringify({
          version: '7',
          modelDir: join(dir, 'good'),
          kind: 'stand-in',
          pid: other.pid,
          host: '127.0.0.1',
          port: 1,
          address: '127.0.0.1:1',
          readyPath: '/ping',
          logFile: join(dir, 'v7.log'),
          startedAt: 'x'
        })
      )
      expect((await servers.find('7'))?.alive).toBe(false)
      await servers.stop('7')
      expect(await servers.find('7')).toBeUndefined()
      expect(() => process.kill(other.pid!, 0)).not.toThrow()
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('starts again on another port when its port was taken between choosing and binding it', async () => {
    const taken: Server[] = []
    const racing = new ModelServers({
      stateDir: join(dir, 'race'),
      launcher: {
        ...launcher,
        // Something else binds the chosen port first, once.
        launch: async (modelDir, host, port, context) => {
          if (taken.length === 0) {
            const other = createServer()
            await new Promise<void>(resolve => other.listen(port, host, resolve))
            taken.push(other)
          }
          return launcher.launch(modelDir, host, port, context)
        }
      }
    })
    try {
      const record = await racing.start('1', join(dir, 'good'), deadlineIn(10_000, 'test'))
      expect(record.port).not.toBe((taken[0]!.address() as AddressInfo).port)
      expect(await (await fetch(`http://${record.address}/ping`)).text()).toBe('pong')
    } finally {
      await racing.stop('1')
      taken.forEach(server => server.close())
    }
  })

  it('stops the whole process group and forgets it', async () => {
    const record = (await servers.find('1'))!
    await servers.stop('1')
    expect(groupAlive(record.pid)).toBe(false)
    expect(await servers.list()).toEqual([])
  })

  it('builds the mlflow models serve command line with the environment bin first on PATH', async () => {
    const context = { version: '1', workDir: '/state/v1.server', freePort: async () => 5002 }
    const spec = await mlflowServeLauncher({ python: '/opt/venv/bin/python' }).launch('/m', '127.0.0.1', 5001, context)
    expect([spec.command, ...spec.args].join(' ')).toBe(
      '/opt/venv/bin/python -m mlflow models serve -m /m --env-manager local -h 127.0.0.1 -p 5001'
    )
    expect(spec.env.PATH!.startsWith('/opt/venv/bin:')).toBe(true)
  })
})
