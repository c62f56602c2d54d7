import { describe, expect, it } from '@jest/globals'
import {
  DocObject,
  Leaf,
  MAX_METRICS,
  MetricCollector,
  classifyText,
  flattenDocument,
  type DocNode
} from './flatten.js'
import { invalidValue, numberValue } from './types.js'
import { configurationErrorOf } from '../../../test/helpers/errors.js'

const context = { source: 'metrics.json', role: 'candidate' }

function object(entries: Array<[string, DocNode]>, line?: number): DocObject {
  const result = new DocObject(line)
  for (const [key, value] of entries) {
    result.keys.push(key)
    result.values.push(value)
  }
  return result
}

function text(raw: string): Leaf {
  return new Leaf(raw, classifyText(raw))
}

function flatten(root: DocNode | undefined) {
  return flattenDocument(root, new MetricCollector(context, 'a JSON object'))
}

describe('classifyText', () => {
  it.each([
    ['0.93', numberValue(0.93)],
    [' 1e-3 ', numberValue(0.001)],
    ['-7', numberValue(-7)],
    ['+.5', numberValue(0.5)],
    ['5.', numberValue(5)],
    ['1E+2', numberValue(100)]
  ])('reads the strictly numeric string %j as a number', (raw, expected) => {
    expect(classifyText(raw)).toEqual(expected)
  })

  it.each([
    ['NaN', 'nan'],
    ['nan', 'nan'],
    [' -nan', 'nan'],
    ['.NaN', 'nan'],
    ['Infinity', 'infinite'],
    ['inf', 'infinite'],
    ['-inf', 'infinite'],
    ['+Infinity', 'infinite'],
    ['-.inf', 'infinite'],
    ['1e999', 'infinite'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['0x10', 'non-numeric'],
    ['1_000', 'non-numeric'],
    ['93%', 'non-numeric'],
    ['0.9 0.8', 'non-numeric'],
    ['true', 'non-numeric'],
    ['n/a', 'non-numeric']
  ])('reports %j as invalid %s, keeping the text', (raw, reason) => {
    expect(classifyText(raw)).toEqual(invalidValue(reason as 'nan', raw))
  })
})

describe('MetricCollector', () => {
  it('keeps first-seen order and reports a name seen twice as one duplicate listing every value', () => {
    const collector = new MetricCollector(context, 'x')
    collector.add('a', numberValue(1))
    collector.add('b', numberValue(2))
    collector.add('a', invalidValue('nan', 'NaN'))
    collector.add('a', invalidValue('empty', ''))
    expect([...collector.finish()]).toEqual([
      ['a', invalidValue('duplicate', '1, NaN, ""')],
      ['b', numberValue(2)]
    ])
  })

  it('refuses more metrics than the limit, with the limit in the message', () => {
    const collector = new MetricCollector({ ...context, maxMetrics: 3 }, 'x')
    for (const name of ['a', 'b', 'c']) collector.add(name, numberValue(1))
    collector.add('a', numberValue(2))
    const error = configurationErrorOf(() => collector.add('d', numberValue(1)))
    expect(error.message).toContain('metrics.json: candidate metrics hold more than 3 metrics')
  })

  it('defaults to a limit of two million', () => {
    expect(MAX_METRICS).toBe(2_000_000)
  })

  it.each(['', '   ', '\u00a0'])('refuses the blank metric name %j', name => {
    const error = configurationErrorOf(() => new MetricCollector(context, 'names').add(name, numberValue(1)))
    expect(error.detail).toMatch(
      /^candidate metrics include a metric with (an empty name|a name of only spaces); expected names$/
    )
  })

  it('refuses a source with no metrics at all', () => {
    expect(configurationErrorOf(() => new MetricCollector(context, 'names').finish()).message).toContain(
      'holds no metrics'
    )
  })
})

describe('flattenDocument', () => {
  it('joins nested keys with dots and list positions with indices', () => {
    const root = object([
      ['accuracy', 0.93],
      ['per_class', object([['cat', object([['recall', 0.9]])]])],
      ['loss', [0.5, 0.4]]
    ])
    expect([...flatten(root)]).toEqual([
      ['accuracy', numberValue(0.93)],
      ['per_class.cat.recall', numberValue(0.9)],
      ['loss.0', numberValue(0.5)],
      ['loss.1', numberValue(0.4)]
    ])
  })

  it('reports a dotted name beside the same nested name as a duplicate', () => {
    const root = object([
      ['a.b', 1],
      ['a', object([['b', 2]])]
    ])
    expect(flatten(root).get('a.b')).toEqual(invalidValue('duplicate', '1, 2'))
  })

  it('shows empty groups as empty values instead of dropping them', () => {
    const root = object([
      ['accuracy', 0.9],
      ['per_class', object([])],
      ['history', []]
    ])
    expect(flatten(root).get('per_class')).toEqual(invalidValue('empty', '{}'))
    expect(flatten(root).get('history')).toEqual(invalidValue('empty', '[]'))
  })

  it('reads the github-action-benchmark list of {name, value} entries, with metric and key as name fields', () => {
    const root: DocNode = [
      object([
        ['name', text('accuracy')],
        ['unit', text('%')],
        ['value', 93]
      ]),
      object([
        ['metric', text('loss')],
        ['value', text('0.12')]
      ]),
      object([
        ['key', text('latency')],
        ['value', object([['p50', 12]])]
      ])
    ]
    expect([...flatten(root)]).toEqual([
      ['accuracy', numberValue(93)],
      ['loss', numberValue(0.12)],
      ['latency.p50', numberValue(12)]
    ])
  })

  it('names the entry and its line when a benchmark entry lacks a name or a value', () => {
    const noName = configurationErrorOf(() => flatten([object([['value', 1]], 7)]))
    expect(noName.place).toEqual({ source: 'metrics.json', path: '[0]', line: 7 })
    expect(noName.detail).toContain('entry 1 has no "name" (keys: "value")')
    const noValue = configurationErrorOf(() => flatten([object([['name', text('acc')]], 3)]))
    expect(noValue.message).toBe(
      'metrics.json:3 ([0]): candidate metrics entry 1 ("acc") has no "value"; expected entries like {"name": "accuracy", "value": 0.93}'
    )
    expect(
      configurationErrorOf(() =>
        flatten([
          object([
            ['name', object([])],
            ['value', 1]
          ])
        ])
      ).detail
    ).toContain('a non-text "name"')
    expect(configurationErrorOf(() => flatten([0.5])).detail).toContain('entry 1 is a single value ("0.5")')
  })

  it('refuses a single value, an empty object or list, and no document', () => {
    expect(configurationErrorOf(() => flatten(0.93)).detail).toBe(
      'candidate metrics file holds a single value ("0.93"), not named metrics; expected a JSON object'
    )
    expect(configurationErrorOf(() => flatten(text('hello'))).detail).toContain('single value ("hello")')
    expect(configurationErrorOf(() => flatten(object([], 2))).message).toBe(
      'metrics.json:2: candidate metrics file holds no metrics (an empty object); expected a JSON object'
    )
    expect(configurationErrorOf(() => flatten([])).detail).toContain('an empty list')
    expect(configurationErrorOf(() => flatten(undefined)).detail).toContain('no metrics')
  })

  it('stops at a self-referencing structure instead of overflowing the stack', () => {
    const loop = object([])
    loop.keys.push('again')
    loop.values.push(loop)
    expect(configurationErrorOf(() => flatten(object([['root', loop]]))).detail).toContain(
      'nested more than 256 levels'
    )
  })
})
