/**
 * The checks validate-model runs on an MLflow model directory's own description of itself: the MLmodel file, its
 * flavors, its signature, its input examples and its Python environment. Each returns one CheckResult; none throws
 * for a problem with the model, since a broken model is what the action exists to report.
 */
import { join } from 'node:path'
import { formatKeyPath, type KeyPath } from '../config/yaml-locate.js'
import { isConfigurationError } from '../errors.js'
import { inspectEnvironment, REQUIREMENTS_FILE } from './environment.js'
import {
  checkServingPayload,
  inputExampleLayoutProblem,
  readExampleFile,
  servingPayloadFromInputExample,
  type ExampleFile
} from './input-example.js'
import {
  describeLookupProblem,
  findModelFile,
  MLMODEL_FILE,
  readMLmodel,
  type LoadedMLmodel
} from '../model-dir/mlmodel.js'
import {
  describeSchema,
  formatType,
  parseParamSchema,
  parseSchema,
  SignatureError,
  type ParamSpec,
  type Schema
} from './signature.js'
import { checkResult, type CheckResult, type Finding } from './types.js'

export interface MLmodelCheck {
  readonly result: CheckResult
  /** The parsed file, for the checks that read it; absent when it could not be read. */
  readonly model?: LoadedMLmodel
}

export async function checkMLmodel(dir: string): Promise<MLmodelCheck> {
  const title = 'MLmodel file'
  let model: LoadedMLmodel
  try {
    model = await readMLmodel(dir)
  } catch (error) {
    if (!isConfigurationError(error)) throw error
    const place = error.place
    const line = place?.line !== undefined ? ` line ${place.line}` : ''
    const path = place?.path ? ` (${place.path})` : ''
    // readMLmodel names the file by its absolute path; the report names it as the model holds it (for a model-uri
    // that path is a scratch copy, gone once the step ends).
    const inModel = place?.source === MLMODEL_FILE || place?.source === join(dir, MLMODEL_FILE)
    const message = inModel ? `MLmodel${line}${path}: ${error.detail}` : error.message
    return {
      result: checkResult('mlmodel', title, 'unreadable', [{ severity: 'error', file: MLMODEL_FILE, message }])
    }
  }
  const m = model.model
  const findings: Finding[] = []
  if (model.unknownKeys.length) {
    findings.push({
      severity: 'info',
      file: MLMODEL_FILE,
      message: `keys this modelgate does not know (newer MLflow versions add keys; they are left alone): ${model.unknownKeys.join(', ')}`
    })
  }
  if (m.mlflow_version === undefined || m.mlflow_version === null) {
    findings.push({
      severity: 'info',
      file: MLMODEL_FILE,
      message: 'does not say which MLflow version saved the model'
    })
  }
  const artifactPath = m.artifact_path ?? undefined
  // MLflow 3 writes the logged model's full artifact location; MLflow 2 the path inside the run's artifacts.
  const artifactIsUri =
    artifactPath !== undefined && (/^[a-z][a-z0-9+.-]*:/i.test(artifactPath) || artifactPath.startsWith('/'))
  const created = m.utc_time_created ?? undefined
  const data: Record<string, unknown> = {
    ...(m.mlflow_version != null ? { mlflowVersion: String(m.mlflow_version) } : {}),
    ...(created ? { created } : {}),
    ...(m.model_id ? { modelId: m.model_id } : {}),
    ...(m.model_uuid ? { modelUuid: m.model_uuid } : {}),
    ...(m.run_id ? { runId: m.run_id } : {}),
    ...(artifactPath !== undefined ? { [artifactIsUri ? 'artifactUri' : 'artifactPath']: artifactPath } : {}),
    ...(m.model_size_bytes != null ? { modelSizeBytes: m.model_size_bytes } : {}),
    ...(m.databricks_runtime ? { databricksRuntime: m.databricks_runtime } : {})
  }
  const summary = [
    m.mlflow_version != null ? `saved by MLflow ${String(m.mlflow_version)}` : 'MLflow version unknown',
    m.model_id ? `logged model ${m.model_id}` : m.run_id ? `run ${m.run_id}` : undefined
  ]
    .filter(Boolean)
    .join(', ')
  return { result: checkResult('mlmodel', title, summary, findings, data), model }
}

export interface FlavorOptions {
  /** Accept a model MLflow cannot serve as a Python function (a Spark-only or ONNX-only model, say). */
  readonly allowNoPyfunc?: boolean
}

export function checkFlavors(model: LoadedMLmodel, options: FlavorOptions = {}): CheckResult {
  const title = 'Flavors'
  const flavors = Object.keys(model.model.flavors)
  const findings: Finding[] = []
  const line = (path: KeyPath) => lineNote(model, path)
  if (flavors.length === 0) {
    findings.push({
      severity: 'error',
      file: MLMODEL_FILE,
      message: `MLmodel${line(['flavors'])} lists no flavors, so nothing knows how to load the model`,
      fix: 'save the model with an MLflow flavor (mlflow.sklearn.save_model, mlflow.pyfunc.save_model, ...)'
    })
  }
  const pyfunc = model.model.flavors.python_function
  if (!pyfunc && flavors.length) {
    findings.push({
      severity: options.allowNoPyfunc ? 'info' : 'error',
      file: MLMODEL_FILE,
      message: `no python_function flavor (has ${flavors.join(', ')}): mlflow models serve and Databricks Model Serving cannot serve it`,
      ...(options.allowNoPyfunc
        ? {}
        : { fix: 'log it with a flavor that adds python_function, or wrap it in an mlflow.pyfunc.PythonModel' })
    })
  } else if (pyfunc) {
    const loader = pyfunc.loader_module
    if (!loader) {
      findings.push({
        severity: 'error',
        file: MLMODEL_FILE,
        message: `MLmodel${line(['flavors', 'python_function'])}: python_function has no loader_module, so mlflow.pyfunc.load_model cannot load it`
      })
    } else if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(loader)) {
      findings.push({
        severity: 'error',
        file: MLMODEL_FILE,
        message: `MLmodel${line(['flavors', 'python_function', 'loader_module'])}: loader_module ${JSON.stringify(loader)} is not a Python module name`
      })
    }
    if (pyfunc.python_version === undefined || pyfunc.python_version === null) {
      findings.push({
        severity: 'info',
        file: MLMODEL_FILE,
        message: 'python_function does not record the Python version the model was saved with'
      })
    }
  }
  const summary = flavors.length ? flavors.join(', ') : 'none'
  return checkResult('flavors', title, summary, findings, {
    flavors,
    ...(pyfunc?.loader_module ? { loaderModule: pyfunc.loader_module } : {})
  })
}

/**
 * The keys under which MLflow's flavors name a file or folder of the model: the weights or pickled model, a
 * PythonModel, its data and code. Other string values (versions, module names, formats) are not paths.
 */
const FLAVOR_PATH_KEYS = ['model_path', 'pickled_model', 'python_model', 'data', 'model_data', 'code']

/**
 * Findings for every file or folder the flavors name that is not in the model: a model whose weights are missing
 * passes every other check and fails only when it is loaded.
 */
export async function checkFlavorFiles(dir: string, model: LoadedMLmodel): Promise<Finding[]> {
  const named: Array<{ path: string; at: KeyPath }> = []
  for (const [flavor, config] of Object.entries(model.model.flavors)) {
    if (!config || typeof config !== 'object') continue
    const settings = config as Record<string, unknown>
    for (const key of FLAVOR_PATH_KEYS) {
      const value = settings[key]
      if (typeof value === 'string' && value) named.push({ path: value, at: ['flavors', flavor, key] })
    }
    const artifacts = settings.artifacts
    if (artifacts && typeof artifacts === 'object') {
      for (const [name, artifact] of Object.entries(artifacts as Record<string, unknown>)) {
        const path = artifact && typeof artifact === 'object' ? (artifact as { path?: unknown }).path : undefined
        if (typeof path === 'string' && path) named.push({ path, at: ['flavors', flavor, 'artifacts', name, 'path'] })
      }
    }
  }
  const findings: Finding[] = []
  for (const { path, at } of named) {
    const found = await findModelFile(dir, path)
    // A folder (data, code) is as good as a file here; the walk reports anything that is neither.
    if (!('problem' in found) || found.problem === 'not-a-file') continue
    findings.push({
      severity: 'error',
      file: MLMODEL_FILE,
      message: `MLmodel${lineNote(model, at)} (${formatKeyPath(at)}): ${path} ${describeLookupProblem(found)}, so the flavor cannot load the model`,
      fix: 'save or download the whole model directory, as MLflow wrote it'
    })
  }
  return findings
}

export interface SignatureOptions {
  /** Fail a model logged without a signature (default true). */
  readonly requireSignature?: boolean
}

interface ReadSignature {
  inputs?: Schema
  outputs?: Schema
  params?: ParamSpec[]
  problems: Finding[]
}

/** The three JSON strings of `signature:`, parsed; a string MLflow could not load becomes an error finding. */
function readSignature(model: LoadedMLmodel): ReadSignature {
  const signature = model.model.signature
  const read: ReadSignature = { problems: [] }
  for (const part of ['inputs', 'outputs', 'params'] as const) {
    const json = signature?.[part]
    if (json === undefined || json === null) continue
    try {
      if (part === 'params') read.params = parseParamSchema(json)
      else {
        const parsed = parseSchema(json)
        read[part] = parsed.schema
        for (const warning of parsed.warnings) {
          read.problems.push({ severity: 'warning', file: MLMODEL_FILE, message: `signature.${part}: ${warning}` })
        }
      }
    } catch (error) {
      if (!(error instanceof SignatureError)) throw error
      const path =
        formatKeyPath(['signature', part]) + (error.path.length ? ` at ${formatKeyPath(error.path) || 'top'}` : '')
      read.problems.push({
        severity: 'error',
        file: MLMODEL_FILE,
        message: `MLmodel${lineNote(model, ['signature', part])} (${path}): ${error.message}${
          error.mlflowRefuses
            ? '; MLflow cannot load this signature'
            : '; modelgate cannot check examples or requests against it'
        }`
      })
    }
  }
  return read
}

export function checkSignature(model: LoadedMLmodel, options: SignatureOptions = {}): CheckResult {
  const title = 'Signature'
  const require = options.requireSignature ?? true
  const signature = model.model.signature
  if (!signature || (!signature.inputs && !signature.outputs)) {
    const finding: Finding = {
      severity: require ? 'error' : 'info',
      file: MLMODEL_FILE,
      message:
        'the model has no signature: serving cannot check requests against it, and Unity Catalog refuses to register a model without one',
      fix: 'log the model with a signature, e.g. mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X))), or pass input_example= so MLflow infers one'
    }
    return checkResult('signature', title, 'none', [finding], { present: false })
  }
  const read = readSignature(model)
  const findings = [...read.problems]
  if (!signature.inputs) {
    findings.push({
      severity: 'error',
      file: MLMODEL_FILE,
      message: `MLmodel${lineNote(model, ['signature'])}: the signature has outputs but no inputs`,
      fix: 'log the model with signature=infer_signature(X, model.predict(X))'
    })
  }
  if (!signature.outputs) {
    findings.push({
      severity: 'warning',
      file: MLMODEL_FILE,
      message: 'the signature has no outputs: Unity Catalog refuses to register a model whose signature lacks them',
      fix: 'infer the signature from inputs and predictions: infer_signature(X, model.predict(X))'
    })
  }
  if (model.model.is_signature_from_type_hint) {
    findings.push({
      severity: 'info',
      file: MLMODEL_FILE,
      message: 'the signature comes from type hints: the scoring server takes only {"inputs": ...} bodies'
    })
  }
  const describe = (schema: Schema) => ({
    kind: schema.kind,
    specs: schema.specs.map(spec => ({
      ...(spec.name !== undefined ? { name: spec.name } : {}),
      type: formatType(spec.kind === 'tensor' ? spec : spec.type),
      ...(spec.kind === 'column' && !spec.required ? { required: false } : {})
    }))
  })
  const summary = [
    read.inputs ? `inputs: ${describeSchema(read.inputs)}` : undefined,
    read.outputs ? `outputs: ${describeSchema(read.outputs)}` : undefined,
    read.params ? `${read.params.length} param${read.params.length === 1 ? '' : 's'}` : undefined
  ]
    .filter(Boolean)
    .join('; ')
  return checkResult('signature', title, summary || 'unreadable', findings, {
    present: true,
    ...(read.inputs ? { inputs: describe(read.inputs) } : {}),
    ...(read.outputs ? { outputs: describe(read.outputs) } : {}),
    ...(read.params
      ? {
          params: read.params.map(p => ({ name: p.name, type: formatType(p.type), default: p.default, shape: p.shape }))
        }
      : {})
  })
}

export interface InputExampleOptions {
  /** Fail a model logged without an input example (default: warn). */
  readonly requireInputExample?: boolean
}

export async function checkInputExample(
  dir: string,
  model: LoadedMLmodel,
  options: InputExampleOptions = {}
): Promise<CheckResult> {
  const title = 'Input example'
  const info = model.model.saved_input_example_info
  if (!info) {
    return checkResult('input-example', title, 'none', [
      {
        severity: options.requireInputExample ? 'error' : 'warning',
        file: MLMODEL_FILE,
        message: 'the model has no input example, so its serving cannot be tried before deployment',
        fix: 'log the model with input_example=X[:5] (MLflow then also writes serving_input_example.json)'
      }
    ])
  }
  const findings: Finding[] = []
  const example = await readExampleFile(dir, info.artifact_path)
  if (example.problem) findings.push({ severity: 'error', file: info.artifact_path, message: example.problem })
  else {
    const layout = inputExampleLayoutProblem(example.document!.value, info)
    if (layout) {
      findings.push({
        severity: 'warning',
        file: info.artifact_path,
        message: `${layout} (saved_input_example_info type ${String(info.type)})`
      })
    }
  }

  let serving: ExampleFile | undefined
  if (info.serving_input_path) {
    serving = await readExampleFile(dir, info.serving_input_path)
    if (serving.problem) findings.push({ severity: 'error', file: serving.path, message: serving.problem })
  } else if (!String(info.type).startsWith('sparse')) {
    findings.push({
      severity: 'warning',
      file: MLMODEL_FILE,
      message:
        'there is no serving_input_example.json (MLflow writes one since 2.x); input_example.json is checked as the request instead',
      fix: 'log the model again with a current MLflow'
    })
  }

  const signature = readSignature(model)
  let body: unknown
  let file: string | undefined
  let numberForm = serving?.document?.numberForm
  if (serving?.document) {
    body = serving.document.value
    file = serving.path
  } else if (!serving && example.document) {
    body = servingPayloadFromInputExample(example.document.value, info)
    file = info.artifact_path
    numberForm = example.document.numberForm
  }
  let data: Record<string, unknown> = { inputExample: info.artifact_path, type: info.type ?? null }
  if (body !== undefined && file) {
    const signatureBroken = signature.problems.some(p => p.severity === 'error')
    if (!model.model.signature?.inputs) {
      findings.push({
        severity: 'info',
        file,
        message: 'the model has no input signature to check the example against'
      })
    } else if (signatureBroken) {
      findings.push({
        severity: 'info',
        file,
        message: 'the signature cannot be read (see the signature check), so the example is not checked against it'
      })
    }
    const checked = checkServingPayload(
      body,
      {
        ...(signatureBroken ? {} : { inputs: signature.inputs, params: signature.params }),
        fromTypeHint: model.model.is_signature_from_type_hint === true
      },
      numberForm
    )
    for (const problem of checked.problems) findings.push({ ...problem, file })
    data = {
      ...data,
      ...(serving ? { servingExample: serving.path } : {}),
      ...(checked.format ? { format: checked.format } : {}),
      ...(checked.rows !== undefined ? { rows: checked.rows } : {})
    }
  }
  const failed = findings.some(f => f.severity === 'error')
  const rows = typeof data.rows === 'number' ? `${data.rows} row${data.rows === 1 ? '' : 's'}` : undefined
  const summary = failed
    ? 'does not fit the signature or cannot be read'
    : [data.format ? String(data.format) : info.type, rows].filter(Boolean).join(', ')
  return checkResult('input-example', title, summary, findings, data)
}

export async function checkEnvironment(dir: string, model: LoadedMLmodel): Promise<CheckResult> {
  const { findings, data } = await inspectEnvironment(dir, model)
  // "all pinned" is a claim about the requirements read: none read, or none listed, is said as such.
  const read = data.files.includes(REQUIREMENTS_FILE)
  const summary = [
    data.python ? `Python ${data.python}` : 'Python version unknown',
    !read
      ? `${REQUIREMENTS_FILE} not read`
      : data.requirements === 0
        ? 'no requirements'
        : `${data.requirements} requirement${data.requirements === 1 ? '' : 's'}`,
    data.unpinned.length ? `${data.unpinned.length} unpinned` : read && data.requirements > 0 ? 'all pinned' : undefined
  ]
    .filter(Boolean)
    .join(', ')
  return checkResult('environment', 'Python environment', summary, findings, data)
}

function lineNote(model: LoadedMLmodel, path: KeyPath): string {
  const line = model.locate(path)
  return line === undefined ? '' : ` line ${line}`
}
