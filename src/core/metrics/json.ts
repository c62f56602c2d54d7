/**
 * A JSON reader for metrics files, in one pass over the text with charCodeAt.
 *
 * `JSON.parse` will not do: it keeps the last of two equal keys without a word, and it rejects the bare `NaN`,
 * `Infinity` and `-Infinity` that Python's `json.dump` writes by default. This reader accepts those three tokens
 * (outside strings only), keeps duplicate keys for the flattener to report, remembers the text of every number, and
 * says on which line and column a malformed file goes wrong. Everything else is strict RFC 8259.
 */
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

/** A syntax error with its 1-based position; the caller adds the file name and what was expected. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number
  ) {
    super(`${reason} (line ${line}, column ${column})`)
    this.name = 'JsonSyntaxError'
  }
}

// Nesting beyond this is not a metrics file, and recursion this deep is still far from the stack limit.
export const MAX_JSON_DEPTH = 512

const TRUE = new Leaf('true', invalidValue('non-numeric', 'true'))
const FALSE = new Leaf('false', invalidValue('non-numeric', 'false'))
const NULL = new Leaf('null', invalidValue('empty', 'null'))
const NAN = new Leaf('NaN', invalidValue('nan', 'NaN'))
const INFINITY = new Leaf('Infinity', invalidValue('infinite', 'Infinity'))
const MINUS_INFINITY = new Leaf('-Infinity', invalidValue('infinite', '-Infinity'))

const ch = {
  tab: 9,
  newline: 10,
  carriageReturn: 13,
  space: 32,
  quote: 34,
  plus: 43,
  comma: 44,
  minus: 45,
  dot: 46,
  slash: 47,
  zero: 48,
  nine: 57,
  colon: 58,
  upperE: 69,
  upperI: 73,
  upperN: 78,
  openBracket: 91,
  backslash: 92,
  closeBracket: 93,
  lowerE: 101,
  lowerF: 102,
  lowerN: 110,
  lowerT: 116,
  openBrace: 123,
  closeBrace: 125
} as const

/** Parses a whole JSON text into a document tree. Throws JsonSyntaxError; never returns a partial document. */
export function scanJson(text: string): DocNode {
  const scanner = new Scanner(text)
  scanner.start()
  return scanner.finish(scanner.value(0))
}

/**
 * Reads a JSON text straight into a collector when its root is an object (the usual metrics file), with no tree in
 * between: for 100,000 metrics that saves a tree of as many nodes and a second walk over it. Any other root is returned as a tree for
 * flattenDocument to judge (a benchmark list, or a single value to refuse).
 */
export function readJson(text: string, collector: MetricCollector): DocNode | undefined {
  const scanner = new Scanner(text)
  scanner.start()
  if (text.charCodeAt(scanner.position) !== ch.openBrace) return scanner.finish(scanner.value(0))
  scanner.streamRoot(collector)
  scanner.finish(undefined)
  return undefined
}

class Scanner {
  private pos = 0
  private line = 1
  private lineStart = 0
  private readonly length: number

  constructor(private readonly text: string) {
    this.length = text.length
  }

  get position(): number {
    return this.pos
  }

  start(): void {
    this.skipWhitespace()
    if (this.pos >= this.length) this.fail('the file has no JSON value')
  }

  finish<T>(root: T): T {
    this.skipWhitespace()
    if (this.pos < this.length) {
      this.fail(
        `unexpected ${this.describeHere()} after the end of the JSON value (two documents, or a stray bracket?)`
      )
    }
    return root
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
    if (depth >= MAX_JSON_DEPTH) this.fail(`objects and lists are nested more than ${MAX_JSON_DEPTH} levels deep`)
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

  private skipWhitespace(): void {
    const text = this.text
    let pos = this.pos
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === ch.space || c === ch.tab || c === ch.carriageReturn) pos++
      else if (c === ch.newline) {
        pos++
        this.line++
        this.lineStart = pos
      } else break
    }
    this.pos = pos
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

  private scalar(c: number): number | Leaf {
    switch (c) {
      case ch.quote: {
        const text = this.string()
        return new Leaf(text, classifyText(text))
      }
      case ch.lowerT:
        return this.literal('true', TRUE)
      case ch.lowerF:
        return this.literal('false', FALSE)
      case ch.lowerN:
        return this.literal('null', NULL)
      case ch.upperN:
        return this.literal('NaN', NAN)
      case ch.upperI:
        return this.literal('Infinity', INFINITY)
      case ch.minus:
        if (this.text.charCodeAt(this.pos + 1) === ch.upperI) return this.literal('-Infinity', MINUS_INFINITY)
        return this.number()
      default:
        if (c >= ch.zero && c <= ch.nine) return this.number()
        if (isLetter(c)) return this.unexpectedWord()
        return this.fail(`unexpected ${this.describeHere()} where a value should start${this.hint(c)}`)
    }
  }

  /** Reads `{...}` from the opening brace, calling `member` with each key while positioned at its value. */
  private members(depth: number, member: (key: string) => void): number {
    if (depth >= MAX_JSON_DEPTH) this.fail(`objects and lists are nested more than ${MAX_JSON_DEPTH} levels deep`)
    this.pos++
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === ch.closeBrace) {
      this.pos++
      return 0
    }
    for (let count = 1; ; count++) {
      const c = this.text.charCodeAt(this.pos)
      if (c !== ch.quote) this.badKey(c)
      const key = this.string()
      this.skipWhitespace()
      if (this.text.charCodeAt(this.pos) !== ch.colon) this.badColon()
      this.pos++
      this.skipWhitespace()
      member(key)
      this.skipWhitespace()
      const next = this.text.charCodeAt(this.pos)
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

  private badKey(c: number): never {
    if (c === ch.closeBrace) this.fail('a comma before "}" (JSON allows no trailing comma)')
    return this.fail(`unexpected ${this.describeHere()} where a quoted key should start${this.hint(c)}`)
  }

  private badColon(): never {
    return this.fail(`unexpected ${this.describeHere()} after a key, where ":" should follow`)
  }

  private badObjectSeparator(next: number): never {
    const missingComma = next === ch.quote ? ' (a missing comma?)' : ''
    return this.fail(
      `unexpected ${this.describeHere()} after a value in an object, where "," or "}" should follow${missingComma}`
    )
  }

  /** Reads `[...]` from the opening bracket, calling `element` with each index while positioned at its value. */
  private elements(depth: number, element: (index: number) => void): number {
    if (depth >= MAX_JSON_DEPTH) this.fail(`objects and lists are nested more than ${MAX_JSON_DEPTH} levels deep`)
    this.pos++
    this.skipWhitespace()
    if (this.text.charCodeAt(this.pos) === ch.closeBracket) {
      this.pos++
      return 0
    }
    for (let index = 0; ; index++) {
      if (this.text.charCodeAt(this.pos) === ch.closeBracket) {
        this.fail('a comma before "]" (JSON allows no trailing comma)')
      }
      element(index)
      this.skipWhitespace()
      const next = this.text.charCodeAt(this.pos)
      if (next === ch.comma) {
        this.pos++
        this.skipWhitespace()
      } else if (next === ch.closeBracket) {
        this.pos++
        return index + 1
      } else {
        const missingComma = next === ch.quote || next === ch.openBrace ? ' (a missing comma?)' : ''
        this.fail(
          `unexpected ${this.describeHere()} after a value in a list, where "," or "]" should follow${missingComma}`
        )
      }
    }
  }

  private string(): string {
    const text = this.text
    const start = this.pos + 1
    let pos = start
    // Most keys and values have no escapes: find the closing quote and slice, without building anything.
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === ch.quote) {
        this.pos = pos + 1
        return text.slice(start, pos)
      }
      if (c === ch.backslash) break
      if (c < 0x20 || pos >= this.length) this.stringControl(pos, start)
      pos++
    }
    let result = text.slice(start, pos)
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c === ch.quote) {
        this.pos = pos + 1
        return result
      }
      if (c === ch.backslash) {
        const escape = text.charCodeAt(pos + 1)
        switch (escape) {
          case ch.quote:
            result += '"'
            break
          case ch.backslash:
            result += '\\'
            break
          case ch.slash:
            result += '/'
            break
          case 98: // b
            result += '\b'
            break
          case 102: // f
            result += '\f'
            break
          case 110: // n
            result += '\n'
            break
          case 114: // r
            result += '\r'
            break
          case 116: // t
            result += '\t'
            break
          case 117: {
            // u
            const hex = text.slice(pos + 2, pos + 6)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = pos
              this.fail(`a malformed \\u escape in a string; expected four hex digits, as in \\u00e9`)
            }
            result += String.fromCharCode(parseInt(hex, 16))
            pos += 4
            break
          }
          default:
            this.pos = pos
            this.fail(`an unknown escape ${this.describe(pos + 1, 1, '\\')} in a string`)
        }
        pos += 2
        continue
      }
      if (c < 0x20 || pos >= this.length) this.stringControl(pos, start)
      result += text[pos]
      pos++
    }
  }

  private stringControl(pos: number, start: number): never {
    if (pos >= this.length || this.text.charCodeAt(pos) === ch.newline) {
      this.pos = start - 1
      this.fail('a string that is not closed on its line (a missing ")')
    }
    this.pos = pos
    return this.fail(
      `a control character U+${this.text.charCodeAt(pos).toString(16).toUpperCase().padStart(4, '0')} inside a string (write it as an escape such as \\t)`
    )
  }

  private number(): number | Leaf {
    const text = this.text
    const start = this.pos
    let pos = start
    if (text.charCodeAt(pos) === ch.minus) pos++
    let c = text.charCodeAt(pos)
    if (c === ch.zero) {
      pos++
      if (isDigit(text.charCodeAt(pos))) {
        this.pos = start
        this.fail('a number with a leading zero (JSON writes 7, not 07)')
      }
    } else if (c > ch.zero && c <= ch.nine) {
      do pos++
      while (isDigit(text.charCodeAt(pos)))
    } else {
      this.pos = pos
      this.fail(`unexpected ${this.describeHere()} in a number; expected a digit`)
    }
    c = text.charCodeAt(pos)
    if (c === ch.dot) {
      pos++
      if (!isDigit(text.charCodeAt(pos))) {
        this.pos = pos
        this.fail(`a number with no digits after its decimal point`)
      }
      do pos++
      while (isDigit(text.charCodeAt(pos)))
      c = text.charCodeAt(pos)
    }
    if (c === ch.lowerE || c === ch.upperE) {
      pos++
      c = text.charCodeAt(pos)
      if (c === ch.plus || c === ch.minus) pos++
      if (!isDigit(text.charCodeAt(pos))) {
        this.pos = pos
        this.fail(`a number with no digits in its exponent`)
      }
      do pos++
      while (isDigit(text.charCodeAt(pos)))
    }
    this.pos = pos
    const raw = text.slice(start, pos)
    // `+raw` and `x - x === 0` rather than Number() and Number.isFinite(): global lookups are slow inside jest's VM
    // contexts, and this line runs once per number. 1e999 parses to Infinity: keep its text for the report.
    const value = +raw
    return value - value === 0 ? value : new Leaf(raw, numberFromText(value, raw))
  }

  private literal(word: string, leaf: Leaf): Leaf {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length
      return leaf
    }
    return this.unexpectedWord()
  }

  private unexpectedWord(): never {
    const found = /^-?[A-Za-z_][\w.]*/.exec(this.text.slice(this.pos, this.pos + 40))?.[0] ?? ''
    return this.fail(
      `unexpected word ${JSON.stringify(found)} (JSON values are numbers, "quoted strings", true, false and null, and NaN, Infinity, -Infinity as Python writes them)`
    )
  }

  private hint(c: number): string {
    if (c === 39) return ' (JSON strings and keys need double quotes, not single)'
    if (c === ch.slash) return ' (JSON has no comments)'
    if (c === ch.plus || c === ch.dot) return ' (JSON numbers start with a digit or "-")'
    if (isLetter(c)) return ' (text must be in double quotes)'
    return ''
  }

  private describeHere(): string {
    return this.describe(this.pos, 1, '')
  }

  private describe(pos: number, length: number, prefix: string): string {
    if (pos >= this.length) return 'end of file'
    const c = this.text.codePointAt(pos) ?? 0
    if (c < 0x20 || c === 0x7f || c === 0xfeff) return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`
    return JSON.stringify(prefix + String.fromCodePoint(c) + this.text.slice(pos + 1, pos + length))
  }

  private fail(reason: string): never {
    // The position must count from the line the offending character sits on; strings cannot span lines.
    throw new JsonSyntaxError(reason, this.line, this.pos - this.lineStart + 1)
  }
}

function isDigit(c: number): boolean {
  return c >= ch.zero && c <= ch.nine
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}
