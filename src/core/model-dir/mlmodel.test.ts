import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { configurationErrorOf, configurationRejection } from '../../../test/helpers/errors.js'
import { EXAMPLE_MODEL } from '../../../test/fixtures/models/real-models.js'
import { findModelFile, parseMLmodel, readMLmodel } from './mlmodel.js'

/** As MLflow 2.7 logged a PythonModel to a run: `artifact_path` is the path inside the run's artifacts. */
export const MLFLOW2_MLMODEL = `artifact_path: model
flavors:
  python_function:
    cloudpickle_version: 2.2.1
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
    python_version: 3.10.12
mlflow_version: 2.7.1
model_uuid: 4b6e1c7f3c2f4a8b9d0e1f2a3b4c5d6e
run_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "double", "required": true}]'
  params: null
utc_time_created: '2023-10-02 12:00:00.000000'
`

/** MLflow 1.x: `env` was the conda file name, and there was no python_env.yaml. */
const MLFLOW1_MLMODEL = `flavors:
  python_function:
    data: model.pkl
    env: conda.yaml
    loader_module: mlflow.sklearn
    python_version: 3.6.9
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 0.22.1
mlflow_version: 1.7.0
utc_time_created: 2020-03-20 10:00:00.000000
`

/** MLflow 3 logging to a tracking server: artifact_path is the logged model's full artifact location. */
const MLFLOW3_LOGGED = `artifact_path: mlflow-artifacts:/1/models/m-0123456789abcdef0123456789abcdef/artifacts
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
    skops_trusted_types: null
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-0123456789abcdef0123456789abcdef
model_size_bytes: 10703
model_uuid: m-0123456789abcdef0123456789abcdef
prompts: null
run_id: dead52c5f8e049c8b277ac7764f6f735
type_hint_from_example: false
utc_time_created: '2026-11-22 07:10:09.355290'
`

describe('parseMLmodel', () => {
  it('reads the committed example model, as MLflow 3 saved it', async () => {
    const loaded = parseMLmodel(await readFile(join(EXAMPLE_MODEL, 'MLmodel'), 'utf8'), EXAMPLE_MODEL)
    expect(loaded.unknownKeys).toEqual([])
    expect(loaded.model.flavors.python_function?.loader_module).toBe('mlflow.sklearn')
    expect(Object.keys(loaded.model.flavors).sort()).toEqual(['python_function', 'sklearn'])
    expect(loaded.model.model_id).toBeNull()
    expect(loaded.model.saved_input_example_info).toMatchObject({
      artifact_path: 'input_example.json',
      serving_input_path: 'serving_input_example.json',
      type: 'dataframe',
      pandas_orient: 'split'
    })
    expect(loaded.model.signature?.inputs).toContain('"tenure_months"')
    expect(loaded.model.signature?.params).toBeNull()
  })

  it('reads an MLflow 2 file, whose artifact_path is run-relative', () => {
    const { model } = parseMLmodel(MLFLOW2_MLMODEL)
    expect(model.artifact_path).toBe('model')
    expect(model.run_id).toBe('0a1b2c3d4e5f60718293a4b5c6d7e8f9')
    expect(model.flavors.python_function?.env).toEqual({ conda: 'conda.yaml', virtualenv: 'python_env.yaml' })
  })

  it('reads an MLflow 3 logged model, whose artifact_path is a URI and model_uuid its model_id', () => {
    const { model, unknownKeys } = parseMLmodel(MLFLOW3_LOGGED)
    expect(model.artifact_path).toBe('mlflow-artifacts:/1/models/m-0123456789abcdef0123456789abcdef/artifacts')
    expect(model.model_uuid).toBe(model.model_id)
    expect(unknownKeys).toEqual([])
  })

  it('reads an MLflow 1 file: env as a string, an unquoted timestamp', () => {
    const { model } = parseMLmodel(MLFLOW1_MLMODEL)
    expect(model.flavors.python_function?.env).toBe('conda.yaml')
    expect(String(model.utc_time_created)).toMatch(/^2020-03-20/)
  })

  it('allows the keys MLflow writes for GenAI and Databricks models', () => {
    const { unknownKeys, model } = parseMLmodel(
      MLFLOW3_LOGGED +
        `databricks_runtime: 15.4.x-cpu-ml-scala2.12
metadata: {owner: team-a}
resources: {api_version: '1', databricks: {serving_endpoint: [{name: llm}]}}
auth_policy: {system_auth_policy: {resources: {}}}
env_vars: [OPENAI_API_KEY]
`
    )
    expect(unknownKeys).toEqual([])
    expect(model.env_vars).toEqual(['OPENAI_API_KEY'])
  })

  it('keeps keys it does not know and lists them', () => {
    const loaded = parseMLmodel(`${MLFLOW2_MLMODEL}future_key: 1\nanother: {a: b}\n`)
    expect(loaded.unknownKeys).toEqual(['future_key', 'another'])
  })

  it('reports broken YAML with its line', () => {
    const broken = MLFLOW2_MLMODEL.replace('    loader_module: mlflow.pyfunc.model', '   loader_module: [mlflow')
    const error = configurationErrorOf(() => parseMLmodel(broken))
    expect(error.message).toMatch(/^MLmodel:\d+: is not valid YAML/)
    expect(error.place?.line).toBeGreaterThanOrEqual(8)
  })

  it('reports a value of the wrong type with its line and key path', () => {
    const wrong = MLFLOW2_MLMODEL.replace('loader_module: mlflow.pyfunc.model', 'loader_module: [a, b]')
    const error = configurationErrorOf(() => parseMLmodel(wrong))
    expect(error.place).toEqual({ source: 'MLmodel', line: 8, path: 'flavors.python_function.loader_module' })
    expect(error.detail).toBe('expected a string, got ["a","b"]')
  })

  it('reports a signature that is not a map of JSON strings', () => {
    const wrong = MLFLOW2_MLMODEL.replace(
      `  inputs: '[{"type": "double", "name": "x", "required": true}]'`,
      '  inputs:\n  - {type: double, name: x}'
    )
    const error = configurationErrorOf(() => parseMLmodel(wrong))
    expect(error.place).toMatchObject({ line: 15, path: 'signature.inputs' })
  })

  it('needs flavors', () => {
    const error = configurationErrorOf(() => parseMLmodel('mlflow_version: 2.7.1\n'))
    expect(error.message).toBe('MLmodel:1 (flavors): is required: expected a map of keys to values')
  })

  it('refuses an empty file and a file that is not a map', () => {
    expect(configurationErrorOf(() => parseMLmodel('# nothing\n')).message).toBe('MLmodel: is empty')
    expect(configurationErrorOf(() => parseMLmodel('- a\n- b\n')).message).toMatch(/^MLmodel:1: expected a map/)
  })
})

describe('readMLmodel', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelgate-mlmodel-'))
    await mkdir(join(root, 'artifacts', 'model'), { recursive: true })
    await writeFile(join(root, 'artifacts', 'model', 'MLmodel'), MLFLOW2_MLMODEL)
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  it('reads <dir>/MLmodel', async () => {
    const loaded = await readMLmodel(join(root, 'artifacts', 'model'))
    expect(loaded.dir).toBe(join(root, 'artifacts', 'model'))
    expect(loaded.locate(['signature', 'inputs'])).toBe(15)
  })

  it('points at a model one level down', async () => {
    const error = await configurationRejection(readMLmodel(join(root, 'artifacts')))
    expect(error.detail).toMatch(/has no MLmodel file.*model\/ holds one: point at that directory/)
  })

  it('refuses an MLmodel or named file reached through a link: the manifest and a registry take regular files only', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'modelgate-mlmodel-links-'))
    const dir = join(parent, 'linked')
    await mkdir(join(dir, 'real'), { recursive: true })
    await writeFile(join(dir, 'ML.real'), MLFLOW2_MLMODEL)
    await symlink('ML.real', join(dir, 'MLmodel'))
    await writeFile(join(dir, 'real', 'input_example.json'), '{}')
    await symlink('real', join(dir, 'examples'))
    expect((await configurationRejection(readMLmodel(dir))).detail).toMatch(/^is reached through a symlink/)
    expect(await findModelFile(dir, 'examples/input_example.json')).toEqual({ problem: 'link' })
    expect(await findModelFile(dir, 'real/input_example.json')).toMatchObject({ size: 2 })
    expect(await findModelFile(dir, './real//input_example.json')).toMatchObject({ size: 2 })
    // A folder named with a trailing slash (a flavor's data/) is the folder, not a link to it.
    expect(await findModelFile(dir, 'real/')).toEqual({ problem: 'not-a-file' })
    // The model directory itself may be reached through a link: that is the user's path, not the model's content.
    await symlink(dir, join(parent, 'via-link'))
    expect(await findModelFile(join(parent, 'via-link'), 'real/input_example.json')).toMatchObject({ size: 2 })
    await rm(parent, { recursive: true })
  })

  it('says how to get a model directory when there is none', async () => {
    expect((await configurationRejection(readMLmodel(root))).detail).toMatch(/save_model.*download_artifacts/)
    expect((await configurationRejection(readMLmodel(join(root, 'nope')))).detail).toMatch(/no such directory/)
  })
})
