/**
 * CSV metrics: an RFC 4180 reader and the two table shapes people write.
 *
 * Long: a header with a name column (`metric`, `name` or `key`) and a `value` column, one row per metric; other
 * columns (unit, step, notes) are allowed and ignored. Wide: a header of metric names and exactly one row of values,
 * as `pandas.DataFrame([metrics]).to_csv(index=False)` writes it.
 */
import { ConfigurationError, describeValue } from '../errors.js'
import { MetricCollector, classifyText, subject, type ParseContext } from './flatten.js'
import type { MetricValue } from './types.js'

export interface CsvRecord {
  readonly cells: string[]
  /** 1-based line on which the record starts (a quoted cell may span lines). */
  readonly line: number
}

export const CSV_EXPECTED =
  'a CSV with a "metric,value" header and one row per metric, or a header of metric names and one row of values'

const TAB = 9
const SPACE = 32
const QUOTE = 34
const COMMA = 44
const NEWLINE = 10
const CARRIAGE_RETURN = 13

/**
 * Splits CSV text into records. Accepts CRLF, LF or lone CR line ends, a leading BOM, and skips blank lines (pandas
 * does too). A quote inside an unquoted cell is kept as text; an unclosed quote, or text after a closing quote, is
 * an error because it means the cells are not where the writer thought.
 */
export function parseCsv(text: string, context: ParseContext): CsvRecord[] {
  const records: CsvRecord[] = []
  const length = text.length
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  while (pos < length) {
    const recordLine = line
    const cells: string[] = []
    let anyQuoted = false
    for (;;) {
      let cell: string
      // `a, "b"` is common from hand-written files: spaces before an opening quote do not make the quote literal.
      let quoteAt = pos
      while (text.charCodeAt(quoteAt) === SPACE || text.charCodeAt(quoteAt) === TAB) quoteAt++
      if (text.charCodeAt(quoteAt) === QUOTE) {
        pos = quoteAt
        anyQuoted = true
        const quoteLine = line
        let value = ''
        let from = pos + 1
        for (;;) {
          const close = text.indexOf('"', from)
          if (close < 0) {
            throw new ConfigurationError(
              `${subject(context)} CSV has a quoted cell that is never closed (it opens on line ${quoteLine}); expected a closing "`,
              { source: context.source, line: quoteLine }
            )
          }
          const chunk = text.slice(from, close)
          line += countNewlines(chunk)
          value += chunk
          if (text.charCodeAt(close + 1) === QUOTE) {
            value += '"'
            from = close + 2
            continue
          }
          pos = close + 1
          break
        }
        cell = value
        while (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB) pos++
        const after = text.charCodeAt(pos)
        if (pos < length && after !== COMMA && after !== NEWLINE && after !== CARRIAGE_RETURN) {
          throw new ConfigurationError(
            `${subject(context)} CSV has text after the closing quote of a cell (${describeValue(restOfLine(text, pos))}); expected a comma or the end of the line, with any " inside the cell doubled as ""`,
            { source: context.source, line }
          )
        }
      } else {
        const start = pos
        let c = text.charCodeAt(pos)
        while (pos < length && c !== COMMA && c !== NEWLINE && c !== CARRIAGE_RETURN) c = text.charCodeAt(++pos)
        cell = text.slice(start, pos)
      }
      cells.push(cell)
      const c = text.charCodeAt(pos)
      if (c === COMMA) {
        pos++
        continue
      }
      if (c === CARRIAGE_RETURN) {
        pos++
        if (text.charCodeAt(pos) === NEWLINE) pos++
        line++
      } else if (c === NEWLINE) {
        pos++
        line++
      }
      break
    }
    if (cells.length === 1 && cells[0] === '' && !anyQuoted) continue
    records.push({ cells, line: recordLine })
  }
  return records
}

function restOfLine(text: string, pos: number): string {
  const end = text.slice(pos, pos + 40).search(/[\r\n]/)
  return end < 0 ? text.slice(pos, pos + 40) : text.slice(pos, pos + end)
}

function countNewlines(text: string): number {
  let count = 0
  let at = text.indexOf('\n')
  while (at >= 0) {
    count++
    at = text.indexOf('\n', at + 1)
  }
  return count
}

const NAME_COLUMNS = ['metric', 'name', 'key'] as const

export function csvToMetrics(records: CsvRecord[], context: ParseContext): Map<string, MetricValue> {
  if (records.length === 0) {
    throw new ConfigurationError(`${subject(context)} CSV has no rows; expected ${CSV_EXPECTED}`, {
      source: context.source
    })
  }
  const header = records[0].cells.map(cell => cell.trim())
  const lower = header.map(cell => cell.toLowerCase())
  if (header.length === 1 && /[;\t]/.test(header[0])) {
    const separator = /[;\t]/.exec(header[0])![0]
    throw new ConfigurationError(
      `${subject(context)} CSV header ${describeValue(header[0])} looks separated by ${separator === '\t' ? 'tabs' : `"${separator}"`}; expected comma-separated values, ${CSV_EXPECTED}`,
      { source: context.source, line: records[0].line }
    )
  }
  const valueColumns = indicesOf(lower, 'value')
  const nameColumn = NAME_COLUMNS.map(name => indicesOf(lower, name)).find(found => found.length > 0)
  const collector = new MetricCollector(context, CSV_EXPECTED)
  if (valueColumns.length > 0 && nameColumn) {
    if (valueColumns.length > 1 || nameColumn.length > 1) {
      const column = valueColumns.length > 1 ? 'value' : lower[nameColumn[0]]
      throw new ConfigurationError(
        `${subject(context)} CSV header has more than one "${column}" column; expected one name column and one value column`,
        { source: context.source, line: records[0].line }
      )
    }
    readLong(records, header, nameColumn[0], valueColumns[0], collector)
  } else {
    readWide(records, header, collector)
  }
  return collector.finish()
}

function readLong(
  records: CsvRecord[],
  header: string[],
  nameColumn: number,
  valueColumn: number,
  collector: MetricCollector
): void {
  const context = collector.context
  if (records.length === 1) {
    throw new ConfigurationError(
      `${subject(context)} CSV has a header (${header.join(',')}) but no rows; expected one row per metric under it`,
      { source: context.source, line: records[0].line }
    )
  }
  for (let row = 1; row < records.length; row++) {
    const record = records[row]
    checkWidth(record, row, header, context)
    const name = record.cells[nameColumn].trim()
    if (name === '') {
      throw new ConfigurationError(
        `${subject(context)} CSV row ${row + 1} has an empty ${header[nameColumn]} cell; expected a metric name`,
        { source: context.source, line: record.line }
      )
    }
    const raw = record.cells[valueColumn]
    collector.add(name, classifyText(raw))
  }
}

function readWide(records: CsvRecord[], header: string[], collector: MetricCollector): void {
  const context = collector.context
  const unnamed = header.indexOf('')
  if (unnamed >= 0) {
    throw new ConfigurationError(
      `${subject(context)} CSV header has no name in column ${unnamed + 1}${unnamed === 0 ? PANDAS_INDEX : ''}; expected a metric name over every column (or a "metric,value" header for one row per metric)`,
      { source: context.source, line: records[0].line }
    )
  }
  if (records.length === 1) {
    throw new ConfigurationError(
      `${subject(context)} CSV has a header but no row of values; expected ${CSV_EXPECTED}`,
      { source: context.source, line: records[0].line }
    )
  }
  if (records.length > 2 && header.includes('run_id') && header.some(name => name.startsWith('metrics.'))) {
    throw new ConfigurationError(
      `${subject(context)} CSV is the output of mlflow.search_runs() with ${records.length - 1} runs; expected one run (filter the search, e.g. by run id, before writing it)`,
      { source: context.source, line: records[2].line }
    )
  }
  if (records.length > 2) {
    throw new ConfigurationError(
      `${subject(context)} CSV has metric names in its header and ${records.length - 1} rows of values; expected exactly one row of values (for one row per metric, use a "metric,value" header)`,
      { source: context.source, line: records[2].line }
    )
  }
  checkWidth(records[1], 1, header, context)
  const cells = records[1].cells
  for (let i = 0; i < header.length; i++) collector.add(header[i], classifyText(cells[i]))
}

/** `DataFrame.to_csv()` writes the index as a first column with an empty header: the usual cause of an unnamed one. */
const PANDAS_INDEX = ' (pandas writes its index there: save with to_csv(index=False))'

function checkWidth(record: CsvRecord, row: number, header: string[], context: ParseContext): void {
  if (record.cells.length === header.length) return
  throw new ConfigurationError(
    `${subject(context)} CSV row ${row + 1} has ${record.cells.length} ${record.cells.length === 1 ? 'cell' : 'cells'}; expected ${header.length}, one for each header column (${describeValue(header.join(','), 80)})`,
    { source: context.source, line: record.line }
  )
}

function indicesOf(cells: string[], wanted: string): number[] {
  const found: number[] = []
  for (let i = 0; i < cells.length; i++) if (cells[i] === wanted) found.push(i)
  return found
}

/**
 * Quotes a cell when RFC 4180 requires it; also an empty cell, which alone on a line would read as a blank line, and
 * one starting with U+FEFF, which at the start of a file would read as a byte-order mark.
 */
export function quoteCsvCell(cell: string): string {
  if (cell !== '' && !/[",\r\n]|^\ufeff/.test(cell)) return cell
  return `"${cell.replaceAll('"', '""')}"`
}
