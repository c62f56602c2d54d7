/**
 * Model signatures: the JSON strings under `signature:` in MLmodel (`mlflow/types/schema.py`), parsed into types we
 * can check values against, with MLflow's own structural rules (a schema is all columns or all tensors, all named or
 * all unnamed, ...), and the value rules MLflow applies to parameters (`_enforce_param_datatype`) and to values
 * nested in arrays, objects and maps (`_enforce_datatype`, which judges them with pandas' dtype rules).
 *
 * JSON has one number type, and JSON.parse cannot tell `2` from `2.0`, but MLflow can: Python reads them as int and
 * float, and in nested values and params that decides whether a value passes. So value checks take a `numberForm`
 * lookup that says how a number was written in the file; without one, whole numbers count as integers.
 */
import type { KeyPath } from '../config/yaml-locate.js'
import { describeValue } from '../errors.js'
import { numpyDatetimeProblem } from './datetimes.js'
import { parseJsonDocument } from '../json/document.js'
import { JsonSyntaxError } from '../json/scanner.js'

export const DATA_TYPES = ['boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', 'datetime'] as const
export type DataTypeName = (typeof DATA_TYPES)[number]

export type ValueType =
  | { readonly kind: 'scalar'; readonly type: DataTypeName }
  | { readonly kind: 'array'; readonly items: ValueType }
  | { readonly kind: 'object'; readonly properties: readonly PropertySpec[] }
  | { readonly kind: 'map'; readonly values: ValueType }
  | { readonly kind: 'sparkml_vector' }
  | { readonly kind: 'any' }

export interface PropertySpec {
  readonly name: string
  readonly type: ValueType
  readonly required: boolean
}

export interface ColumnSpec {
  readonly kind: 'column'
  readonly name?: string
  readonly type: ValueType
  readonly required: boolean
}

export interface TensorSpec {
  readonly kind: 'tensor'
  readonly name?: string
  /** A numpy dtype name as MLflow writes it: `float64`, `int32`, `bool`, `str`, `object`, `datetime64[ns]`... */
  readonly dtype: string
  /** -1 marks a dimension of any size. */
  readonly shape: readonly number[]
}

export type Schema =
  | { readonly kind: 'columns'; readonly named: boolean; readonly specs: readonly ColumnSpec[] }
  | { readonly kind: 'tensors'; readonly named: boolean; readonly specs: readonly TensorSpec[] }

export interface ParamSpec {
  readonly name: string
  /** A scalar type or an object (MLflow refuses binary params). */
  readonly type: ValueType
  readonly default: unknown
  /** null for a single value, [-1] for a list. */
  readonly shape: readonly number[] | null
}

/** A signature JSON string that MLflow would refuse to load; `path` points inside the JSON. */
export class SignatureError extends Error {
  readonly path: KeyPath
  /**
   * False when MLflow may load the signature and modelgate refuses it on purpose (a numpy dtype name we cannot vouch
   * for), so the report does not claim MLflow cannot load it.
   */
  readonly mlflowRefuses: boolean
  constructor(message: string, path: KeyPath, mlflowRefuses = true) {
    super(message)
    this.name = 'SignatureError'
    this.path = path
    this.mlflowRefuses = mlflowRefuses
  }
}

export interface ParsedSchema {
  readonly schema: Schema
  /** Things MLflow accepts that we cannot vouch for; none today (a dtype we cannot check against now fails). */
  readonly warnings: readonly string[]
}

/** How a number was written in the JSON file, when known: `2` is an int to Python, `2.0` a float. */
export type NumberForm = (container: object, key: string | number) => 'int' | 'float' | undefined

const NESTED_TYPES = ['array', 'object', 'map', 'sparkml_vector', 'any'] as const

// The names numpy 2's `np.dtype(name)` accepts (`np.sctypeDict`), which MLflow's TensorSpec reads a dtype with.
const NUMPY_NAMES = new Set(
  'bool bool_ byte bytes bytes_ cdouble clongdouble complex complex128 complex256 complex64 csingle datetime64 double float float128 float16 float32 float64 half int int16 int32 int64 int8 int_ intc intp long longdouble longlong object object_ short single str str_ timedelta64 ubyte uint uint16 uint32 uint64 uint8 uintc uintp ulong ulonglong unicode ushort void'.split(
    ' '
  )
)
// Type codes, with a byte order and size (`<f8`, `i4`, `?`, `U`, `M8[ns]`), and unit-qualified datetimes.
const DTYPE_CODE = /^[<>=|]?(?<code>[A-Za-z?])(?<size>\d*)(?<unit>\[\d*(?:Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\])?$/
const DTYPE_UNIT = /^(datetime64|timedelta64)\[\d*(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\]$/
// Aliases to the names the value checks know.
const DTYPE_ALIASES: Readonly<Record<string, string>> = {
  float: 'float64',
  double: 'float64',
  single: 'float32',
  half: 'float16',
  int: 'int64',
  int_: 'int64',
  long: 'int64',
  longlong: 'int64',
  intp: 'int64',
  intc: 'int32',
  short: 'int16',
  byte: 'int8',
  uint: 'uint64',
  ulong: 'uint64',
  ulonglong: 'uint64',
  uintp: 'uint64',
  uintc: 'uint32',
  ushort: 'uint16',
  ubyte: 'uint8',
  bool_: 'bool',
  str_: 'str',
  unicode: 'str',
  bytes_: 'bytes',
  object_: 'object',
  complex: 'complex128',
  cdouble: 'complex128',
  csingle: 'complex64',
  float128: 'longdouble',
  complex256: 'clongdouble'
}
const CODE_NAMES: Readonly<Record<string, string>> = {
  '?': 'bool',
  b: 'int8',
  B: 'uint8',
  h: 'int16',
  H: 'uint16',
  i: 'int32',
  I: 'uint32',
  l: 'int64',
  L: 'uint64',
  q: 'int64',
  Q: 'uint64',
  p: 'int64',
  P: 'uint64',
  e: 'float16',
  f: 'float32',
  d: 'float64',
  g: 'longdouble',
  F: 'complex64',
  D: 'complex128',
  G: 'clongdouble',
  S: 'bytes',
  a: 'bytes',
  U: 'str',
  V: 'void',
  O: 'object',
  c: 'bytes'
}
const SIZED_CODES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  i: { '1': 'int8', '2': 'int16', '4': 'int32', '8': 'int64' },
  u: { '1': 'uint8', '2': 'uint16', '4': 'uint32', '8': 'uint64' },
  f: { '2': 'float16', '4': 'float32', '8': 'float64', '16': 'longdouble' },
  c: { '8': 'complex64', '16': 'complex128', '32': 'clongdouble' },
  b: { '1': 'bool' }
}

/**
 * A tensor dtype name as MLflow reads it (`np.dtype(name)`, then TensorSpec's rules): the numpy name the value checks
 * use, or a SignatureError. MLflow refuses a sized string type (`<U10`) and cannot load a name numpy does not know.
 */
function readDtype(name: string, where: KeyPath): string {
  if (NUMPY_NAMES.has(name)) return DTYPE_ALIASES[name] ?? name
  if (DTYPE_UNIT.test(name)) return name
  const code = DTYPE_CODE.exec(name)?.groups
  if (code) {
    const { code: letter, size, unit } = code as { code: string; size: string; unit?: string }
    if (/^[SaU]$/.test(letter) && !unit) {
      if (Number(size || 0) > 0) {
        throw new SignatureError(
          `has numpy dtype ${JSON.stringify(name)}: MLflow refuses sizes on string types; use "str" or "bytes"`,
          where
        )
      }
      return CODE_NAMES[letter]!
    }
    if (/^[Mm]$/.test(letter) && (size === '' || size === '8')) {
      return `${letter === 'M' ? 'datetime64' : 'timedelta64'}${unit ?? ''}`
    }
    if (!unit && size === '' && CODE_NAMES[letter]) return CODE_NAMES[letter]
    if (!unit && SIZED_CODES[letter]?.[size]) return SIZED_CODES[letter][size]
  }
  if (/^(str|bytes|unicode)\d+$/.test(name)) {
    throw new SignatureError(
      `has dtype ${JSON.stringify(name)}: numpy does not read sized string names, and MLflow refuses sizes on string types; use "str" or "bytes"`,
      where
    )
  }
  if (/^[a-z_]+\d*$/.test(name)) {
    throw new SignatureError(
      `has dtype ${JSON.stringify(name)}, which is not a numpy dtype name (float64, int64, bool, str, object, ...)`,
      where
    )
  }
  throw new SignatureError(
    `has numpy dtype ${JSON.stringify(name)}, which modelgate cannot check values against (a structured or unusual dtype); name a plain numpy dtype such as float64 or str`,
    where,
    false
  )
}

export function parseSchema(json: string): ParsedSchema {
  const document = parseJsonText(json)
  if (!Array.isArray(document)) throw new SignatureError(`expected a JSON list of specs, got ${kindOf(document)}`, [])
  if (document.length === 0) throw new SignatureError('is an empty list; MLflow refuses a schema without inputs', [])
  const warnings: string[] = []
  const specs = document.map((item, index) => parseSpec(item, [index]))
  const tensors = specs.filter((s): s is TensorSpec => s.kind === 'tensor')
  if (tensors.length !== 0 && tensors.length !== specs.length) {
    throw new SignatureError('mixes column specs and tensor specs; MLflow allows one kind per schema', [])
  }
  const named = specs.filter(s => s.name !== undefined)
  if (named.length !== 0 && named.length !== specs.length) {
    throw new SignatureError('mixes named and unnamed specs; MLflow needs all named or all unnamed', [])
  }
  const names = new Set<string>()
  for (const [index, spec] of specs.entries()) {
    if (spec.name === undefined) continue
    if (names.has(spec.name)) throw new SignatureError(`names ${JSON.stringify(spec.name)} twice`, [index, 'name'])
    names.add(spec.name)
  }
  const isNamed = named.length > 0
  if (tensors.length > 1 && !isNamed) {
    throw new SignatureError('has several unnamed tensors; MLflow needs a name for each', [])
  }
  if (!isNamed && specs.some(s => s.kind === 'column' && !s.required)) {
    throw new SignatureError('has unnamed optional columns; MLflow needs names on optional columns', [])
  }
  const schema: Schema = tensors.length
    ? { kind: 'tensors', named: isNamed, specs: tensors }
    : { kind: 'columns', named: isNamed, specs: specs as ColumnSpec[] }
  return { schema, warnings }
}

export function parseParamSchema(json: string): ParamSpec[] {
  // Read with number forms: MLflow refuses a default written `1.0` for a long param, which JSON.parse cannot see.
  let document: unknown
  let numberForm: NumberForm
  try {
    ;({ value: document, numberForm } = parseJsonDocument(json))
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new SignatureError(`is not valid JSON (${error.message})`, [])
    throw error
  }
  if (!Array.isArray(document)) throw new SignatureError(`expected a JSON list of params, got ${kindOf(document)}`, [])
  const names = new Set<string>()
  return document.map((item, index) => {
    const path = [index]
    const spec = asObject(item, path, 'a param spec {name, type, default, shape}')
    if (typeof spec.name !== 'string' && typeof spec.name !== 'number') {
      throw new SignatureError('has no name', [...path, 'name'])
    }
    const name = String(spec.name)
    if (names.has(name)) throw new SignatureError(`declares param ${JSON.stringify(name)} twice`, [...path, 'name'])
    names.add(name)
    if (!('default' in spec)) throw new SignatureError(`param ${JSON.stringify(name)} has no default`, path)
    // MLflow reads `dtype` for params written before it was renamed `type`.
    const typeName = spec.type ?? spec.dtype
    let type: ValueType
    if (typeName === 'object') type = parseValueType(spec, path)
    else if (isDataType(typeName) && typeName !== 'binary') type = { kind: 'scalar', type: typeName }
    else {
      throw new SignatureError(
        `param ${JSON.stringify(name)} has type ${describeValue(typeName)}; expected one of ${DATA_TYPES.filter(t => t !== 'binary').join(', ')} or object`,
        [...path, 'type']
      )
    }
    const shape = spec.shape ?? null
    if (shape !== null && !(Array.isArray(shape) && shape.length === 1 && shape[0] === -1)) {
      throw new SignatureError(
        `param ${JSON.stringify(name)} has shape ${describeValue(shape)}; MLflow allows null (one value) or [-1] (a list)`,
        [...path, 'shape']
      )
    }
    const param: ParamSpec = { name, type, default: spec.default, shape }
    const problem = checkParamValue(param.default, param, numberForm, spec, 'default')
    if (problem) throw new SignatureError(`param ${JSON.stringify(name)} default: ${problem}`, [...path, 'default'])
    return param
  })
}

function parseSpec(item: unknown, path: KeyPath): ColumnSpec | TensorSpec {
  const spec = asObject(item, path, 'a column spec {type, name, required} or a tensor spec')
  const name = spec.name === undefined || spec.name === null ? undefined : spec.name
  if (name !== undefined && typeof name !== 'string') {
    throw new SignatureError(`has name ${describeValue(name)}; expected a string`, [...path, 'name'])
  }
  if (spec.type === 'tensor') {
    const info = asObject(spec['tensor-spec'], [...path, 'tensor-spec'], 'a tensor-spec {dtype, shape}')
    if (typeof info.dtype !== 'string') {
      throw new SignatureError(`has dtype ${describeValue(info.dtype)}; expected a numpy dtype name`, [
        ...path,
        'tensor-spec',
        'dtype'
      ])
    }
    const dtype = readDtype(info.dtype, [...path, 'tensor-spec', 'dtype'])
    const shape = info.shape
    if (!Array.isArray(shape) || !shape.every(d => Number.isInteger(d) && (d as number) >= -1)) {
      throw new SignatureError(`has shape ${describeValue(shape)}; expected a list of sizes, -1 for any size`, [
        ...path,
        'tensor-spec',
        'shape'
      ])
    }
    return { kind: 'tensor', ...(name !== undefined ? { name } : {}), dtype, shape: shape as number[] }
  }
  return {
    kind: 'column',
    ...(name !== undefined ? { name } : {}),
    type: parseValueType(spec, path),
    required: parseRequired(spec, path)
  }
}

function parseValueType(spec: Record<string, unknown>, path: KeyPath): ValueType {
  const type = spec.type
  if (isDataType(type)) return { kind: 'scalar', type }
  switch (type) {
    case 'array': {
      const items = asObject(spec.items, [...path, 'items'], 'an items spec {type, ...}')
      return { kind: 'array', items: parseValueType(items, [...path, 'items']) }
    }
    case 'map': {
      const values = asObject(spec.values, [...path, 'values'], 'a values spec {type, ...}')
      return { kind: 'map', values: parseValueType(values, [...path, 'values']) }
    }
    case 'object': {
      const properties = asObject(spec.properties, [...path, 'properties'], 'a map of property names to specs')
      const entries = Object.entries(properties)
      if (entries.length === 0) throw new SignatureError('is an object without properties', [...path, 'properties'])
      return {
        kind: 'object',
        properties: entries.map(([name, value]) => {
          const where = [...path, 'properties', name]
          const property = asObject(value, where, 'a property spec {type, required}')
          return { name, type: parseValueType(property, where), required: parseRequired(property, where) }
        })
      }
    }
    case 'sparkml_vector':
      return { kind: 'sparkml_vector' }
    case 'any':
      return { kind: 'any' }
    default:
      throw new SignatureError(
        `has type ${describeValue(type)}; expected one of ${[...DATA_TYPES, ...NESTED_TYPES, 'tensor'].join(', ')}`,
        [...path, 'type']
      )
  }
}

function parseRequired(spec: Record<string, unknown>, path: KeyPath): boolean {
  const required = spec.required ?? true
  if (typeof required !== 'boolean') {
    throw new SignatureError(`has required ${describeValue(required)}; expected true or false`, [...path, 'required'])
  }
  return required
}

function isDataType(value: unknown): value is DataTypeName {
  return typeof value === 'string' && (DATA_TYPES as readonly string[]).includes(value)
}

function asObject(value: unknown, path: KeyPath, expected: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SignatureError(`expected ${expected}, got ${kindOf(value)}`, path)
  }
  return value as Record<string, unknown>
}

function parseJsonText(json: string): unknown {
  try {
    return JSON.parse(json) as unknown
  } catch (error) {
    throw new SignatureError(`is not valid JSON (${(error as Error).message})`, [])
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a map'
  return describeValue(value)
}

/** `long`, `array<string>`, `object{city: string, floor?: long}`, `map<double>`, `tensor float64 [-1, 4]`. */
export function formatType(type: ValueType | TensorSpec): string {
  switch (type.kind) {
    case 'scalar':
      return type.type
    case 'array':
      return `array<${formatType(type.items)}>`
    case 'map':
      return `map<${formatType(type.values)}>`
    case 'object':
      return `object{${type.properties.map(p => `${p.name}${p.required ? '' : '?'}: ${formatType(p.type)}`).join(', ')}}`
    case 'tensor':
      return `tensor ${type.dtype} [${type.shape.join(', ')}]`
    default:
      return type.kind
  }
}

/** `3 named columns`, `1 unnamed tensor`. */
export function describeSchema(schema: Schema): string {
  const count = schema.specs.length
  const noun = schema.kind === 'columns' ? 'column' : 'tensor'
  return `${count} ${schema.named ? 'named' : 'unnamed'} ${noun}${count === 1 ? '' : 's'}`
}

// ---- values --------------------------------------------------------------------------------------------------------

export interface ValueProblem {
  readonly severity: 'error' | 'warning'
  readonly message: string
}

const INT32 = 2 ** 31
const INT64 = 2 ** 63

/**
 * A parameter value against its spec, as `_enforce_param_datatype` judges it: Python's exact type decides, with
 * int → long/float/double and float → double allowed. Returns what is wrong, or undefined.
 */
export function checkParamValue(
  value: unknown,
  spec: ParamSpec,
  numberForm?: NumberForm,
  holder?: object,
  key: string | number = spec.name
): string | undefined {
  if (value === undefined) return undefined
  if (spec.shape !== null) {
    if (!Array.isArray(value) || value.some(v => Array.isArray(v))) {
      return `expected a list (shape [-1]), got ${describeValue(value)}`
    }
    if (spec.type.kind === 'object' && value.length) {
      return 'MLflow refuses a list of objects as a param (it checks each item as a single value); give the param shape null'
    }
    for (const [index, item] of value.entries()) {
      const problem = paramScalarProblem(item, spec.type, formOf(item, value, index, numberForm))
      if (problem) return `item ${index}: ${problem}`
    }
    return undefined
  }
  if (spec.type.kind === 'object') {
    if (value === null) return 'expected an object, got null'
    const problem = nestedProblem(value, spec.type, true, numberForm)
    return problem?.message
  }
  return paramScalarProblem(value, spec.type, holder ? formOf(value, holder, key, numberForm) : defaultForm(value))
}

function paramScalarProblem(value: unknown, type: ValueType, form: 'int' | 'float' | undefined): string | undefined {
  if (value === null) return undefined
  if (type.kind !== 'scalar') return nestedProblem(value, type, true)?.message
  const got = describeValue(value)
  switch (type.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${got}`
    case 'integer':
    case 'long':
      return typeof value === 'number' && form === 'int'
        ? undefined
        : `expected a whole number written without a decimal point (a ${type.type}), got ${got}`
    case 'float':
    case 'double':
      return typeof value === 'number' ? undefined : `expected a number, got ${got}`
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${got}`
    case 'datetime':
      return numpyDatetimeProblem(value, { numbers: false })
    default:
      return `MLflow does not allow ${type.type} params`
  }
}

/**
 * A value of a top-level column, as the scoring server treats it: it first converts the column to the declared
 * numpy type (so a JSON integer fits a double column), then enforces the schema. We fail what MLflow refuses and
 * what it would silently change (1.5 truncated to a long 1, `1` read as boolean true), and warn where the model
 * would receive something other than the declared type.
 */
export function checkColumnValue(
  value: unknown,
  type: ValueType,
  required: boolean,
  numberForm?: NumberForm,
  holder?: object,
  key?: string | number
): ValueProblem | undefined {
  if (type.kind !== 'scalar') {
    if (value === null && !required) return undefined
    return nestedProblem(value, type, required, numberForm, holder, key)
  }
  const got = describeValue(value)
  const error = (message: string): ValueProblem => ({ severity: 'error', message })
  if (value === null) {
    switch (type.type) {
      case 'integer':
      case 'long':
        return error(
          `null in a ${type.type} column: MLflow cannot convert a missing value to an integer (declare the column double if it may be missing)`
        )
      case 'binary':
        return error(
          'null in a binary column: dataframe bodies cannot decode it, and inputs or instances hand the model the bytes "None"'
        )
      case 'boolean':
        return { severity: 'warning', message: 'null in a boolean column: the scoring server turns it into false' }
      default:
        return undefined
    }
  }
  if (typeof value === 'object') return error(`expected a single ${type.type} value, got ${got}`)
  if (typeof value === 'number' && !Number.isFinite(value)) {
    const problem = nonFiniteProblem(value, type.type)
    if (problem !== 'as a number') return problem
  }
  switch (type.type) {
    case 'boolean':
      return typeof value === 'boolean'
        ? undefined
        : error(
            `expected true or false, got ${got} (MLflow would read it by truthiness: "false" and 2 both become true)`
          )
    case 'integer':
    case 'long': {
      if (typeof value !== 'number')
        return error(`expected a whole number, got ${got}; MLflow does not convert it safely`)
      if (!Number.isInteger(value)) {
        return error(
          `${got} is not a whole number: MLflow refuses to convert float64 to int64 for a ${type.type} column (the scoring server would truncate it)`
        )
      }
      const limit = type.type === 'integer' ? INT32 : INT64
      return value >= -limit && value < limit ? undefined : error(`${got} does not fit a ${type.type} column`)
    }
    case 'float':
    case 'double':
      return typeof value === 'number'
        ? undefined
        : error(`expected a number, got ${got}; MLflow does not convert it to ${type.type} safely`)
    case 'string':
      return typeof value === 'string'
        ? undefined
        : { severity: 'warning', message: `expected a string, got ${got}; MLflow passes it to the model unchanged` }
    case 'binary':
      return typeof value === 'string' && isBase64(value)
        ? undefined
        : error(`expected a base64-encoded string for a binary column, got ${got}`)
    case 'datetime':
      // Text is judged a column at a time (datetimes.ts): pandas reads a column in the format of its first value.
      return typeof value === 'number' || typeof value === 'string'
        ? undefined
        : error(`expected a date string, got ${got}`)
  }
}

/**
 * NaN or an infinity in a top-level column (json.dump writes a pandas missing value as NaN): pandas and numpy keep it
 * in a float column and read NaN as missing in a text or date column; they cannot make an integer of either.
 * Returns undefined when it passes, 'as a number' when the usual number rules decide.
 */
function nonFiniteProblem(value: number, type: DataTypeName): ValueProblem | undefined | 'as a number' {
  const nan = Number.isNaN(value)
  const error = (message: string): ValueProblem => ({ severity: 'error', message })
  switch (type) {
    case 'float':
    case 'double':
      return undefined
    case 'integer':
    case 'long':
      return error(
        nan
          ? `NaN in ${type === 'integer' ? 'an' : 'a'} ${type} column: MLflow cannot convert a missing value to an integer (declare the column double if it may be missing)`
          : `${value} in ${type === 'integer' ? 'an' : 'a'} ${type} column: MLflow cannot convert an infinity to an integer`
      )
    case 'string':
      // pandas' own missing value in a text column, as null is.
      return nan ? undefined : 'as a number'
    case 'boolean':
      // MLflow takes it, and the model gets true (NaN is truthy); refused on purpose, as a number is.
      return error(
        `${value} in a boolean column: MLflow reads it by truthiness, so the model would get true; write true or false (or null)`
      )
    case 'binary':
      return error(
        `${value} in a binary column: dataframe bodies cannot decode it, and inputs or instances hand the model the bytes "${String(value).toLowerCase().replace('infinity', 'inf')}"`
      )
    case 'datetime':
      // Judged a column at a time, by the reader of the body (datetimes.ts).
      return undefined
  }
}

/**
 * A value inside an array, object or map, as `_enforce_type` judges it: no conversion to the declared type comes
 * first, so pandas' dtype of the value decides (an int is int64, a float float64) and only widening is allowed.
 */
function nestedProblem(
  value: unknown,
  type: ValueType,
  required: boolean,
  numberForm?: NumberForm,
  holder?: object,
  key?: string | number
): ValueProblem | undefined {
  const error = (message: string): ValueProblem => ({ severity: 'error', message })
  switch (type.kind) {
    case 'any':
      return undefined
    case 'scalar': {
      if (value === null) return required ? error(`expected a ${type.type} value, got null`) : undefined
      if (typeof value === 'object') return error(`expected a single ${type.type} value, got ${describeValue(value)}`)
      const form =
        holder !== undefined && key !== undefined ? formOf(value, holder, key, numberForm) : defaultForm(value)
      return seriesProblem([value], [form], type.type, true)
    }
    case 'array':
    case 'sparkml_vector': {
      if (value === null || (Array.isArray(value) && value.length === 0)) {
        return required && value === null ? error('expected a list, got null') : undefined
      }
      if (!Array.isArray(value)) return error(`expected a list, got ${describeValue(value)}`)
      const items = type.kind === 'array' ? type.items : ({ kind: 'scalar', type: 'double' } as const)
      if (items.kind === 'scalar') {
        return seriesProblem(
          value,
          value.map((item, index) => formOf(item, value, index, numberForm)),
          items.type
        )
      }
      for (const [index, item] of value.entries()) {
        const problem = nestedProblem(item, items, required, numberForm, value, index)
        if (problem) return { ...problem, message: `item ${index}: ${problem.message}` }
      }
      return undefined
    }
    case 'object': {
      if (value === null) return required ? error('expected an object, got null') : undefined
      if (typeof value !== 'object' || Array.isArray(value))
        return error(`expected an object, got ${describeValue(value)}`)
      const record = value as Record<string, unknown>
      const missing = type.properties.filter(p => p.required && !(p.name in record)).map(p => p.name)
      if (missing.length) return error(`is missing required properties: ${missing.join(', ')}`)
      const declared = new Set(type.properties.map(p => p.name))
      const extra = Object.keys(record).filter(k => !declared.has(k))
      if (extra.length)
        return error(`has properties the schema does not declare (MLflow refuses them): ${extra.join(', ')}`)
      for (const property of type.properties) {
        if (!(property.name in record)) continue
        const problem = nestedProblem(
          record[property.name],
          property.type,
          property.required,
          numberForm,
          record,
          property.name
        )
        if (problem) return { ...problem, message: `property ${property.name}: ${problem.message}` }
      }
      return undefined
    }
    case 'map': {
      if (value === null) return required ? error('expected a map, got null') : undefined
      if (typeof value !== 'object' || Array.isArray(value)) return error(`expected a map, got ${describeValue(value)}`)
      for (const [name, item] of Object.entries(value)) {
        const problem = nestedProblem(item, type.values, required, numberForm, value, name)
        if (problem) return { ...problem, message: `key ${JSON.stringify(name)}: ${problem.message}` }
      }
      return undefined
    }
  }
}

/**
 * A column that reaches `_enforce_mlflow_datatype` with no conversion first (the rows of a list whose first column
 * is `any`): pandas' dtype of the values decides, as for values inside arrays.
 */
export function checkRawColumn(
  values: unknown[],
  forms: Array<'int' | 'float' | undefined>,
  type: DataTypeName
): ValueProblem | undefined {
  if (type === 'string' || type === 'binary') {
    // Objects pass unchecked where text is declared; only a column of numbers or booleans is refused.
    const present = values.filter(v => v !== null)
    if (present.length && present.every(v => typeof v === 'number' || typeof v === 'boolean')) {
      return { severity: 'error', message: `MLflow refuses numbers or booleans where ${type} is declared` }
    }
    return present.some(v => typeof v !== 'string')
      ? { severity: 'error', message: `text mixed with other values, which MLflow passes unchecked` }
      : undefined
  }
  return seriesProblem(values, forms, type)
}

/** pandas infers one dtype for the values, and `_enforce_mlflow_datatype` allows only widening from it. */
function seriesProblem(
  values: unknown[],
  forms: Array<'int' | 'float' | undefined>,
  type: DataTypeName,
  single = false
): ValueProblem | undefined {
  const present = values.filter(v => v !== null)
  if (present.length === 0) return undefined
  if (present.some(v => typeof v === 'object')) {
    return {
      severity: 'error',
      message: `expected ${type} values, got a nested ${describeValue(present.find(v => typeof v === 'object'))}`
    }
  }
  const numbers = present.every(v => typeof v === 'number')
  const dtype = numbers
    ? values.length === present.length && forms.every(f => f === 'int')
      ? 'int64'
      : 'float64'
    : present.every(v => typeof v === 'boolean')
      ? values.length === present.length
        ? 'bool'
        : 'object'
      : present.every(v => typeof v === 'string')
        ? 'str'
        : 'object'
  const refuse = (why: string): ValueProblem => ({
    severity: 'error',
    message: `${describeValue(values.length === 1 ? values[0] : values)}: ${why}`
  })
  switch (type) {
    case 'integer':
    case 'float':
      // int64 → int32 and float64 → float32 are narrowing, which MLflow refuses, but for a single 0 or 1 (an
      // array's values come back from the first check as Python floats, which the second refuses).
      if (type === 'float' && single && dtype === 'int64' && present.every(v => v === 0 || v === 1)) return undefined
      return refuse(
        `MLflow cannot accept JSON numbers for ${type} inside arrays, maps or objects (it reads them as 64-bit and refuses to narrow); declare ${type === 'integer' ? 'long' : 'double'}`
      )
    case 'long':
      return dtype === 'int64'
        ? undefined
        : refuse(`MLflow refuses ${dtype} where long is declared (write whole numbers without a decimal point)`)
    case 'double':
      if (dtype === 'float64') return undefined
      if (dtype === 'int64' && present.every(v => v === 0 || v === 1)) return undefined
      return refuse(
        dtype === 'int64'
          ? 'MLflow refuses integers other than 0 and 1 where double is declared inside arrays, maps or objects; write them with a decimal point (2.0)'
          : `MLflow refuses ${dtype} where double is declared`
      )
    case 'boolean':
      if (dtype === 'bool') return undefined
      // pandas leaves a mix as objects, which MLflow passes unchecked (and turns null into false); refused on purpose.
      if (dtype === 'object') {
        return refuse(
          present.every(v => typeof v === 'boolean')
            ? 'null among booleans, which MLflow turns into false'
            : 'values other than true and false, which MLflow passes to the model unchecked where boolean is declared'
        )
      }
      return refuse(`MLflow refuses ${dtype} where boolean is declared`)
    case 'string':
    case 'binary':
      if (dtype === 'str') return undefined
      // A mix of text and other values stays objects, which MLflow passes unchecked; refused on purpose.
      if (dtype === 'object') {
        return refuse(
          `text mixed with other values, which MLflow passes to the model unchecked where ${type} is declared`
        )
      }
      return refuse(`MLflow refuses ${dtype} where ${type} is declared`)
    case 'datetime':
      // pandas reads the text as strings, which `_enforce_mlflow_datatype` does not convert to datetime64.
      return refuse(
        'MLflow refuses datetimes inside arrays, objects and maps (it reads them as text and does not convert them); declare string and parse it in the model'
      )
  }
}

function formOf(
  value: unknown,
  holder: object,
  key: string | number,
  numberForm?: NumberForm
): 'int' | 'float' | undefined {
  if (typeof value !== 'number') return undefined
  return numberForm?.(holder, key) ?? defaultForm(value)
}

function defaultForm(value: unknown): 'int' | 'float' | undefined {
  if (typeof value !== 'number') return undefined
  return Number.isInteger(value) ? 'int' : 'float'
}

function isBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, '')
  // Python's base64.decodebytes, which MLflow decodes binary columns with, needs the padding.
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact)
}
