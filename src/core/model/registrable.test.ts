import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configurationRejection } from '../../../test/helpers/errors.js'
import { runRegistration } from '../gates/register.js'
import { checkMLmodel } from './model-checks.js'
import { assertRegistrableModel } from './registrable.js'

const EXAMPLE_MODEL = join(import.meta.dirname, '..', '..', '..', 'examples', 'churn-classifier', 'model')
const SOURCE = "input 'model-path'"
let workspace: string

function folder(name: string, files: Record<string, string>): string {
  const dir = join(workspace, name)
  mkdirSync(dir, { recursive: true })
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

function register(modelPath: string) {
  return runRegistration({
    workspace,
    name: 'churn',
    modelPath,
    registryPath: 'registry',
    aliases: [],
    env: {}
  })
}

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-registrable-'))
  cpSync(EXAMPLE_MODEL, join(workspace, 'model'), { recursive: true })
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('assertRegistrableModel', () => {
  it('accepts a real MLflow model', async () => {
    await expect(assertRegistrableModel(join(workspace, 'model'), SOURCE)).resolves.toBeUndefined()
  })

  it.each([
    ['a folder holding only a readme', { 'README.md': '# my model\n' }, /has no MLmodel file/],
    ['an MLmodel that is not YAML', { MLmodel: 'flavors: [unclosed\n' }, /MLmodel line \d+: is not valid YAML/],
    ['an MLmodel that is not a map', { MLmodel: '- a\n- b\n' }, /expected a map of keys/],
    ['an MLmodel without flavors', { MLmodel: 'flavors: {}\n' }, /lists no flavors/],
    [
      'a python_function flavor without a loader',
      { MLmodel: 'flavors:\n  python_function:\n    python_version: 3.12.0\n' },
      /has no loader_module/
    ],
    [
      'a model without the weights its MLmodel names',
      { MLmodel: 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n' },
      /\(flavors\.python_function\.model_path\): model\.pkl is missing, so the flavor cannot load the model/
    ]
  ])('refuses %s, with the message validate-model gives', async (name, files, expected) => {
    const dir = folder(name.replace(/\W+/g, '-'), files)
    const error = await configurationRejection(assertRegistrableModel(dir, SOURCE))
    expect(error.message).toMatch(new RegExp(`^${SOURCE}: is not an MLflow model that can be registered: `))
    expect(error.message).toMatch(expected)
    const mlmodel = (await checkMLmodel(dir)).result.findings.find(f => f.severity === 'error')
    if (mlmodel) expect(error.message).toContain(mlmodel.message)
  })

  it('lets a model without python_function through: its own flavor loads it', async () => {
    const dir = folder('spark-only', { MLmodel: 'flavors:\n  spark:\n    pyspark_version: 3.5.0\n' })
    await expect(assertRegistrableModel(dir, SOURCE)).resolves.toBeUndefined()
  })
})

describe('registering into the file registry', () => {
  it('refuses a folder without MLmodel and leaves the registry untouched', async () => {
    folder('readme-only', { 'README.md': '# not a model\n' })
    const error = await configurationRejection(register('readme-only'))
    expect(error.message).toContain("input 'model-path': is not an MLflow model that can be registered")
    expect(error.message).toContain('has no MLmodel file')
    expect(existsSync(join(workspace, 'registry', 'models', 'churn'))).toBe(false)
  })

  it('still registers the real model', async () => {
    const run = await register('model')
    expect(run).toMatchObject({ created: true, modelUri: 'models:/churn/1' })
    const version = JSON.parse(
      readFileSync(join(workspace, 'registry', 'models', 'churn', 'versions', '1', 'version.json'), 'utf8')
    )
    expect(version.tags['modelgate.digest']).toBe(run.digest)
  })
})
