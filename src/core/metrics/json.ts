/**
 * Metrics files in JSON, read by the shared reader (core/json/scanner.ts) with Python's `NaN`, `Infinity` and
 * `-Infinity` accepted (outside strings only), duplicate keys kept for the flattener to report, and the text of every
 * number remembered, so a defect is shown as written.
 */
import { JsonScanner, ch } from '../json/scanner.js'
import {
  DocObject,
  EMPTY_LIST,
  EMPTY_OBJECT,
  Leaf,
  classifyText,
  numberFromText,
  type DocNode,
  type MetricCollector
} from './flatten.js'
import { invalidValue, numberValue } from './types.js'

const LITERALS = {
  true: new Leaf('true', invalidValue('non-numeric', 'true')),
  false: new Leaf('false', invalidValue('non-numeric', 'false')),
  null: new Leaf('null', invalidValue('empty', 'null')),
  nonFinite: {
    nan: new Leaf('NaN', invalidValue('nan', 'NaN')),
    infinity: new Leaf('Infinity', invalidValue('infinite', 'Infinity')),
    minusInfinity: new Leaf('-Infinity', invalidValue('infinite', '-Infinity'))
  }
}

/** Parses a whole JSON text into a document tree. Throws JsonSyntaxError; never returns a partial document. */
export function scanJson(text: string): DocNode {
  const scanner = new MetricsScanner(text)
  scanner.start()
  return scanner.finish(scanner.value(0))
}

/**
 * Reads a JSON text straight into a collector when its root is an object (the usual metrics file), with no tree in
 * between: for 100,000 metrics that saves a tree of as many nodes and a second walk over it. Any other root is
 * returned as a tree for flattenDocument to judge (a benchmark list, or a single value to refuse).
 */
export function readJson(text: string, collector: MetricCollector): DocNode | undefined {
  const scanner = new MetricsScanner(text)
  scanner.start()
  if (text.charCodeAt(scanner.position) !== ch.openBrace) return scanner.finish(scanner.value(0))
  scanner.streamRoot(collector)
  scanner.finish(undefined)
  return undefined
}

class MetricsScanner extends JsonScanner<number | Leaf> {
  constructor(text: string) {
    super(text, LITERALS)
  }

  protected stringScalar(text: string): Leaf {
    return new Leaf(text, classifyText(text))
  }

  protected numberScalar(raw: string, value: number): number | Leaf {
    // `x - x === 0` rather than Number.isFinite(): global lookups are slow inside jest's VM contexts, and this runs
    // once per number. 1e999 parses to Infinity: keep its text for the report.
    return value - value === 0 ? value : new Leaf(raw, numberFromText(value, raw))
  }

  value(depth: number): DocNode {
    const c = this.text.charCodeAt(this.pos)
    if (c === ch.openBrace) {
      const result = new DocObject(this.line)
      this.members(depth, key => {
        result.keys.push(key)
        result.values.push(this.value(depth + 1))
      })
      return result
    }
    if (c === ch.openBracket) {
      const result: DocNode[] = []
      this.elements(depth, () => result.push(this.value(depth + 1)))
      return result
    }
    return this.scalar(c)
  }

  streamRoot(collector: MetricCollector): void {
    const line = this.line
    if (this.streamMembers(collector, '', 0) === 0) collector.noMetrics('an empty object', line)
  }

  /**
   * The members loop of `members`, specialised for streaming: the hot path of a large file, so it avoids a closure
   * per object and passes the name prefix down instead.
   */
  private streamMembers(collector: MetricCollector, prefix: string, depth: number): number {
    this.checkDepth(depth)
    const text = this.text
    this.pos++
    this.skipWhitespace()
    if (text.charCodeAt(this.pos) === ch.closeBrace) {
      this.pos++
      return 0
    }
    for (let count = 1; ; count++) {
      const c = text.charCodeAt(this.pos)
      if (c !== ch.quote) this.badKey(c)
      const key = this.string()
      this.skipWhitespace()
      if (text.charCodeAt(this.pos) !== ch.colon) this.badColon()
      this.pos++
      this.skipWhitespace()
      this.stream(collector, prefix === '' ? key : prefix + key, depth + 1)
      this.skipWhitespace()
      const next = text.charCodeAt(this.pos)
      if (next === ch.comma) {
        this.pos++
        this.skipWhitespace()
      } else if (next === ch.closeBrace) {
        this.pos++
        return count
      } else {
        this.badObjectSeparator(next)
      }
    }
  }

  private stream(collector: MetricCollector, name: string, depth: number): void {
    const c = this.text.charCodeAt(this.pos)
    if (c === ch.openBrace) {
      if (this.streamMembers(collector, `${name}.`, depth) === 0) collector.add(name, EMPTY_OBJECT)
    } else if (c === ch.openBracket) {
      const prefix = `${name}.`
      if (this.elements(depth, index => this.stream(collector, prefix + index, depth + 1)) === 0) {
        collector.add(name, EMPTY_LIST)
      }
    } else {
      const scalar = this.scalar(c)
      collector.add(name, typeof scalar === 'number' ? numberValue(scalar) : scalar.value)
    }
  }
}
