/**
 * Reads `.modelgate.yml` and the inline `rules` input. Every problem becomes a ConfigurationError that names the
 * file (or input), the line and the key path, and says what was expected.
 */
import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { loadAll, YAMLException } from 'js-yaml'
import * as z from 'zod/mini'
import { ConfigurationError, errorCode } from '../errors.js'
import { issuesToError } from './issues.js'
import { checkYamlExpansion } from './yaml-bounds.js'
import {
  ConfigSchema,
  MetricRulesSchema,
  RuleSpecSchema,
  type Config,
  type MetricRules,
  type ModelConfig
} from './schema.js'
import { createLocator, type KeyPath } from './yaml-locate.js'

/** Config files are small; this bound turns an accidental multi-megabyte file into a clear error. */
const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * Loads the config file. With `explicit` false (the default name, not given by the user) a missing file is not an
 * error: the config is optional. A file the user named must exist.
 */
export async function loadConfigFile(
  path: string,
  workspace: string,
  explicit: boolean
): Promise<{ config: Config; path: string } | undefined> {
  const absolute = isAbsolute(path) ? path : resolve(workspace, path)
  let size: number
  try {
    const info = await stat(absolute)
    if (info.isDirectory()) throw new ConfigurationError('is a directory; expected a YAML file', { source: path })
    size = info.size
  } catch (error) {
    if (error instanceof ConfigurationError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw unreadable(path, error)
    if (!explicit) return undefined
    throw new ConfigurationError(`config file not found (looked for ${absolute})`, { source: path })
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigurationError(`is ${size} bytes; a config file over ${MAX_CONFIG_BYTES} bytes is refused`, {
      source: path
    })
  }
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (error) {
    throw unreadable(path, error)
  }
  try {
    return { config: parseConfig(text, path), path }
  } catch (error) {
    const inRepository = relative(workspace, absolute)
    if (error instanceof ConfigurationError && !inRepository.startsWith('..') && !isAbsolute(inRepository)) {
      throw error.inFile(inRepository.split(sep).join('/'))
    }
    throw error
  }
}

/** A config that is there but cannot be read is the user's to fix (permissions), never a crash or no config. */
function unreadable(path: string, error: unknown): ConfigurationError {
  return new ConfigurationError(`config file cannot be read (${errorCode(error)}); expected a file the job may read`, {
    source: path
  })
}

export function parseConfig(text: string, source: string): Config {
  const document = parseYaml(text, source, 'a map with keys such as model, metrics, compare')
  if (document === undefined) return {}
  const config = validate(ConfigSchema, document, text, source, [])
  const keep = (raw: unknown, parsed: MetricRules | undefined, path: KeyPath) =>
    parsed && isPlainObject(raw) ? keepEveryRuleKey(raw, parsed, text, source, path) : parsed
  const models = document.models
  return {
    ...config,
    ...(config.metrics ? { metrics: keep(document.metrics, config.metrics, ['metrics'])! } : {}),
    ...(config.models && Array.isArray(models)
      ? {
          models: config.models.map((model, i) => ({
            ...model,
            ...(model.metrics
              ? {
                  metrics: keep((models[i] as { metrics?: unknown }).metrics, model.metrics, ['models', i, 'metrics'])!
                }
              : {})
          }))
        }
      : {})
  }
}

/**
 * Parses the `rules` input: the same map as the config's `metrics:`. The user may paste it with or without the
 * `metrics:` key, so both are accepted.
 */
export function parseRulesInput(text: string, source: string): MetricRules {
  const document = parseYaml(text, source, 'a map of metric names to rules')
  if (document === undefined) return {}
  if (isPlainObject(document) && Object.keys(document).length === 1 && isPlainObject(document.metrics)) {
    const rules = validate(MetricRulesSchema, document.metrics, text, source, ['metrics'])
    return keepEveryRuleKey(document.metrics, rules, text, source, ['metrics'])
  }
  return keepEveryRuleKey(document, validate(MetricRulesSchema, document, text, source, []), text, source, [])
}

/**
 * A metric may be named anything, `__proto__` included, and its rule must not vanish: zod's record skips that key
 * (assigning it to a plain object would replace the prototype), so it is validated here on its own and every rule is
 * defined, in the order written, as an own property. Spreads and Object.entries downstream keep it as such.
 */
function keepEveryRuleKey(
  raw: Record<string, unknown>,
  parsed: MetricRules,
  text: string,
  source: string,
  path: KeyPath
): MetricRules {
  if (!Object.hasOwn(raw, '__proto__')) return parsed
  const result: MetricRules = {}
  for (const key of Object.keys(raw)) {
    const value = key === '__proto__' ? validate(RuleSpecSchema, raw[key], text, source, [...path, key]) : parsed[key]
    if (value !== undefined)
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return result
}

/** A model's settings; a single-model config may leave out the name. */
export type SelectedModel = Omit<ModelConfig, 'model'> & { model?: string | undefined }

/**
 * The settings of one model. A config holds either one model at the top level or a `models:` list; with a list,
 * `name` picks the entry (the compare action passes its report id), and a single entry needs no name.
 */
export function selectModel(
  config: Config,
  name: string | undefined,
  source: string,
  /** What names the model where this is called, for the message: compare's report id by default. */
  nameInput = 'the report-id input or --report-id'
): SelectedModel | undefined {
  if (!config.models) {
    const { models: _none, $schema: _schema, ...settings } = config
    return Object.keys(settings).length > 0 ? settings : undefined
  }
  if (config.model || config.metrics || config.compare || config.registry || config.validation || config.deploy) {
    throw new ConfigurationError('sets both top-level model settings and a models: list; expected one or the other', {
      source
    })
  }
  if (!name) {
    if (config.models.length === 1) return config.models[0]
    throw new ConfigurationError(
      `lists ${config.models.length} models (${config.models.map(m => m.model).join(', ')}); say which one with ${nameInput}`,
      { source, path: 'models' }
    )
  }
  const found = config.models.find(m => m.model === name)
  if (!found) {
    throw new ConfigurationError(
      `has no model named ${JSON.stringify(name)}; expected one of: ${config.models.map(m => m.model).join(', ')}`,
      { source, path: 'models' }
    )
  }
  return found
}

function parseYaml(text: string, source: string, expected: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined
  let documents: unknown[]
  try {
    // loadAll, because load() throws on a file that holds only comments, which is a valid empty config.
    documents = loadAll(text, { filename: source })
  } catch (error) {
    if (error instanceof YAMLException) {
      const line = error.mark ? error.mark.line + 1 : undefined
      throw new ConfigurationError(`is not valid YAML: ${error.reason}; expected ${expected}`, {
        source,
        ...(line !== undefined ? { line } : {})
      })
    }
    throw error
  }
  checkYamlExpansion(documents, { source }, { expected })
  if (documents.length > 1) {
    throw new ConfigurationError(`holds ${documents.length} YAML documents; expected one`, { source })
  }
  const document = documents[0]
  if (document === null || document === undefined) return undefined
  if (!isPlainObject(document)) {
    throw new ConfigurationError(`expected ${expected}, got ${Array.isArray(document) ? 'a list' : 'a single value'}`, {
      source,
      line: 1
    })
  }
  return document
}

function validate<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
  text: string,
  source: string,
  base: KeyPath
): z.infer<T> {
  const result = z.safeParse(schema, value, { reportInput: true })
  if (result.success) return result.data
  throw issuesToError(result.error.issues, source, createLocator(text), schema, base)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
