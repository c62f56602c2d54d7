import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { describeWithPython, realModels, REPO_ROOT, runPython } from '../../../test/fixtures/models/real-models.js'
import {
  checkServingPayload,
  inputExampleLayoutProblem,
  readExampleFile,
  servingPayloadFromInputExample,
  type PayloadSignature
} from './input-example.js'
import { parseJsonDocument } from '../json/document.js'
import { parseMLmodel } from '../model-dir/mlmodel.js'
import { parseParamSchema, parseSchema } from './signature.js'

const CHURN: PayloadSignature = {
  inputs: parseSchema(
    '[{"type": "long", "name": "tenure_months", "required": true}, {"type": "double", "name": "monthly_charges", "required": true}, {"type": "string", "name": "contract", "required": true}, {"type": "boolean", "name": "paperless_billing", "required": true}, {"type": "string", "name": "note", "required": false}]'
  ).schema
}
const COLUMNS = ['tenure_months', 'monthly_charges', 'contract', 'paperless_billing']

function check(body: unknown, signature: PayloadSignature = CHURN) {
  const text = JSON.stringify(body)
  const document = parseJsonDocument(text)
  return checkServingPayload(document.value, signature, document.numberForm)
}
const split = (rows: unknown[][], columns = COLUMNS) => ({ dataframe_split: { columns, data: rows } })
const severities = (result: ReturnType<typeof check>) => result.problems.map(p => p.severity)

describe('checkServingPayload: column signatures', () => {
  it('passes a body that fits', () => {
    const result = check(
      split([
        [6, 51.92, 'month-to-month', false],
        [46, 81, 'one-year', true]
      ])
    )
    expect(result).toEqual({ problems: [], format: 'dataframe_split', rows: 2 })
  })

  it('fails a missing required column and names it, as MLflow does', () => {
    const result = check(split([[6, 51.92, false]], ['tenure_months', 'monthly_charges', 'paperless_billing']))
    expect(result.problems).toEqual([
      { severity: 'error', message: expect.stringMatching(/missing required column contract.*Model is missing inputs/) }
    ])
  })

  it('lets an optional column be absent or null', () => {
    expect(check(split([[6, 1.5, 'x', true, null]], [...COLUMNS, 'note'])).problems).toEqual([])
  })

  it('warns about an extra column, which MLflow drops', () => {
    const result = check(split([[6, 51.92, 'one-year', true, 1]], [...COLUMNS, 'customer_id']))
    expect(result.problems).toEqual([
      { severity: 'warning', message: 'column customer_id not in the signature: MLflow drops them' }
    ])
  })

  it('fails 1.5 for a long column, with the row and column', () => {
    const [problem, ...rest] = check(split([[1.5, 51.92, 'one-year', true]])).problems
    expect(rest).toEqual([])
    expect(problem?.severity).toBe('error')
    expect(problem?.message).toMatch(/^row 0, column tenure_months \(long\): 1.5 is not a whole number/)
  })

  it('fails a string for a double and passes an integer for it', () => {
    expect(severities(check(split([[6, 'abc', 'one-year', true]])))).toEqual(['error'])
    expect(severities(check(split([[6, '51.9', 'one-year', true]])))).toEqual(['error'])
    expect(check(split([[6, 52, 'one-year', true]])).problems).toEqual([])
  })

  it('reports at most three values per column and counts the rest', () => {
    const rows = Array.from({ length: 6 }, () => [0.5, 1, 'x', true])
    const result = check(split(rows))
    expect(severities(result)).toEqual(['error', 'error', 'error', 'info'])
    expect(result.problems[3]?.message).toMatch(/3 more values/)
  })

  it('reads dataframe_records, inputs and instances into the same columns', () => {
    const record = { tenure_months: 6, monthly_charges: 1.5, contract: 'x', paperless_billing: true }
    expect(check({ dataframe_records: [record] })).toMatchObject({ problems: [], rows: 1 })
    expect(check({ instances: [record, record] })).toMatchObject({ problems: [], rows: 2 })
    expect(check({ inputs: [record] })).toMatchObject({ problems: [], format: 'inputs' })
    const columnar = {
      tenure_months: [6, 7],
      monthly_charges: [1.5, 2],
      contract: ['x', 'y'],
      paperless_billing: [true, false]
    }
    expect(check({ inputs: columnar })).toMatchObject({ problems: [], rows: 2 })
    expect(severities(check({ dataframe_records: [{ ...record, tenure_months: 2.5 }] }))).toEqual(['error'])
    const { contract: _dropped, ...incomplete } = record
    expect(check({ dataframe_records: [incomplete] }).problems[0]?.message).toMatch(/missing required column contract/)
  })

  it('checks unnamed columns by count and position', () => {
    const unnamed = { inputs: parseSchema('[{"type": "double"}, {"type": "string"}]').schema }
    expect(check({ dataframe_split: { data: [[1.5, 'a']] } }, unnamed).problems).toEqual([])
    // A list of rows is converted to the first column's type as a whole (np.array(rows, float64)).
    expect(check({ inputs: [[1.5, 'a']] }, unnamed).problems.map(p => p.message)).toEqual([
      expect.stringMatching(/row 0, column 1: expected a number, got "a".*first column's type \(double\)/),
      expect.stringMatching(
        /column 1 \(string\): MLflow converts every value of a list of rows to the first column's type/
      )
    ])
    const doubles = { inputs: parseSchema('[{"type": "double"}, {"type": "double"}]').schema }
    expect(check({ inputs: [[1.5, 2]] }, doubles).problems).toEqual([])
    expect(check({ inputs: [[1.5]] }, unnamed).problems[0]?.message).toMatch(/has 1 column; the signature declares 2/)
    expect(check({ dataframe_split: { data: [[1.5, 2]] } }, unnamed).problems[0]?.severity).toBe('warning')
  })

  it('refuses a body the scoring server refuses', () => {
    expect(check([1, 2]).problems[0]?.message).toMatch(/must be a JSON object/)
    expect(check({ columns: ['a'], data: [[1]] }).problems[0]?.message).toMatch(/none of dataframe_split/)
    expect(check({ inputs: {}, instances: [] }).problems[0]?.message).toMatch(/exactly one/)
    expect(check({ dataframe_split: { data: [[1]], extra: 1 } }).problems[0]?.message).toMatch(/"data" and may have/)
    expect(check({ dataframe_split: { columns: ['a', 'b'], data: [[1]] } }).problems[0]?.message).toMatch(
      /row 0 has 1 values for 2 columns/
    )
    expect(check({ dataframe_records: { a: 1 } }).problems[0]?.message).toMatch(/list of records/)
  })

  it('warns about keys the server ignores and notes LLM-style bodies', () => {
    const body = { ...split([[6, 1.5, 'x', true]]), comment: 'hi' }
    expect(check(body).problems).toEqual([
      { severity: 'warning', message: 'the scoring server ignores the keys comment' }
    ])
    expect(check({ messages: [{ role: 'user', content: 'hi' }] })).toMatchObject({
      format: 'llm',
      problems: [{ severity: 'info' }]
    })
  })

  it('needs inputs when the signature comes from type hints', () => {
    const result = check(split([[6, 1.5, 'x', true]]), { ...CHURN, fromTypeHint: true })
    expect(result.problems[0]?.message).toMatch(/type hints.*"inputs" body/)
  })
})

describe('checkServingPayload: NaN and infinities, as MLflow writes missing values (json.dump)', () => {
  const signature: PayloadSignature = {
    inputs: parseSchema(
      '[{"type": "double", "name": "d", "required": true}, {"type": "float", "name": "f", "required": false}, {"type": "long", "name": "l", "required": false}, {"type": "integer", "name": "i", "required": false}, {"type": "string", "name": "s", "required": false}, {"type": "boolean", "name": "b", "required": false}, {"type": "binary", "name": "x", "required": false}, {"type": "datetime", "name": "t", "required": false}]'
    ).schema
  }
  const run = (format: string, column: string, values: string[]) => {
    const cells = values.map(v => (column === 'd' ? `[${v}]` : `[1.5, ${v}]`))
    const columns = column === 'd' ? '["d"]' : `["d", "${column}"]`
    const records = values.map(v => (column === 'd' ? `{"d": ${v}}` : `{"d": 1.5, "${column}": ${v}}`))
    const text =
      format === 'dataframe_split'
        ? `{"dataframe_split": {"columns": ${columns}, "data": [${cells.join(', ')}]}}`
        : format === 'dataframe_records'
          ? `{"dataframe_records": [${records.join(', ')}]}`
          : `{"${format}": {"d": [${values.map(() => '1.5').join(', ')}], "${column}": [${values.join(', ')}]}}`
    const document = parseJsonDocument(text, { pythonNumbers: true })
    return checkServingPayload(document.value, signature, document.numberForm).problems
  }
  const FORMATS = ['dataframe_split', 'dataframe_records', 'inputs', 'instances']

  it.each(FORMATS)('%s: passes NaN and infinities in double and float columns, as MLflow does', format => {
    expect(run(format, 'd', ['NaN', 'Infinity', '-Infinity', '2.5'])).toEqual([])
    expect(run(format, 'f', ['NaN', 'Infinity', '-Infinity'])).toEqual([])
  })

  it.each(FORMATS)('%s: fails NaN and infinities in integer columns, which MLflow cannot convert', format => {
    for (const column of ['l', 'i']) {
      const problems = run(format, column, ['3', 'NaN', '-Infinity'])
      expect(problems.map(p => p.severity)).toEqual(['error', 'error'])
      expect(problems[0]?.message).toMatch(
        /row 1, column \w \((long|integer)\): NaN in an? (long|integer) column: MLflow cannot convert a missing value to an integer/
      )
      expect(problems[1]?.message).toMatch(/row 2, .*-Infinity .*MLflow cannot convert an infinity to an integer/)
    }
  })

  it.each(FORMATS)("%s: passes NaN, pandas' missing value, in string columns without a word", format => {
    expect(run(format, 's', ['"a"', 'NaN'])).toEqual([])
  })

  it('passes NaN in a dataframe column of dates (pandas reads it as NaT), and fails it for numpy, as MLflow does', () => {
    expect(run('dataframe_split', 't', ['"2024-01-02"', 'NaN'])).toEqual([])
    expect(run('dataframe_records', 't', ['NaN'])).toEqual([])
    expect(run('inputs', 't', ['"2024-01-02"', 'NaN'])[0]).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/NaN/)
    })
  })

  it('fails NaN where MLflow takes it but hands the model something else, without saying MLflow refuses it', () => {
    const [boolean] = run('dataframe_split', 'b', ['true', 'NaN'])
    expect(boolean?.message).toMatch(/row 1, column b \(boolean\): NaN in a boolean column/)
    expect(boolean?.message).not.toMatch(/MLflow refuses/)
    const [binary] = run('inputs', 'x', ['"aGk="', 'NaN'])
    expect(binary?.message).toMatch(/NaN in a binary column/)
  })
})

describe('checkServingPayload: nested values', () => {
  const signature: PayloadSignature = {
    inputs: parseSchema(
      '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}, {"type": "map", "values": {"type": "double"}, "name": "weights", "required": false}]'
    ).schema
  }
  const body = (weights: string) => `{"inputs": [{"tags": ["a"], "weights": ${weights}}]}`
  const run = (text: string) => {
    const document = parseJsonDocument(text)
    return checkServingPayload(document.value, signature, document.numberForm).problems
  }

  it('refuses 2 but accepts 2.0 where a double is nested, as MLflow does', () => {
    expect(run(body('{"a": 2.0}'))).toEqual([])
    expect(run(body('{"a": 1}'))).toEqual([])
    expect(run(body('{"a": 2}'))[0]?.message).toMatch(/weights \(map<double>\): key "a".*decimal point/)
  })

  it('refuses instances for list-like columns', () => {
    expect(run('{"instances": [{"tags": ["a"]}]}')[0]?.message).toMatch(
      /instances as a list of records turns each column into one list/
    )
  })
})

describe('checkServingPayload: tensor signatures', () => {
  const unnamed: PayloadSignature = {
    inputs: parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]').schema
  }
  it('checks shape and dtype', () => {
    expect(check({ inputs: [[1, 2, 3, 4]] }, unnamed)).toEqual({ problems: [], format: 'inputs', rows: 1 })
    expect(check({ instances: [[1, 2, 3, 4]] }, unnamed).problems).toEqual([])
    expect(check({ inputs: [[1, 2, 3]] }, unnamed).problems[0]?.message).toBe(
      "input: shape [1, 3] does not match the signature's [-1, 4] (-1 matches any size)"
    )
    expect(check({ inputs: [1, 2, 3, 4] }, unnamed).problems[0]?.message).toMatch(/shape \[4\]/)
    expect(check({ inputs: [[1, 2], [3]] }, unnamed).problems[0]?.message).toMatch(/different lengths/)
    expect(check({ inputs: [['a', 2, 3, 4]] }, unnamed).problems[0]?.message).toBe(
      'input (tensor float64): expected numbers, got "a"'
    )
  })

  it('reads a dataframe as a tensor with one column per dimension', () => {
    expect(
      check({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[1, 2, 3, 4]] } }, unnamed).problems
    ).toEqual([])
    expect(
      check({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3]] } }, unnamed).problems[0]?.message
    ).toMatch(/needs tensor shape \[-1, 3\]/)
  })

  it('checks named tensors by name', () => {
    const named: PayloadSignature = {
      inputs: parseSchema(
        '[{"name": "ids", "type": "tensor", "tensor-spec": {"dtype": "int32", "shape": [-1]}}, {"name": "mask", "type": "tensor", "tensor-spec": {"dtype": "bool", "shape": [-1, 2]}}]'
      ).schema
    }
    expect(
      check(
        {
          inputs: {
            ids: [1, 2],
            mask: [
              [true, false],
              [false, true]
            ]
          }
        },
        named
      ).problems
    ).toEqual([])
    expect(check({ instances: [{ ids: 1, mask: [true, true] }] }, named).problems).toEqual([])
    const bad = check({ inputs: { ids: [1.5, 2 ** 40] } }, named).problems.map(p => p.message)
    expect(bad).toEqual([
      'ids (tensor int32): expected whole numbers that fit int32, got 1.5, 1099511627776',
      'missing input mask: MLflow refuses the request ("Model is missing inputs")'
    ])
  })
})

describe('checkServingPayload: params', () => {
  const signature: PayloadSignature = {
    ...CHURN,
    params: parseParamSchema(
      '[{"name": "threshold", "default": 0.5, "shape": null, "type": "double"}, {"name": "top_k", "default": 3, "shape": null, "type": "long"}]'
    )
  }
  const body = (params: string) =>
    `{"dataframe_split": {"columns": ${JSON.stringify(COLUMNS)}, "data": [[1, 1.5, "x", true]]}, "params": ${params}}`
  const run = (text: string, sig = signature) => {
    const document = parseJsonDocument(text)
    return checkServingPayload(document.value, sig, document.numberForm).problems
  }

  it('checks params against the params schema', () => {
    expect(run(body('{"threshold": 0.7, "top_k": 2}'))).toEqual([])
    expect(run(body('{"threshold": 1}'))).toEqual([])
    expect(run(body('{"top_k": 2.0}'))[0]?.message).toMatch(/param top_k \(long\): expected a whole number/)
    expect(run(body('{"threshold": "high"}'))[0]?.severity).toBe('error')
    expect(run(body('{"temperature": 0.2}'))).toEqual([
      { severity: 'warning', message: 'params temperature are not in the signature: MLflow ignores them' }
    ])
    expect(run(body('[1]'))[0]?.message).toMatch(/params must be a map/)
  })

  it('warns about params sent to a model without a params schema', () => {
    expect(run(body('{"threshold": 0.7}'), CHURN)[0]).toMatchObject({
      severity: 'warning',
      message: expect.stringMatching(/declares none/)
    })
  })
})

describe('input_example.json', () => {
  const info = (extra: object) => ({ artifact_path: 'input_example.json', ...extra })

  it('has the layout of its declared type', () => {
    expect(
      inputExampleLayoutProblem({ columns: ['a'], data: [[1]] }, info({ type: 'dataframe', pandas_orient: 'split' }))
    ).toBeUndefined()
    expect(inputExampleLayoutProblem([[1]], info({ type: 'dataframe', pandas_orient: 'split' }))).toMatch(
      /split-orient/
    )
    expect(inputExampleLayoutProblem([[1]], info({ type: 'dataframe', pandas_orient: 'values' }))).toBeUndefined()
    expect(inputExampleLayoutProblem({ a: [1] }, info({ type: 'ndarray' }))).toBeUndefined()
    expect(inputExampleLayoutProblem({ data: [] }, info({ type: 'sparse_matrix_csr' }))).toMatch(/indptr/)
    expect(
      inputExampleLayoutProblem({ columns: ['a'], data: [[1]] }, info({ type: 'dataframe', params: 'true' }))
    ).toMatch(/carry params/)
    expect(inputExampleLayoutProblem({ a: 1 }, info({ type: 'json_object' }))).toBeUndefined()
  })

  it('names a type MLflow does not know, which Model.load_input_example refuses', () => {
    for (const type of ['banana', null]) {
      expect(inputExampleLayoutProblem({ columns: ['a'], data: [[1]] }, info({ type }))).toMatch(
        /MLflow does not know: Model.load_input_example reads only dataframe, ndarray, sparse_matrix_csc, sparse_matrix_csr and json_object/
      )
    }
  })

  it('becomes the request the scoring server would get, for models without a serving example', () => {
    const split = { columns: ['a'], data: [[1]] }
    expect(servingPayloadFromInputExample(split, info({ type: 'dataframe', pandas_orient: 'split' }))).toEqual({
      dataframe_split: split
    })
    expect(
      servingPayloadFromInputExample({ inputs: split, params: { k: 1 } }, info({ type: 'dataframe', params: 'true' }))
    ).toEqual({
      dataframe_split: split,
      params: { k: 1 }
    })
    expect(servingPayloadFromInputExample([[1, 2]], info({ type: 'ndarray' }))).toEqual({ inputs: [[1, 2]] })
    expect(servingPayloadFromInputExample({}, info({ type: 'sparse_matrix_csc' }))).toBeUndefined()
  })

  describe('readExampleFile', () => {
    let dir: string
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'modelgate-example-'))
      await writeFile(join(dir, 'good.json'), '{"inputs": [1.0]}')
      await writeFile(join(dir, 'bad.json'), '{"inputs": [1.0,]}')
      await writeFile(join(dir, 'missing.json'), '{"inputs": [NaN, Infinity, -Infinity]}')
    })
    afterAll(() => rm(dir, { recursive: true, force: true }))

    it('reads, and says why it cannot', async () => {
      expect((await readExampleFile(dir, 'good.json')).document?.value).toEqual({ inputs: [1] })
      // MLflow writes a pandas missing value as json.dump does, and reads it back with json.loads.
      expect((await readExampleFile(dir, 'missing.json')).document?.value).toEqual({
        inputs: [NaN, Infinity, -Infinity]
      })
      expect((await readExampleFile(dir, 'bad.json')).problem).toMatch(
        /bad.json is not valid JSON: .* at line 1, column 17/
      )
      expect(await readExampleFile(dir, 'none.json')).toMatchObject({
        missing: true,
        problem: expect.stringMatching(/does not exist/)
      })
    })
  })
})

/**
 * The same bodies, judged by the real MLflow (`validate_serving_input`): where we fail a body MLflow must refuse it,
 * and where we pass it (warnings allowed) MLflow must accept it. The cases where we are deliberately stricter than
 * the scoring server are listed apart, with what MLflow does instead.
 */
describeWithPython('agreement with MLflow validate_serving_input', () => {
  let models: string
  beforeAll(async () => {
    models = await realModels()
  }, 180_000)

  const agree: Array<[string, string]> = [
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47, 50097.71, true]]}}'],
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income"], "data": [[47, 50097.71]]}}'],
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income", "member", "x"], "data": [[47, 1.5, true, 1]]}}'],
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47, "abc", true]]}}'],
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[null, 1.5, true]]}}'],
    ['sklearn', '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47, 50097, true]]}}'],
    ['sklearn', '{"dataframe_records": [{"age": 47, "income": 1.5, "member": false}]}'],
    ['sklearn', '{"inputs": {"age": [47]}, "instances": [{"age": 47}]}'],
    ['sklearn', '{"columns": ["age"], "data": [[47]]}'],
    ['pyfunc-tensor', '{"inputs": [[1, 2, 3, 4]]}'],
    ['pyfunc-tensor', '{"inputs": [[1, 2, 3]]}'],
    ['pyfunc-tensor', '{"inputs": [["a", 2, 3, 4]]}'],
    ['pyfunc-tensor', '{"inputs": [1, 2, 3, 4]}'],
    ['pyfunc-tensor', '{"inputs": [[[1, 2, 3, 4]]]}'],
    ['pyfunc-tensor', '{"instances": [[1, 2, 3, 4]]}'],
    ['pyfunc-tensor', '{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]]}}'],
    ['pyfunc-tensor', '{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]]}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"threshold": 1, "top_k": 2}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"threshold": "x"}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"top_k": 2.5}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"top_k": 2.0}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"top_k": true}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"labels": "a"}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"labels": ["a", "b"]}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"verbose": 1}}'],
    ['params', '{"dataframe_split": {"columns": ["score"], "data": [[0.5]]}, "params": {"unknown": 1}}'],
    // Missing values as MLflow writes them in the model's own example (json.dump's NaN).
    [
      'sklearn-missing-values',
      '{"dataframe_split": {"columns": ["age", "income", "plan"], "data": [[20, 41000.5, "basic"], [30, NaN, NaN]]}}'
    ],
    ['sklearn-missing-values', '{"dataframe_records": [{"age": 30, "income": NaN, "plan": "pro"}]}'],
    ['sklearn-missing-values', '{"inputs": {"age": [30, 40], "income": [NaN, 1.5], "plan": ["pro", "basic"]}}'],
    [
      'sklearn-missing-values',
      '{"dataframe_split": {"columns": ["age", "income", "plan"], "data": [[NaN, 1.5, "pro"]]}}'
    ],
    ['sklearn-missing-values', '{"inputs": {"age": [Infinity], "income": [1.5], "plan": ["pro"]}}'],
    ['optional-columns', '{"dataframe_split": {"columns": ["amount"], "data": [[12.5]]}}'],
    ['optional-columns', '{"dataframe_split": {"columns": ["amount", "note"], "data": [[12.5, "hi"]]}}'],
    ['optional-columns', '{"dataframe_split": {"columns": ["note"], "data": [["hi"]]}}'],
    ['optional-columns', '{"inputs": {"amount": [1.5, 2.5], "note": ["a", "b"]}}'],
    ['optional-columns', '{"inputs": {"amount": [1.5, 2.5], "note": ["a"]}}'],
    ['optional-columns', '{"inputs": {"amount": 1.5, "note": "a"}}'],
    ['optional-columns', '{"inputs": {"amount": ["x"]}}'],
    ['optional-columns', '{"inputs": [1.5, 2.5]}'],
    ['optional-columns', '{"instances": [{"amount": 1.5}, {"amount": 2, "note": "n"}]}'],
    ['optional-columns', '{"dataframe_records": [{"amount": 1.5}, {"note": "n"}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "Porto"}, "weights": {"a": 0.5}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "Porto"}, "weights": {"a": 2}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "Porto"}, "weights": {"a": 2.0}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "Porto"}, "weights": {"a": 1}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "P", "zip": "x"}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"floor": 2}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": ["a"], "address": {"city": "P", "floor": 2.5}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": [1], "address": {"city": "P"}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "address": {"city": "P"}}]}'],
    ['complex-types', '{"inputs": [{"id": 1, "tags": null, "address": {"city": "P"}}]}'],
    ['complex-types', '{"instances": [{"id": 1, "tags": ["a"], "address": {"city": "P"}}]}'],
    [
      'complex-types',
      '{"dataframe_records": [{"id": 1, "tags": ["a"], "address": {"city": "P"}, "weights": {"a": 2}}]}'
    ]
  ]

  /** We fail these; the scoring server takes them, changing the value or passing the wrong type to the model. */
  const stricter: Array<[string, string, string]> = [
    [
      'sklearn',
      '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47.5, 1.5, true]]}}',
      'truncates 47.5 to 47'
    ],
    [
      'sklearn',
      '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47, "1.5", true]]}}',
      'parses the string'
    ],
    [
      'sklearn',
      '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [[47, 1.5, 1]]}}',
      'reads 1 as true'
    ],
    [
      'sklearn',
      '{"dataframe_split": {"columns": ["age", "income", "member"], "data": [["47", 1.5, true]]}}',
      'parses the string'
    ]
  ]

  let verdicts: Array<{ ok: boolean; error: string | null }>
  beforeAll(async () => {
    const cases = [...agree, ...stricter].map(([model, body]) => ({ model: join(models, model), body }))
    const file = join(models, `cases-${process.pid}.json`)
    await writeFile(file, JSON.stringify(cases))
    const output = await runPython([join(REPO_ROOT, 'test/fixtures/models/validate_payloads.py'), file])
    verdicts = JSON.parse(output.trim().split('\n').pop()!) as typeof verdicts
  }, 180_000)

  async function ours(model: string, body: string) {
    const loaded = parseMLmodel(await readFile(join(models, model, 'MLmodel'), 'utf8'), join(models, model))
    const signature = loaded.model.signature!
    const document = parseJsonDocument(body, { pythonNumbers: true })
    const result = checkServingPayload(
      document.value,
      {
        inputs: parseSchema(signature.inputs!).schema,
        ...(signature.params ? { params: parseParamSchema(signature.params) } : {})
      },
      document.numberForm
    )
    return result.problems.some(p => p.severity === 'error') ? 'refused' : 'accepted'
  }

  it.each(agree.map(([model, body], index) => [model, body, index] as const))('%s: %s', async (model, body, index) => {
    const mlflow = verdicts[index]!
    expect({ body, verdict: await ours(model, body) }).toEqual({ body, verdict: mlflow.ok ? 'accepted' : 'refused' })
  })

  it.each(stricter.map(([model, body, why], index) => [model, body, why, agree.length + index] as const))(
    'stricter than the server (%s): %s, which MLflow %s',
    async (model, body, _why, index) => {
      expect(verdicts[index]!.ok).toBe(true)
      expect(await ours(model, body)).toBe('refused')
    }
  )
})
