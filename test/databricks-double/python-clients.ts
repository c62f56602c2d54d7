/**
 * Runs this folder's Python scripts, which drive the double with clients no one here wrote (MLflow's Unity Catalog
 * client, the official Databricks SDK), with the project's .venv python.
 */
import { expect } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mlflowPython, REPO_ROOT, requireMlflow } from '../mlflow/server.js'
import type { DatabricksDouble } from './server.js'

/** Runs `script` against the double with the credentials given; the JSON object it printed last. */
export function runScript<T>(
  double: DatabricksDouble,
  script: string,
  args: string[],
  credentials: Record<string, string>
): Promise<T> {
  requireMlflow()
  const inherited = Object.fromEntries(
    // A developer's own Databricks or MLflow settings would send the clients elsewhere.
    Object.entries(process.env).filter(([key]) => !key.startsWith('MLFLOW_') && !key.startsWith('DATABRICKS_'))
  )
  const env = {
    ...inherited,
    ...credentials,
    DATABRICKS_HOST: double.url,
    // No ~/.databrickscfg profile may add to the credentials.
    DATABRICKS_CONFIG_FILE: '/nonexistent/databrickscfg',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    PYTHONWARNINGS: 'ignore'
  }
  // MLflow writes its default tracking store (mlflow.db) in the working directory.
  const cwd = mkdtempSync(join(tmpdir(), 'databricks-clients-'))
  return new Promise<T>((resolve, reject) => {
    execFile(
      mlflowPython(),
      [join(REPO_ROOT, 'test', 'databricks-double', script), ...args],
      { env, cwd, timeout: 240_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} failed: ${error.message}\n${stderr.split('\n').slice(-30).join('\n')}`))
          return
        }
        resolve(JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as T)
      }
    )
  }).finally(() => rmSync(cwd, { recursive: true, force: true }))
}

/** No violation, and nothing a real client sent was refused its credentials. */
export function expectHonest(double: DatabricksDouble): void {
  expect(double.violations).toEqual([])
  // A discovery document answered 401 is what broke OAuth login in both clients.
  expect(double.requests.filter(r => r.status === 401)).toEqual([])
}
