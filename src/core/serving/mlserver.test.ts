import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MLSERVER_MLFLOW_RUNTIME, mlserverLauncher, mlserverReadyPath } from './mlserver.js'
import type { LaunchContext } from './model-server.js'

// What the launcher writes and runs; the real MLServer runs in test/serving/mlserver.test.ts.
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-mlserver-'))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function context(version: string, ports: number[]): Promise<LaunchContext> {
  const workDir = join(dir, `v${version}.server`)
  await mkdir(workDir)
  return { version, workDir, freePort: async () => ports.shift()! }
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'))
}

describe('mlserverLauncher', () => {
  it('writes settings.json with three distinct ports and model-settings.json for exactly one version', async () => {
    const launcher = mlserverLauncher({ python: '/opt/mlserver/bin/python', model: 'churn' })
    // The OS handing out the HTTP port, then the same port again, is skipped rather than bound twice.
    const ctx = await context('3', [5001, 6002, 6002, 6003])
    const spec = await launcher.launch('/models/churn-3', '127.0.0.1', 5001, ctx)
    expect(readJson(join(ctx.workDir, 'settings.json'))).toEqual({
      host: '127.0.0.1',
      http_port: 5001,
      grpc_port: 6002,
      metrics_port: 6003,
      parallel_workers: 1,
      metrics_dir: join(ctx.workDir, 'metrics'),
      environments_dir: join(ctx.workDir, 'envs')
    })
    expect(readJson(join(ctx.workDir, 'model-settings.json'))).toEqual({
      name: 'churn',
      implementation: MLSERVER_MLFLOW_RUNTIME,
      parameters: { uri: '/models/churn-3', version: '3' }
    })
    expect(spec.command).toBe('/opt/mlserver/bin/python')
    expect(spec.args).toEqual([
      '-c',
      'import sys; from mlserver.cli import main; sys.exit(main())',
      'start',
      ctx.workDir
    ])
    expect(spec.cwd).toBe(ctx.workDir)
    expect(spec.env.PATH!.startsWith('/opt/mlserver/bin:')).toBe(true)
    expect(spec.identifiedBy).toEqual([ctx.workDir])
  })

  it('waits on the versioned ready path, and leaves HAProxy the backend-wide /ping', async () => {
    const launcher = mlserverLauncher({ python: 'python3', model: 'main.ml.churn', parallelWorkers: 0 })
    expect(launcher).toMatchObject({ kind: 'mlserver', readyPath: '/ping' })
    const ctx = await context('12', [7001, 7002])
    const spec = await launcher.launch('/m', '127.0.0.1', 7000, ctx)
    expect(spec.readyPath).toBe('/v2/models/main.ml.churn/versions/12/ready')
    expect(spec.env).toEqual({})
    expect(readJson(join(ctx.workDir, 'settings.json'))).toMatchObject({ parallel_workers: 0 })
    expect(mlserverReadyPath('a b', '1')).toBe('/v2/models/a%20b/versions/1/ready')
  })
})
