/**
 * The model's input examples: `input_example.json` (the example as logged) and `serving_input_example.json` (the same
 * example as a scoring-server request body), located through MLmodel's `saved_input_example_info`
 * (`mlflow/models/utils.py`, `_Example`).
 *
 * The serving example is checked the way MLflow would treat it at serving time (`pyfunc/scoring_server`,
 * `infer_and_parse_data`, then `models/utils.py` `_enforce_schema`):
 * - the body holds exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`, plus `params`;
 * - a missing required column fails ("Model is missing inputs"); an extra column warns (MLflow drops it);
 * - a top-level column is first converted to its declared type, so any JSON number fits a double column, but a
 *   value that conversion would change or refuse fails: 1.5 for a long (truncated by the server, refused by
 *   pyfunc), a string for a double, a number for a boolean, null for a long;
 * - values inside arrays, objects and maps get no conversion, and MLflow's stricter pandas rules apply (see
 *   signature.ts: `2` is refused where double is declared, `2.0` is not; JSON numbers never fit `integer`/`float`);
 * - tensors: the shape must match (-1 matches any size) and the values must convert to the dtype without loss;
 * - params: unknown ones warn (MLflow ignores them), the rest are checked as `_enforce_param_datatype` does.
 */
import { readFile } from 'node:fs/promises'
import { describeValue } from '../errors.js'
import { parseJsonDocument, type JsonDocument } from '../json/document.js'
import { JsonSyntaxError } from '../json/scanner.js'
import { findModelFile, type InputExampleInfo } from '../model-dir/mlmodel.js'
import {
  checkColumnValue,
  checkParamValue,
  formatType,
  type ColumnSpec,
  type NumberForm,
  type ParamSpec,
  type Schema,
  type TensorSpec
} from './signature.js'

export const FORMAT_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const
export type ServingFormat = (typeof FORMAT_KEYS)[number]

/** Unified LLM requests (`messages`, `prompt`, `input`) go to the model as they are, unparsed. */
const LLM_KEYS = ['messages', 'prompt', 'input']

/** Examples are meant to be a few rows; past this we say so and do not read them. */
export const MAX_EXAMPLE_BYTES = 20 * 1024 * 1024
/** Per column and in total, so a wholly wrong example does not flood the report. */
const MAX_PROBLEMS_PER_COLUMN = 3
const MAX_PROBLEMS = 20

export interface PayloadProblem {
  readonly severity: 'error' | 'warning' | 'info'
  readonly message: string
}

// ---- reading the files ----------------------------------------------------------------------------------------------

export interface ExampleFile {
  /** Model-relative path. */
  readonly path: string
  /** Absent when the file is missing, too large or not JSON; `problem` says which. */
  readonly document?: JsonDocument
  readonly problem?: string
  readonly missing?: boolean
}

/** Reads one example file, turning every way it can be unusable into a sentence. */
export async function readExampleFile(dir: string, path: string): Promise<ExampleFile> {
  const found = await findModelFile(dir, path)
  if ('problem' in found) {
    if (found.problem === 'missing')
      return { path, missing: true, problem: `${path} is named in MLmodel but does not exist` }
    return {
      path,
      problem: `${path} ${found.problem === 'outside' ? 'is outside the model directory' : 'is not a file'}`
    }
  }
  if (found.size > MAX_EXAMPLE_BYTES) {
    return { path, problem: `${path} is ${found.size} bytes; examples over ${MAX_EXAMPLE_BYTES} bytes are not read` }
  }
  try {
    return { path, document: parseJsonDocument(await readFile(found.absolute, 'utf8')) }
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { path, problem: `${path} is not valid JSON: ${error.message}` }
    throw error
  }
}

/**
 * Whether input_example.json has the layout its declared type implies, so `mlflow.models.Model.load_input_example`
 * can read it back.
 */
export function inputExampleLayoutProblem(value: unknown, info: InputExampleInfo): string | undefined {
  let data = value
  if (info.params === 'true' || info.params === true) {
    if (!isRecord(data) || !('inputs' in data))
      return 'is declared to carry params but is not {"inputs": ..., "params": ...}'
    data = data.inputs
  }
  switch (info.type) {
    case 'dataframe':
      if (info.pandas_orient === 'values')
        return Array.isArray(data) ? undefined : 'is a values-orient dataframe but not a list of rows'
      return isRecord(data) && Array.isArray(data.data)
        ? undefined
        : 'is a split-orient dataframe but not {"columns": [...], "data": [...]}'
    case 'ndarray':
      return Array.isArray(data) || (isRecord(data) && Object.values(data).every(Array.isArray))
        ? undefined
        : 'is an ndarray example but neither a list nor a map of names to lists'
    case 'sparse_matrix_csc':
    case 'sparse_matrix_csr':
      return isRecord(data) && ['data', 'indices', 'indptr', 'shape'].every(k => k in data)
        ? undefined
        : 'is a sparse-matrix example but lacks data, indices, indptr or shape'
    default:
      return undefined
  }
}

/** The request body the scoring server would get for this input_example.json; MLflow before 2.x wrote no other. */
export function servingPayloadFromInputExample(value: unknown, info: InputExampleInfo): unknown {
  let data = value
  let params: unknown
  if ((info.params === 'true' || info.params === true) && isRecord(value)) {
    data = value.inputs
    params = value.params
  }
  let body: Record<string, unknown> | undefined
  if (info.type === 'dataframe') {
    body = { dataframe_split: info.pandas_orient === 'values' ? { data } : data }
  } else if (info.type === 'ndarray' || info.type === 'json_object') {
    body = { inputs: data }
  }
  if (body && params !== undefined) body.params = params
  return body
}

// ---- the serving payload against the signature ----------------------------------------------------------------------

export interface PayloadCheck {
  readonly problems: readonly PayloadProblem[]
  readonly format?: ServingFormat | 'llm'
  readonly rows?: number
}

export interface PayloadSignature {
  readonly inputs?: Schema
  readonly params?: readonly ParamSpec[]
  /** A signature from type hints: the server then takes only `inputs` and does not parse it. */
  readonly fromTypeHint?: boolean
}

/** Checks a scoring request body against the model's signature, as the scoring server would handle it. */
export function checkServingPayload(
  body: unknown,
  signature: PayloadSignature,
  numberForm: NumberForm = () => undefined
): PayloadCheck {
  const problems: PayloadProblem[] = []
  const add = (severity: PayloadProblem['severity'], message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ severity, message })
  }
  if (!isRecord(body)) {
    add('error', `the body must be a JSON object with one of ${FORMAT_KEYS.join(', ')}, got ${kind(body)}`)
    return { problems }
  }
  const present = FORMAT_KEYS.filter(key => key in body)
  if (present.length === 0 && LLM_KEYS.some(key => key in body)) {
    add('info', 'an LLM-style request (messages, prompt or input); MLflow passes it to the model unparsed')
    return { problems, format: 'llm' }
  }
  if (present.length !== 1) {
    add(
      'error',
      present.length === 0
        ? `the body has none of ${FORMAT_KEYS.join(', ')}; the scoring server refuses it (keys found: ${Object.keys(body).join(', ') || 'none'})`
        : `the body has ${present.join(' and ')}; the scoring server needs exactly one of them`
    )
    return { problems }
  }
  const format = present[0]!
  const ignored = Object.keys(body).filter(key => key !== format && key !== 'params')
  if (ignored.length) add('warning', `the scoring server ignores the keys ${ignored.join(', ')}`)
  if (signature.fromTypeHint && format !== 'inputs') {
    add('error', `the signature comes from type hints, so the scoring server needs an "inputs" body, not ${format}`)
  }

  let rows: number | undefined
  if (signature.inputs) {
    const context: Context = { add, numberForm }
    rows =
      signature.inputs.kind === 'columns'
        ? checkColumns(body[format], format, signature.inputs.specs, signature.inputs.named, context)
        : checkTensors(body[format], format, signature.inputs.specs, signature.inputs.named, context)
  }
  if ('params' in body) checkParams(body.params, signature.params, numberForm, add)
  return { problems, format, ...(rows !== undefined ? { rows } : {}) }
}

interface Context {
  add(severity: PayloadProblem['severity'], message: string): void
  numberForm: NumberForm
}

/** One value of the frame, with where it sits in the parsed JSON so its number form can be looked up. */
interface Cell {
  readonly value: unknown
  readonly holder: object
  readonly key: string | number
}

interface Frame {
  /** Column names, or positions for unnamed data. */
  readonly columns: ReadonlyArray<string | number>
  readonly cells: ReadonlyMap<string | number, readonly Cell[]>
  readonly rows: number
}

const MISSING: Cell = { value: null, holder: {}, key: '' }

function checkColumns(
  data: unknown,
  format: ServingFormat,
  specs: readonly ColumnSpec[],
  named: boolean,
  context: Context
): number | undefined {
  const frame = toFrame(data, format, specs, context)
  if (!frame) return undefined
  if (format === 'instances' && frame.rows > 0 && specs.some(s => s.type.kind !== 'scalar' && s.type.kind !== 'any')) {
    context.add(
      'error',
      'instances turns rows into columns of lists, which breaks array, object and map columns; send dataframe_records or inputs instead'
    )
    return frame.rows
  }
  const pairs: Array<[ColumnSpec, string | number]> = []
  if (named) {
    const declared = new Set(specs.map(s => s.name))
    const missing = specs.filter(s => s.required && !frame.cells.has(s.name!)).map(s => s.name!)
    const extra = frame.columns.filter(c => !declared.has(String(c)))
    if (missing.length) {
      context.add(
        'error',
        `missing required column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}: MLflow refuses the request ("Model is missing inputs")`
      )
    }
    if (extra.length) {
      context.add(
        'warning',
        `column${extra.length === 1 ? '' : 's'} ${extra.join(', ')} not in the signature: MLflow drops them`
      )
    }
    for (const spec of specs) if (frame.cells.has(spec.name!)) pairs.push([spec, spec.name!])
  } else {
    if (frame.columns.length < specs.length) {
      context.add(
        'error',
        `has ${frame.columns.length} column${frame.columns.length === 1 ? '' : 's'}; the signature declares ${specs.length} (unnamed, so only the count is checked)`
      )
    }
    specs.forEach((spec, index) => {
      const column = frame.columns[index]
      if (column !== undefined) pairs.push([spec, column])
    })
  }
  for (const [spec, column] of pairs) {
    let reported = 0
    for (const [row, cell] of frame.cells.get(column)!.entries()) {
      const problem = checkColumnValue(cell.value, spec.type, spec.required, context.numberForm, cell.holder, cell.key)
      if (!problem) continue
      if (reported++ < MAX_PROBLEMS_PER_COLUMN) {
        context.add(
          problem.severity,
          `row ${row}, column ${String(column)} (${formatType(spec.type)}): ${problem.message}`
        )
      }
    }
    if (reported > MAX_PROBLEMS_PER_COLUMN) {
      context.add(
        'info',
        `column ${String(column)}: ${reported - MAX_PROBLEMS_PER_COLUMN} more values with the same kind of problem`
      )
    }
  }
  return frame.rows
}

/** The pandas DataFrame the scoring server would build from the body, or undefined after reporting why not. */
function toFrame(
  data: unknown,
  format: ServingFormat,
  specs: readonly ColumnSpec[],
  context: Context
): Frame | undefined {
  switch (format) {
    case 'dataframe_split': {
      if (!isRecord(data)) {
        context.add('error', `dataframe_split must be {"columns": [...], "data": [...]}, got ${kind(data)}`)
        return undefined
      }
      const extra = Object.keys(data).filter(k => !['columns', 'data', 'index'].includes(k))
      if (!Array.isArray(data.data) || extra.length) {
        context.add(
          'error',
          `dataframe_split needs "data" and may have "columns" and "index" only; got ${Object.keys(data).join(', ') || 'nothing'}`
        )
        return undefined
      }
      const source = data.data
      const rows: Cell[][] = source.map((row, r) =>
        Array.isArray(row)
          ? row.map((value, c) => ({ value, holder: row, key: c }))
          : [{ value: row, holder: source, key: r }]
      )
      const width = rows[0]?.length ?? 0
      let columns: Array<string | number>
      if (data.columns === undefined) columns = Array.from({ length: width }, (_, i) => i)
      else if (Array.isArray(data.columns) && data.columns.every(c => typeof c === 'string' || typeof c === 'number')) {
        columns = data.columns as Array<string | number>
      } else {
        context.add('error', `dataframe_split "columns" must be a list of names, got ${describeValue(data.columns)}`)
        return undefined
      }
      const ragged = rows.findIndex(row => row.length !== columns.length)
      if (ragged !== -1) {
        context.add(
          'error',
          `dataframe_split row ${ragged} has ${rows[ragged]!.length} values for ${columns.length} columns`
        )
        return undefined
      }
      return frameFromRows(columns, rows)
    }
    case 'dataframe_records':
      if (!Array.isArray(data)) {
        context.add('error', `dataframe_records must be a list of records, got ${kind(data)}`)
        return undefined
      }
      return recordsFrame(data, 'dataframe_records', context)
    case 'instances':
      if (Array.isArray(data) && data.length > 0 && data.every(isRecord))
        return recordsFrame(data, 'instances', context)
      return valueFrame(data, specs, format, context)
    case 'inputs':
      return valueFrame(data, specs, format, context)
  }
}

/** `inputs` (and non-record `instances`) as `_cast_schema_type` and `_enforce_schema` shape them into a frame. */
function valueFrame(
  data: unknown,
  specs: readonly ColumnSpec[],
  format: ServingFormat,
  context: Context
): Frame | undefined {
  const named = specs[0]?.name !== undefined
  if (isRecord(data)) {
    const names = Object.keys(data)
    // The server turns each list into a numpy array first, so lists are columns, unless the schema has list-like
    // columns: then the map is one row and each list one value.
    const oneRow =
      specs.some(s => s.type.kind === 'array' || s.type.kind === 'object') ||
      Object.values(data).every(v => v === null || typeof v !== 'object')
    if (oneRow) return frameFromRows(names, [names.map(name => ({ value: data[name], holder: data, key: name }))])
    const lengths = new Set(Object.values(data).map(v => (Array.isArray(v) ? v.length : 1)))
    if (lengths.size > 1) {
      context.add('error', `${format}: the columns have different lengths (${[...lengths].join(', ')})`)
      return undefined
    }
    const rows = [...lengths][0] ?? 0
    const cells = new Map<string | number, Cell[]>()
    for (const name of names) {
      const column = data[name]
      cells.set(
        name,
        Array.isArray(column)
          ? column.map((value, row) => ({ value, holder: column, key: row }))
          : Array.from({ length: rows }, () => ({ value: column, holder: data, key: name }))
      )
    }
    return { columns: names, cells, rows }
  }
  if (Array.isArray(data)) {
    if (data.length > 0 && data.every(isRecord)) return recordsFrame(data, format, context)
    if (named && specs.length === 1 && !data.some(isRecord)) {
      return frameFromRows(
        [specs[0]!.name!],
        data.map((value, row) => [{ value, holder: data, key: row }])
      )
    }
    const rows = data.map((row, r) =>
      Array.isArray(row)
        ? row.map((value, c) => ({ value, holder: row, key: c }))
        : [{ value: row, holder: data, key: r }]
    )
    const width = Math.max(0, ...rows.map(r => r.length))
    return frameFromRows(
      Array.from({ length: width }, (_, i) => i),
      rows.map(row => Array.from({ length: width }, (_, c) => row[c] ?? MISSING))
    )
  }
  const holder = { value: data }
  return frameFromRows(named ? [specs[0]!.name!] : [0], [[{ value: data, holder, key: 'value' }]])
}

function recordsFrame(records: unknown[], format: string, context: Context): Frame | undefined {
  if (records.some(r => !isRecord(r))) {
    if (records.every(Array.isArray)) {
      const rows = records as unknown[][]
      const width = Math.max(0, ...rows.map(r => r.length))
      return frameFromRows(
        Array.from({ length: width }, (_, i) => i),
        rows.map(row =>
          Array.from({ length: width }, (_, c) => (c < row.length ? { value: row[c], holder: row, key: c } : MISSING))
        )
      )
    }
    context.add('error', `${format} must be a list of records ({"column": value, ...})`)
    return undefined
  }
  const columns: string[] = []
  const seen = new Set<string>()
  for (const record of records as Array<Record<string, unknown>>) {
    for (const key of Object.keys(record)) {
      if (seen.has(key)) continue
      seen.add(key)
      columns.push(key)
    }
  }
  if (format === 'instances') {
    // The server stacks each key's values into one array per column, so a key some records lack leaves columns of
    // different lengths, which pandas refuses; records keep NaN for it.
    const partial = columns.filter(name =>
      (records as Array<Record<string, unknown>>).some(record => !(name in record))
    )
    if (partial.length) {
      context.add(
        'error',
        `instances: ${partial.join(', ')} ${partial.length === 1 ? 'is' : 'are'} missing from some instances, so the scoring server's columns have different lengths; send dataframe_records instead`
      )
      return undefined
    }
  }
  // pandas fills a key missing from some records with NaN.
  return frameFromRows(
    columns,
    (records as Array<Record<string, unknown>>).map(record =>
      columns.map(name => (name in record ? { value: record[name], holder: record, key: name } : MISSING))
    )
  )
}

function frameFromRows(columns: ReadonlyArray<string | number>, rows: ReadonlyArray<readonly Cell[]>): Frame {
  const cells = new Map<string | number, Cell[]>()
  columns.forEach((name, index) =>
    cells.set(
      name,
      rows.map(row => row[index] ?? MISSING)
    )
  )
  return { columns, cells, rows: rows.length }
}

// ---- tensors ---------------------------------------------------------------------------------------------------------

function checkTensors(
  data: unknown,
  format: ServingFormat,
  specs: readonly TensorSpec[],
  named: boolean,
  context: Context
): number | undefined {
  if (format === 'dataframe_split' || format === 'dataframe_records') {
    const frame = toFrame(data, format, [], context)
    if (!frame) return undefined
    if (named) {
      for (const spec of specs) {
        const cells = frame.cells.get(spec.name!)
        if (!cells)
          context.add('error', `missing input ${spec.name!}: MLflow refuses the request ("Model is missing inputs")`)
        else checkTensorColumn(cells, spec, context)
      }
      const extra = frame.columns.filter(c => !specs.some(s => s.name === c))
      if (extra.length) context.add('warning', `inputs ${extra.join(', ')} not in the signature: MLflow drops them`)
    } else if (frame.columns.length === 1) {
      checkTensorColumn(frame.cells.get(frame.columns[0]!)!, specs[0]!, context)
    } else {
      const spec = specs[0]!
      if (spec.shape.length !== 2 || spec.shape[0] !== -1 || spec.shape[1] !== frame.columns.length) {
        context.add(
          'error',
          `a dataframe of ${frame.columns.length} columns needs tensor shape [-1, ${frame.columns.length}]; the signature has [${spec.shape.join(', ')}]`
        )
      } else {
        for (const column of frame.columns)
          checkLeaves(
            frame.cells.get(column)!.map(c => c.value),
            spec,
            context,
            String(column)
          )
      }
    }
    return frame.rows
  }
  if (!named) return checkArray(data, specs[0]!, context, 'input')
  let tensors: Record<string, unknown> | undefined
  if (format === 'instances' && Array.isArray(data) && data.every(isRecord)) {
    tensors = {}
    for (const record of data) {
      for (const [name, value] of Object.entries(record)) ((tensors[name] ??= []) as unknown[]).push(value)
    }
  } else if (isRecord(data)) tensors = data
  if (!tensors) {
    context.add(
      'error',
      `the signature names its tensors, so ${format} must map each name to an array; got ${kind(data)}`
    )
    return undefined
  }
  let rows: number | undefined
  for (const spec of specs) {
    if (!(spec.name! in tensors)) {
      context.add('error', `missing input ${spec.name!}: MLflow refuses the request ("Model is missing inputs")`)
      continue
    }
    rows ??= checkArray(tensors[spec.name!], spec, context, spec.name!)
  }
  const extra = Object.keys(tensors).filter(name => !specs.some(s => s.name === name))
  if (extra.length) context.add('warning', `inputs ${extra.join(', ')} not in the signature: MLflow drops them`)
  return rows
}

/** A dataframe column feeding a tensor: scalars need shape [-1] or [-1, 1]; list cells are stacked into rows. */
function checkTensorColumn(cells: readonly Cell[], spec: TensorSpec, context: Context): void {
  const label = spec.name ?? 'input'
  if (spec.shape[0] !== -1 || spec.shape.slice(1).includes(-1)) {
    context.add(
      'error',
      `${label}: a dataframe can feed only a tensor whose first dimension alone is -1, not [${spec.shape.join(', ')}]`
    )
    return
  }
  const values = cells.map(c => c.value)
  if (values.every(v => !Array.isArray(v))) {
    if (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] === 1))
      checkLeaves(values, spec, context, label)
    else
      context.add('error', `${label}: scalar values need tensor shape [-1] or [-1, 1], not [${spec.shape.join(', ')}]`)
    return
  }
  checkArray(values, spec, context, label)
}

/** An n-dimensional array against a tensor spec: shape first, then every value against the dtype. */
function checkArray(data: unknown, spec: TensorSpec, context: Context, label: string): number | undefined {
  const shape = shapeOf(data)
  if (shape === 'ragged') {
    const raggedAllowed = (spec.dtype === 'object' && spec.shape.length === 1) || spec.shape.slice(1).includes(-1)
    if (!raggedAllowed)
      context.add('error', `${label}: rows of different lengths do not fit tensor shape [${spec.shape.join(', ')}]`)
    return Array.isArray(data) ? data.length : undefined
  }
  const fits =
    shape.length === spec.shape.length &&
    spec.shape.every((expected, index) => expected === -1 || expected === shape[index])
  if (!fits) {
    context.add(
      'error',
      `${label}: shape [${shape.join(', ')}] does not match the signature's [${spec.shape.join(', ')}] (-1 matches any size)`
    )
    return shape[0]
  }
  checkLeaves(flatten(data), spec, context, label)
  return shape[0]
}

function shapeOf(data: unknown): number[] | 'ragged' {
  if (!Array.isArray(data)) return []
  if (data.length === 0) return [0]
  const inner = data.map(shapeOf)
  const first = JSON.stringify(inner[0])
  if (inner.some(s => s === 'ragged' || JSON.stringify(s) !== first)) return 'ragged'
  return [data.length, ...(inner[0] as number[])]
}

function flatten(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flatMap(flatten) : [data]
}

/** Whether numpy converts the values to the dtype without changing them (`np.array(data, dtype=...)`). */
function checkLeaves(values: readonly unknown[], spec: TensorSpec, context: Context, label: string): void {
  const dtype = spec.dtype
  let problem: ((v: unknown) => boolean) | undefined
  let what = ''
  if (/^(float|longdouble|complex|clongdouble)/.test(dtype)) {
    problem = v => v !== null && typeof v !== 'number'
    what = 'numbers'
  } else if (/^u?int/.test(dtype)) {
    const bits = Number(/\d+/.exec(dtype)?.[0] ?? 64)
    const unsigned = dtype.startsWith('u')
    const low = unsigned ? 0 : -(2 ** (bits - 1))
    const high = unsigned ? 2 ** bits : 2 ** (bits - 1)
    problem = v => typeof v !== 'number' || !Number.isInteger(v) || v < low || v >= high
    what = `whole numbers that fit ${dtype}`
  } else if (dtype === 'bool') {
    problem = v => typeof v !== 'boolean'
    what = 'true or false'
  } else if (dtype === 'str' || dtype === 'bytes') {
    problem = v => typeof v !== 'string'
    what = 'strings'
  }
  if (!problem) return
  const bad = values.filter(problem)
  if (bad.length) {
    context.add(
      'error',
      `${label} (tensor ${dtype}): expected ${what}, got ${bad
        .slice(0, 3)
        .map(v => describeValue(v))
        .join(', ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''}`
    )
  }
}

// ---- params --------------------------------------------------------------------------------------------------------

function checkParams(
  params: unknown,
  specs: readonly ParamSpec[] | undefined,
  numberForm: NumberForm,
  add: (severity: PayloadProblem['severity'], message: string) => void
): void {
  if (params === null || params === undefined) return
  if (!isRecord(params)) {
    add('error', `params must be a map of names to values, got ${kind(params)}`)
    return
  }
  if (!specs) {
    if (Object.keys(params).length) {
      add(
        'warning',
        'the body has params but the signature declares none: MLflow ignores them; log the model with params in its signature'
      )
    }
    return
  }
  const unknown = Object.keys(params).filter(name => !specs.some(s => s.name === name))
  if (unknown.length) add('warning', `params ${unknown.join(', ')} are not in the signature: MLflow ignores them`)
  for (const spec of specs) {
    if (!(spec.name in params)) continue
    const problem = checkParamValue(params[spec.name], spec, numberForm, params)
    if (problem) add('error', `param ${spec.name} (${formatType(spec.type)}${spec.shape ? ' list' : ''}): ${problem}`)
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return describeValue(value)
}
