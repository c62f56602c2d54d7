/**
 * The file registry's records: model.json and version.json as read (checked, with the file and key named when one is
 * damaged) and as written, and the updates a writer makes to them. Where the files are is layout.ts's; writes happen
 * under the registry's lock (lock.ts), each file replaced whole (atomic.ts).
 */
import { resolve } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import { DIGEST_TAG, type ModelVersion, type NewVersion, type VersionStatus } from '../types.js'
import { isObject, type JsonObject } from './layout.js'

const STATUSES: readonly VersionStatus[] = ['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION']

export interface ModelRecord {
  /** The file as read, so that a rewrite keeps keys someone added by hand. */
  readonly raw: JsonObject
  readonly name: string
  readonly aliases: Readonly<Record<string, string>>
}

export interface VersionRecord {
  readonly raw: JsonObject
  readonly name: string
  readonly version: string
  readonly status: VersionStatus
  readonly statusMessage?: string
  readonly source: string
  readonly runId?: string
  readonly description?: string
  readonly tags: Readonly<Record<string, string>>
  readonly createdAt?: number
}

/** A new model.json. */
export function newModel(name: string, now: number): JsonObject {
  return { name, created: new Date(now).toISOString(), aliases: {}, tags: {} }
}

/**
 * model.json as read, for the model `name`; `folder` is where it was, for the message when the file system folded
 * two names into one folder.
 */
export function parseModel(raw: JsonObject, path: string, name: string, folder: string): ModelRecord {
  const stored = raw.name
  if (typeof stored !== 'string') {
    throw new ConfigurationError(`expected the model's name, got ${JSON.stringify(stored)}`, {
      source: path,
      path: 'name'
    })
  }
  if (stored !== name) {
    throw new ConfigurationError(
      `model ${JSON.stringify(name)} would be kept in ${folder}, which holds model ${JSON.stringify(stored)} (the file system does not tell their names apart); choose a name that differs by more than letter case`
    )
  }
  return { raw, name, aliases: stringMap(raw.aliases ?? {}, 'aliases', path) }
}

/** The model with the alias pointing at the version (moved if it pointed elsewhere). */
export function withAlias(model: ModelRecord, alias: string, version: string): JsonObject {
  return { ...model.raw, aliases: sortedKeys({ ...model.aliases, [alias]: version }) }
}

/** The model without the aliases that point at the version, or undefined when none does. */
export function withoutAliasesOf(model: ModelRecord, version: string): JsonObject | undefined {
  const kept = Object.entries(model.aliases).filter(([, target]) => target !== version)
  if (kept.length === Object.keys(model.aliases).length) return undefined
  return { ...model.raw, aliases: Object.fromEntries(kept) }
}

/** version.json of a new version; `source` relative to the registry's root. */
export function newVersion(request: NewVersion, version: string, source: string, now: number): JsonObject {
  return {
    name: request.name,
    version,
    status: 'READY',
    source,
    ...(request.runId ? { run_id: request.runId } : {}),
    description: request.description ?? '',
    tags: { ...request.tags, [DIGEST_TAG]: request.digest },
    created: new Date(now).toISOString()
  }
}

/** version.json as read, which must be the version it is filed as. */
export function readVersionRecord(raw: JsonObject, path: string, name: string, version: string): VersionRecord {
  const record = parseVersion(raw, path)
  if (record.name !== name || record.version !== version) {
    throw new ConfigurationError(
      `expected version ${version} of ${JSON.stringify(name)}, found version ${JSON.stringify(record.version)} of ${JSON.stringify(record.name)}; was a folder copied by hand?`,
      { source: path }
    )
  }
  return record
}

/** The version with these tags added or overwritten. */
export function withTags(record: VersionRecord, tags: Readonly<Record<string, string>>): JsonObject {
  return { ...record.raw, tags: { ...record.tags, ...stringMap(tags, 'tags') } }
}

/** The version with this description in place of the one it had. */
export function withDescription(record: VersionRecord, description: string): JsonObject {
  return { ...record.raw, description }
}

/** metrics.json as read: numbers, or the text MLflow writes for NaN and infinities. */
export function parseMetrics(raw: JsonObject, path: string): Map<string, number | string> {
  const values = new Map<string, number | string>()
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'number' && typeof value !== 'string') {
      throw new ConfigurationError(`expected a number, got ${JSON.stringify(value)}`, { source: path, path: key })
    }
    values.set(key, value)
  }
  return values
}

export function toModelVersion(root: string, record: VersionRecord, model: ModelRecord): ModelVersion {
  const aliases = Object.entries(model.aliases)
    .filter(([, version]) => version === record.version)
    .map(([alias]) => alias)
    .sort()
  return {
    name: record.name,
    version: record.version,
    status: record.status,
    ...(record.statusMessage ? { statusMessage: record.statusMessage } : {}),
    source: resolve(root, record.source),
    ...(record.runId ? { runId: record.runId } : {}),
    ...(record.description ? { description: record.description } : {}),
    tags: { ...record.tags },
    aliases,
    ...(record.createdAt !== undefined ? { createdAt: record.createdAt } : {})
  }
}

function parseVersion(raw: JsonObject, path: string): VersionRecord {
  const text = (key: string, required: boolean): string | undefined => {
    const value = raw[key]
    if (value === undefined && !required) return undefined
    if (typeof value !== 'string') {
      throw new ConfigurationError(`expected a string, got ${JSON.stringify(value) ?? 'nothing'}`, {
        source: path,
        path: key
      })
    }
    return value
  }
  const status = (text('status', false) ?? 'READY') as VersionStatus
  if (!STATUSES.includes(status)) {
    throw new ConfigurationError(`expected one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`, {
      source: path,
      path: 'status'
    })
  }
  const created = text('created', false)
  const createdAt = created === undefined ? undefined : Date.parse(created)
  const statusMessage = text('status_message', false)
  const runId = text('run_id', false)
  const description = text('description', false)
  return {
    raw,
    name: text('name', true)!,
    version: text('version', true)!,
    status,
    ...(statusMessage ? { statusMessage } : {}),
    source: text('source', true)!,
    ...(runId ? { runId } : {}),
    ...(description ? { description } : {}),
    tags: stringMap(raw.tags ?? {}, 'tags', path),
    ...(createdAt !== undefined && Number.isFinite(createdAt) ? { createdAt } : {})
  }
}

function stringMap(value: unknown, key: string, path?: string): Record<string, string> {
  const fail = (detail: string) =>
    path ? new ConfigurationError(detail, { source: path, path: key }) : new Error(`${key}: ${detail}`)
  if (!isObject(value)) throw fail(`expected an object of strings, got ${JSON.stringify(value)}`)
  const map: Record<string, string> = {}
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== 'string')
      throw fail(`expected a string for ${JSON.stringify(name)}, got ${JSON.stringify(entry)}`)
    map[name] = entry
  }
  return map
}

export function metricsJson(metrics: Readonly<Record<string, number>>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  // JSON has no NaN or infinities; MLflow's text for them keeps the value what it was.
  for (const [key, value] of Object.entries(metrics)) out[key] = Number.isFinite(value) ? value : String(value)
  return out
}

function sortedKeys(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export function describeAliases(model: ModelRecord): string {
  const entries = Object.entries(model.aliases)
  if (entries.length === 0) return 'no alias is set'
  return `set: ${entries.map(([alias, version]) => `${alias} → ${version}`).join(', ')}`
}

/** `1-3, 5, 7-8`. */
export function describeNumbers(numbers: readonly number[]): string {
  const parts: string[] = []
  for (let i = 0; i < numbers.length;) {
    let j = i
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++
    parts.push(j === i ? String(numbers[i]) : `${numbers[i]}-${numbers[j]}`)
    i = j + 1
  }
  return parts.join(', ')
}
