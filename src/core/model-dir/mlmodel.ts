/**
 * The MLmodel file: the YAML document at the root of every MLflow model directory, as MLflow 1, 2 and 3 write it
 * (`mlflow/models/model.py`, `Model.to_dict`). The schema is loose on purpose: MLflow adds keys over time and a
 * model logged by a newer MLflow must not fail here for that alone; keys we do not know are returned so the check
 * can mention them.
 */
import type { Stats } from 'node:fs'
import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { load, YAMLException } from 'js-yaml'
import { checkYamlExpansion } from '../config/yaml-bounds.js'
import * as z from 'zod/mini'
import { ConfigurationError, describeValue, errorCode } from '../errors.js'
import { createLocator, formatKeyPath, type KeyPath } from '../config/yaml-locate.js'

export const MLMODEL_FILE = 'MLmodel'

/** MLmodel files are a few KB; anything this large is not one, and reading it whole would be the mistake. */
const MAX_MLMODEL_BYTES = 5 * 1024 * 1024

const KNOWN_KEYS = [
  'artifact_path',
  'run_id',
  'utc_time_created',
  'flavors',
  'signature',
  'saved_input_example_info',
  'model_uuid',
  'model_id',
  'mlflow_version',
  'model_size_bytes',
  'metadata',
  'databricks_runtime',
  'is_signature_from_type_hint',
  'type_hint_from_example',
  'resources',
  'auth_policy',
  'env_vars',
  'prompts'
] as const

function buildSchema() {
  // An MLmodel file is parsed once per run; compiling the schema to a function would cost more than it saves.
  z.config({ jitless: true })
  const text = z.nullable(z.string())
  const map = z.nullable(z.record(z.string(), z.unknown()))
  // Hand-written files leave versions unquoted (`python_version: 3.8`), which YAML reads as a number.
  const version = z.nullable(z.union([z.string(), z.number()]))
  const pyfunc = z.looseObject({
    loader_module: z.optional(text),
    python_version: z.optional(version),
    // MLflow 1 wrote the conda file name as a string; MLflow 2 and later write {conda, virtualenv}.
    env: z.optional(
      z.nullable(z.union([z.string(), z.looseObject({ conda: z.optional(text), virtualenv: z.optional(text) })]))
    ),
    code: z.optional(text),
    data: z.optional(text)
  })
  return z.looseObject({
    artifact_path: z.optional(text),
    run_id: z.optional(text),
    // MLflow quotes it; js-yaml 5 has no timestamp type, so an unquoted one is a string too.
    utc_time_created: z.optional(text),
    flavors: z.catchall(
      z.object({ python_function: z.optional(pyfunc) }),
      z.nullable(z.record(z.string(), z.unknown()))
    ),
    signature: z.optional(
      z.nullable(z.looseObject({ inputs: z.optional(text), outputs: z.optional(text), params: z.optional(text) }))
    ),
    saved_input_example_info: z.optional(
      z.nullable(
        z.looseObject({
          artifact_path: z.string(),
          type: z.optional(text),
          pandas_orient: z.optional(text),
          serving_input_path: z.optional(text),
          // MLflow writes the string "true".
          params: z.optional(z.nullable(z.union([z.string(), z.boolean()])))
        })
      )
    ),
    model_uuid: z.optional(text),
    model_id: z.optional(text),
    mlflow_version: z.optional(version),
    model_size_bytes: z.optional(z.nullable(z.int().check(z.nonnegative()))),
    metadata: z.optional(map),
    databricks_runtime: z.optional(text),
    is_signature_from_type_hint: z.optional(z.nullable(z.boolean())),
    type_hint_from_example: z.optional(z.nullable(z.boolean())),
    resources: z.optional(map),
    auth_policy: z.optional(map),
    env_vars: z.optional(z.nullable(z.array(z.string()))),
    prompts: z.optional(z.nullable(z.array(z.unknown())))
  })
}

type Schema = ReturnType<typeof buildSchema>
export type MLmodel = z.infer<Schema>
export type InputExampleInfo = NonNullable<MLmodel['saved_input_example_info']>

let schema: Schema | undefined

/** A parsed MLmodel and what is needed to point at its lines. */
export interface LoadedMLmodel {
  /** The model directory. */
  readonly dir: string
  readonly text: string
  readonly model: MLmodel
  /** Top-level keys this version of modelgate does not know (MLflow adds keys over time). */
  readonly unknownKeys: readonly string[]
  /** The 1-based line of a key path in the MLmodel file. */
  readonly locate: (path: KeyPath) => number | undefined
}

/** Parses MLmodel text; a user mistake throws a ConfigurationError naming the line and key. */
export function parseMLmodel(text: string, dir = '.', source = MLMODEL_FILE): LoadedMLmodel {
  // js-yaml 5 refuses a stream with no document; for an MLmodel file that is simply empty.
  if (text.split('\n').every(line => /^\s*(#.*)?$/.test(line))) throw new ConfigurationError('is empty', { source })
  let document: unknown
  try {
    document = load(text, { filename: source })
  } catch (error) {
    if (error instanceof YAMLException) {
      throw new ConfigurationError(`is not valid YAML: ${error.reason}`, {
        source,
        ...(error.mark ? { line: error.mark.line + 1 } : {})
      })
    }
    throw error
  }
  checkYamlExpansion(document, { source })
  if (document === undefined || document === null) throw new ConfigurationError('is empty', { source })
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigurationError(
      `expected a map of keys such as flavors and signature, got ${describeValue(document)}`,
      {
        source,
        line: 1
      }
    )
  }
  const locate = createLocator(text)
  schema ??= buildSchema()
  const result = z.safeParse(schema, document, { reportInput: true })
  if (!result.success) {
    const issue = result.error.issues[0]!
    const path = issue.path as KeyPath
    const line = locate(path)
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : ''
    throw new ConfigurationError(describeIssue(issue) + more, {
      source,
      ...(line !== undefined ? { line } : {}),
      ...(path.length ? { path: formatKeyPath(path) } : {})
    })
  }
  const known: readonly string[] = KNOWN_KEYS
  const unknownKeys = Object.keys(document).filter(key => !known.includes(key))
  return { dir, text, model: result.data, unknownKeys, locate }
}

/** Reads `<dir>/MLmodel`. A missing file or directory is a ConfigurationError that says what was found instead. */
export async function readMLmodel(dir: string): Promise<LoadedMLmodel> {
  const file = join(dir, MLMODEL_FILE)
  const found = await findModelFile(dir, MLMODEL_FILE)
  if ('problem' in found) {
    if (found.problem === 'missing') throw new ConfigurationError(await missingMLmodelHint(dir), { source: dir })
    throw new ConfigurationError(
      found.problem === 'outside' ? 'links outside the model directory' : describeLookupProblem(found),
      { source: file }
    )
  }
  if (found.size > MAX_MLMODEL_BYTES) {
    throw new ConfigurationError(`is ${found.size} bytes; an MLmodel file is a few KB, so this is not one`, {
      source: file
    })
  }
  const read = await readFoundFile(found.absolute)
  if ('problem' in read) throw new ConfigurationError(describeLookupProblem(read), { source: file })
  return parseMLmodel(read.text, dir)
}

/** Models downloaded from a run often sit one level down (`artifacts/model/MLmodel`); say so when that is the case. */
async function missingMLmodelHint(dir: string): Promise<string> {
  let entries: string[]
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name)
  } catch {
    return 'no such directory; expected an MLflow model directory (the one holding the MLmodel file)'
  }
  const nested: string[] = []
  for (const name of entries.slice(0, 50)) {
    const isModel = await stat(join(dir, name, MLMODEL_FILE)).then(
      info => info.isFile(),
      () => false
    )
    if (isModel) nested.push(`${name}/`)
  }
  const base = 'has no MLmodel file, so it is not an MLflow model directory'
  if (!nested.length) {
    return `${base}; save the model with mlflow.<flavor>.save_model(...) or download it with mlflow.artifacts.download_artifacts(...)`
  }
  const named = nested.slice(0, 3).join(', ') + (nested.length > 3 ? ` and ${nested.length - 3} more` : '')
  return `${base}; ${named} ${nested.length === 1 ? 'holds' : 'hold'} one: point at that directory`
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined
        ? `is required: expected ${article(issue.expected)}`
        : `expected ${article(issue.expected)}, got ${describeValue(input)}`
    case 'invalid_union':
      return `has an unexpected form: ${describeValue(input)}`
    case 'too_small':
      return `expected a number >= ${String(issue.minimum)}, got ${describeValue(input)}`
    default:
      return issue.message
  }
}

function article(type: string): string {
  if (type === 'object' || type === 'record') return 'a map of keys to values'
  if (type === 'array') return 'a list'
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

export type ModelFileLookup =
  | { readonly absolute: string; readonly size: number }
  | { readonly problem: 'outside' | 'missing' | 'not-a-file' | 'link' }
  | { readonly problem: 'unreadable'; readonly code: string }

/** How a report words a lookup's problem, after the file's name: `is missing`, `could not be read (EACCES)`. */
export function describeLookupProblem(found: Exclude<ModelFileLookup, { absolute: string }>): string {
  switch (found.problem) {
    case 'outside':
      return 'is outside the model directory'
    case 'missing':
      return 'is missing'
    case 'not-a-file':
      return 'is not a file'
    case 'link':
      return 'is reached through a symlink, so it is not part of the model as hashed and registered (registries copy regular files only)'
    case 'unreadable':
      return `could not be read (${found.code})`
  }
}

/**
 * Reads a file findModelFile found. The job may lack the permission (a model unpacked by another user): that is a
 * problem of the model to report, as findModelFile's are, never an exception that ends the step.
 */
export async function readFoundFile(
  absolute: string
): Promise<{ text: string } | { problem: 'unreadable'; code: string }> {
  try {
    return { text: await readFile(absolute, 'utf8') }
  } catch (error) {
    return { problem: 'unreadable', code: errorCode(error) }
  }
}

/**
 * Finds a file MLmodel (or a requirements file) names, relative to the model directory. The model is untrusted
 * input: a name like `../../secrets.json`, or a symlink, must not make us read outside the directory; and a file
 * reached through a link inside it is not one the manifest lists, so it is reported rather than read.
 */
export async function findModelFile(dir: string, path: string): Promise<ModelFileLookup> {
  const escapes = (from: string, to: string) => {
    const inside = relative(from, to)
    return inside === '' || inside.startsWith('..') || isAbsolute(inside)
  }
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path) || escapes(resolve(dir), resolve(dir, path))) {
    return { problem: 'outside' }
  }
  let resolved: [string, string]
  try {
    resolved = await Promise.all([realpath(join(dir, path)), realpath(dir)])
  } catch (error) {
    const code = errorCode(error)
    // A loop is a link to nothing, as a dangling one is; a directory the job may not enter hides what is there.
    return ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(code) ? { problem: 'missing' } : { problem: 'unreadable', code }
  }
  const [real, root] = resolved
  if (escapes(root, real)) return { problem: 'outside' }
  // The walk lists regular files only, so a file read through a link inside the model is missing from the manifest
  // and from what register-model uploads: the checks must not vouch for it.
  if (real !== resolve(root, path)) return { problem: 'link' }
  let info: Stats
  try {
    info = await stat(real)
  } catch (error) {
    return { problem: 'unreadable', code: errorCode(error) }
  }
  return info.isFile() ? { absolute: real, size: info.size } : { problem: 'not-a-file' }
}
