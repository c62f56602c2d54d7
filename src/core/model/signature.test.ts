import { describe, expect, it } from '@jest/globals'
import {
  checkColumnValue,
  checkParamValue,
  describeSchema,
  formatType,
  parseParamSchema,
  parseSchema,
  SignatureError,
  type ParamSpec,
  type TensorSpec,
  type ValueType
} from './signature.js'

// Strings exactly as MLflow 3.17 writes them into MLmodel (see test/fixtures/models/make_models.py).
const CHURN_INPUTS =
  '[{"type": "long", "name": "tenure_months", "required": true}, {"type": "double", "name": "monthly_charges", "required": true}, {"type": "string", "name": "contract", "required": true}, {"type": "boolean", "name": "paperless_billing", "required": true}]'
const TENSOR = '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]'
const COMPLEX =
  '[{"type": "long", "name": "id", "required": true}, {"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}, {"type": "object", "properties": {"city": {"type": "string", "required": true}, "floor": {"type": "long", "required": false}}, "name": "address", "required": true}, {"type": "map", "values": {"type": "double"}, "name": "weights", "required": false}]'
const PARAMS =
  '[{"name": "threshold", "default": 0.5, "shape": null, "type": "double"}, {"name": "top_k", "default": 3, "shape": null, "type": "long"}, {"name": "labels", "default": ["stay", "churn"], "shape": [-1], "type": "string"}, {"name": "verbose", "default": false, "shape": null, "type": "boolean"}]'

function signatureError(action: () => unknown): SignatureError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureError)
    return error as SignatureError
  }
  throw new Error('expected a SignatureError')
}

describe('parseSchema', () => {
  it('reads named column specs with every scalar type', () => {
    const { schema, warnings } = parseSchema(CHURN_INPUTS)
    expect(warnings).toEqual([])
    expect(schema.kind).toBe('columns')
    expect(schema.named).toBe(true)
    expect(schema.specs.map(s => [s.name, s.kind === 'column' && formatType(s.type)])).toEqual([
      ['tenure_months', 'long'],
      ['monthly_charges', 'double'],
      ['contract', 'string'],
      ['paperless_billing', 'boolean']
    ])
    expect(describeSchema(schema)).toBe('4 named columns')
    for (const type of ['integer', 'float', 'binary', 'datetime']) {
      expect(parseSchema(`[{"type": "${type}", "name": "x"}]`).schema.specs[0]).toMatchObject({ required: true })
    }
  })

  it('reads arrays, objects, maps, optional columns, sparkml vectors and any', () => {
    const { schema } = parseSchema(COMPLEX)
    expect(schema.specs.map(s => (s.kind === 'column' ? formatType(s.type) : ''))).toEqual([
      'long',
      'array<string>',
      'object{city: string, floor?: long}',
      'map<double>'
    ])
    expect(schema.specs[3]).toMatchObject({ name: 'weights', required: false })
    const other = parseSchema('[{"type": "sparkml_vector", "name": "v"}, {"type": "any", "name": "a"}]').schema
    expect(other.specs.map(s => (s.kind === 'column' ? s.type.kind : ''))).toEqual(['sparkml_vector', 'any'])
  })

  it('reads tensor specs', () => {
    const { schema } = parseSchema(TENSOR)
    expect(schema).toEqual({
      kind: 'tensors',
      named: false,
      specs: [{ kind: 'tensor', dtype: 'float64', shape: [-1, 4] }]
    })
    expect(formatType(schema.specs[0] as never)).toBe('tensor float64 [-1, 4]')
    const named = parseSchema(
      '[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "int32", "shape": [-1]}}, {"name": "b", "type": "tensor", "tensor-spec": {"dtype": "datetime64[ns]", "shape": [-1, 2]}}]'
    )
    expect(named.schema.named).toBe(true)
    expect(named.warnings).toEqual([])
  })

  const tensor = (dtype: string) => `[{"type": "tensor", "tensor-spec": {"dtype": "${dtype}", "shape": [-1]}}]`
  const dtypeOf = (dtype: string) => (parseSchema(tensor(dtype)).schema.specs[0] as TensorSpec).dtype

  it('reads numpy dtype names, aliases and type codes as numpy does', () => {
    expect(['float', 'double', 'f8', '<f8', 'd'].map(dtypeOf)).toEqual(Array(5).fill('float64'))
    expect(['int', 'i8', 'long', 'int_'].map(dtypeOf)).toEqual(Array(4).fill('int64'))
    expect(['U', 'unicode', 'str_'].map(dtypeOf)).toEqual(['str', 'str', 'str'])
    expect(['?', 'b1', 'bool_'].map(dtypeOf)).toEqual(['bool', 'bool', 'bool'])
    expect(dtypeOf('M8[ns]')).toBe('datetime64[ns]')
    expect(dtypeOf('timedelta64[s]')).toBe('timedelta64[s]')
  })

  it.each([
    ['string', /not a numpy dtype name/],
    ['float8', /not a numpy dtype name/],
    ['int0', /not a numpy dtype name/],
    ['str32', /sized string names/],
    ['<U10', /MLflow refuses sizes on string types/],
    ['S5', /MLflow refuses sizes on string types/]
  ])('fails dtype %s, which MLflow cannot load', (dtype, message) => {
    const error = signatureError(() => parseSchema(tensor(dtype)))
    expect(error.message).toMatch(message)
    expect(error.mlflowRefuses).toBe(true)
  })

  it('fails a dtype it cannot check values against, without claiming MLflow cannot load it', () => {
    for (const dtype of ['float8_e4m3', 'i4,f8', 'V4']) {
      const error = signatureError(() => parseSchema(tensor(dtype)))
      expect(error.message).toMatch(/modelgate cannot check values against/)
      expect(error.mlflowRefuses).toBe(false)
    }
  })

  it.each([
    ['not JSON', '[{"type": ', /not valid JSON/, []],
    ['an empty list', '[]', /empty list/, []],
    ['a map', '{"type": "long"}', /expected a JSON list/, []],
    [
      'an unknown type',
      '[{"type": "long", "name": "a"}, {"type": "lng", "name": "b"}]',
      /type "lng"; expected one of/,
      [1, 'type']
    ],
    [
      'a bad item type',
      '[{"type": "array", "items": {"type": "strin"}, "name": "a"}]',
      /"strin"/,
      [0, 'items', 'type']
    ],
    ['an array without items', '[{"type": "array", "name": "a"}]', /items spec/, [0, 'items']],
    [
      'an object without properties',
      '[{"type": "object", "properties": {}, "name": "a"}]',
      /without properties/,
      [0, 'properties']
    ],
    [
      'required that is not a boolean',
      '[{"type": "long", "name": "a", "required": "yes"}]',
      /true or false/,
      [0, 'required']
    ],
    [
      'mixed columns and tensors',
      `[{"type": "long", "name": "a"}, {"name": "b", "type": "tensor", "tensor-spec": {"dtype": "int8", "shape": [-1]}}]`,
      /mixes column specs and tensor specs/,
      []
    ],
    ['mixed named and unnamed', '[{"type": "long", "name": "a"}, {"type": "long"}]', /named and unnamed/, []],
    ['unnamed optional columns', '[{"type": "long", "required": false}]', /unnamed optional/, []],
    ['several unnamed tensors', `[${TENSOR.slice(1, -1)}, ${TENSOR.slice(1, -1)}]`, /several unnamed tensors/, []],
    ['a duplicate name', '[{"type": "long", "name": "a"}, {"type": "double", "name": "a"}]', /twice/, [1, 'name']],
    [
      'a tensor without a shape',
      '[{"type": "tensor", "tensor-spec": {"dtype": "int8"}}]',
      /shape/,
      [0, 'tensor-spec', 'shape']
    ]
  ])('refuses %s, pointing inside the JSON', (_name, json, message, path) => {
    const error = signatureError(() => parseSchema(json))
    expect(error.message).toMatch(message)
    expect(error.path).toEqual(path)
  })
})

describe('parseParamSchema', () => {
  it('reads params as MLflow writes them', () => {
    const params = parseParamSchema(PARAMS)
    expect(params.map(p => [p.name, formatType(p.type), p.default, p.shape])).toEqual([
      ['threshold', 'double', 0.5, null],
      ['top_k', 'long', 3, null],
      ['labels', 'string', ['stay', 'churn'], [-1]],
      ['verbose', 'boolean', false, null]
    ])
  })

  it('accepts the old dtype key and object params', () => {
    const [old, object] = parseParamSchema(
      '[{"name": "n", "dtype": "long", "default": 1}, {"name": "o", "type": "object", "properties": {"k": {"type": "string"}}, "default": {"k": "v"}, "shape": null}]'
    )
    expect(formatType(old!.type)).toBe('long')
    expect(formatType(object!.type)).toBe('object{k: string}')
  })

  it.each([
    ['a binary param', '[{"name": "b", "type": "binary", "default": null}]', /type "binary"/],
    ['a param without default', '[{"name": "b", "type": "long"}]', /no default/],
    ['a bad shape', '[{"name": "b", "type": "long", "default": 1, "shape": [2]}]', /shape \[2\]/],
    [
      'a default of the wrong type',
      '[{"name": "b", "type": "long", "default": "x"}]',
      /default: expected a whole number/
    ],
    [
      'a duplicate param',
      '[{"name": "b", "type": "long", "default": 1}, {"name": "b", "type": "long", "default": 1}]',
      /twice/
    ]
  ])('refuses %s', (_name, json, message) => {
    expect(signatureError(() => parseParamSchema(json)).message).toMatch(message)
  })
})

describe('checkColumnValue (a top-level column, converted to its type first)', () => {
  const scalar = (type: string) => ({ kind: 'scalar', type }) as ValueType
  const verdict = (value: unknown, type: string, required = true) =>
    checkColumnValue(value, scalar(type), required)?.severity ?? 'ok'

  it('lets through what converts without change', () => {
    expect(verdict(3, 'long')).toBe('ok')
    expect(verdict(3, 'integer')).toBe('ok')
    expect(verdict(3, 'double')).toBe('ok')
    expect(verdict(2.5, 'float')).toBe('ok')
    expect(verdict(null, 'double')).toBe('ok')
    expect(verdict(null, 'string')).toBe('ok')
    expect(verdict('x', 'string')).toBe('ok')
    expect(verdict(true, 'boolean')).toBe('ok')
    expect(verdict('aGVsbG8=', 'binary')).toBe('ok')
    expect(verdict('2024-01-02 03:04:05', 'datetime')).toBe('ok')
    expect(verdict(1700000000, 'datetime')).toBe('ok')
  })

  it('fails what MLflow refuses or would change', () => {
    expect(checkColumnValue(1.5, scalar('long'), true)?.message).toMatch(/1.5 is not a whole number.*int64/)
    expect(verdict('1.5', 'double')).toBe('error')
    expect(verdict('abc', 'double')).toBe('error')
    expect(verdict(1, 'boolean')).toBe('error')
    expect(verdict(true, 'long')).toBe('error')
    expect(verdict(2 ** 31, 'integer')).toBe('error')
    expect(checkColumnValue(null, scalar('long'), false)?.message).toMatch(/declare the column double/)
    expect(verdict('not base64!', 'binary')).toBe('error')
    expect(verdict([1], 'double')).toBe('error')
  })

  it('warns where the model would get another type than declared', () => {
    expect(verdict(3, 'string')).toBe('warning')
    expect(verdict(null, 'boolean')).toBe('warning')
  })

  it('judges nested values strictly, by how the number was written', () => {
    const doubles: ValueType = { kind: 'array', items: scalar('double') }
    expect(checkColumnValue([0.5, 2.5], doubles, true)).toBeUndefined()
    expect(checkColumnValue([0, 1], doubles, true)).toBeUndefined()
    expect(checkColumnValue([2, 3], doubles, true)?.message).toMatch(/write them with a decimal point/)
    expect(checkColumnValue([2, 3.5], doubles, true)).toBeUndefined()
    const written = [2, 3]
    const asFloats = (holder: object) => (holder === written ? 'float' : undefined)
    expect(checkColumnValue(written, doubles, true, asFloats)).toBeUndefined()
    expect(checkColumnValue([1], { kind: 'array', items: scalar('integer') }, true)?.message).toMatch(/declare long/)
    expect(checkColumnValue([0.5], { kind: 'array', items: scalar('float') }, true)?.message).toMatch(/declare double/)
    expect(checkColumnValue([2.5], { kind: 'array', items: scalar('long') }, true)?.severity).toBe('error')
    expect(checkColumnValue(['x'], { kind: 'array', items: scalar('boolean') }, true)?.severity).toBe('error')
    expect(checkColumnValue(null, { kind: 'array', items: scalar('string') }, true)?.message).toMatch(/got null/)
    expect(checkColumnValue(null, { kind: 'array', items: scalar('string') }, false)).toBeUndefined()
  })

  it('checks objects and maps property by property', () => {
    const address: ValueType = {
      kind: 'object',
      properties: [
        { name: 'city', type: scalar('string'), required: true },
        { name: 'floor', type: scalar('long'), required: false }
      ]
    }
    expect(checkColumnValue({ city: 'Porto' }, address, true)).toBeUndefined()
    expect(checkColumnValue({ floor: 2 }, address, true)?.message).toMatch(/missing required properties: city/)
    expect(checkColumnValue({ city: 'P', zip: 'x' }, address, true)?.message).toMatch(/does not declare.*zip/)
    expect(checkColumnValue({ city: 'P', floor: 2.5 }, address, true)?.message).toMatch(/property floor/)
    const weights: ValueType = { kind: 'map', values: scalar('double') }
    expect(checkColumnValue({ a: 0.5, b: 1 }, weights, true)).toBeUndefined()
    expect(checkColumnValue({ a: 2 }, weights, true)?.message).toMatch(/key "a"/)
  })
})

describe('checkParamValue', () => {
  const [threshold, topK, labels, verbose] = parseParamSchema(PARAMS) as [ParamSpec, ParamSpec, ParamSpec, ParamSpec]

  it('follows _enforce_param_datatype', () => {
    expect(checkParamValue(0.7, threshold)).toBeUndefined()
    expect(checkParamValue(1, threshold)).toBeUndefined()
    expect(checkParamValue('x', threshold)).toMatch(/expected a number/)
    expect(checkParamValue(2, topK)).toBeUndefined()
    expect(checkParamValue(2.5, topK)).toMatch(/whole number/)
    expect(checkParamValue(true, topK)).toMatch(/whole number/)
    expect(checkParamValue(['a'], labels)).toBeUndefined()
    expect(checkParamValue('a', labels)).toMatch(/expected a list/)
    expect(checkParamValue([1], labels)).toMatch(/item 0: expected a string/)
    expect(checkParamValue(1, verbose)).toMatch(/true or false/)
    expect(checkParamValue(null, verbose)).toBeUndefined()
  })

  it('refuses a whole number written as a float for a long, as Python does', () => {
    const params = { top_k: 2 }
    expect(checkParamValue(2, topK, () => 'float', params)).toMatch(/whole number/)
    expect(checkParamValue(2, topK, () => undefined, params)).toBeUndefined()
  })
})
