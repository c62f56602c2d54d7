/**
 * The one JSON reader of modelgate, in one pass over the text with charCodeAt: metrics files (metrics/json.ts) and
 * a model's input examples (document.ts) are read by subclasses that build what each needs from the same tokens.
 *
 * `JSON.parse` will not do for either: it keeps the last of two equal keys without a word, rejects the bare `NaN`,
 * `Infinity` and `-Infinity` that Python's `json.dump` writes by default, forgets whether `2.0` was written with a
 * decimal point (MLflow's schema enforcement does not), and says little about where a malformed file goes wrong.
 * This reader reports every syntax error with its line and column and a hint, and is otherwise strict RFC 8259:
 * Python's `NaN`, `Infinity` and `-Infinity` are read only by a reader that asks for them (`JsonLiterals.nonFinite`),
 * as metrics files and input examples do, since Python wrote them and Python reads them back.
 */

/** A syntax error with its 1-based position; the caller adds the file name and what was expected. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number
  ) {
    super(`${reason} at line ${line}, column ${column}`)
    this.name = 'JsonSyntaxError'
  }
}

// Nesting beyond this is neither a metrics file nor an input example, and recursion this deep is still far from the
// stack limit.
export const MAX_JSON_DEPTH = 512

/**
 * What the literal words read as. Without `NaN` (and the two infinities) those words are refused, as RFC 8259 says;
 * with them, they are read as Python writes them.
 */
export interface JsonLiterals<Scalar> {
  readonly true: Scalar
  readonly false: Scalar
  readonly null: Scalar
  readonly nonFinite?: { readonly nan: Scalar; readonly infinity: Scalar; readonly minusInfinity: Scalar }
}

export const ch = {
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

/**
 * The tokens and the structure of JSON; a subclass says what strings and numbers become and walks values with
 * `members` and `elements`, so each reader builds its own result without a tree in between.
 */
export abstract class JsonScanner<Scalar> {
  protected pos = 0
  protected line = 1
  protected lineStart = 0
  protected readonly length: number

  constructor(
    protected readonly text: string,
    private readonly literals: JsonLiterals<Scalar>
  ) {
    this.length = text.length
  }

  /** A string value (keys are plain strings). */
  protected abstract stringScalar(text: string): Scalar
  /** A number as written: its text, `+raw` (which overflows to an infinity), and whether it has a fraction or exponent. */
  protected abstract numberScalar(raw: string, value: number, float: boolean): Scalar
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

  protected skipWhitespace(): void {
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

  /** Reads the string, number or literal word that starts with `c` at the current position. */
  protected scalar(c: number): Scalar {
    switch (c) {
      case ch.quote:
        return this.stringScalar(this.string())
      case ch.lowerT:
        return this.literal('true', this.literals.true)
      case ch.lowerF:
        return this.literal('false', this.literals.false)
      case ch.lowerN:
        return this.literal('null', this.literals.null)
      case ch.upperN:
        return this.literal('NaN', this.literals.nonFinite?.nan)
      case ch.upperI:
        return this.literal('Infinity', this.literals.nonFinite?.infinity)
      case ch.minus:
        if (this.text.charCodeAt(this.pos + 1) === ch.upperI) {
          return this.literal('-Infinity', this.literals.nonFinite?.minusInfinity)
        }
        return this.number()
      default:
        if (c >= ch.zero && c <= ch.nine) return this.number()
        if (isLetter(c)) return this.unexpectedWord()
        return this.fail(`unexpected ${this.describeHere()} where a value should start${this.hint(c)}`)
    }
  }

  /** Reads `{...}` from the opening brace, calling `member` with each key while positioned at its value. */
  protected members(depth: number, member: (key: string) => void): number {
    this.checkDepth(depth)
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

  protected checkDepth(depth: number): void {
    if (depth >= MAX_JSON_DEPTH) this.fail(`objects and lists are nested more than ${MAX_JSON_DEPTH} levels deep`)
  }

  protected badKey(c: number): never {
    if (c === ch.closeBrace) this.fail('a comma before "}" (JSON allows no trailing comma)')
    return this.fail(`unexpected ${this.describeHere()} where a quoted key should start${this.hint(c)}`)
  }

  protected badColon(): never {
    return this.fail(`unexpected ${this.describeHere()} after a key, where ":" should follow`)
  }

  protected badObjectSeparator(next: number): never {
    const missingComma = next === ch.quote ? ' (a missing comma?)' : ''
    return this.fail(
      `unexpected ${this.describeHere()} after a value in an object, where "," or "}" should follow${missingComma}`
    )
  }

  /** Reads `[...]` from the opening bracket, calling `element` with each index while positioned at its value. */
  protected elements(depth: number, element: (index: number) => void): number {
    this.checkDepth(depth)
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

  protected string(): string {
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
    if (pos >= this.length) {
      this.pos = pos
      this.fail('a string that is not closed before the end of the file (a missing ")')
    }
    if (this.text.charCodeAt(pos) === ch.newline) {
      this.pos = start - 1
      this.fail('a string that is not closed on its line (a missing ")')
    }
    this.pos = pos
    return this.fail(
      `a control character U+${this.text.charCodeAt(pos).toString(16).toUpperCase().padStart(4, '0')} inside a string (write it as an escape such as \\t)`
    )
  }

  private number(): Scalar {
    const text = this.text
    const start = this.pos
    let pos = start
    if (text.charCodeAt(pos) === ch.minus) pos++
    let c = text.charCodeAt(pos)
    let float = false
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
      float = true
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
      float = true
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
    // `+raw` rather than Number(): global lookups are slow inside jest's VM contexts, and this runs once per number.
    return this.numberScalar(raw, +raw, float)
  }

  private literal(word: string, scalar: Scalar | undefined): Scalar {
    if (scalar !== undefined && this.text.startsWith(word, this.pos)) {
      this.pos += word.length
      return scalar
    }
    return this.unexpectedWord()
  }

  private unexpectedWord(): never {
    const found = /^-?[A-Za-z_][\w.]*/.exec(this.text.slice(this.pos, this.pos + 40))?.[0] ?? ''
    const words = this.literals.nonFinite
      ? 'true, false and null, and NaN, Infinity, -Infinity as Python writes them'
      : 'true, false and null'
    return this.fail(`unexpected word ${JSON.stringify(found)} (JSON values are numbers, "quoted strings", ${words})`)
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

  protected fail(reason: string): never {
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
