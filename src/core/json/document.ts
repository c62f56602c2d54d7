/**
 * JSON read into plain values, as JSON.parse would give them, plus which whole numbers were written as floats
 * (`2.0`, `1e3`): JSON.parse loses that, and MLflow's schema enforcement does not (see model/signature.ts). Used for
 * a model's input examples (read with Python's non-finite words, see `pythonNumbers`) and the signature's params
 * schema (strict RFC 8259).
 */
import { JsonScanner, ch, type JsonLiterals } from './scanner.js'

export interface JsonDocument {
  readonly value: unknown
  /** 'float' when the whole number at `holder[key]` of `value` was written as a float (`2.0`, `1e3`). */
  readonly numberForm: (holder: object, key: string | number) => 'float' | undefined
}

export interface JsonDocumentOptions {
  /**
   * Read `NaN`, `Infinity` and `-Infinity` (outside strings) as the JavaScript numbers of the same names, as Python's
   * `json` module reads them. MLflow writes a model's input examples with `json.dump`, which spells a pandas missing
   * value `NaN`, and reads them back with `json.loads`, so a strict reader would fail what MLflow serves.
   */
  readonly pythonNumbers?: boolean
}

/** JSON.parse's result, plus which whole numbers were written as floats. Throws JsonSyntaxError. */
export function parseJsonDocument(text: string, options: JsonDocumentOptions = {}): JsonDocument {
  // A byte order mark is not part of the JSON text; RFC 8259 lets a parser ignore it.
  const scanner = new DocumentScanner(
    text.charCodeAt(0) === 0xfeff ? text.slice(1) : text,
    options.pythonNumbers ? PYTHON_LITERALS : LITERALS
  )
  scanner.start()
  const value = scanner.finish(scanner.value(0))
  const wholeFloats = scanner.wholeFloats
  return { value, numberForm: (holder, key) => (wholeFloats.get(holder)?.has(key) ? 'float' : undefined) }
}

const LITERALS: JsonLiterals<unknown> = { true: true, false: false, null: null }
const PYTHON_LITERALS: JsonLiterals<unknown> = {
  ...LITERALS,
  nonFinite: { nan: NaN, infinity: Infinity, minusInfinity: -Infinity }
}

class DocumentScanner extends JsonScanner<unknown> {
  readonly wholeFloats = new WeakMap<object, Set<string | number>>()
  private lastWasFloat = false

  constructor(text: string, literals: JsonLiterals<unknown>) {
    super(text, literals)
  }

  protected stringScalar(text: string): string {
    return text
  }

  protected numberScalar(_raw: string, value: number, float: boolean): number {
    this.lastWasFloat = float
    return value
  }

  value(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos)
    if (c === ch.openBrace) {
      const object: Record<string, unknown> = {}
      this.members(depth, key => {
        const item = this.value(depth + 1)
        // A plain assignment of "__proto__" would replace the prototype instead of adding a key.
        Object.defineProperty(object, key, { value: item, enumerable: true, writable: true, configurable: true })
        this.note(object, key, item)
      })
      return object
    }
    if (c === ch.openBracket) {
      const array: unknown[] = []
      this.elements(depth, index => {
        const item = this.value(depth + 1)
        this.note(array, index, item)
        array.push(item)
      })
      return array
    }
    this.lastWasFloat = false
    return this.scalar(c)
  }

  /** Records the form of a number just stored at holder[key]. */
  private note(holder: object, key: string | number, value: unknown): void {
    if (!this.lastWasFloat || typeof value !== 'number' || !Number.isInteger(value)) return
    let keys = this.wholeFloats.get(holder)
    if (!keys) this.wholeFloats.set(holder, (keys = new Set()))
    keys.add(key)
  }
}
