import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { DocObject, Leaf, MetricCollector, flattenDocument, type DocNode } from './flatten.js'
import { JsonSyntaxError, MAX_JSON_DEPTH } from '../json/scanner.js'
import { readJson, scanJson } from './json.js'
import { invalidValue, numberValue } from './types.js'

/** The tree as plain data, to compare with what JSON.parse builds. */
function plain(node: DocNode): unknown {
  if (typeof node === 'number') return node
  if (node instanceof Leaf) return node.value.kind === 'number' ? node.raw : { raw: node.raw, value: node.value }
  if (node instanceof DocObject) return { entries: node.keys.map((key, i) => [key, plain(node.values[i])]) }
  return node.map(plain)
}

function syntaxError(text: string): JsonSyntaxError {
  try {
    scanJson(text)
  } catch (error) {
    expect(error).toBeInstanceOf(JsonSyntaxError)
    return error as JsonSyntaxError
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`)
}

function stream(text: string) {
  const collector = new MetricCollector({ source: 'x.json' }, 'json')
  const root = readJson(text, collector)
  return root === undefined ? collector.finish() : flattenDocument(root, collector)
}

describe('scanJson', () => {
  it('reads objects, lists, numbers, strings and literals', () => {
    const root = scanJson(' {"a": 1, "b": [true, false, null], "c": {"d": -2.5e-3}, "e": "x"} ')
    expect(root).toBeInstanceOf(DocObject)
    expect(plain(root)).toEqual({
      entries: [
        ['a', 1],
        [
          'b',
          [
            { raw: 'true', value: invalidValue('non-numeric', 'true') },
            { raw: 'false', value: invalidValue('non-numeric', 'false') },
            { raw: 'null', value: invalidValue('empty', 'null') }
          ]
        ],
        ['c', { entries: [['d', -0.0025]] }],
        ['e', { raw: 'x', value: invalidValue('non-numeric', 'x') }]
      ]
    })
  })

  it("accepts the bare NaN, Infinity and -Infinity that Python's json.dump writes", () => {
    const root = scanJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN]}') as DocObject
    expect(root.values.slice(0, 3).map(v => (v as Leaf).value)).toEqual([
      invalidValue('nan', 'NaN'),
      invalidValue('infinite', 'Infinity'),
      invalidValue('infinite', '-Infinity')
    ])
  })

  it('leaves the words NaN and Infinity inside strings alone', () => {
    const root = scanJson('{"NaN": "Infinity and NaN", "note": "-Infinity"}') as DocObject
    expect(root.keys).toEqual(['NaN', 'note'])
    expect((root.values[0] as Leaf).raw).toBe('Infinity and NaN')
    expect((root.values[1] as Leaf).value).toEqual(invalidValue('infinite', '-Infinity'))
  })

  it('keeps both values of a duplicate key, in order', () => {
    const root = scanJson('{"a": 1, "a": 2}') as DocObject
    expect(root.keys).toEqual(['a', 'a'])
    expect(root.values).toEqual([1, 2])
  })

  it('keeps the text of a number that overflows', () => {
    expect(plain(scanJson('[1e999, -1e999]'))).toEqual([
      { raw: '1e999', value: invalidValue('infinite', '1e999') },
      { raw: '-1e999', value: invalidValue('infinite', '-1e999') }
    ])
  })

  it('decodes every escape', () => {
    const root = scanJson(String.raw`["\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "plain"]`) as Leaf[]
    expect(root[0].raw).toBe('"\\/\b\f\n\r\t\u00e9\u{1f600}')
    expect(root[1].raw).toBe('plain')
  })

  it('records the line of each object, for messages about list entries', () => {
    const root = scanJson('[\n  {"name": "a", "value": 1},\n\n  {"name": "b"}\n]') as DocObject[]
    expect(root.map(entry => entry.line)).toEqual([2, 4])
  })

  it.each([
    ['{"a": 1,}', 'trailing comma', 1, 9],
    ['[1, 2,]', 'trailing comma', 1, 7],
    ['{\n  "a": 1\n  "b": 2\n}', 'a missing comma?', 3, 3],
    ['{"a" 1}', 'where ":" should follow', 1, 6],
    ['{a: 1}', 'text must be in double quotes', 1, 2],
    ["{'a': 1}", 'double quotes, not single', 1, 2],
    ['// c\n{}', 'JSON has no comments', 1, 1],
    ['{"a": 01}', 'leading zero', 1, 7],
    ['{"a": 1.}', 'no digits after its decimal point', 1, 9],
    ['{"a": 1e}', 'no digits in its exponent', 1, 9],
    ['{"a": .5}', 'start with a digit', 1, 7],
    ['{"a": -}', 'expected a digit', 1, 8],
    ['{"a": nan}', 'unexpected word "nan"', 1, 7],
    ['{"a": True}', 'unexpected word "True"', 1, 7],
    ['{"a": "b\n"}', 'not closed on its line', 1, 7],
    ['{"a": "b\tc"}', 'control character U+0009', 1, 9],
    ['{"a": "\\x"}', 'unknown escape "\\\\x"', 1, 8],
    ['{"a": "\\u12"}', 'malformed \\u escape', 1, 8],
    ['{"a": 1}}', 'after the end of the JSON value', 1, 9],
    ['{"a": 1', 'unexpected end of file', 1, 8],
    ['', 'no JSON value', 1, 1],
    ['\ufeff{}', 'character U+FEFF', 1, 1]
  ])('refuses %j, saying %j at line %i column %i', (text, words, line, column) => {
    const error = syntaxError(text)
    expect(error.reason).toContain(words)
    expect([error.line, error.column]).toEqual([line, column])
  })

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels instead of overflowing the stack`, () => {
    expect(syntaxError('['.repeat(100_000)).reason).toContain('nested more than')
    expect(() => scanJson('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).not.toThrow()
  })

  it('builds the same values as JSON.parse for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), value => {
        const text = JSON.stringify(value)
        expect(plainToJs(scanJson(text))).toEqual(JSON.parse(text))
      }),
      { numRuns: 300 }
    )
  })

  it('streams an object into the same metrics as flattening its tree', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.jsonValue(), { minKeys: 1 }), value => {
        fc.pre(Object.keys(value).every(key => key.trim() !== ''))
        const text = JSON.stringify(value, null, 1)
        const tree = flattenDocument(scanJson(text), new MetricCollector({ source: 'x.json' }, 'json'))
        expect([...stream(text)]).toEqual([...tree])
      }),
      { numRuns: 300 }
    )
  })

  it('streams duplicates and empty groups like the tree does', () => {
    expect([...stream('{"a": {"b": 1}, "a.b": 2, "c": {}, "d": [], "e": [NaN]}')]).toEqual([
      ['a.b', invalidValue('duplicate', '1, 2')],
      ['c', invalidValue('empty', '{}')],
      ['d', invalidValue('empty', '[]')],
      ['e.0', invalidValue('nan', 'NaN')]
    ])
    expect([...stream('[{"name": "a", "value": 1}]')]).toEqual([['a', numberValue(1)]])
  })
})

/** Back to what JSON.parse would give, for the comparison property (JSON has no duplicate keys there). */
function plainToJs(node: DocNode): unknown {
  if (typeof node === 'number') return node
  if (node instanceof Leaf) {
    if (node.raw === 'true' && node.value.kind === 'invalid' && node.value.reason === 'non-numeric') return true
    return node.raw === 'false' ? false : node.raw === 'null' && node.value.kind === 'invalid' ? null : node.raw
  }
  if (node instanceof DocObject) {
    const result: Record<string, unknown> = {}
    node.keys.forEach((key, i) =>
      Object.defineProperty(result, key, { value: plainToJs(node.values[i]), enumerable: true })
    )
    return result
  }
  return node.map(plainToJs)
}
