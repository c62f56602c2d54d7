/**
 * register-model, bundled, against a real MLflow server that misbehaves: behind a proxy that answers 500 or 429 for
 * a while, holds answers back past the client's timeout, or cuts uploads mid-body, and a server process killed
 * mid-registration and restarted. Whatever happens, the step either succeeds or fails with one clear line, and a
 * re-run ends with exactly one version of the model: never a second one, never a half-registered one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction, type ActionRun } from '../test/harness/run-action.js'
import { startFaultProxy, type FaultProxy } from '../test/mlflow/fault-proxy.js'
import { runPythonClient } from '../test/mlflow/python-client.js'
import { startMlflowServer, type MlflowServer } from '../test/mlflow/server.js'

let mlflow: MlflowServer
let proxy: FaultProxy
let workspace: string
let counter = 0

const CREATE_VERSION = { method: 'POST', path: '/api/2.0/mlflow/model-versions/create' }
const UPLOAD = { method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts\// }

/** A model directory of its own (a fresh digest) in the workspace, with an optional large file. */
function freshModel(extraBytes = 0): string {
  const name = `model-${++counter}`
  const dir = join(workspace, name)
  cpSync(join(ROOT, 'examples', 'churn-classifier', 'model'), dir, { recursive: true })
  writeFileSync(join(dir, 'variant.txt'), `${name} ${Date.now()}\n`)
  if (extraBytes) writeFileSync(join(dir, 'weights.bin'), randomBytes(extraBytes))
  return name
}

function register(name: string, modelPath: string, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('register-model', {
    workspace,
    inputs: { registry: 'mlflow', 'tracking-uri': proxy.url, name, 'model-path': modelPath, aliases: 'challenger' },
    env: { MODELGATE_RETRY_BASE_MS: '20', ...env }
  })
}

/** Every version of the model, as MLflow's own client lists them (straight to the server, not through the proxy). */
async function versions(name: string): Promise<{ version: string; digest: string; status: string }[]> {
  return runPythonClient(
    mlflow.url,
    `def main():
    found = client.search_model_versions(f"name = '{ARGS['name']}'")
    return sorted(({"version": v.version, "digest": v.tags.get("modelgate.digest", ""), "status": v.status} for v in found), key=lambda v: int(v["version"]))`,
    { name }
  )
}

function expectOneClearError(run: ActionRun): void {
  expect(run.exitCode).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toContain('the MLflow server at')
  expect(run.stdout).not.toMatch(/modelgate bug|\n\s+at .+\(.+:\d+:\d+\)/)
}

beforeAll(async () => {
  mlflow = await startMlflowServer()
  proxy = await startFaultProxy(mlflow.url)
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-faults-'))
}, 180_000)

afterEach(() => proxy.reset())

afterAll(async () => {
  await proxy?.close()
  await mlflow?.stop()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
}, 60_000)

describe('register-model against a failing MLflow server', () => {
  it('rides out 500s on every kind of call, and registers once', async () => {
    proxy.failNext(2, 500, { when: UPLOAD })
    proxy.failNext(2, 500, { when: CREATE_VERSION })
    proxy.failNext(2, 503, { when: { method: 'GET' } })
    const run = await register('faults-500', freshModel())
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    expect(proxy.count({ ...CREATE_VERSION })).toBe(3)
    expect(await versions('faults-500')).toEqual([{ version: '1', digest: run.outputs.digest, status: 'READY' }])
    expect(run.stdout).toContain('retrying')
  }, 120_000)

  it('waits out 429 with Retry-After, and registers once', async () => {
    proxy.failNext(3, 429, { retryAfter: 1 })
    const started = Date.now()
    const run = await register('faults-429', freshModel())
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
    // Three one-second Retry-Afters, honoured rather than the 20 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
    expect((await versions('faults-429')).map(v => v.version)).toEqual(['1'])
  }, 120_000)

  it('gives up with one clear line when the server keeps failing, and a re-run registers once', async () => {
    proxy.failNext(100, 500, { when: CREATE_VERSION })
    const model = freshModel()
    const failed = await register('faults-down', model)
    expectOneClearError(failed)
    expect(failed.errors[0]).toContain('HTTP 500')
    expect(await versions('faults-down')).toEqual([])

    proxy.reset()
    const again = await register('faults-down', model)
    expect(again.errors).toEqual([])
    expect(again.outputs.created).toBe('true')
    expect(await versions('faults-down')).toHaveLength(1)
  }, 180_000)

  it('finds the version a create made when its answer never arrived, instead of making a second', async () => {
    // The server creates the version, but its answer is held past the client's timeout.
    proxy.delay(2500, CREATE_VERSION)
    const run = await register('faults-lost-answer', freshModel(), { MODELGATE_HTTP_TIMEOUT_MS: '1000' })
    expect(run.errors).toEqual([])
    expect(run.outputs.version).toBe('1')
    expect(proxy.count(CREATE_VERSION)).toBe(1)
    expect(run.stdout).toContain('no answer within 1 s')
    expect(run.stdout).toContain('version 1 holds the digest: the create happened')
    expect((await versions('faults-lost-answer')).map(v => v.version)).toEqual(['1'])
  }, 120_000)

  it('works with a slow server', async () => {
    proxy.delay(400)
    const run = await register('faults-slow', freshModel())
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
  }, 120_000)

  it('leaves no version when uploads are cut mid-body until it gives up, and a re-run registers once', async () => {
    proxy.cutUploadAfter(256 * 1024, UPLOAD, 1000)
    const model = freshModel(4 * 1024 * 1024)
    const failed = await register('faults-cut', model)
    expectOneClearError(failed)
    expect(failed.errors[0]).toContain('upload artifact')
    expect(await versions('faults-cut')).toEqual([])

    proxy.reset()
    const again = await register('faults-cut', model)
    expect(again.errors).toEqual([])
    expect(again.outputs.created).toBe('true')
    expect(await versions('faults-cut')).toEqual([{ version: '1', digest: again.outputs.digest, status: 'READY' }])
  }, 180_000)

  it('recovers from one cut upload by sending the file again', async () => {
    proxy.cutUploadAfter(256 * 1024, UPLOAD, 1)
    const run = await register('faults-cut-once', freshModel(4 * 1024 * 1024))
    expect(run.errors).toEqual([])
    expect(run.outputs.created).toBe('true')
  }, 120_000)

  it('survives the server process dying mid-registration: a clear error, then a re-run after restart registers once', async () => {
    const model = freshModel(64 * 1024 * 1024)
    const pending = register('faults-crash', model)
    // Kill the real server as soon as the upload starts flowing.
    for (let i = 0; i < 2000 && !proxy.requests.some(r => r.method === 'PUT' && r.bytesIn > 0); i++) {
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    await mlflow.kill()
    const failed = await pending
    expectOneClearError(failed)

    await mlflow.restart()
    const again = await register('faults-crash', model)
    expect(again.errors).toEqual([])
    const listed = await versions('faults-crash')
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ digest: again.outputs.digest, status: 'READY' })
  }, 240_000)
})
