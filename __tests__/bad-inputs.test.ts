/**
 * The bad-input corpus: one small file per defect a user can hand the compare-metrics gate. Each must either fail
 * with a ConfigurationError that names the file, the line where there is one, and what is wrong, or load with the
 * defect shown as an invalid metric value. Never a crash, never a silently wrong number.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigurationError, formatPlace } from '../src/core/errors.js'
import { loadMetrics } from '../src/core/metrics/source.js'
import { invalidValue, numberValue, type MetricValue } from '../src/core/metrics/types.js'

const corpus = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bad-inputs')

interface Refused {
  readonly file: string
  readonly line?: number
  /** Phrases the message must contain, in any order. */
  readonly words: readonly string[]
}

interface Reported {
  readonly file: string
  readonly values: ReadonlyArray<readonly [string, MetricValue]>
}

const refused: Refused[] = [
  // JSON
  { file: 'malformed.json', line: 4, words: ['not valid JSON (column 3)', 'a missing comma?'] },
  { file: 'trailing-comma.json', line: 4, words: ['not valid JSON', 'no trailing comma'] },
  { file: 'unterminated-string.json', line: 2, words: ['not valid JSON', 'not closed on its line'] },
  { file: 'single-quotes.json', line: 1, words: ['not valid JSON', 'double quotes, not single'] },
  { file: 'comment.json', line: 1, words: ['not valid JSON', 'JSON has no comments'] },
  { file: 'lowercase-nan.json', line: 2, words: ['not valid JSON', 'unexpected word "nan"', 'NaN, Infinity'] },
  { file: 'two-documents.json', line: 2, words: ['not valid JSON', 'after the end of the JSON value'] },
  { file: 'deep.json', line: 1, words: ['nested more than 512 levels'] },
  {
    file: 'scalar.json',
    words: ['holds a single value ("0.93")', 'expected a JSON object of metric names to numbers']
  },
  { file: 'string.json', words: ['holds a single value ("accuracy")'] },
  { file: 'empty-object.json', line: 1, words: ['holds no metrics (an empty object)'] },
  { file: 'empty-list.json', words: ['holds no metrics (an empty list)'] },
  { file: 'list-of-numbers.json', words: ['entry 1 is a single value ("0.93")'] },
  { file: 'benchmark-no-value.json', line: 3, words: ['entry 2 ("loss") has no "value"'] },
  { file: 'benchmark-no-name.json', line: 2, words: ['entry 1 has no "name"'] },
  { file: 'empty-key.json', words: ['a metric with an empty name'] },
  // YAML
  { file: 'malformed.yaml', line: 4, words: ['not valid YAML', 'bad indentation'] },
  { file: 'unclosed-flow.yaml', line: 3, words: ['not valid YAML'] },
  { file: 'multi-document.yaml', line: 2, words: ['holds 2 YAML documents'] },
  { file: 'comments-only.yaml', words: ['holds no metrics', 'only comments'] },
  { file: 'scalar.yaml', words: ['holds a single value ("just some text")', 'expected a YAML mapping'] },
  { file: 'complex-key.yaml', line: 1, words: ['not valid YAML', 'must be a plain key'] },
  { file: 'unknown-tag.yaml', line: 1, words: ['not valid YAML', 'unknown scalar tag'] },
  // CSV
  { file: 'ragged.csv', line: 3, words: ['row 3 has 3 cells; expected 2'] },
  { file: 'ragged-crlf.csv', line: 4, words: ['row 4 has 2 cells; expected 3'] },
  { file: 'wide-two-rows.csv', line: 3, words: ['2 rows of values; expected exactly one row of values'] },
  { file: 'header-only.csv', line: 1, words: ['has a header (metric,value) but no rows'] },
  { file: 'header-only-wide.csv', line: 1, words: ['has a header but no row of values'] },
  { file: 'unterminated-quote.csv', line: 3, words: ['quoted cell that is never closed'] },
  { file: 'text-after-quote.csv', line: 2, words: ['text after the closing quote'] },
  { file: 'semicolon.csv', line: 1, words: ['looks separated by ";"', 'expected comma-separated values'] },
  { file: 'empty-metric-name.csv', line: 3, words: ['row 3 has an empty metric cell'] },
  { file: 'wide-unnamed-column.csv', line: 1, words: ['no name in column 2'] },
  // Any format
  { file: 'empty.json', words: ['file is empty', 'expected a JSON object'] },
  { file: 'whitespace-only.yaml', words: ['holds only whitespace'] },
  { file: 'binary.json', line: 3, words: ['is not text', 'NUL byte at offset 8', 'expected a UTF-8 text file'] },
  { file: 'utf16-no-bom.json', line: 1, words: ['NUL byte', 'UTF-16 without a byte-order mark'] },
  { file: 'latin1.csv', line: 3, words: ['not valid UTF-8', 'save it as UTF-8'] },
  { file: 'lfs-pointer.json', line: 1, words: ['Git LFS pointer', 'lfs: true'] },
  { file: 'metrics.txt', words: ['unsupported extension ".txt"', '.json, .yaml, .yml, .csv'] },
  { file: 'no-extension', words: ['has no extension', '.json, .yaml, .yml, .csv'] }
]

const reported: Reported[] = [
  {
    file: 'duplicate-key.json',
    values: [
      ['accuracy', invalidValue('duplicate', '0.93, 0.95')],
      ['loss', numberValue(0.12)]
    ]
  },
  {
    file: 'duplicate-key.yaml',
    values: [
      ['accuracy', invalidValue('duplicate', '0.93, 0.95')],
      ['loss', numberValue(0.12)]
    ]
  },
  {
    file: 'duplicate-rows.csv',
    values: [
      ['accuracy', invalidValue('duplicate', '0.93, 0.95')],
      ['loss', numberValue(0.12)]
    ]
  },
  { file: 'dotted-beside-nested.json', values: [['per_class.cat.recall', invalidValue('duplicate', '0.9, 0.8')]] },
  {
    file: 'python-nan.json',
    values: [
      ['accuracy', invalidValue('nan', 'NaN')],
      ['loss', invalidValue('infinite', 'Infinity')],
      ['delta', invalidValue('infinite', '-Infinity')],
      ['note', invalidValue('non-numeric', 'NaN and Infinity inside a string')]
    ]
  },
  {
    file: 'non-numeric.csv',
    values: [
      ['accuracy', invalidValue('non-numeric', '93%')],
      ['f1', invalidValue('empty', '')],
      ['loss', invalidValue('non-numeric', 'n/a')]
    ]
  }
]

const context = { workspace: corpus, role: 'candidate' }

describe('the bad-input corpus', () => {
  it('has an expectation for every fixture, and a fixture for every expectation', () => {
    const files = readdirSync(corpus).filter(name => !name.startsWith('.'))
    const expected = [...refused, ...reported].map(entry => entry.file)
    expect([...files].sort()).toEqual([...expected].sort())
  })

  it.each(refused)('$file is refused with a message that names it', async ({ file, line, words }) => {
    let error: unknown
    try {
      await loadMetrics(file, context)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    const { message, detail, place } = error as ConfigurationError
    expect(place?.source).toBe(file)
    expect(place?.line).toBe(line)
    expect(message).toBe(`${formatPlace(place!)}: ${detail}`)
    expect(message.startsWith(line === undefined ? file : `${file}:${line}`)).toBe(true)
    expect(detail.startsWith('candidate metrics')).toBe(true)
    for (const phrase of words) expect(detail).toContain(phrase)
  })

  it.each(reported)('$file loads, with the defect shown as invalid values', async ({ file, values }) => {
    const set = await loadMetrics(file, context)
    expect([...set.values]).toEqual(values)
    expect(set.provenance).toEqual({ kind: 'file', spec: file, path: file })
  })
})
