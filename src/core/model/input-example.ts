/**
 * The model's input examples: `input_example.json` (the example as logged) and `serving_input_example.json` (the same
 * example as a scoring-server request body), located through MLmodel's `saved_input_example_info`
 * (`mlflow/models/utils.py`, `_Example`).
 *
 * The serving example is checked the way MLflow would treat it at serving time (`pyfunc/scoring_server`,
 * `infer_and_parse_data`, then `models/utils.py` `_enforce_schema`):
 * - the body holds exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`, plus `params`;
 * - a missing required column fails ("Model is missing inputs"); an extra column warns (MLflow drops it);
 * - a top-level column is first converted to its declared type, by pandas for `dataframe_*` bodies and by numpy,
 *   value by value or column by column, for `inputs`/`instances`; a value that conversion would change or refuse
 *   fails: 1.5 for a long (truncated), a string for a double, a number for a boolean, null for a long; dates are
 *   read as the converting library reads them (datetimes.ts);
 * - the files are read as MLflow reads them (json.loads), so `NaN`, `Infinity` and `-Infinity`, which json.dump
 *   writes for a pandas missing value and for infinities, are numbers: a float column keeps them, a text column or a
 *   dataframe's date column reads NaN as missing, an integer column cannot convert them (MLflow refuses), and a
 *   boolean or binary column is failed on purpose (MLflow makes true or the bytes "nan" of them);
 * - how the body becomes a frame matters: a list of rows in `inputs`/`instances` is converted to the first
 *   column's type as a whole, a map body is one row or columns depending on the schema, instances' records are
 *   stacked per column, and a key some records lack becomes NaN;
 * - values inside arrays, objects and maps get no conversion, and MLflow's stricter pandas rules apply (see
 *   signature.ts: `2` is refused where double is declared, `2.0` is not; JSON numbers never fit `integer`/`float`);
 * - tensors: every named tensor is checked; the shape must match (-1 matches any size, ragged rows only an object
 *   tensor) and the values must convert to the dtype without loss;
 * - params: unknown ones warn (MLflow ignores them), the rest are checked as `_enforce_param_datatype` does.
 * Where MLflow converts silently (text to numbers, anything to a boolean), the check fails on purpose. The
 * differential test in test/serving-differential holds all of this against MLflow 3.17.2 itself.
 */
import { describeValue } from '../errors.js'
import { parseJsonDocument, type JsonDocument } from '../json/document.js'
import { JsonSyntaxError } from '../json/scanner.js'
import { describeLookupProblem, findModelFile, readFoundFile, type InputExampleInfo } from '../model-dir/mlmodel.js'
import { numpyDatetimeProblem, pandasDatetimeColumnProblem } from './datetimes.js'
import {
  checkColumnValue,
  checkParamValue,
  checkRawColumn,
  formatType,
  type DataTypeName,
  type ColumnSpec,
  type NumberForm,
  type ParamSpec,
  type Schema,
  type TensorSpec,
  type ValueProblem
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
    return { path, problem: `${path} ${describeLookupProblem(found)}` }
  }
  if (found.size > MAX_EXAMPLE_BYTES) {
    return { path, problem: `${path} is ${found.size} bytes; examples over ${MAX_EXAMPLE_BYTES} bytes are not read` }
  }
  const read = await readFoundFile(found.absolute)
  if ('problem' in read) return { path, problem: `${path} ${describeLookupProblem(read)}` }
  try {
    // MLflow writes the examples with json.dump, which spells a pandas missing value NaN, and the scoring server
    // reads bodies with json.loads, which takes it: refusing the words would fail a model MLflow serves.
    return { path, document: parseJsonDocument(read.text, { pythonNumbers: true }) }
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
    case 'json_object':
      return undefined
    default:
      // mlflow.models.utils._read_example raises on any other type (and on none).
      return 'has a type MLflow does not know: Model.load_input_example reads only dataframe, ndarray, sparse_matrix_csc, sparse_matrix_csr and json_object'
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

/**
 * Which reader turns the body's values into typed columns: pandas (`dataframe_*`: `astype`, `pd.to_datetime` over a
 * whole column) or numpy (`inputs`, `instances`: `np.array(value, dtype)` value by value).
 */
type Reader = 'pandas' | 'numpy'

interface Frame {
  /** Column names, or positions for unnamed data. */
  readonly columns: ReadonlyArray<string | number>
  readonly cells: ReadonlyMap<string | number, readonly Cell[]>
  readonly rows: number
  readonly reader: Reader
  /** The values reach the schema check unconverted (a list of rows whose first column is `any`). */
  readonly raw?: boolean
  /** numpy converts each column as one array (a map body of lists, a list of rows), not value by value. */
  readonly columnwise?: boolean
}

/** A key some records lack: pandas fills it with NaN. */
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
  // With array or object columns in the signature, instances' records become one row whose cells are whole columns.
  const records = Array.isArray(data) && data.length > 0 && data.every(isRecord)
  const stacked =
    format === 'instances' &&
    records &&
    specs.some(s => s.type.kind === 'array' || s.type.kind === 'object') &&
    specs.some(s => s.type.kind !== 'any' && frame.cells.has(s.name ?? ''))
  if (stacked) {
    context.add(
      'error',
      'instances as a list of records turns each column into one list, and with array or object columns in the signature the scoring server makes a single row of those lists, which MLflow refuses; send dataframe_records or inputs instead'
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
  if (format === 'instances' && records) {
    // numpy stacks each key's values with no dtype when the column is `any` or not in the signature.
    for (const column of frame.columns) {
      const spec = specs.find(s => s.name === column)
      if (spec && spec.type.kind !== 'any') continue
      if (shapeOf(frame.cells.get(column)!.map(c => c.value)) === 'ragged') {
        context.add(
          'error',
          `instances: the values of ${String(column)} mix lists of different lengths or lists and single values, which numpy refuses to stack into one array`
        )
      }
    }
  }
  for (const [spec, column] of pairs) {
    const cells = frame.cells.get(column)!
    const where = `column ${String(column)} (${formatType(spec.type)})`
    if (frame.raw && spec.type.kind === 'scalar') {
      const problem = checkRawColumn(
        cells.map(c => c.value),
        cells.map(c => formOf(c, context.numberForm)),
        spec.type.type
      )
      if (problem) context.add(problem.severity, `${where}: ${problem.message} (the rows reach MLflow unconverted)`)
      continue
    }
    if (
      frame.reader === 'numpy' &&
      spec.type.kind === 'scalar' &&
      spec.type.type === 'float' &&
      cells.some(cell => cell === MISSING)
    ) {
      context.add(
        'error',
        `${where}: missing from some records; pandas fills the gap with a float64 NaN, and MLflow refuses float64 for a float (float32) column (write null instead)`
      )
      continue
    }
    if (spec.type.kind === 'scalar' && spec.type.type === 'datetime') {
      const values = cells.map(c => c.value)
      // numpy converting one array takes its lead from the first value: a number first, then text, fails.
      const lead = values.find(v => v !== null)
      const mixed =
        frame.columnwise && typeof lead === 'number' && values.some(v => typeof v === 'string')
          ? 'a number first and date strings after it, which numpy refuses to convert as one array'
          : undefined
      const problem =
        frame.reader === 'pandas'
          ? pandasDatetimeColumnProblem(values)
          : (mixed ?? values.map(v => numpyDatetimeProblem(v)).find(p => p !== undefined))
      if (problem) context.add('error', `${where}: ${problem}`)
    }
    const nested = spec.type.kind === 'array' || spec.type.kind === 'object' || spec.type.kind === 'map'
    const absent = cells.findIndex(cell => cell === MISSING)
    if (nested && absent !== -1) {
      context.add(
        'error',
        `row ${absent}, ${where}: missing from this record but present in others; pandas fills the gap with NaN, which MLflow refuses for a ${spec.type.kind} column (write null, or leave the column out of every record)`
      )
      continue
    }
    // An array of arrays (or of anything) comes back from MLflow's check as nested lists, which numpy then stacks.
    if (
      frame.reader === 'numpy' &&
      spec.type.kind === 'array' &&
      (spec.type.items.kind === 'array' || spec.type.items.kind === 'any')
    ) {
      const ragged = cells.findIndex(cell => shapeOf(cell.value) === 'ragged')
      if (ragged !== -1) {
        context.add(
          'error',
          `row ${ragged}, ${where}: lists of different lengths inside the value, which numpy (reading ${format}) refuses to make one array of`
        )
        continue
      }
    }
    let reported = 0
    for (const [row, cell] of cells.entries()) {
      const problem = checkColumnValue(cell.value, spec.type, spec.required, context.numberForm, cell.holder, cell.key)
      if (!problem) continue
      if (reported++ < MAX_PROBLEMS_PER_COLUMN)
        context.add(problem.severity, `row ${row}, ${where}: ${problem.message}`)
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
      return frameFromRows(columns, rows, 'pandas')
    }
    case 'dataframe_records':
      if (!Array.isArray(data)) {
        context.add('error', `dataframe_records must be a list of records, got ${kind(data)}`)
        return undefined
      }
      return recordsFrame(data, 'dataframe_records', 'pandas', context)
    case 'instances':
      if (Array.isArray(data) && data.length > 0 && data.every(isRecord))
        return recordsFrame(data, 'instances', 'numpy', context)
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
    if (!named) {
      context.add(
        'error',
        `the signature's columns are unnamed, so ${format} must be a list of rows or a single value; MLflow refuses a map`
      )
      return undefined
    }
    const names = Object.keys(data)
    const typeOf = new Map(specs.map(s => [s.name, s.type.kind]))
    // Each value is converted as the column's one value (`convert_data_type`): a map or object column cannot take
    // a list, nor a single-value column a map.
    const misfit = names.filter(name => {
      const kind = typeOf.get(name)
      if (kind === 'map' || kind === 'object') return Array.isArray(data[name])
      // numpy turns a map into a boolean, text or bytes without complaint, but not into a number or a date.
      const spec = specs.find(s => s.name === name)
      const numeric = spec?.type.kind === 'scalar' && !['boolean', 'string', 'binary'].includes(spec.type.type)
      return numeric && isRecord(data[name])
    })
    if (misfit.length) {
      const name = misfit[0]!
      context.add(
        'error',
        Array.isArray(data[name])
          ? `${format}: ${name} is a list, but MLflow reads each value of a map body as the column's single value (a map here) and refuses a list; send records instead (${format}: [{"${name}": {...}}, ...])`
          : `${format}: ${name} is a map, which numpy cannot convert to the column's type`
      )
      return undefined
    }
    // What each value is once converted: lists become numpy arrays, keys the signature lacks 0-d arrays.
    const shapeAfter = (name: string): 'single' | 'column' | 'map' | 'array0d' => {
      const value = data[name]
      const kind = typeOf.get(name)
      if (Array.isArray(value)) {
        return kind === 'any' && value.every(v => typeof v === 'string') ? 'single' : 'column'
      }
      if (kind === undefined) return 'array0d'
      return isRecord(value) ? 'map' : 'single'
    }
    // The map is one row, each value one cell, when the schema has array or object columns or every value is a
    // single one (`_enforce_schema`); otherwise pandas makes columns of the lists.
    const oneRow =
      specs.some(s => s.type.kind === 'array' || s.type.kind === 'object') ||
      names.every(name => shapeAfter(name) === 'single')
    if (oneRow)
      return frameFromRows(names, [names.map(name => ({ value: data[name], holder: data, key: name }))], 'numpy')
    if (names.every(name => shapeAfter(name) === 'single' || shapeAfter(name) === 'array0d')) {
      const extra = names.filter(name => shapeAfter(name) === 'array0d')
      context.add(
        'error',
        `${format}: ${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not in the signature, so numpy makes ${extra.length === 1 ? 'it an array' : 'them arrays'} and pandas, given single values and arrays, refuses to build the frame ("If using all scalar values, you must pass an index"); leave ${extra.length === 1 ? 'it' : 'them'} out`
      )
      return undefined
    }
    const maps = names.filter(name => isRecord(data[name]))
    if (maps.length && maps.every(name => Object.keys(data[name] as object).length === 0)) {
      // pandas takes the (no) keys of the empty maps as the row labels: a frame with no rows, nothing to check.
      return { columns: names, cells: new Map(names.map(name => [name, []])), rows: 0, reader: 'numpy' }
    }
    if (maps.length) {
      context.add(
        'error',
        `${format}: ${maps.join(', ')} ${maps.length === 1 ? 'is a map' : 'are maps'} in a body of columns: pandas reads a map's keys as row labels, so MLflow gets no map to check; send records instead (${format}: [{"${maps[0]}": {...}}])`
      )
      return undefined
    }
    // pandas repeats a single value down the column; the lists must agree.
    const lengths = new Set(
      Object.values(data)
        .filter(Array.isArray)
        .map(v => v.length)
    )
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
    return { columns: names, cells, rows, reader: 'numpy', columnwise: true }
  }
  if (Array.isArray(data)) {
    if (data.length > 0 && data.every(isRecord)) return recordsFrame(data, format, 'numpy', context)
    if (named && specs.length === 1 && !data.some(isRecord)) {
      // The list is the one column's value: a column of single values, or one array (object, map) in one row.
      if (specs[0]!.type.kind !== 'scalar' && specs[0]!.type.kind !== 'any') {
        return frameFromRows([specs[0]!.name!], [[{ value: data, holder: { value: data }, key: 'value' }]], 'numpy')
      }
      return frameFromRows(
        [specs[0]!.name!],
        data.map((value, row) => [{ value, holder: data, key: row }]),
        'numpy'
      )
    }
    return rowsFrame(data, specs, format, context)
  }
  if (named) {
    if (specs.some(s => s.required)) {
      context.add(
        'error',
        `${format} is a single value, which has no column name; the signature names its columns, so MLflow refuses it ("Model is missing inputs")`
      )
      return undefined
    }
  }
  return frameFromRows([0], [[{ value: data, holder: { value: data }, key: 'value' }]], 'numpy')
}

/** The column types that accept a column of values converted to the key's type (`_enforce_mlflow_datatype`). */
const WIDENS_TO: Readonly<Record<DataTypeName, readonly DataTypeName[]>> = {
  boolean: ['boolean'],
  integer: ['integer', 'long', 'double'],
  long: ['long'],
  float: ['float', 'double'],
  double: ['double'],
  // pandas 3 keeps numpy's text as strings, which a binary column takes; numpy's bytes are objects, which a
  // string or boolean column passes unchecked.
  string: ['string', 'binary'],
  binary: ['binary', 'string', 'boolean'],
  datetime: ['datetime']
}

/**
 * A list of rows (or of values) in `inputs`/`instances`: `_cast_schema_type` converts the whole list to the FIRST
 * column's type with one `np.array(rows, dtype)`, then each column must accept that type.
 */
function rowsFrame(
  data: unknown[],
  specs: readonly ColumnSpec[],
  format: ServingFormat,
  context: Context
): Frame | undefined {
  if (data.some(isRecord)) {
    context.add('error', `${format} mixes records ({"column": value}) with other values; MLflow refuses it`)
    return undefined
  }
  const lists = data.filter(Array.isArray).length
  if (lists !== 0 && lists !== data.length) {
    context.add('error', `${format} mixes rows (lists) and single values; numpy cannot make one array of them`)
    return undefined
  }
  const rows = data.map((row, r) =>
    Array.isArray(row)
      ? row.map((value, c) => ({ value, holder: row, key: c }))
      : [{ value: row, holder: data, key: r }]
  )
  const widths = new Set(rows.map(r => r.length))
  if (widths.size > 1) {
    context.add(
      'error',
      `${format}: rows of different lengths (${[...widths].join(', ')}); numpy cannot make one array of them`
    )
    return undefined
  }
  const width = rows[0]?.length ?? 0
  let frame = frameFromRows(
    Array.from({ length: width }, (_, i) => i),
    rows,
    'numpy'
  )
  const first = specs[0]
  if (!first || rows.length === 0) return frame
  if (first.type.kind === 'any') return { ...frame, raw: true }
  frame = { ...frame, columnwise: true }
  if (first.type.kind !== 'scalar') {
    context.add(
      'error',
      `${format} is a list, which MLflow converts as one value of the first column's type (${formatType(first.type)}); send dataframe_split or records`
    )
    return undefined
  }
  const castTo = first.type.type
  let reported = 0
  // Named columns do not match positions (the request then lacks them); the values must still convert.
  const positional = Array.from({ length: width }, (_, column) => (first.name === undefined ? specs[column] : first))
  positional.forEach((spec, column) => {
    // An unnamed first column is checked against its own type with the others; a named one is not checked at all.
    if (column > 0 || first.name !== undefined) {
      for (const [row, cell] of frame.cells.get(column)!.entries()) {
        const dateProblem = castTo === 'datetime' ? numpyDatetimeProblem(cell.value) : undefined
        const problem: ValueProblem | undefined = dateProblem
          ? { severity: 'error', message: dateProblem }
          : checkColumnValue(cell.value, first.type, true, context.numberForm, cell.holder, cell.key)
        if (problem?.severity === 'error' && reported++ < MAX_PROBLEMS_PER_COLUMN)
          context.add(
            'error',
            `row ${row}, column ${column}: ${problem.message}, and MLflow converts every value of a list of rows to the first column's type (${castTo})`
          )
      }
    }
    if (spec && (spec.type.kind !== 'scalar' || !WIDENS_TO[castTo].includes(spec.type.type))) {
      context.add(
        'error',
        `column ${column} (${formatType(spec.type)}): MLflow converts every value of a list of rows to the first column's type (${castTo}), which this column refuses; send dataframe_split or a list of records`
      )
    }
  })
  return frame
}

function recordsFrame(records: unknown[], format: string, reader: Reader, context: Context): Frame | undefined {
  if (records.some(r => !isRecord(r))) {
    if (format === 'dataframe_records' && records.every(Array.isArray)) {
      const rows = records as unknown[][]
      const width = Math.max(0, ...rows.map(r => r.length))
      return frameFromRows(
        Array.from({ length: width }, (_, i) => i),
        rows.map(row =>
          Array.from({ length: width }, (_, c) => (c < row.length ? { value: row[c], holder: row, key: c } : MISSING))
        ),
        reader
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
    // different lengths, which it refuses; records keep NaN for it.
    const typed = records as Array<Record<string, unknown>>
    const counts = columns.map(name => typed.filter(record => name in record).length)
    if (new Set(counts).size > 1) {
      const partial = columns.filter((_, index) => counts[index] !== typed.length)
      context.add(
        'error',
        `instances: ${partial.join(', ')} ${partial.length === 1 ? 'is' : 'are'} missing from some instances, so the scoring server's columns have different lengths; send dataframe_records instead`
      )
      return undefined
    }
    const cells = new Map<string | number, Cell[]>()
    for (const name of columns) {
      cells.set(
        name,
        typed.filter(record => name in record).map(record => ({ value: record[name], holder: record, key: name }))
      )
    }
    return { columns, cells, rows: counts[0] ?? 0, reader }
  }
  // pandas fills a key missing from some records with NaN.
  return frameFromRows(
    columns,
    (records as Array<Record<string, unknown>>).map(record =>
      columns.map(name => (name in record ? { value: record[name], holder: record, key: name } : MISSING))
    ),
    reader
  )
}

function frameFromRows(
  columns: ReadonlyArray<string | number>,
  rows: ReadonlyArray<readonly Cell[]>,
  reader: Reader
): Frame {
  const cells = new Map<string | number, Cell[]>()
  columns.forEach((name, index) =>
    cells.set(
      name,
      rows.map(row => row[index] ?? MISSING)
    )
  )
  return { columns, cells, rows: rows.length, reader }
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
    if (frame.rows === 0) {
      context.add('error', `${format} has no rows; MLflow refuses an empty dataframe for a tensor signature`)
      return 0
    }
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
      } else if (spec.dtype === 'str' || spec.dtype === 'bytes') {
        context.add(
          'error',
          `a dataframe of several columns cannot feed a ${spec.dtype} tensor: pandas hands MLflow an object array, which it refuses for ${spec.dtype}; send inputs: [[...], ...]`
        )
      } else {
        for (const column of frame.columns) {
          const values = frame.cells.get(column)!.map(c => c.value)
          if (values.some(v => v !== null && typeof v === 'object')) {
            context.add(
              'error',
              `column ${String(column)}: a dataframe of several columns feeds a tensor only with single values in its cells`
            )
          } else checkLeaves(values, spec, context, String(column))
        }
      }
    }
    return frame.rows
  }
  if (!named) {
    if (!Array.isArray(data) || (data.length > 0 && isRecord(data[0]))) {
      context.add(
        'error',
        `the signature has one unnamed tensor, so ${format} must be a list (an n-dimensional array); MLflow refuses ${kind(data)}${Array.isArray(data) ? ' of records' : ''}`
      )
      return undefined
    }
    return checkArray(data, specs[0]!, context, 'input')
  }
  let tensors: Record<string, unknown> | undefined
  let stacked = false
  if (isRecord(data)) tensors = data
  else if (Array.isArray(data)) {
    if (format === 'instances' && data.length > 0 && isRecord(data[0])) {
      if (!data.every(isRecord)) {
        context.add('error', 'instances mixes records ({"name": value}) with other values; MLflow refuses it')
        return undefined
      }
      // Each record's values become one row of each tensor; numpy then stacks the rows of a tensor.
      tensors = {}
      stacked = true
      for (const record of data) {
        for (const [name, value] of Object.entries(record)) ((tensors[name] ??= []) as unknown[]).push(value)
      }
    } else if (specs.length === 1 && !data.some(isRecord)) tensors = { [specs[0]!.name!]: data }
  }
  if (!tensors) {
    context.add(
      'error',
      `the signature names its tensors, so ${format} must map each name to an array; got ${kind(data)}`
    )
    return undefined
  }
  if (format === 'instances') {
    const present = specs.filter(s => Array.isArray(tensors[s.name!]))
    const lengths = new Set(present.map(s => (tensors[s.name!] as unknown[]).length))
    if (lengths.size > 1) {
      context.add(
        'error',
        `instances: the tensors have different numbers of rows (${present.map(s => `${s.name!}: ${(tensors[s.name!] as unknown[]).length}`).join(', ')}); the scoring server refuses that for instances (inputs takes tensors of different lengths)`
      )
    }
  }
  let rows: number | undefined
  for (const spec of specs) {
    if (!(spec.name! in tensors)) {
      context.add('error', `missing input ${spec.name!}: MLflow refuses the request ("Model is missing inputs")`)
      continue
    }
    const checked = checkArray(tensors[spec.name!], spec, context, spec.name!, { stacked })
    rows ??= checked
  }
  const extra = Object.keys(tensors).filter(name => !specs.some(s => s.name === name))
  for (const name of extra) {
    // numpy converts these too (with no dtype), so a ragged one still fails the request.
    if (shapeOf(tensors[name]) === 'ragged') {
      context.add('error', `${name} (not in the signature): rows of different lengths, which numpy refuses to convert`)
    }
  }
  if (extra.length) context.add('warning', `inputs ${extra.join(', ')} not in the signature: MLflow drops them`)
  return rows
}

/**
 * A dataframe column feeding a tensor (`_reshape_and_cast_pandas_column_values`): the first cell decides. Single
 * values need shape [-1] or [-1, 1]; flat lists of single values are stacked and reshaped, so each must hold as many
 * values as one row of the tensor; anything nested deeper MLflow refuses.
 */
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
  const first = values[0]
  const single = (v: unknown) => v === null || typeof v !== 'object'
  if (spec.dtype === 'bytes') {
    // MLflow encodes a bytes column's cells one by one (`bytes(x, "utf8")`) before anything else.
    const bad = values.findIndex(v => typeof v !== 'string')
    if (bad !== -1) {
      context.add(
        'error',
        `${label}: row ${bad} is ${describeValue(values[bad])}; a dataframe column feeding a bytes tensor must hold strings, which MLflow encodes one by one`
      )
      return
    }
  }
  if (single(first) && !(first === null && spec.dtype === 'object')) {
    if (/^(datetime|timedelta)64/.test(spec.dtype)) {
      context.add(
        'error',
        `${label}: pandas turns single values for a ${spec.dtype} tensor into Timestamps or Timedeltas, which MLflow refuses as tensor cells; send inputs instead`
      )
    } else if (!values.every(single)) {
      context.add('error', `${label}: the first row holds a single value, so every row must; some rows hold lists`)
    } else if (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] === 1)) {
      checkLeaves(values, spec, context, label)
    } else {
      context.add('error', `${label}: scalar values need tensor shape [-1] or [-1, 1], not [${spec.shape.join(', ')}]`)
    }
    return
  }
  const size = spec.shape.slice(1).reduce((product, d) => product * d, 1)
  const flat = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(single) && v[0] !== null
  if (!Array.isArray(first) || !flat(first) || cells.some(c => c === MISSING)) {
    context.add(
      'error',
      `${label}: each cell of a dataframe feeding a tensor must be a single value or a flat list of values (MLflow refuses ${describeValue(first)} in the first row, and lists nested deeper or starting empty or null)`
    )
    return
  }
  const bad = values.findIndex(v => !Array.isArray(v) || !v.every(single) || v.length !== size)
  if (bad !== -1) {
    context.add(
      'error',
      `${label}: row ${bad} is ${describeValue(values[bad])}; each row must be a flat list of ${size} value${size === 1 ? '' : 's'} to reshape into [${spec.shape.join(', ')}]`
    )
    return
  }
  checkLeaves(values.flat(), spec, context, label)
}

/**
 * An n-dimensional array against a tensor spec, as `np.array(data, dtype)` and `_enforce_tensor_spec` judge it: an
 * object tensor of shape [-1] takes anything; rows of different lengths make a one-dimensional object array, which
 * only an object tensor with a later -1 takes (never when numpy stacks instances' rows); otherwise the shape must
 * match and every value convert to the dtype.
 */
function checkArray(
  data: unknown,
  spec: TensorSpec,
  context: Context,
  label: string,
  { stacked = false } = {}
): number | undefined {
  const length = Array.isArray(data) ? data.length : undefined
  const object = spec.dtype === 'object'
  if (object && spec.shape.length === 1 && spec.shape[0] === -1 && !stacked) return length
  const shape = object && !stacked ? objectShapeOf(data) : shapeOf(data)
  if (shape === 'ragged') {
    context.add(
      'error',
      `${label}: rows of different lengths; numpy cannot make a ${spec.dtype} array of them${object ? ' when it stacks the rows of instances' : ' (only an object tensor takes ragged rows)'}`
    )
    return length
  }
  if (object && shape.length === 1 && spec.shape.length > 1 && spec.shape.slice(1).includes(-1)) return length
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
  if (!object) checkLeaves(flatten(data), spec, context, label)
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

/** numpy's shape for `np.array(data, dtype=object)`: as deep as every list at a level has the same length. */
function objectShapeOf(data: unknown): number[] {
  if (!Array.isArray(data)) return []
  const shape = [data.length]
  let level: unknown[] = data
  while (level.length > 0 && level.every(Array.isArray)) {
    const width = (level[0] as unknown[]).length
    if (!level.every(item => (item as unknown[]).length === width)) break
    shape.push(width)
    level = level.flat(1)
  }
  return shape
}

function flatten(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flatMap(flatten) : [data]
}

/**
 * Whether numpy converts the values to the dtype without changing them (`np.array(data, dtype=...)`). numpy also
 * reads `"12"` as a number, `true` as 1 and truncates 1.5 to an int: those are refused here on purpose, since the
 * model would not get what the example says.
 */
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
  } else if (dtype === 'str') {
    problem = v => typeof v !== 'string'
    what = 'strings'
  } else if (dtype === 'bytes') {
    // numpy encodes str to bytes as ASCII.
    problem = v => typeof v !== 'string' || [...v].some(char => char.charCodeAt(0) > 0x7f)
    what = 'ASCII strings'
  } else if (dtype.startsWith('datetime64')) {
    problem = v => typeof v === 'boolean' || numpyDatetimeProblem(v) !== undefined
    what = 'ISO 8601 date strings'
  } else if (dtype.startsWith('timedelta64')) {
    problem = v => v !== null && !(typeof v === 'number' && Number.isInteger(v))
    what = 'whole numbers'
  } else if (dtype === 'void') {
    problem = () => true
    what = 'nothing: modelgate cannot check values for a void tensor'
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

function formOf(cell: Cell, numberForm: NumberForm): 'int' | 'float' | undefined {
  if (typeof cell.value !== 'number') return undefined
  return numberForm(cell.holder, cell.key) ?? (Number.isInteger(cell.value) ? 'int' : 'float')
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
