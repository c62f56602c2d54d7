import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { csvToMetrics, parseCsv, quoteCsvCell } from './csv.js'
import { invalidValue, numberValue } from './types.js'
import { configurationErrorOf } from '../../../test/helpers/errors.js'

const context = { source: 'metrics.csv', role: 'baseline' }

function cells(text: string): string[][] {
  return parseCsv(text, context).map(record => record.cells)
}

function metrics(text: string) {
  return [...csvToMetrics(parseCsv(text, context), context)]
}

describe('parseCsv', () => {
  it('reads quoted cells with commas, doubled quotes and line breaks', () => {
    expect(cells('a,"b,c","say ""hi""","two\nlines"\n')).toEqual([['a', 'b,c', 'say "hi"', 'two\nlines']])
  })

  it('accepts CRLF, LF and lone CR line ends, a BOM, and skips blank lines', () => {
    expect(cells('\ufeffmetric,value\r\nacc,1\n\nloss,2\rf1,3\r\n\r\n\n')).toEqual([
      ['metric', 'value'],
      ['acc', '1'],
      ['loss', '2'],
      ['f1', '3']
    ])
  })

  it('keeps empty cells, a trailing empty cell, and a quoted empty line', () => {
    expect(cells('a,,b,\n""\n')).toEqual([['a', '', 'b', ''], ['']])
  })

  it('records the line each record starts on, counting line breaks inside quotes', () => {
    const records = parseCsv('h1,h2\n"multi\nline",1\n\nx,2\n', context)
    expect(records.map(record => record.line)).toEqual([1, 2, 5])
  })

  it('allows spaces around a quoted cell and keeps a quote inside an unquoted cell as text', () => {
    expect(cells('a, "b" ,c\n5" screen,x\n')).toEqual([
      ['a', 'b', 'c'],
      ['5" screen', 'x']
    ])
  })

  it('refuses an unclosed quote, naming the line it opens on', () => {
    const error = configurationErrorOf(() => parseCsv('metric,value\n"acc,1\nloss,2\n', context))
    expect(error.message).toBe(
      'metrics.csv:2: baseline metrics CSV has a quoted cell that is never closed (it opens on line 2); expected a closing "'
    )
  })

  it('refuses text after a closing quote', () => {
    const error = configurationErrorOf(() => parseCsv('metric,value\n"acc"uracy,1\n', context))
    expect(error.place?.line).toBe(2)
    expect(error.detail).toContain('text after the closing quote of a cell ("uracy,1")')
  })

  it('round-trips any cells through quoteCsvCell', () => {
    const cell = fc.string({ unit: 'binary' })
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), rows => {
        const text = rows.map(row => row.map(quoteCsvCell).join(',')).join('\r\n')
        expect(cells(text)).toEqual(rows)
      }),
      { numRuns: 300 }
    )
  })
})

describe('csvToMetrics', () => {
  it('reads the long form, with any case of header and extra columns ignored', () => {
    expect(metrics('Step,Metric,VALUE,unit\n1,accuracy,0.93,%\n1,loss," 1e-3 ",nats\n')).toEqual([
      ['accuracy', numberValue(0.93)],
      ['loss', numberValue(0.001)]
    ])
  })

  it.each(['name,value', 'key,value', ' metric , value '])('accepts %j as a long-form header', header => {
    expect(metrics(`${header}\nacc,1\n`)).toEqual([['acc', numberValue(1)]])
  })

  it('reads the wide form: a header of names and one row of values', () => {
    expect(metrics('accuracy,f1,"per_class.cat"\n0.93,,NaN\n')).toEqual([
      ['accuracy', numberValue(0.93)],
      ['f1', invalidValue('empty', '')],
      ['per_class.cat', invalidValue('nan', 'NaN')]
    ])
  })

  it('reports a metric listed on two rows as a duplicate, with both values', () => {
    expect(metrics('metric,value\nacc,0.90\nloss,1\nacc,inf\n')).toEqual([
      ['acc', invalidValue('duplicate', '0.9, inf')],
      ['loss', numberValue(1)]
    ])
  })

  it('keeps non-numeric cells as the text the user wrote', () => {
    expect(metrics('metric,value\nacc,93%\n')).toEqual([['acc', invalidValue('non-numeric', '93%')]])
  })

  it.each([
    [
      'a ragged row',
      'metric,value\nacc,1\nloss,2,3\n',
      3,
      'row 3 has 3 cells; expected 2, one for each header column ("metric,value")'
    ],
    ['a short row', 'a,b,c\n1,2\n', 2, 'row 2 has 2 cells; expected 3'],
    [
      'a wide table with two rows',
      'a,b\n1,2\n3,4\n',
      3,
      'metric names in its header and 2 rows of values; expected exactly one row'
    ],
    ['a header with no rows', 'a,b\n', 1, 'has a header but no row of values'],
    ['a long header with no rows', 'metric,value\r\n\r\n', 1, 'has a header (metric,value) but no rows'],
    ['an empty metric name', 'metric,value\n  ,1\n', 2, 'row 2 has an empty metric cell; expected a metric name'],
    ['an unnamed wide column', 'a,,c\n1,2,3\n', 1, 'no name in column 2'],
    [
      "pandas' index column (to_csv without index=False)",
      ',accuracy,f1\n0,0.9,0.8\n',
      1,
      'no name in column 1 (pandas writes its index there: save with to_csv(index=False))'
    ],
    ['two value columns', 'metric,value,value\na,1,2\n', 1, 'more than one "value" column'],
    ['a semicolon separator', 'metric;value\na;1\n', 1, 'looks separated by ";"'],
    ['a tab separator', 'metric\tvalue\na\t1\n', 1, 'looks separated by tabs']
  ])('refuses %s, naming the line', (_case, text, line, words) => {
    const error = configurationErrorOf(() => metrics(text))
    expect(error.place).toEqual({ source: 'metrics.csv', line })
    expect(error.detail).toContain(words)
    expect(error.detail).toMatch(/^baseline metrics CSV /)
  })

  it('round-trips arbitrary metric names through a quoted long-form CSV', () => {
    const name = fc.string({ unit: 'binary', minLength: 1 }).filter(text => text.trim() === text && text !== '')
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 8 }), names => {
        const text = ['metric,value', ...names.map((n, i) => `${quoteCsvCell(n)},${i}`)].join('\n')
        expect(metrics(text)).toEqual(names.map((n, i) => [n, numberValue(i)]))
      }),
      { numRuns: 300 }
    )
  })

  it('round-trips arbitrary metric names through a wide CSV header', () => {
    const name = fc.string({ unit: 'binary', minLength: 1 }).filter(text => text.trim() === text && text !== '')
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 8 }), names => {
        fc.pre(
          !names.some(n => ['metric', 'name', 'key'].includes(n.toLowerCase())) ||
            !names.some(n => n.toLowerCase() === 'value')
        )
        fc.pre(!(names.length === 1 && /[;\t]/.test(names[0])))
        const text = `${names.map(quoteCsvCell).join(',')}\r\n${names.map((_, i) => i).join(',')}\r\n`
        expect(metrics(text)).toEqual(names.map((n, i) => [n, numberValue(i)]))
      }),
      { numRuns: 300 }
    )
  })
})
