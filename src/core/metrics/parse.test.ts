import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { dump } from 'js-yaml'
import { decodeMetricsText, formatFromPath, parseMetrics, parseMetricsBytes } from './parse.js'
import { invalidValue, numberValue, type MetricValue } from './types.js'
import { configurationErrorOf } from '../../../test/helpers/errors.js'

const context = { source: 'metrics/candidate.json', role: 'candidate' }

/** What the flattening should give for plain data: dotted names, list indices, empty groups as 'empty'. */
function reference(value: unknown, prefix = '', out = new Map<string, MetricValue>()): Map<string, MetricValue> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
    if (entries.length === 0) out.set(prefix, invalidValue('empty', Array.isArray(value) ? '[]' : '{}'))
    for (const [key, child] of entries) reference(child, prefix === '' ? key : `${prefix}.${key}`, out)
  } else {
    out.set(prefix, numberValue(value as number))
  }
  return out
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map(x => (Object.is(x, -0) ? 0 : x))
const key = fc.string({ minLength: 1, maxLength: 8 }).filter(k => !k.includes('.') && k.trim() !== '')
const tree = fc.letrec(tie => ({
  node: fc.oneof({ depthSize: 'small' }, finite, tie('object'), fc.array(tie('node'), { maxLength: 3 })),
  object: fc.dictionary(key, tie('node'), { maxKeys: 4 })
}))
const root = fc.dictionary(key, tree.node, { minKeys: 1, maxKeys: 6 })

describe('formatFromPath', () => {
  it.each([
    ['metrics.json', 'json'],
    ['dir.v2/eval.YAML', 'yaml'],
    ['eval.yml', 'yaml'],
    ['C:\\runs\\metrics.CSV', 'csv'],
    ['metrics.txt', undefined],
    ['metrics', undefined],
    ['metrics.json/', undefined],
    ['.json', 'json']
  ])('%s is %s', (path, format) => {
    expect(formatFromPath(path)).toBe(format)
  })
})

describe('decodeMetricsText', () => {
  const bytes = (...parts: Array<number[] | string>) =>
    Buffer.concat(parts.map(part => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))))

  it('reads UTF-8 and drops a byte-order mark', () => {
    expect(decodeMetricsText(bytes([0xef, 0xbb, 0xbf], '{"précision": 1}'), context)).toBe('{"précision": 1}')
  })

  it('reads UTF-16 with a byte-order mark, either byte order', () => {
    const text = 'metric,value\nprécision,1\n'
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
    const be = Buffer.from(le)
    be.swap16()
    expect(decodeMetricsText(le, context)).toBe(text)
    expect(decodeMetricsText(be, context)).toBe(text)
  })

  it('refuses binary data, naming the NUL byte and its line', () => {
    const error = configurationErrorOf(() => decodeMetricsText(bytes('{\n"a": 1', [0, 1, 2]), context))
    expect(error.message).toBe(
      'metrics/candidate.json:2: candidate metrics file is not text: it has a NUL byte at offset 8, so it is binary (or UTF-16 without a byte-order mark); expected a UTF-8 text file'
    )
  })

  it('refuses text that is not UTF-8, naming the line of the first bad byte', () => {
    const error = configurationErrorOf(() =>
      decodeMetricsText(Buffer.from('metric,value\nacc,1\npr\xe9cision,2\n', 'latin1'), context)
    )
    expect(error.place?.line).toBe(3)
    expect(error.detail).toContain('not valid UTF-8')
  })
})

describe('parseMetrics', () => {
  it('reads JSON with nested groups, lists, Python NaN tokens and numeric strings', () => {
    const text = '{"accuracy": 0.93, "per_class": {"cat": {"recall": "0.9"}}, "loss": [0.5, NaN], "auc": -Infinity}'
    expect([...parseMetrics(text, 'json', context)]).toEqual([
      ['accuracy', numberValue(0.93)],
      ['per_class.cat.recall', numberValue(0.9)],
      ['loss.0', numberValue(0.5)],
      ['loss.1', invalidValue('nan', 'NaN')],
      ['auc', invalidValue('infinite', '-Infinity')]
    ])
  })

  it('reports a duplicate JSON key, which JSON.parse would silently collapse', () => {
    expect(parseMetrics('{"a": 1, "b": 2, "a": 3}', 'json', context).get('a')).toEqual(
      invalidValue('duplicate', '1, 3')
    )
  })

  it('takes a plain source string as the context', () => {
    expect(configurationErrorOf(() => parseMetrics('{}', 'json', 'x.json')).message).toBe(
      'x.json:1: metrics file holds no metrics (an empty object); expected a JSON object of metric names to numbers (nesting allowed), or a list of {"name": ..., "value": ...} entries'
    )
  })

  it('reports malformed JSON with the line, the role and what was expected', () => {
    const error = configurationErrorOf(() => parseMetrics('{\n  "accuracy": 0.93\n  "f1": 0.9\n}', 'json', context))
    expect(error.place).toEqual({ source: 'metrics/candidate.json', line: 3 })
    expect(error.message).toMatch(
      /^metrics\/candidate\.json:3: candidate metrics are not valid JSON \(column 3\): unexpected .*; expected a JSON object of metric names to numbers/
    )
  })

  it('reads YAML, keeping the text of keys and special values', () => {
    const text = [
      'accuracy: 0.93',
      'precision_at:',
      '  0.50: 0.9',
      '  0.75: 0.8',
      'loss: .nan',
      'auc: -.inf',
      'skipped: ~',
      'passed: true',
      'quoted: "0.5"',
      'hex: 0x1F',
      'huge: 1e999',
      'history: [0.5, 0.4]'
    ].join('\n')
    expect([...parseMetrics(text, 'yaml', context)]).toEqual([
      ['accuracy', numberValue(0.93)],
      ['precision_at.0.50', numberValue(0.9)],
      ['precision_at.0.75', numberValue(0.8)],
      ['loss', invalidValue('nan', '.nan')],
      ['auc', invalidValue('infinite', '-.inf')],
      ['skipped', invalidValue('empty', '~')],
      ['passed', invalidValue('non-numeric', 'true')],
      ['quoted', numberValue(0.5)],
      ['hex', numberValue(31)],
      ['huge', invalidValue('infinite', '1e999')],
      ['history.0', numberValue(0.5)],
      ['history.1', numberValue(0.4)]
    ])
  })

  it('reports a duplicate YAML key as a duplicate metric, as in JSON and CSV', () => {
    expect([...parseMetrics('a: 1\nb: 2\na: 3\n', 'yaml', context)]).toEqual([
      ['a', invalidValue('duplicate', '1, 3')],
      ['b', numberValue(2)]
    ])
  })

  it('follows YAML anchors and reads the benchmark list form', () => {
    expect([...parseMetrics('base: &b {x: 1}\ncopy: *b\n', 'yaml', context)]).toEqual([
      ['base.x', numberValue(1)],
      ['copy.x', numberValue(1)]
    ])
    expect([...parseMetrics('- name: acc\n  value: 0.9\n  unit: "%"\n', 'yaml', context)]).toEqual([
      ['acc', numberValue(0.9)]
    ])
  })

  it('reports malformed YAML with the line', () => {
    const error = configurationErrorOf(() => parseMetrics('a: 1\nb:\n  c: 1\n   d: 2\n', 'yaml', context))
    expect(error.place).toEqual({ source: 'metrics/candidate.json', line: 4 })
    expect(error.detail).toMatch(/^candidate metrics are not valid YAML: .*; expected a YAML mapping/)
  })

  it('refuses several YAML documents, pointing at the second', () => {
    const error = configurationErrorOf(() => parseMetrics('# metrics\n---\na: 1\n---\na: 2\n', 'yaml', context))
    expect(error.place?.line).toBe(4)
    expect(error.detail).toContain('holds 2 YAML documents')
  })

  it('reads CSV in both shapes', () => {
    expect([...parseMetrics('metric,value\nacc,0.9\n', 'csv', context)]).toEqual([['acc', numberValue(0.9)]])
    expect([...parseMetrics('acc,f1\n0.9,0.8\n', 'csv', context)]).toEqual([
      ['acc', numberValue(0.9)],
      ['f1', numberValue(0.8)]
    ])
  })

  it.each(['json', 'yaml', 'csv'] as const)('refuses an empty or blank %s text, and an LFS pointer', format => {
    expect(configurationErrorOf(() => parseMetrics('', format, context)).detail).toMatch(
      /^candidate metrics file is empty; expected /
    )
    expect(configurationErrorOf(() => parseMetrics(' \n\t\r\n', format, context)).detail).toContain(
      'holds only whitespace'
    )
    expect(configurationErrorOf(() => parseMetrics('\ufeff', format, context)).detail).toContain('is empty')
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n'
    expect(configurationErrorOf(() => parseMetrics(pointer, format, context)).detail).toContain('Git LFS pointer')
  })

  it('parses bytes through the decoder', () => {
    expect([...parseMetricsBytes(Buffer.from('\ufeff{"a": 1}', 'utf8'), 'json', context)]).toEqual([
      ['a', numberValue(1)]
    ])
  })

  it('flattens any object of finite numbers written with JSON.stringify', () => {
    fc.assert(
      fc.property(root, value => {
        expect([...parseMetrics(JSON.stringify(value, null, 2), 'json', context)]).toEqual([...reference(value)])
      }),
      { numRuns: 300 }
    )
  })

  it('flattens any object of finite numbers written with a YAML dumper the same way', () => {
    fc.assert(
      fc.property(root, value => {
        expect([...parseMetrics(dump(value), 'yaml', context)]).toEqual([...reference(value)])
      }),
      { numRuns: 300 }
    )
  })

  it('parses and flattens 100,000 metrics quickly (timing printed, not asserted)', () => {
    const perClass: Record<string, Record<string, number>> = {}
    for (let i = 0; i < 25_000; i++) {
      perClass[`class_${i}`] = { precision: Math.random(), recall: Math.random(), f1: Math.random(), support: i }
    }
    const flat: Record<string, number> = {}
    for (let i = 0; i < 100_000; i++) flat[`metric_${i}`] = Math.random()
    const timings: string[] = []
    for (const [shape, value] of [
      ['nested', { per_class: perClass }],
      ['flat', flat]
    ] as const) {
      const text = JSON.stringify(value, null, 2)
      const runs: number[] = []
      for (let run = 0; run < 3; run++) {
        const start = performance.now()
        const values = parseMetrics(text, 'json', context)
        runs.push(performance.now() - start)
        expect(values.size).toBe(100_000)
      }
      const baseline = performance.now()
      JSON.parse(text)
      const jsonParse = performance.now() - baseline
      timings.push(
        `${shape} (${(text.length / 1e6).toFixed(1)} MB): ${runs.map(ms => ms.toFixed(0)).join(' / ')} ms, JSON.parse alone ${jsonParse.toFixed(0)} ms`
      )
    }
    console.log(`parseMetrics, 100,000 metrics, first / second / third run:\n  ${timings.join('\n  ')}`)
  })
})
