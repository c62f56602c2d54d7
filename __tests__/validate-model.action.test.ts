/**
 * The shipped validate-model bundle (dist/validate-model/index.js), run as the Actions runner runs it, on the real
 * example model (written by real MLflow) and on copies of it broken in the ways the checks exist for.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, dump } from 'js-yaml'
import { ROOT, runAction } from '../test/harness/run-action.js'

const EXAMPLE_MODEL = join(ROOT, 'examples', 'churn-classifier', 'model')
const PYTHON = join(ROOT, '.venv', 'bin', 'python')
let workspace: string

/** A copy of the example model in the test workspace, changed by `change`. */
function modelCopy(name: string, change: (dir: string) => void = () => undefined): string {
  const dir = join(workspace, name)
  cpSync(EXAMPLE_MODEL, dir, { recursive: true })
  change(dir)
  return name
}

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-validate-'))
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('validate-model, bundled', () => {
  it('passes the example model and reports digest, size and flavors', async () => {
    const run = await runAction('validate-model', {
      workspace: ROOT,
      inputs: { 'model-path': 'examples/churn-classifier/model' }
    })
    expect(run.stderr).toBe('')
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs.passed).toBe('true')
    expect(run.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(Number(run.outputs['size-bytes'])).toBeGreaterThan(1000)
    expect(run.outputs.flavors!.split(',')).toEqual(expect.arrayContaining(['python_function', 'sklearn']))
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining([
        'mlmodel',
        'flavors',
        'signature',
        'input-example',
        'environment',
        'size',
        'manifest',
        'paths',
        'secrets',
        'pickle'
      ])
    )
    const manifest = JSON.parse(readFileSync(report.manifest, 'utf8'))
    expect(`sha256:${manifest.digest}`).toBe(run.outputs.digest)
    expect(run.summary).toMatch(/\| Signature \| ✅ pass \|/)
  })

  it('gives the same digest for a copy of the model elsewhere, with other timestamps', async () => {
    const name = modelCopy('copy', dir => writeFileSync(join(dir, 'MLmodel'), readFileSync(join(dir, 'MLmodel'))))
    const [a, b] = await Promise.all([
      runAction('validate-model', { workspace: ROOT, inputs: { 'model-path': 'examples/churn-classifier/model' } }),
      runAction('validate-model', { workspace, inputs: { 'model-path': name } })
    ])
    expect(b.outputs.digest).toBe(a.outputs.digest)
  })

  it('fails a model without a signature and says to log it with one', async () => {
    const name = modelCopy('no-signature', dir => {
      const mlmodel = load(readFileSync(join(dir, 'MLmodel'), 'utf8')) as Record<string, unknown>
      delete mlmodel.signature
      writeFileSync(join(dir, 'MLmodel'), dump(mlmodel))
    })
    const run = await runAction('validate-model', { workspace, inputs: { 'model-path': name } })
    expect(run.exitCode).toBe(1)
    expect(run.outputs.passed).toBe('false')
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/signature/i)
    expect(run.summary).toMatch(/log.*with a signature/i)
  })

  it('fails a model holding a pickle that runs os.system when loaded, without loading it', async () => {
    const marker = join(workspace, 'pwned')
    const name = modelCopy('malicious', dir => {
      execFileSync('python3', [
        '-c',
        [
          'import os, pickle, sys',
          'class Evil:',
          '    def __reduce__(self):',
          `        return (os.system, ("touch ${marker}",))`,
          'open(sys.argv[1], "wb").write(pickle.dumps(Evil(), protocol=4))'
        ].join('\n'),
        join(dir, 'preprocessor.pkl')
      ])
    })
    const run = await runAction('validate-model', { workspace, inputs: { 'model-path': name } })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(/Unsafe deserialization/)
    expect(run.summary).toMatch(/preprocessor\.pkl/)
    expect(run.summary).toMatch(/os\.system|posix\.system/)
    expect(existsSync(marker)).toBe(false)
  })

  it('refuses a symlink leaving the model directory and a credentials file', async () => {
    const name = modelCopy('leaky', dir => {
      symlinkSync('/etc/passwd', join(dir, 'extra.txt'))
      writeFileSync(join(dir, '.env'), 'DATABASE_PASSWORD=hunter2\n')
    })
    const run = await runAction('validate-model', { workspace, inputs: { 'model-path': name } })
    expect(run.exitCode).toBe(1)
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    const status = Object.fromEntries(report.checks.map((c: { id: string; status: string }) => [c.id, c.status]))
    expect(status).toMatchObject({ paths: 'fail', secrets: 'fail' })
    expect(run.summary).toMatch(/extra\.txt/)
  })

  it("validates with the settings of the model the model input names, of a config's models: list", async () => {
    const name = modelCopy('two-models')
    // Two models: only churn-eu caps the size below the example's 94 KiB.
    writeFileSync(
      join(workspace, 'two-models.yml'),
      dump({
        models: [
          { model: 'churn-us', validation: { 'max-size-mb': 100 } },
          { model: 'churn-eu', validation: { 'max-size-mb': 0.01 } }
        ]
      })
    )
    const inputs = { 'model-path': name, config: 'two-models.yml' }
    const unnamed = await runAction('validate-model', { workspace, inputs })
    expect(unnamed.exitCode).toBe(1)
    expect(unnamed.errors).toEqual([
      "two-models.yml (models): lists 2 models (churn-us, churn-eu); say which one with input 'model'"
    ])
    const us = await runAction('validate-model', { workspace, inputs: { ...inputs, model: 'churn-us' } })
    expect(us.exitCode).toBe(0)
    expect(us.outputs.passed).toBe('true')
    const eu = await runAction('validate-model', { workspace, inputs: { ...inputs, model: 'churn-eu' } })
    expect(eu.exitCode).toBe(1)
    expect(eu.outputs.passed).toBe('false')
    expect(eu.errors[0]).toMatch(/Size within the limit/)
  })

  const badInputs: Array<[string, Record<string, string>, RegExp]> = [
    ['no model at all', {}, /^input 'model-path': is required/],
    ['both model-path and model-uri', { 'model-path': 'm', 'model-uri': 'models:/m/1' }, /both set/],
    ['a model-path that does not exist', { 'model-path': 'nope' }, /nope/],
    [
      'an unknown fail-on',
      { 'model-path': 'examples/churn-classifier/model', 'fail-on': 'always' },
      /^input 'fail-on': expected "error", "warning", "never"/
    ]
  ]
  it.each(badInputs)('reports %s as one clear error line', async (_, inputs, expected) => {
    const run = await runAction('validate-model', { workspace: ROOT, inputs })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(expected)
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m)
  })
})

const describeWithPython = existsSync(PYTHON) ? describe : describe.skip
describeWithPython('validate-model, bundled, with the smoke test (real mlflow models serve)', () => {
  it('serves the example model, reports its latency and gates it with a metric rule', async () => {
    writeFileSync(
      join(workspace, 'smoke.yml'),
      [
        'model: churn-classifier',
        'validation:',
        '  smoke-test:',
        '    server: mlflow',
        `    python: ${PYTHON}`,
        '    requests: 10',
        'metrics:',
        '  smoke.latency_p95_ms: { max: 5000 }',
        '  accuracy: { min: 0.5 }'
      ].join('\n')
    )
    writeFileSync(join(workspace, 'eval.json'), JSON.stringify({ accuracy: 0.81 }))
    const name = modelCopy('served')
    const run = await runAction('validate-model', {
      workspace,
      inputs: { 'model-path': name, config: 'smoke.yml', metrics: 'eval.json' }
    })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    const smoke = report.checks.find((c: { id: string }) => c.id === 'smoke-test')
    expect(smoke.status).toBe('pass')
    expect(smoke.data.latencyP95Ms).toBeGreaterThan(0)
    const metrics = report.checks.find((c: { id: string }) => c.id === 'metrics')
    expect(metrics.status).toBe('pass')
    expect(metrics.data.metrics['smoke.latency_p95_ms']).toBe(smoke.data.latencyP95Ms)
    expect(run.summary).toMatch(/Serves and answers .* ✅ pass .* answered 10\/10 requests; p50/)
  }, 240_000)

  it('does not serve a model whose pickles failed the scan', async () => {
    const name = modelCopy('evil-served', dir => {
      execFileSync('python3', [
        '-c',
        'import pickle,sys; open(sys.argv[1],"wb").write(b"cos\\nsystem\\n(S\'true\'\\ntR.")',
        join(dir, 'x.pkl')
      ])
    })
    const run = await runAction('validate-model', { workspace, inputs: { 'model-path': name, config: 'smoke.yml' } })
    expect(run.exitCode).toBe(1)
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    const smoke = report.checks.find((c: { id: string }) => c.id === 'smoke-test')
    expect(smoke).toMatchObject({ status: 'skip' })
    expect(smoke.summary).toMatch(/not served: Unsafe deserialization failed/)
  }, 60_000)
})
