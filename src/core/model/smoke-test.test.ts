import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSmokeTest, smokeTestMetrics, SMOKE_DEFAULTS } from './smoke-test.js'

const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..', '..')
const PYTHON = join(ROOT, '.venv', 'bin', 'python')
const haveVenv = existsSync(PYTHON)
const describeWithPython = haveVenv ? describe : describe.skip
if (!haveVenv) console.warn(`SKIPPED: the smoke tests need ${PYTHON}; run scripts/setup-python.sh`)

let dir: string
let model: string

describeWithPython('runSmokeTest with the real mlflow models serve', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-smoke-'))
    model = join(dir, 'model')
    const script = join(dir, 'make.py')
    writeFileSync(
      script,
      [
        'import sys, numpy as np, pandas as pd, mlflow',
        'from sklearn.linear_model import LogisticRegression',
        'from mlflow.models import infer_signature',
        'rng = np.random.default_rng(0)',
        'X = pd.DataFrame({"a": rng.random(60), "b": rng.random(60)})',
        'y = (X.a > 0.5).astype(int)',
        'm = LogisticRegression().fit(X, y)',
        'mlflow.sklearn.save_model(m, sys.argv[1], signature=infer_signature(X, m.predict(X)), input_example=X.head(4))'
      ].join('\n')
    )
    execFileSync(PYTHON, [script, model], { stdio: 'pipe' })
  }, 120_000)

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('serves the model, sends the serving example and reports latency, then stops the server', async () => {
    const result = await runSmokeTest({ ...SMOKE_DEFAULTS, modelDir: model, python: PYTHON, requests: 10 })
    expect(result.findings).toEqual([])
    expect(result.status).toBe('pass')
    expect(result.summary).toMatch(/^answered 10\/10 requests; p50 [\d.]+ ms, p95 [\d.]+ ms; up in [\d.]+ s$/)
    const metrics = smokeTestMetrics(result)
    expect(metrics['smoke.latency_p95_ms']).toBeGreaterThanOrEqual(metrics['smoke.latency_p50_ms']!)
    // Nothing of the server is left running.
    const left = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter(l => l.includes(model))
    expect(left).toEqual([])
  }, 240_000)

  it('fails with the server answer when the input does not fit the signature', async () => {
    const result = await runSmokeTest({
      ...SMOKE_DEFAULTS,
      modelDir: model,
      python: PYTHON,
      requests: 3,
      input: { dataframe_split: { columns: ['a'], data: [[0.1]] } }
    })
    expect(result.status).toBe('fail')
    expect(result.findings[0]!.message).toMatch(/HTTP 400 .*(missing inputs|Failed to enforce schema)/i)
  }, 240_000)

  it('fails clearly when the Python has no mlflow', async () => {
    const result = await runSmokeTest({
      ...SMOKE_DEFAULTS,
      modelDir: model,
      python: '/usr/bin/python3',
      requests: 1,
      startTimeoutMs: 30_000
    })
    expect(result.status).toBe('fail')
    expect(result.findings[0]!.message).toMatch(/exited before answering \/ping.*No module named mlflow/)
  }, 60_000)
})
