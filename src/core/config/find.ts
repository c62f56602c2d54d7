/**
 * Finding a model's settings without paying for the config layer when there is none: the loader carries zod and
 * js-yaml's schema machinery, a large share of a gate step's start-up, so it is imported only when a config file
 * exists (or the user named one) or inline YAML must be parsed.
 */
import { access } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { SelectedModel } from './load.js'
import type { MetricRules } from './schema.js'

export const DEFAULT_CONFIG_FILE = '.modelgate.yml'

export interface FoundConfig {
  /** The selected model's settings; undefined without a config file. */
  readonly model?: SelectedModel
  /** The config file as the user named it (or the default name), when one was read. */
  readonly path?: string
  /** Parses inline rules YAML (the compare action's `rules` input), present when the loader was imported. */
  readonly parseRules?: (text: string, source: string) => MetricRules
}

export async function findModelConfig(options: {
  workspace: string
  /** The config file the user named; undefined means `.modelgate.yml` if it exists. */
  config?: string | undefined
  /** Picks the model of a `models:` list. */
  modelName?: string | undefined
  /** The input or flag that names the model, for the message when a list needs one: `input 'model'`, `--model`. */
  modelInput?: string | undefined
  /** Import the loader even without a config file (inline YAML needs it). */
  needLoader?: boolean
}): Promise<FoundConfig> {
  const path = options.config ?? DEFAULT_CONFIG_FILE
  const absolute = isAbsolute(path) ? path : resolve(options.workspace, path)
  const present =
    options.config !== undefined ||
    (await access(absolute).then(
      () => true,
      () => false
    ))
  if (!present && !options.needLoader) return {}
  const loader = await import('./load.js')
  const loaded = present
    ? await loader.loadConfigFile(path, options.workspace, options.config !== undefined)
    : undefined
  const model = loaded
    ? loader.selectModel(loaded.config, options.modelName, loaded.path, options.modelInput)
    : undefined
  return {
    ...(model ? { model } : {}),
    ...(loaded ? { path: loaded.path } : {}),
    parseRules: loader.parseRulesInput
  }
}
