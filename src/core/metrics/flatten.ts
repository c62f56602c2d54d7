/**
 * The document model shared by the JSON and YAML readers, and the flattening of a document into named metrics.
 *
 * Both readers build a tree that keeps what `JSON.parse` and plain objects lose: a key that appears twice, the order
 * of keys, and the text the user wrote for each scalar (`0.90`, `.nan`, `-Infinity`). Flattening then has one
 * implementation for every format, so `"a.b": 1` beside `{"a": {"b": 2}}` is a duplicate in JSON and YAML alike.
 */
import { ConfigurationError, describeValue } from '../errors.js'
import { invalidValue, numberValue, type MetricValue } from './types.js'

/**
 * Far above any real evaluation (a per-class report for 10,000 classes with 20 measures each is 200,000 metrics),
 * low enough that a runaway generator or a YAML alias bomb ends with a message instead of exhausting memory.
 */
export const MAX_METRICS = 2_000_000

/**
 * A scalar that is not a plain finite number: text, true/false/null, NaN, an overflowing number. `raw` is the text
 * as written, which for YAML keys (`0.50: ...`) is also the metric name segment.
 */
export class Leaf {
  constructor(
    readonly raw: string,
    readonly value: MetricValue
  ) {}
}

/** A mapping with its keys in document order, duplicates included. */
export class DocObject {
  readonly keys: string[] = []
  readonly values: DocNode[] = []
  /** 1-based line of the opening brace or first key, where the reader knows it (JSON does, YAML does not). */
  constructor(readonly line?: number) {}
}

/**
 * A parsed document. Finite numbers stay plain numbers: a 100,000-metric file is mostly numbers, and one object per
 * number would double the garbage a parse makes.
 */
export type DocNode = number | Leaf | DocObject | DocNode[]

/** Who is reading what, so every message names the file and the input it came from. */
export interface ParseContext {
  /** The file path or source spec as the user wrote it. */
  readonly source: string
  /** `candidate`, `baseline`, or a CLI flag name. */
  readonly role?: string
  /** Overrides MAX_METRICS, for tests. */
  readonly maxMetrics?: number
}

/**
 * `candidate metrics`, or `metrics` when no role is known: the subject of every message about a source. The role
 * is the input's name, and validate-model's input is `metrics` itself.
 */
export function subject(context: ParseContext): string {
  return context.role && context.role !== 'metrics' ? `${context.role} metrics` : 'metrics'
}

// A strict decimal: what a person means by "a number", not everything Number() accepts (hex, '', 0b1, whitespace).
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const NAN_WORDS = new Set(['nan', '+nan', '-nan', '.nan', '+.nan', '-.nan'])
const INFINITY_WORDS = new Set(['inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity', '.inf', '+.inf', '-.inf'])

/** Classifies text from a string value or a CSV cell. Never throws: defects become invalid values. */
export function classifyText(raw: string): MetricValue {
  const text = raw.trim()
  if (text === '') return invalidValue('empty', raw)
  if (NUMERIC.test(text)) return numberFromText(+text, raw)
  const lower = text.toLowerCase()
  if (NAN_WORDS.has(lower)) return invalidValue('nan', raw)
  if (INFINITY_WORDS.has(lower)) return invalidValue('infinite', raw)
  return invalidValue('non-numeric', raw)
}

/** A number the reader already parsed: `1e999` overflows to Infinity and is reported as such, with its text. */
export function numberFromText(value: number, raw: string): MetricValue {
  // `x - x === 0` is Number.isFinite without a global lookup, which is slow inside jest's VM contexts.
  if (value - value === 0) return numberValue(value)
  return invalidValue(Number.isNaN(value) ? 'nan' : 'infinite', raw)
}

/**
 * Collects flattened metrics in order. A name seen twice becomes one invalid 'duplicate' entry, at the place of its
 * first appearance, whose raw text lists every value seen (numbers as JavaScript prints them, the rest as written).
 */
export class MetricCollector {
  private readonly values = new Map<string, MetricValue>()
  private duplicates: Map<string, string[]> | undefined
  private readonly limit: number

  /** `expected` describes the accepted shape of the source, for messages. */
  constructor(
    readonly context: ParseContext,
    readonly expected: string
  ) {
    this.limit = context.maxMetrics ?? MAX_METRICS
  }

  get size(): number {
    return this.values.size
  }

  add(name: string, value: MetricValue): void {
    const first = this.values.get(name)
    if (first === undefined) {
      if (this.values.size >= this.limit) this.tooMany()
      const c = name.charCodeAt(0)
      // Only a name that starts with a space or non-ASCII character can be blank; skip trim() for the rest.
      if (name === '' || ((c <= 32 || c >= 160) && name.trim() === '')) {
        throw new ConfigurationError(
          `${subject(this.context)} include a metric with ${name === '' ? 'an empty name' : 'a name of only spaces'}; expected ${this.expected}`,
          { source: this.context.source }
        )
      }
      this.values.set(name, value)
      return
    }
    this.duplicates ??= new Map()
    const seen = this.duplicates.get(name)
    if (seen) seen.push(rawText(value))
    else this.duplicates.set(name, [rawText(first), rawText(value)])
  }

  /** Refuses a source that yielded nothing: an empty object or list is a broken evaluation, not a passing one. */
  noMetrics(what: string, line?: number): never {
    throw new ConfigurationError(
      `${subject(this.context)} file holds no metrics (${what}); expected ${this.expected}`,
      {
        source: this.context.source,
        ...(line !== undefined ? { line } : {})
      }
    )
  }

  /** The map of values; no copy is made, so the collector must not be used afterwards. */
  finish(): Map<string, MetricValue> {
    if (this.values.size === 0) this.noMetrics('nothing was read')
    if (this.duplicates) {
      // Replacing an existing key keeps its position, so a duplicate stays where the name first appeared.
      for (const [name, seen] of this.duplicates) this.values.set(name, invalidValue('duplicate', seen.join(', ')))
    }
    return this.values
  }

  private tooMany(): never {
    const limit = this.limit.toLocaleString('en-US')
    throw new ConfigurationError(
      `${subject(this.context)} hold more than ${limit} metrics; expected at most ${limit} (is this a prediction or log file rather than a metrics file?)`,
      { source: this.context.source }
    )
  }
}

function rawText(value: MetricValue): string {
  if (value.kind === 'number') return String(value.value)
  return value.raw === '' ? '""' : value.raw
}

// Deeper than any metrics file; the bound exists because a YAML alias may point at its own ancestor.
const MAX_FLATTEN_DEPTH = 256

const NAME_FIELDS = ['name', 'metric', 'key'] as const

/**
 * Flattens a parsed document. A mapping yields dotted names; a top-level list must be the github-action-benchmark
 * form, `[{"name": "accuracy", "value": 0.93, "unit": "..."}]`. A single value, or nothing, is refused.
 */
export function flattenDocument(root: DocNode | undefined, collector: MetricCollector): Map<string, MetricValue> {
  const { context, expected } = collector
  if (root === undefined) collector.noMetrics('no document')
  if (typeof root === 'number' || root instanceof Leaf) {
    throw new ConfigurationError(
      `${subject(context)} file holds a single value (${describeValue(scalarText(root))}), not named metrics; expected ${expected}`,
      { source: context.source }
    )
  }
  if (root instanceof DocObject) {
    if (root.keys.length === 0) collector.noMetrics('an empty object', root.line)
    for (let i = 0; i < root.keys.length; i++) walk(collector, root.keys[i], root.values[i], 1)
  } else {
    if (root.length === 0) collector.noMetrics('an empty list')
    flattenEntries(collector, root)
  }
  return collector.finish()
}

function flattenEntries(collector: MetricCollector, entries: DocNode[]): void {
  const { context, expected } = collector
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]
    const place = {
      source: context.source,
      path: `[${index}]`,
      ...(entry instanceof DocObject && entry.line !== undefined ? { line: entry.line } : {})
    }
    if (!(entry instanceof DocObject)) {
      const what = Array.isArray(entry) ? 'a list' : `a single value (${describeValue(scalarText(entry))})`
      throw new ConfigurationError(
        `${subject(context)} file is a list whose entry ${index + 1} is ${what}; expected ${expected}`,
        place
      )
    }
    let name: string | undefined
    for (const field of NAME_FIELDS) {
      const at = entry.keys.indexOf(field)
      if (at < 0) continue
      const node = entry.values[at]
      const text = typeof node === 'number' || node instanceof Leaf ? scalarText(node).trim() : ''
      if (text === '') {
        throw new ConfigurationError(
          `${subject(context)} entry ${index + 1} has ${typeof node === 'number' || node instanceof Leaf ? 'an empty' : 'a non-text'} "${field}"; expected a metric name such as "accuracy"`,
          place
        )
      }
      name = text
      break
    }
    if (name === undefined) {
      throw new ConfigurationError(
        `${subject(context)} entry ${index + 1} has no "name" (keys: ${entry.keys.map(k => JSON.stringify(k)).join(', ') || 'none'}); expected entries like {"name": "accuracy", "value": 0.93}`,
        place
      )
    }
    let found = false
    for (let i = 0; i < entry.keys.length; i++) {
      if (entry.keys[i] !== 'value') continue
      found = true
      walk(collector, name, entry.values[i], 1)
    }
    if (!found) {
      throw new ConfigurationError(
        `${subject(context)} entry ${index + 1} ("${name}") has no "value"; expected entries like {"name": "accuracy", "value": 0.93}`,
        place
      )
    }
  }
}

function walk(collector: MetricCollector, name: string, node: DocNode, depth: number): void {
  if (typeof node === 'number') {
    collector.add(name, numberValue(node))
    return
  }
  if (node instanceof Leaf) {
    collector.add(name, node.value)
    return
  }
  if (depth > MAX_FLATTEN_DEPTH) {
    throw new ConfigurationError(
      `metric ${describeValue(name.slice(0, 80))} is nested more than ${MAX_FLATTEN_DEPTH} levels deep (a YAML alias that refers to itself?); expected a tree of metric names`,
      { source: collector.context.source }
    )
  }
  if (node instanceof DocObject) {
    if (node.keys.length === 0) collector.add(name, EMPTY_OBJECT)
    for (let i = 0; i < node.keys.length; i++) walk(collector, `${name}.${node.keys[i]}`, node.values[i], depth + 1)
    return
  }
  if (node.length === 0) collector.add(name, EMPTY_LIST)
  for (let i = 0; i < node.length; i++) walk(collector, `${name}.${i}`, node[i], depth + 1)
}

/** An empty group is shown, not dropped: `per_class: {}` usually means the evaluation wrote nothing. */
export const EMPTY_OBJECT = invalidValue('empty', '{}')
export const EMPTY_LIST = invalidValue('empty', '[]')

function scalarText(node: number | Leaf): string {
  return typeof node === 'number' ? String(node) : node.raw
}
