/**
 * The serving example judged as MLflow 3.17's scoring server judges it: one test per difference the serving
 * differential (test/serving-differential) found between modelgate and `mlflow.models.validate_serving_input`.
 * Each expectation here is MLflow's own answer for the same body, checked with that function.
 */
import { describe, expect, it } from '@jest/globals'
import { parseJsonDocument } from '../json/document.js'
import { checkServingPayload } from './input-example.js'
import { parseParamSchema, parseSchema, SignatureError } from './signature.js'

function problems(schema: string, body: string, params?: string): string[] {
  const document = parseJsonDocument(body)
  const signature = { inputs: parseSchema(schema).schema, ...(params ? { params: parseParamSchema(params) } : {}) }
  return checkServingPayload(document.value, signature, document.numberForm)
    .problems.filter(p => p.severity === 'error')
    .map(p => p.message)
}

const tensor = (dtype: string, shape: number[], name?: string) =>
  JSON.stringify({ type: 'tensor', 'tensor-spec': { dtype, shape }, ...(name ? { name } : {}) })
const tensors = (...specs: string[]) => `[${specs.join(', ')}]`
const column = (type: string, name: string, required = true, extra = '') =>
  `{"type": "${type}", "name": "${name}", "required": ${required}${extra}}`

describe('named tensors', () => {
  const schema = tensors(tensor('float64', [-1], 't0'), tensor('int32', [-1, 2], 't1'))

  it('checks every tensor, not only the first', () => {
    expect(problems(schema, '{"inputs": {"t0": [1.5], "t1": [[1, 2]]}}')).toEqual([])
    expect(problems(schema, '{"inputs": {"t0": [1.5], "t1": [["a", 2]]}}')).toEqual([
      't1 (tensor int32): expected whole numbers that fit int32, got "a"'
    ])
    expect(problems(schema, '{"inputs": {"t0": [1.5], "t1": [[1, 2, 3]]}}')[0]).toMatch(/^t1: shape \[1, 3\]/)
  })

  it('needs as many rows in every tensor of instances (inputs may differ)', () => {
    const body = (format: string) => `{"${format}": {"t0": [1.5, 2.5, 3.5], "t1": [[1, 2]]}}`
    expect(problems(schema, body('inputs'))).toEqual([])
    expect(problems(schema, body('instances'))).toEqual([
      'instances: the tensors have different numbers of rows (t0: 3, t1: 1); the scoring server refuses that for instances (inputs takes tensors of different lengths)'
    ])
  })
})

describe('ragged tensors', () => {
  it('refuses rows of different lengths unless the dtype is object', () => {
    expect(problems(tensors(tensor('float64', [-1, -1])), '{"inputs": [[1, 2], [3]]}')[0]).toMatch(
      /rows of different lengths; numpy cannot make a float64 array/
    )
    expect(problems(tensors(tensor('object', [-1, -1])), '{"inputs": [[1, 2], [3]]}')).toEqual([])
    // An object tensor of shape [-1] takes anything; one with a fixed later size needs that size.
    expect(problems(tensors(tensor('object', [-1])), '{"inputs": [[1, [2]], {"a": 1}]}')).toEqual([])
    expect(problems(tensors(tensor('object', [-1, 2])), '{"inputs": [[1, 2], [3]]}')[0]).toMatch(/shape \[2\]/)
  })

  it('refuses ragged rows when instances records are stacked, even for object', () => {
    const schema = tensors(tensor('object', [-1, -1], 't0'))
    expect(problems(schema, '{"instances": [{"t0": [1, 2]}, {"t0": [3]}]}')[0]).toMatch(/stacks the rows of instances/)
    expect(problems(schema, '{"inputs": {"t0": [[1, 2], [3]]}}')).toEqual([])
  })
})

describe('dataframe cells feeding a tensor', () => {
  const schema = tensors(tensor('float32', [-1, 2, 1], 't0'))

  it('takes flat lists of one row of the tensor, reshaped', () => {
    expect(problems(schema, '{"dataframe_records": [{"t0": [1, 2]}, {"t0": [3, 4]}]}')).toEqual([])
  })

  it('refuses cells nested deeper than a list of single values, or of another size', () => {
    expect(problems(schema, '{"dataframe_records": [{"t0": [[1], [2]]}]}')[0]).toMatch(
      /must be a single value or a flat list of values/
    )
    expect(problems(schema, '{"dataframe_records": [{"t0": [1, 2]}, {"t0": [3]}]}')[0]).toMatch(
      /row 1 is \[3\]; each row must be a flat list of 2 values/
    )
  })

  it('refuses lists for a bytes tensor, which MLflow encodes cell by cell', () => {
    expect(
      problems(
        tensors(tensor('bytes', [-1, 1], 't0')),
        '{"dataframe_split": {"columns": ["t0"], "data": [[["a"]]]}}'
      )[0]
    ).toMatch(/must hold strings/)
  })
})

describe('datetimes', () => {
  const schema = `[${column('datetime', 'when')}]`

  it('reads a dataframe column in the format of its first value, without timezones', () => {
    expect(
      problems(schema, '{"dataframe_split": {"columns": ["when"], "data": [["2024-01-02"], ["2024-02-29"]]}}')
    ).toEqual([])
    expect(
      problems(
        schema,
        '{"dataframe_split": {"columns": ["when"], "data": [["2024-01-02"], ["2024-01-02T03:04:05"]]}}'
      )[0]
    ).toMatch(/not written like the column's first date/)
    expect(problems(schema, '{"dataframe_records": [{"when": "2024-01-02T03:04:05Z"}]}')[0]).toMatch(/has a timezone/)
    expect(problems(schema, '{"dataframe_records": [{"when": "2024-13-45"}]}')[0]).toMatch(/not a date/)
  })

  it('reads inputs value by value, as numpy does: ISO 8601, any offset', () => {
    expect(problems(schema, '{"inputs": {"when": ["2024-01-02", "2024-01-02T03:04:05+02:00"]}}')).toEqual([])
    expect(problems(schema, '{"inputs": {"when": ["01/02/2024"]}}')[0]).toMatch(/not an ISO 8601 date/)
  })

  it('refuses datetimes inside arrays, objects and maps', () => {
    const nested = `[${column('array', 'when', true, ', "items": {"type": "datetime"}')}]`
    expect(problems(nested, '{"inputs": [{"when": ["2024-01-02"]}]}')[0]).toMatch(
      /MLflow refuses datetimes inside arrays, objects and maps/
    )
  })
})

describe('lists of rows in inputs and instances', () => {
  it('converts every value to the first column type, as MLflow does', () => {
    const schema = '[{"type": "long"}, {"type": "double"}]'
    expect(problems(schema, '{"inputs": [[1, 2], [3, 4]]}')).toEqual([
      "column 1 (double): MLflow converts every value of a list of rows to the first column's type (long), which this column refuses; send dataframe_split or a list of records"
    ])
    expect(problems(schema, '{"dataframe_split": {"data": [[1, 2], [3, 4]]}}')).toEqual([])
    expect(problems('[{"type": "integer"}, {"type": "long"}]', '{"instances": [[1, 2]]}')).toEqual([])
  })
})

describe('map columns in a map body', () => {
  const schema = `[${column('long', 'id')}, ${column('map', 'weights', true, ', "values": {"type": "double"}')}]`

  it('refuses a map (its keys become row labels) and a list of maps (read as one value)', () => {
    expect(problems(schema, '{"inputs": {"id": [1, 2], "weights": {"a": 1.5}}}')[0]).toMatch(
      /weights is a map in a body of columns/
    )
    expect(problems(schema, '{"inputs": {"id": [1], "weights": [{"a": 1.5}]}}')[0]).toMatch(/weights is a list/)
    expect(problems(schema, '{"inputs": [{"id": 1, "weights": {"a": 1.5}}]}')).toEqual([])
  })
})

describe('optional array, object and map columns', () => {
  const schema = `[${column('long', 'id')}, ${column('array', 'tags', false, ', "items": {"type": "string"}')}]`

  it('refuses one missing from some records (NaN), and takes null or leaving it out of all', () => {
    expect(problems(schema, '{"dataframe_records": [{"id": 1, "tags": ["a"]}, {"id": 2}]}')[0]).toMatch(
      /row 1, column tags \(array<string>\): missing from this record but present in others/
    )
    expect(problems(schema, '{"dataframe_records": [{"id": 1, "tags": ["a"]}, {"id": 2, "tags": null}]}')).toEqual([])
    expect(problems(schema, '{"dataframe_records": [{"id": 1}, {"id": 2}]}')).toEqual([])
  })
})

describe('params', () => {
  it('refuses a default written in the wrong number form', () => {
    expect(() => parseParamSchema('[{"name": "k", "type": "long", "default": 1.0, "shape": null}]')).toThrow(
      SignatureError
    )
    expect(parseParamSchema('[{"name": "k", "type": "long", "default": 1, "shape": null}]')[0]?.default).toBe(1)
    expect(parseParamSchema('[{"name": "t", "type": "double", "default": 1, "shape": null}]')[0]?.default).toBe(1)
  })

  it('reads datetime params as numpy does, and refuses lists of objects', () => {
    const params = '[{"name": "at", "type": "datetime", "default": "2024-01-02", "shape": null}]'
    const body = (at: string) => `{"inputs": [1], "params": {"at": ${at}}}`
    expect(problems('[{"type": "long"}]', body('"2024-01-02T03:04:05Z"'), params)).toEqual([])
    expect(problems('[{"type": "long"}]', body('"Jan 2 2024"'), params)[0]).toMatch(/not an ISO 8601 date/)
    expect(problems('[{"type": "long"}]', body('20240102'), params)[0]).toMatch(/without a unit/)
    expect(() =>
      parseParamSchema(
        '[{"name": "o", "type": "object", "properties": {"k": {"type": "long"}}, "default": [{"k": 1}], "shape": [-1]}]'
      )
    ).toThrow(/list of objects/)
  })
})
