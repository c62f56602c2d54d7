import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  describeWithPython,
  EXAMPLE_MODEL,
  realModels,
  REPO_ROOT,
  runPython
} from '../../../test/fixtures/models/real-models.js'
import { parseMLmodel, type LoadedMLmodel } from '../model-dir/mlmodel.js'
import {
  checkEnvironment,
  checkFlavorFiles,
  checkFlavors,
  checkInputExample,
  checkMLmodel,
  checkSignature,
  type MLmodelCheck
} from './model-checks.js'
import type { CheckResult } from './types.js'

async function allChecks(dir: string): Promise<CheckResult[]> {
  const { result, model } = await checkMLmodel(dir)
  if (!model) return [result]
  return [
    result,
    checkFlavors(model),
    checkSignature(model),
    await checkInputExample(dir, model),
    await checkEnvironment(dir, model)
  ]
}

const statuses = (results: CheckResult[]) => Object.fromEntries(results.map(r => [r.id, r.status]))

const NO_SIGNATURE_FIX =
  /log the model with a signature, e\.g\. mlflow\.sklearn\.log_model\(.*signature=infer_signature\(X, model\.predict\(X\)\)\)/

let root: string
let copies = 0
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'modelgate-model-checks-'))
})
afterAll(() => rm(root, { recursive: true, force: true }))

/** A copy of the committed example model, with some files edited or deleted (null). */
async function exampleWith(edits: Record<string, ((text: string) => string) | null> = {}): Promise<string> {
  const dir = join(root, `example-${copies++}`)
  await cp(EXAMPLE_MODEL, dir, { recursive: true })
  for (const [name, edit] of Object.entries(edits)) {
    if (edit === null) await rm(join(dir, name))
    else await writeFile(join(dir, name), edit(await readFile(join(dir, name), 'utf8')))
  }
  return dir
}

/**
 * Runs `read` while `file` cannot be read: mode 000, and for root (who reads anything) with the effective uid of
 * nobody, so the refusal is the kernel's own EACCES.
 */
async function withUnreadable<T>(file: string, read: () => Promise<T>): Promise<T> {
  await chmod(root, 0o755)
  await chmod(file, 0)
  const asRoot = process.getuid?.() === 0
  if (asRoot) process.seteuid!(65534)
  try {
    return await read()
  } finally {
    if (asRoot) process.seteuid!(0)
    await chmod(file, 0o644)
  }
}

function loaded(text: string): LoadedMLmodel {
  return parseMLmodel(text, root)
}

describe('the committed example model', () => {
  it('passes every check', async () => {
    const results = await allChecks(EXAMPLE_MODEL)
    expect(statuses(results)).toEqual({
      mlmodel: 'pass',
      flavors: 'pass',
      signature: 'pass',
      'input-example': 'pass',
      environment: 'pass'
    })
    expect(results.flatMap(r => r.findings)).toEqual([])
    expect(results.map(r => r.summary)).toEqual([
      'saved by MLflow 3.17.2',
      'python_function, sklearn',
      'inputs: 6 named columns; outputs: 1 unnamed tensor',
      'dataframe_split, 3 rows',
      'Python 3.11.7, 6 requirements, all pinned'
    ])
    expect(results[2]?.data?.inputs).toMatchObject({
      kind: 'columns',
      specs: expect.arrayContaining([
        { name: 'tenure_months', type: 'long' },
        { name: 'contract', type: 'string' }
      ])
    })
  })

  it('fails the signature check once its signature is removed', async () => {
    const dir = await exampleWith({ MLmodel: text => text.replace(/^signature:\n(?: {2}.*\n)+/m, '') })
    const results = await allChecks(dir)
    expect(statuses(results)).toMatchObject({ mlmodel: 'pass', signature: 'fail', 'input-example': 'pass' })
    const [finding] = results[2]!.findings
    expect(finding?.message).toMatch(/no signature.*Unity Catalog refuses to register a model without one/)
    expect(finding?.fix).toMatch(NO_SIGNATURE_FIX)
    expect(results[3]?.findings).toEqual([
      expect.objectContaining({
        severity: 'info',
        message: 'the model has no input signature to check the example against'
      })
    ])
  })

  it('reports broken MLmodel YAML with its line', async () => {
    const lines = (await readFile(join(EXAMPLE_MODEL, 'MLmodel'), 'utf8')).split('\n').length
    const dir = await exampleWith({ MLmodel: text => `${text}flavors: {}\n` })
    const { result, model } = await checkMLmodel(dir)
    expect(model).toBeUndefined()
    expect(result.status).toBe('fail')
    expect(result.findings[0]?.message).toBe(`MLmodel line ${lines}: is not valid YAML: duplicated mapping key`)
  })

  it('fails a serving example without a required column', async () => {
    const dir = await exampleWith({
      'serving_input_example.json': text => {
        const body = JSON.parse(text) as { dataframe_split: { columns: string[]; data: unknown[][] } }
        const index = body.dataframe_split.columns.indexOf('contract')
        body.dataframe_split.columns.splice(index, 1)
        for (const row of body.dataframe_split.data) row.splice(index, 1)
        return JSON.stringify(body)
      }
    })
    const { model } = await checkMLmodel(dir)
    const result = await checkInputExample(dir, model!)
    expect(result.status).toBe('fail')
    expect(result.findings).toEqual([
      {
        severity: 'error',
        file: 'serving_input_example.json',
        message: 'missing required column contract: MLflow refuses the request ("Model is missing inputs")'
      }
    ])
  })

  it('warns about a serving example with an extra column', async () => {
    const dir = await exampleWith({
      'serving_input_example.json': text => {
        const body = JSON.parse(text) as { dataframe_split: { columns: string[]; data: unknown[][] } }
        body.dataframe_split.columns.push('customer_id')
        for (const row of body.dataframe_split.data) row.push('c-1')
        return JSON.stringify(body)
      }
    })
    const result = await checkInputExample(dir, (await checkMLmodel(dir)).model!)
    expect(result.status).toBe('warn')
    expect(result.findings.map(f => f.message)).toEqual(['column customer_id not in the signature: MLflow drops them'])
  })

  it('fails a serving example with 1.5 for a long column', async () => {
    const dir = await exampleWith({
      'serving_input_example.json': text => {
        const body = JSON.parse(text) as { dataframe_split: { columns: string[]; data: unknown[][] } }
        body.dataframe_split.data[1]![body.dataframe_split.columns.indexOf('tenure_months')] = 1.5
        return JSON.stringify(body)
      }
    })
    const result = await checkInputExample(dir, (await checkMLmodel(dir)).model!)
    expect(result.status).toBe('fail')
    expect(result.findings[0]?.message).toMatch(/^row 1, column tenure_months \(long\): 1.5 is not a whole number/)
  })

  it('fails unreadable or missing example files', async () => {
    const broken = await exampleWith({ 'serving_input_example.json': text => text.slice(0, -3) })
    const brokenResult = await checkInputExample(broken, (await checkMLmodel(broken)).model!)
    expect(brokenResult.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(/is not valid JSON: .* at line \d+/)
      })
    ])
    const missing = await exampleWith({ 'input_example.json': null })
    const missingResult = await checkInputExample(missing, (await checkMLmodel(missing)).model!)
    expect(missingResult.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'input_example.json',
        message: 'input_example.json is named in MLmodel but does not exist'
      })
    ])
  })

  it('says "all pinned" only of requirements it read', async () => {
    const summary = async (edits: Record<string, ((text: string) => string) | null>) => {
      const dir = await exampleWith(edits)
      return (await checkEnvironment(dir, (await checkMLmodel(dir)).model!)).summary
    }
    expect(await summary({ 'requirements.txt': null })).toBe('Python 3.11.7, requirements.txt not read')
    expect(await summary({ 'requirements.txt': () => '# nothing yet\n' })).toBe('Python 3.11.7, no requirements')
    expect(await summary({ 'requirements.txt': text => `${text}\nrequests\n` })).toBe(
      'Python 3.11.7, 7 requirements, 1 unpinned'
    )
  })

  it('reports a file the job may not read as a failing check, not as a crash', async () => {
    const dir = await exampleWith()
    const { model } = await checkMLmodel(dir)
    const unreadable = async (file: string) => {
      const results = await withUnreadable(join(dir, file), async () => [
        await checkInputExample(dir, model!),
        await checkEnvironment(dir, model!)
      ])
      return results.flatMap(r => r.findings.filter(f => f.severity === 'error').map(f => [r.id, f.file, f.message]))
    }
    expect(await unreadable('requirements.txt')).toEqual([
      [
        'environment',
        'requirements.txt',
        'requirements.txt could not be read (EACCES): the serving environment has no list of packages to install'
      ],
      [
        'environment',
        'python_env.yaml',
        'dependencies: "-r requirements.txt" points at requirements.txt, which could not be read (EACCES)'
      ]
    ])
    expect(await unreadable('conda.yaml')).toEqual([
      [
        'environment',
        'conda.yaml',
        "conda.yaml could not be read (EACCES), though MLmodel names it as the model's environment"
      ]
    ])
    expect(await unreadable('python_env.yaml')).toEqual([
      [
        'environment',
        'python_env.yaml',
        "python_env.yaml could not be read (EACCES), though MLmodel names it as the model's environment"
      ]
    ])
    expect(await unreadable('serving_input_example.json')).toEqual([
      ['input-example', 'serving_input_example.json', 'serving_input_example.json could not be read (EACCES)']
    ])
    expect(await unreadable('input_example.json')).toEqual([
      ['input-example', 'input_example.json', 'input_example.json could not be read (EACCES)']
    ])
    const mlmodel = await withUnreadable(join(dir, 'MLmodel'), () => checkMLmodel(dir))
    expect(mlmodel.model).toBeUndefined()
    expect(mlmodel.result.status).toBe('fail')
    expect(mlmodel.result.findings.map(f => f.message)).toEqual(['MLmodel: could not be read (EACCES)'])
  })

  it('reads no example file outside the model directory', async () => {
    const dir = await exampleWith({
      MLmodel: text => text.replace('artifact_path: input_example.json', 'artifact_path: ../../../etc/hostname')
    })
    await rm(join(dir, 'serving_input_example.json'))
    await symlink('/etc/hostname', join(dir, 'serving_input_example.json'))
    const result = await checkInputExample(dir, (await checkMLmodel(dir)).model!)
    expect(result.findings.map(f => f.message)).toEqual([
      '../../../etc/hostname is outside the model directory',
      'serving_input_example.json is outside the model directory'
    ])
  })

  it('checks input_example.json as the request when there is no serving example', async () => {
    const dir = await exampleWith({
      MLmodel: text => text.replace('  serving_input_path: serving_input_example.json\n', ''),
      'input_example.json': text => text.replace(/\[\d+,/, '[2.5,')
    })
    const result = await checkInputExample(dir, (await checkMLmodel(dir)).model!)
    expect(result.findings.map(f => [f.severity, f.file])).toEqual([
      ['warning', 'MLmodel'],
      ['error', 'input_example.json']
    ])
  })
})

describe('checkMLmodel', () => {
  it('tells MLflow 2 run-relative artifact paths from MLflow 3 URIs', async () => {
    const dir = await exampleWith({ MLmodel: text => `artifact_path: model\nrun_id: 0a1b2c\n${text}` })
    expect((await checkMLmodel(dir)).result.data).toMatchObject({ artifactPath: 'model', runId: '0a1b2c' })
    const logged = await exampleWith({
      MLmodel: text =>
        `artifact_path: dbfs:/databricks/mlflow-tracking/1/models/m-abc/artifacts\n${text.replace('model_id: null', 'model_id: m-abc')}`
    })
    const result = (await checkMLmodel(logged)).result
    expect(result.data).toMatchObject({
      artifactUri: 'dbfs:/databricks/mlflow-tracking/1/models/m-abc/artifacts',
      modelId: 'm-abc'
    })
    expect(result.summary).toBe('saved by MLflow 3.17.2, logged model m-abc')
  })

  it('notes keys it does not know without failing', async () => {
    const dir = await exampleWith({ MLmodel: text => `${text}serving_hints: {gpu: true}\n` })
    const { result }: MLmodelCheck = await checkMLmodel(dir)
    expect(result.status).toBe('pass')
    expect(result.findings).toEqual([
      expect.objectContaining({ severity: 'info', message: expect.stringMatching(/serving_hints/) })
    ])
  })

  it('names MLmodel relative to the model, not by the path of the copy it read', async () => {
    // A model-uri is checked in a scratch directory that is gone once the step ends.
    const dir = await exampleWith({ MLmodel: null })
    await mkdir(join(dir, 'MLmodel'))
    const { result } = await checkMLmodel(dir)
    expect(result.findings.map(f => f.message)).toEqual(['MLmodel: is not a file'])
  })

  it('fails a directory without MLmodel', async () => {
    const { result, model } = await checkMLmodel(root)
    expect(model).toBeUndefined()
    expect(result.findings[0]?.message).toMatch(
      /has no MLmodel file.*example-0\/, example-1\/, example-10\/ and \d+ more hold one/
    )
  })
})

describe('checkFlavors', () => {
  const onlyOnnx = 'flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.16.0\n'

  it('needs python_function unless told otherwise', () => {
    const failed = checkFlavors(loaded(onlyOnnx))
    expect(failed.status).toBe('fail')
    expect(failed.findings[0]?.message).toMatch(/no python_function flavor \(has onnx\).*cannot serve it/)
    const allowed = checkFlavors(loaded(onlyOnnx), { allowNoPyfunc: true })
    expect(allowed.status).toBe('pass')
    expect(allowed.data).toEqual({ flavors: ['onnx'] })
  })

  it('needs a loader_module that names a module', () => {
    const noLoader = checkFlavors(loaded('flavors:\n  python_function:\n    python_version: 3.11.7\n'))
    expect(noLoader.findings[0]?.message).toBe(
      'MLmodel line 2: python_function has no loader_module, so mlflow.pyfunc.load_model cannot load it'
    )
    const bad = checkFlavors(
      loaded('flavors:\n  python_function:\n    loader_module: my-module\n    python_version: 3.11.7\n')
    )
    expect(bad.findings[0]?.message).toMatch(/^MLmodel line 3: loader_module "my-module" is not a Python module name/)
    expect(checkFlavors(loaded('flavors: {}\n')).findings[0]?.message).toMatch(/lists no flavors/)
  })
})

describe('checkSignature', () => {
  const flavors = 'flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n'

  it('fails a model without signature, or notes it when a signature is not required', () => {
    const failed = checkSignature(loaded(flavors))
    expect(failed.status).toBe('fail')
    expect(failed.findings[0]?.fix).toMatch(NO_SIGNATURE_FIX)
    expect(failed.findings[0]?.fix).toMatch(/input_example=/)
    expect(checkSignature(loaded(flavors), { requireSignature: false }).status).toBe('pass')
  })

  it('warns about a signature without outputs, which Unity Catalog refuses', () => {
    const result = checkSignature(
      loaded(`${flavors}signature:\n  inputs: '[{"type": "double", "name": "x"}]'\n  outputs: null\n`)
    )
    expect(result.status).toBe('warn')
    expect(result.findings[0]?.message).toMatch(/no outputs: Unity Catalog refuses/)
  })

  it('fails a signature MLflow could not load, with its line and the place inside the JSON', () => {
    const result = checkSignature(
      loaded(
        `${flavors}signature:\n  inputs: '[{"type": "double", "name": "x"}, {"type": "lng", "name": "y"}]'\n  outputs: '[{"type": "long"}]'\n`
      )
    )
    expect(result.status).toBe('fail')
    expect(result.findings[0]?.message).toBe(
      'MLmodel line 5 (signature.inputs at [1].type): has type "lng"; expected one of boolean, integer, long, float, double, string, binary, datetime, array, object, map, sparkml_vector, any, tensor; MLflow cannot load this signature'
    )
  })
})

describe('checkInputExample', () => {
  it('warns when there is no example, and fails when one is required', async () => {
    const model = loaded('flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n')
    expect((await checkInputExample(root, model)).status).toBe('warn')
    const required = await checkInputExample(root, model, { requireInputExample: true })
    expect(required.status).toBe('fail')
    expect(required.findings[0]?.fix).toMatch(/input_example=/)
  })
})

describe('checkFlavorFiles', () => {
  it('fails a model whose weights, code or artifacts the flavors name are not in it', async () => {
    const dir = await exampleWith({
      MLmodel: text =>
        text
          .replace('    code: null', '    code: src')
          .replace(
            '  python_function:\n',
            '  python_function:\n    artifacts:\n      vocab:\n        path: ../vocab.json\n'
          )
    })
    await rm(join(dir, 'model.skops'))
    const { model } = await checkMLmodel(dir)
    expect((await checkFlavorFiles(dir, model!)).map(f => [f.severity, f.message])).toEqual([
      [
        'error',
        expect.stringMatching(
          /^MLmodel line \d+ \(flavors\.python_function\.model_path\): model\.skops is missing, so the flavor cannot load the model$/
        )
      ],
      [
        'error',
        expect.stringMatching(
          /\(flavors\.python_function\.artifacts\.vocab\.path\): \.\.\/vocab\.json is outside the model directory/
        )
      ],
      ['error', expect.stringMatching(/\(flavors\.sklearn\.pickled_model\): model\.skops is missing/)],
      ['error', expect.stringMatching(/\(flavors\.sklearn\.code\): src is missing/)]
    ])
  })

  it('finds nothing missing in the example model', async () => {
    const { model } = await checkMLmodel(EXAMPLE_MODEL)
    expect(await checkFlavorFiles(EXAMPLE_MODEL, model!)).toEqual([])
  })
})

describeWithPython('real models written by MLflow', () => {
  let models: string
  beforeAll(async () => {
    models = await realModels()
  }, 180_000)

  it('name only files they hold under their flavors', async () => {
    for (const name of [
      'sklearn',
      'sklearn-missing-values',
      'pyfunc-tensor',
      'params',
      'optional-columns',
      'complex-types',
      'logged'
    ]) {
      const { model } = await checkMLmodel(join(models, name))
      expect([name, await checkFlavorFiles(join(models, name), model!)]).toEqual([name, []])
    }
  })

  it.each([
    ['sklearn', 'pass', 'pass'],
    // Its example holds NaN, as MLflow writes a missing value (json.dump): not invalid JSON, and fine for its columns.
    ['sklearn-missing-values', 'pass', 'pass'],
    ['pyfunc-tensor', 'pass', 'pass'],
    ['params', 'pass', 'pass'],
    ['optional-columns', 'pass', 'pass'],
    ['complex-types', 'pass', 'pass'],
    ['logged', 'pass', 'warn'],
    ['sklearn-no-signature', 'fail', 'warn']
  ])('%s: signature %s, input example %s, the rest pass', async (name, signature, inputExample) => {
    const results = await allChecks(join(models, name))
    expect(statuses(results)).toEqual({
      mlmodel: 'pass',
      flavors: 'pass',
      signature,
      'input-example': inputExample,
      environment: 'pass'
    })
  })

  it('reads what MLflow 3 writes when logging to a tracking server', async () => {
    const { result } = await checkMLmodel(join(models, 'logged'))
    expect(result.data).toMatchObject({
      artifactUri: expect.stringMatching(/^file:\/\/.*\/models\/m-[0-9a-f]+\/artifacts$/),
      modelId: expect.stringMatching(/^m-/),
      runId: expect.stringMatching(/^[0-9a-f]{32}$/)
    })
    expect(result.data?.modelUuid).toBe(result.data?.modelId)
  })

  it('reads the params, tensor and nested types of the signatures', async () => {
    const params = checkSignature((await checkMLmodel(join(models, 'params'))).model!)
    expect(params.summary).toBe('inputs: 1 named column; outputs: 1 unnamed tensor; 4 params')
    const tensor = checkSignature((await checkMLmodel(join(models, 'pyfunc-tensor'))).model!)
    expect(tensor.data?.inputs).toEqual({ kind: 'tensors', specs: [{ type: 'tensor float64 [-1, 4]' }] })
    const complex = checkSignature((await checkMLmodel(join(models, 'complex-types'))).model!)
    expect(complex.data?.inputs).toMatchObject({
      specs: [
        { name: 'id', type: 'long' },
        { name: 'tags', type: 'array<string>' },
        { name: 'address', type: 'object{city: string, floor?: long}' },
        { name: 'weights', type: 'map<double>', required: false }
      ]
    })
  })

  it('train.py --no-signature writes a model the signature check fails', async () => {
    const output = join(root, 'trained-without-signature')
    await runPython([join(REPO_ROOT, 'examples/churn-classifier/train.py'), '--no-signature', '--output', output])
    const results = await allChecks(output)
    expect(statuses(results)).toMatchObject({
      mlmodel: 'pass',
      flavors: 'pass',
      signature: 'fail',
      environment: 'pass'
    })
    expect(results[2]?.findings[0]?.fix).toMatch(NO_SIGNATURE_FIX)
  }, 120_000)
})
