/**
 * runValidation end to end on copies of the committed example model (saved by real MLflow), in a scratch
 * workspace: what each check reports must agree with what was actually read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXAMPLE_MODEL } from '../../../test/fixtures/models/real-models.js'
import type { CheckResult } from '../model/types.js'
import { runValidation, type ValidateOptions } from './validate.js'

let workspace: string
let count = 0

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'modelgate-validate-gate-'))
  await cp(EXAMPLE_MODEL, join(workspace, 'model'), { recursive: true })
})
afterAll(() => rm(workspace, { recursive: true, force: true }))

/** Validates the example model with the given files written in a fresh workspace (config, metrics). */
async function validate(files: Record<string, string>, options: Partial<ValidateOptions> = {}) {
  const dir = join(workspace, `ws-${count++}`)
  await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return runValidation({ workspace: dir, modelPath: 'model', reportDir: dir, ...options })
}

const check = (checks: readonly CheckResult[], id: string) => checks.find(c => c.id === id)

describe('a model whose MLmodel cannot be read', () => {
  it('lists the checks that depend on it as skipped, under the titles they have when they run', async () => {
    const good = await validate({})
    const broken = await validate({ 'model/MLmodel': '- not a map\n' })
    const titles = (checks: readonly CheckResult[]) => Object.fromEntries(checks.map(c => [c.id, c.title]))
    expect(titles(broken.checks)).toEqual(titles(good.checks))
    expect(broken.checks.filter(c => c.status === 'skip').map(c => c.id)).toEqual([
      'flavors',
      'signature',
      'input-example',
      'environment'
    ])
    expect(broken.passed).toBe(false)
  })
})

describe('the flavors check', () => {
  it('fails a model whose weights file MLmodel names is missing, which nothing else notices', async () => {
    const dir = join(workspace, `ws-${count++}`)
    await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
    await rm(join(dir, 'model', 'model.skops'))
    const report = await runValidation({ workspace: dir, modelPath: 'model', reportDir: dir })
    const flavors = check(report.checks, 'flavors')
    expect(flavors?.status).toBe('fail')
    expect(flavors?.findings.map(f => f.message)).toEqual([
      expect.stringMatching(/python_function\.model_path\): model\.skops is missing/),
      expect.stringMatching(/sklearn\.pickled_model\): model\.skops is missing/)
    ])
    expect(report.passed).toBe(false)
  })
})

describe('the model input', () => {
  it('is refused when the config is for another model, whose settings would apply instead', async () => {
    const other = await validate({ '.modelgate.yml': 'model: churn\n' }, { model: 'fraud' }).catch(
      (error: unknown) => error
    )
    expect(other).toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/^input 'model': is "fraud", but .*\.modelgate\.yml is for model "churn"/)
    })
    const same = await validate({ '.modelgate.yml': 'model: churn\n' }, { model: 'churn' })
    expect(same.passed).toBe(true)
    // Without a config the input is only a name, as the workflow templates pass it.
    expect((await validate({}, { model: 'fraud' })).passed).toBe(true)
  })
})

describe('the metrics input', () => {
  it('warns when no rule of the config bounds the metrics it was given, instead of passing them unread', async () => {
    const report = await validate({ 'eval.json': '{"accuracy": 0.91}' }, { metrics: 'eval.json' })
    const metrics = check(report.checks, 'metrics')
    expect(metrics?.status).toBe('warn')
    expect(metrics?.findings).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/no metric rules.*gates nothing/) })
    ])
    expect(metrics?.summary).toBe('1 metrics, 0 with rules; 0 failing, 1 warning')
    expect(report.verdict).toBe('warn')
  })

  it('warns when the rules set only limits against a baseline, which validation has not got', async () => {
    const report = await validate(
      {
        'eval.json': '{"accuracy": 0.1}',
        '.modelgate.yml': 'metrics:\n  accuracy: { direction: higher, max-regression: 0.01 }\n'
      },
      { metrics: 'eval.json' }
    )
    const metrics = check(report.checks, 'metrics')
    expect(metrics?.status).toBe('warn')
    expect(metrics?.findings.map(f => f.message)).toEqual([
      expect.stringMatching(/^no metric rule of the config sets min, max or threshold/)
    ])
  })

  it('is read before the model: a missing metrics file is the error, not what a check of the model finds', async () => {
    const logged: string[] = []
    const run = validate({}, { metrics: 'evaluation.json', modelPath: 'no-such-model', log: line => logged.push(line) })
    await expect(run).rejects.toThrow(/evaluation\.json/)
    expect(logged.filter(line => line.startsWith('hashing'))).toEqual([])
  })

  it('passes metrics within the bounds of the config rules', async () => {
    const report = await validate(
      { 'eval.json': '{"accuracy": 0.91}', '.modelgate.yml': 'metrics:\n  accuracy: { min: 0.8 }\n' },
      { metrics: 'eval.json' }
    )
    expect(check(report.checks, 'metrics')).toMatchObject({ status: 'pass', findings: [] })
    expect(report.passed).toBe(true)
  })
})
