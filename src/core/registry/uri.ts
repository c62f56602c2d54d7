/**
 * Model and run URIs as users write them, in MLflow's grammar (`mlflow/store/artifact/utils/models.py`), and the
 * naming rules registries enforce, checked here so a bad alias fails before anything is uploaded.
 */
import { ConfigurationError } from '../errors.js'

export type ModelUri =
  | { readonly kind: 'version'; readonly name: string; readonly version: string }
  | { readonly kind: 'alias'; readonly name: string; readonly alias: string }
  /** An MLflow 3 logged model: `models:/m-<hex>`. */
  | { readonly kind: 'logged-model'; readonly modelId: string }
  | { readonly kind: 'run'; readonly runId: string; readonly path: string }

const LOGGED_MODEL = /^m-[0-9a-f]{32}$/

/** Parses `models:/<name>/<version>`, `models:/<name>@<alias>`, `models:/m-<id>` and `runs:/<run-id>/<path>`. */
export function parseModelUri(
  uri: string,
  source: string,
  /** What the caller accepts, for messages: a metrics source takes no runs:/ URI. */
  expected = 'expected models:/<name>/<version>, models:/<name>@<alias> or runs:/<run-id>/<path>, as in models:/churn@champion'
): ModelUri {
  if (uri.startsWith('runs:/')) {
    const rest = uri.slice('runs:/'.length).replace(/^\/+/, '')
    const slash = rest.indexOf('/')
    const runId = slash < 0 ? rest : rest.slice(0, slash)
    const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '')
    if (!runId) throw new ConfigurationError(`"${uri}" has no run id; ${expected}`, { source })
    return { kind: 'run', runId, path }
  }
  if (!uri.startsWith('models:/')) throw new ConfigurationError(`"${uri}" is not a model URI; ${expected}`, { source })
  const rest = uri.slice('models:/'.length).replace(/^\/+/, '')
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    const name = rest.slice(0, at)
    const alias = rest.slice(at + 1)
    if (!name || !alias) throw new ConfigurationError(`"${uri}" lacks a model name or alias; ${expected}`, { source })
    return { kind: 'alias', name, alias }
  }
  if (LOGGED_MODEL.test(rest)) return { kind: 'logged-model', modelId: rest }
  const slash = rest.lastIndexOf('/')
  const name = slash < 0 ? rest : rest.slice(0, slash)
  const version = slash < 0 ? '' : rest.slice(slash + 1)
  if (!name || !version) throw new ConfigurationError(`"${uri}" lacks a version or alias; ${expected}`, { source })
  if (!/^[1-9]\d*$/.test(version)) {
    const stage = ['latest', 'production', 'staging', 'archived', 'none'].includes(version.toLowerCase())
    throw new ConfigurationError(
      stage
        ? `"${uri}" names a stage or "latest", which Unity Catalog refuses and MLflow deprecated; use an alias (models:/${name}@champion) or a version number`
        : `"${uri}" has the version "${version}"; ${expected}`,
      { source }
    )
  }
  return { kind: 'version', name, version }
}

export function modelVersionUri(name: string, version: string): string {
  return `models:/${name}/${version}`
}

/**
 * The `aliases` input or flag: a comma list (a YAML block scalar's lines work too). An alias named twice is kept
 * once, so it is set once and listed once. Registries compare aliases as written, so case is kept.
 */
export function splitAliases(text: string | undefined): string[] {
  const aliases = (text ?? '')
    .split(/[,\n]/)
    .map(alias => alias.trim())
    .filter(Boolean)
  return [...new Set(aliases)]
}

/**
 * MLflow's alias rules (`mlflow/utils/validation.py`): word characters and dashes, at most 255, and neither `latest`
 * nor `v<digits>`, which would read as a version.
 */
export function checkAlias(alias: string, source: string): string {
  if (!/^[\w-]+$/.test(alias) || alias.length > 255) {
    throw new ConfigurationError(
      `alias "${alias}" is not valid; expected letters, digits, "_" and "-" (at most 255), as in challenger`,
      { source }
    )
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new ConfigurationError(
      `alias "${alias}" is reserved (MLflow reads "latest" and v<number> as versions); choose another name, as in challenger`,
      { source }
    )
  }
  return alias
}
