/**
 * From bytes or text to metric values, by format. Pure: no file system, no git. The file and git sources both end
 * here, so a metrics file reads the same whether it is in the workspace or at a ref.
 */
import {
  CORE_SCHEMA,
  NOT_RESOLVED,
  YAMLException,
  boolCoreTag,
  defineMappingTag,
  defineScalarTag,
  floatCoreTag,
  intCoreTag,
  loadAll,
  nullCoreTag,
  strTag,
  type ScalarTagDefinition
} from 'js-yaml'
import { checkYamlExpansion } from '../config/yaml-bounds.js'
import { ConfigurationError, describeValue } from '../errors.js'
import { CSV_EXPECTED, csvToMetrics, parseCsv } from './csv.js'
import {
  DocObject,
  Leaf,
  MAX_METRICS,
  MetricCollector,
  classifyText,
  flattenDocument,
  numberFromText,
  subject,
  type DocNode,
  type ParseContext
} from './flatten.js'
import { JsonSyntaxError } from '../json/scanner.js'
import { readJson } from './json.js'
import { fromMlflowShapes } from './mlflow-shapes.js'
import { invalidValue, type MetricValue } from './types.js'

export type MetricsFormat = 'json' | 'yaml' | 'csv'

/** Extensions (lower case) and the format each one is read as. */
export const METRICS_EXTENSIONS: Readonly<Record<string, MetricsFormat>> = {
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.csv': 'csv'
}

/**
 * A metrics file past this is almost certainly predictions or logs, not metrics. 64 MiB holds a few million metrics,
 * and refusing early keeps a mistaken path from stalling the job while it reads gigabytes.
 */
export const MAX_METRICS_FILE_BYTES = 64 * 1024 * 1024

export const EXPECTED: Readonly<Record<MetricsFormat, string>> = {
  json: 'a JSON object of metric names to numbers (nesting allowed), or a list of {"name": ..., "value": ...} entries',
  yaml: 'a YAML mapping of metric names to numbers (nesting allowed), or a list of {name, value} entries',
  csv: CSV_EXPECTED
}

/** The format for a path by its extension, case-insensitively; undefined for anything else. */
export function formatFromPath(path: string): MetricsFormat | undefined {
  const match = /\.[^./\\]+$/.exec(path)
  return match ? METRICS_EXTENSIONS[match[0].toLowerCase()] : undefined
}

export function supportedExtensions(): string {
  return Object.keys(METRICS_EXTENSIONS).join(', ')
}

/**
 * Parses metrics text in a known format. `context` is the file path or spec as the user wrote it, or that with the
 * role (`candidate`, `baseline`) so messages name the input.
 */
export function parseMetrics(
  text: string,
  format: MetricsFormat,
  context: ParseContext | string
): Map<string, MetricValue> {
  const ctx: ParseContext = typeof context === 'string' ? { source: context } : context
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  checkHasContent(text, ctx, format)
  return fromMlflowShapes(parseByFormat(text, format, ctx), ctx)
}

function parseByFormat(text: string, format: MetricsFormat, ctx: ParseContext): Map<string, MetricValue> {
  switch (format) {
    case 'json':
      return parseJson(text, ctx)
    case 'yaml':
      return parseYaml(text, ctx)
    case 'csv':
      return csvToMetrics(parseCsv(text, ctx), ctx)
  }
}

/** Decodes and parses file contents; what the file and git sources call. */
export function parseMetricsBytes(
  bytes: Uint8Array,
  format: MetricsFormat,
  context: ParseContext
): Map<string, MetricValue> {
  return parseMetrics(decodeMetricsText(bytes, context), format, context)
}

function checkHasContent(text: string, context: ParseContext, format: MetricsFormat): void {
  if (text === '') {
    throw new ConfigurationError(`${subject(context)} file is empty; expected ${EXPECTED[format]}`, {
      source: context.source
    })
  }
  if (text.trim() === '') {
    throw new ConfigurationError(`${subject(context)} file holds only whitespace; expected ${EXPECTED[format]}`, {
      source: context.source
    })
  }
  // A repository that tracks metrics with LFS but checks out without it leaves this pointer in place of the data.
  if (text.startsWith('version https://git-lfs.github.com/spec/')) {
    throw new ConfigurationError(
      `${subject(context)} file is a Git LFS pointer, not the metrics; fetch the LFS object first (actions/checkout with lfs: true, or git lfs pull)`,
      { source: context.source, line: 1 }
    )
  }
}

/**
 * Bytes to text: UTF-8 (a BOM is dropped), or UTF-16 when a BOM says so, as Excel and PowerShell write it. Anything
 * else that is not valid UTF-8 is refused rather than guessed at, since a wrong guess would change metric names.
 */
export function decodeMetricsText(bytes: Uint8Array, context: ParseContext): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return checkText(decodeUtf16(bytes, true), context)
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return checkText(decodeUtf16(bytes, false), context)
  const nul = bytes.indexOf(0)
  if (nul >= 0) {
    throw new ConfigurationError(
      `${subject(context)} file is not text: it has a NUL byte at offset ${nul}, so it is binary (or UTF-16 without a byte-order mark); expected a UTF-8 text file`,
      { source: context.source, line: lineAtByte(bytes, nul) }
    )
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes)
    const bad = lossy.indexOf('\ufffd')
    throw new ConfigurationError(
      `${subject(context)} file is not valid UTF-8 (perhaps Latin-1 or Windows-1252); expected UTF-8 text: save it as UTF-8`,
      { source: context.source, ...(bad >= 0 ? { line: lineAtIndex(lossy, bad) } : {}) }
    )
  }
}

function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string {
  const body = bytes.subarray(2)
  if (littleEndian) return new TextDecoder('utf-16le').decode(body)
  const swapped = new Uint8Array(body.length - (body.length % 2))
  for (let i = 0; i + 1 < body.length; i += 2) {
    swapped[i] = body[i + 1]
    swapped[i + 1] = body[i]
  }
  return new TextDecoder('utf-16le').decode(swapped)
}

function checkText(text: string, context: ParseContext): string {
  const nul = text.indexOf('\0')
  if (nul >= 0) {
    throw new ConfigurationError(`${subject(context)} file has a NUL character; expected text`, {
      source: context.source,
      line: lineAtIndex(text, nul)
    })
  }
  return text
}

function lineAtByte(bytes: Uint8Array, offset: number): number {
  let line = 1
  for (let i = 0; i < offset; i++) if (bytes[i] === 10) line++
  return line
}

function lineAtIndex(text: string, index: number): number {
  let line = 1
  for (let at = text.indexOf('\n'); at >= 0 && at < index; at = text.indexOf('\n', at + 1)) line++
  return line
}

function parseJson(text: string, context: ParseContext): Map<string, MetricValue> {
  const collector = new MetricCollector(context, EXPECTED.json)
  let root: DocNode | undefined
  try {
    root = readJson(text, collector)
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new ConfigurationError(
        `${subject(context)} are not valid JSON (column ${error.column}): ${error.reason}; expected ${EXPECTED.json}`,
        { source: context.source, line: error.line }
      )
    }
    throw error
  }
  return root === undefined ? collector.finish() : flattenDocument(root, collector)
}

/**
 * The core schema with every scalar read into a Leaf (keeping the text as written, `.nan` or `1.0`) and mappings
 * read into a DocObject that keeps duplicate keys, so duplicates are reported the same way as in JSON and CSV.
 */
const METRICS_YAML_SCHEMA = CORE_SCHEMA.withTags(
  leafTag(nullCoreTag, (_value, source) => invalidValue('empty', source)),
  leafTag(boolCoreTag, (_value, source) => invalidValue('non-numeric', source)),
  leafTag(intCoreTag, (value, source) => numberFromText(value as number, source)),
  leafTag(floatCoreTag, (value, source) => numberFromText(value as number, source)),
  leafTag(strTag, (value, _source) => classifyText(value as string)),
  defineMappingTag<DocObject>('tag:yaml.org,2002:map', {
    create: () => new DocObject(),
    addPair: (mapping, key, value) => {
      if (!(key instanceof Leaf)) return 'a metric name must be a plain key, not a mapping or list'
      mapping.keys.push(key.raw)
      mapping.values.push(value as DocNode)
      return ''
    },
    // Never "already present": the flattener reports duplicate names, so js-yaml must not throw on them.
    has: () => false,
    // Only merge keys (`<<`) read these, and this schema leaves merges off; the tag must still define them.
    // Merges stay off because with `has` always false a merged key could not be overridden, only duplicated.
    keys: mapping => mapping.keys.map(key => new Leaf(key, classifyText(key))),
    get: (mapping, key) => mapping.values[mapping.keys.indexOf((key as Leaf).raw)],
    identify: () => false
  })
)

function leafTag<T>(
  base: ScalarTagDefinition<T>,
  classify: (value: T, source: string) => MetricValue
): ScalarTagDefinition<Leaf> {
  return defineScalarTag<Leaf>(base.tagName, {
    implicit: base.implicit,
    matchByTagPrefix: base.matchByTagPrefix,
    implicitFirstChars: base.implicitFirstChars,
    resolve: (source, isExplicit, tagName) => {
      const value = base.resolve(source, isExplicit, tagName)
      return value === NOT_RESOLVED ? NOT_RESOLVED : new Leaf(source, classify(value, source))
    },
    identify: () => false
  })
}

function parseYaml(text: string, context: ParseContext): Map<string, MetricValue> {
  let documents: unknown[]
  try {
    documents = loadAll(text, { schema: METRICS_YAML_SCHEMA, filename: context.source })
  } catch (error) {
    if (error instanceof YAMLException) {
      throw new ConfigurationError(
        `${subject(context)} are not valid YAML: ${error.reason}; expected ${EXPECTED.yaml}`,
        { source: context.source, ...(error.mark ? { line: error.mark.line + 1 } : {}) }
      )
    }
    throw error
  }
  // Flattening would visit a shared node once per alias; a bomb must end here, before it, not at MAX_METRICS.
  checkYamlExpansion(
    documents,
    { source: context.source },
    {
      limit: 2 * (context.maxMetrics ?? MAX_METRICS),
      children: node => (node instanceof DocObject ? node.values : node instanceof Leaf ? [] : (node as DocNode[])),
      expected: EXPECTED.yaml
    }
  )
  const collector = new MetricCollector(context, EXPECTED.yaml)
  if (documents.length === 0) collector.noMetrics('no YAML document, only comments')
  if (documents.length > 1) {
    const line = secondDocumentLine(text)
    throw new ConfigurationError(
      `${subject(context)} file holds ${documents.length} YAML documents (separated by ---); expected one, ${EXPECTED.yaml}`,
      { source: context.source, ...(line !== undefined ? { line } : {}) }
    )
  }
  const root = documents[0]
  if (root === null || root === undefined) collector.noMetrics('an empty YAML document')
  if (!(root instanceof Leaf || root instanceof DocObject || Array.isArray(root))) {
    throw new ConfigurationError(`${subject(context)} file holds ${describeValue(root)}; expected ${EXPECTED.yaml}`, {
      source: context.source
    })
  }
  return flattenDocument(root, collector)
}

/** The line of the `---` that starts the second document: the first marker, unless one opens the file. */
function secondDocumentLine(text: string): number | undefined {
  const lines = text.split('\n')
  let seenContent = false
  let markers = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/^---(\s|$)/.test(line)) {
      markers++
      if (seenContent || markers === 2) return i + 1
    } else if (!/^\s*(#.*)?$/.test(line) && !line.startsWith('%')) {
      seenContent = true
    }
  }
  return undefined
}
