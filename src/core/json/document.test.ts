import { describe, expect, it } from '@jest/globals'
import { parseJsonDocument } from './document.js'
import { JsonSyntaxError } from './scanner.js'

describe('parseJsonDocument', () => {
  it('parses like JSON.parse', () => {
    const text = '{"a": [1, 2.5, -3e2, true, null, "x\\n\\u00e9"], "b": {"c": {}}, "d": []}'
    expect(parseJsonDocument(text).value).toEqual(JSON.parse(text))
    expect(parseJsonDocument('\ufeff 7 ').value).toBe(7)
  })

  it('knows which whole numbers were written as floats', () => {
    const { value, numberForm } = parseJsonDocument('{"w": {"a": 2.0, "b": 2, "c": 1e3}, "l": [1, 1.0]}')
    const { w, l } = value as { w: object; l: unknown[] }
    expect(numberForm(w, 'a')).toBe('float')
    expect(numberForm(w, 'b')).toBeUndefined()
    expect(numberForm(w, 'c')).toBe('float')
    expect(numberForm(l, 0)).toBeUndefined()
    expect(numberForm(l, 1)).toBe('float')
  })

  it('keeps a "__proto__" key as data', () => {
    const value = parseJsonDocument('{"__proto__": {"polluted": true}}').value as Record<string, unknown>
    expect(Object.keys(value)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it.each([
    ['{"a": 1,}', 1, 9],
    ['{\n  "a": [1 2]\n}', 2, 11],
    ['[1]x', 1, 4],
    ['"abc', 1, 5],
    ['', 1, 1]
  ])('reports %j with its line and column', (text, line, column) => {
    let error: unknown
    try {
      parseJsonDocument(text)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(JsonSyntaxError)
    expect(error).toMatchObject({ line, column })
  })

  it('refuses the NaN and Infinity that metrics files may carry, naming the words JSON has', () => {
    expect(() => parseJsonDocument('[NaN]')).toThrow(/unexpected word "NaN" .*true, false and null\)/)
    expect(() => parseJsonDocument('{"a": -Infinity}')).toThrow(JsonSyntaxError)
  })
})

describe('parseJsonDocument with pythonNumbers (input examples, as MLflow writes them with json.dump)', () => {
  it('reads NaN, Infinity and -Infinity as those numbers, and only outside strings', () => {
    const text = '{"data": [[1.0, NaN], [-Infinity, Infinity], ["NaN", -2]]}'
    const { value, numberForm } = parseJsonDocument(text, { pythonNumbers: true })
    const rows = (value as { data: unknown[][] }).data
    expect(rows).toEqual([
      [1, NaN],
      [-Infinity, Infinity],
      ['NaN', -2]
    ])
    // Python reads all three as floats: no whole-number form to record.
    expect(numberForm(rows[0]!, 1)).toBeUndefined()
    expect(numberForm(rows[0]!, 0)).toBe('float')
  })

  it('still refuses other words and spellings Python does not write, naming the ones it reads', () => {
    expect(() => parseJsonDocument('[nan]', { pythonNumbers: true })).toThrow(
      /unexpected word "nan" .*NaN, Infinity, -Infinity as Python writes them\)/
    )
    expect(() => parseJsonDocument('[-NaN]', { pythonNumbers: true })).toThrow(JsonSyntaxError)
    expect(() => parseJsonDocument('[Infinit]', { pythonNumbers: true })).toThrow(JsonSyntaxError)
    expect(() => parseJsonDocument('[NaNa]', { pythonNumbers: true })).toThrow(JsonSyntaxError)
  })
})
