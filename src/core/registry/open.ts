/**
 * Which registry a run talks to, settled in one place from the inputs, the config's `registry:` section and the
 * environment, and the implementation loaded only when it is used (a gate on metric files never loads any).
 *
 * Precedence: an input beats the config, which beats the environment. Without any registry type, a registry-path
 * input means the file registry, a tracking URI (input, config or MLFLOW_TRACKING_URI) means MLflow, and nothing at
 * all means the file registry in `.modelgate/registry`, so a team can start without a server. A registry-path with
 * another registry type is refused rather than ignored.
 */
import { isAbsolute, resolve } from 'node:path'
import type { RegistrySettings as RegistryConfig } from '../config/schema.js'
import { tuningOptions, type TuningOptions } from '../environment.js'
import { ConfigurationError } from '../errors.js'
import type { RegistryKind } from '../vocabulary.js'
import type { ModelRegistry } from './types.js'

export const DEFAULT_REGISTRY_PATH = '.modelgate/registry'

export interface RegistryChoice {
  readonly kind: RegistryKind
  /** Absolute folder of the file registry. */
  readonly path?: string
  /** MLflow's tracking server, or the Databricks workspace URL. */
  readonly trackingUri?: string
  /** How errors name where the URI came from. */
  readonly trackingUriSource?: string
  readonly experiment?: string
}

export interface RegistrySettingsInput {
  workspace: string
  /** The `registry` input or flag. */
  kind?: RegistryKind | undefined
  registryPath?: string | undefined
  trackingUri?: string | undefined
  config?: RegistryConfig | undefined
  env?: NodeJS.ProcessEnv | undefined
  describeInput: (name: string) => string
}

export function chooseRegistry(options: RegistrySettingsInput): RegistryChoice {
  const env = options.env ?? process.env
  const config = options.config
  const uri = options.trackingUri
    ? { value: options.trackingUri, source: options.describeInput('tracking-uri') }
    : config?.['tracking-uri']
      ? { value: config['tracking-uri'], source: 'registry.tracking-uri in the config' }
      : env.MLFLOW_TRACKING_URI
        ? { value: env.MLFLOW_TRACKING_URI, source: 'MLFLOW_TRACKING_URI' }
        : undefined
  // A registry-path input asks for the file registry: it outranks a kind only guessed from a tracking URI (an
  // MLFLOW_TRACKING_URI the runner happens to set would otherwise send the model to that server unannounced).
  const kind: RegistryKind =
    options.kind ??
    config?.type ??
    (options.registryPath ? 'file' : uri && uri.value !== 'databricks-uc' ? 'mlflow' : uri ? 'databricks-uc' : 'file')
  if (kind !== 'file' && options.registryPath) {
    throw new ConfigurationError(
      `names the file registry's folder, but the registry here is ${kind} (from ${options.kind ? options.describeInput('registry') : 'registry.type in the config'}); drop one of them`,
      { source: options.describeInput('registry-path') }
    )
  }
  if (kind === 'file') {
    const path = options.registryPath ?? config?.path ?? DEFAULT_REGISTRY_PATH
    return { kind, path: isAbsolute(path) ? path : resolve(options.workspace, path) }
  }
  if (kind === 'mlflow') {
    if (!uri) {
      throw new ConfigurationError(
        'the mlflow registry needs a tracking server URL; set the tracking-uri input, registry.tracking-uri in .modelgate.yml, or MLFLOW_TRACKING_URI',
        { source: options.describeInput('tracking-uri') }
      )
    }
    return { kind, trackingUri: uri.value, trackingUriSource: uri.source, ...experiment(config) }
  }
  // Unity Catalog lives on a workspace: its URL, from the tracking URI when that is one, else DATABRICKS_HOST.
  const host =
    uri && /^https?:\/\//.test(uri.value)
      ? uri
      : env.DATABRICKS_HOST
        ? { value: env.DATABRICKS_HOST, source: 'DATABRICKS_HOST' }
        : undefined
  if (!host) {
    throw new ConfigurationError(
      'the databricks-uc registry needs the workspace URL; set DATABRICKS_HOST (as in https://adb-123.4.azuredatabricks.net) or pass it as tracking-uri',
      { source: options.describeInput('tracking-uri') }
    )
  }
  return { kind, trackingUri: host.value, trackingUriSource: host.source }
}

function experiment(config: RegistryConfig | undefined): { experiment?: string } {
  const name = config?.experiment
  return name ? { experiment: name } : {}
}

export interface OpenOptions extends TuningOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly log?: (line: string) => void
  /** The deadline of the operation the registry serves (HttpClient's `signal`). */
  readonly signal?: AbortSignal | undefined
  /** How errors name where model names came from (Unity Catalog checks them). Default `input 'name'`. */
  readonly nameSource?: string | undefined
}

/** Settles which registry the settings name and opens it: what every caller of the registry layer starts with. */
export async function openChosenRegistry(
  options: RegistrySettingsInput & Omit<OpenOptions, 'env'>
): Promise<{ registry: ModelRegistry; choice: RegistryChoice }> {
  const choice = chooseRegistry(options)
  const registry = await openRegistry(choice, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...tuningOptions(options),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.nameSource ? { nameSource: options.nameSource } : {})
  })
  return { registry, choice }
}

export async function openRegistry(choice: RegistryChoice, options: OpenOptions = {}): Promise<ModelRegistry> {
  const env = options.env ?? process.env
  switch (choice.kind) {
    case 'file': {
      const { createFileRegistry } = await import('./file/file-registry.js')
      return createFileRegistry({ root: choice.path! })
    }
    case 'mlflow': {
      const { createMlflowRegistry } = await import('./mlflow/registry.js')
      return createMlflowRegistry({
        trackingUri: choice.trackingUri!,
        env,
        ...(choice.trackingUriSource ? { source: choice.trackingUriSource } : {}),
        ...(choice.experiment ? { experiment: choice.experiment } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...tuningOptions(options),
        ...(options.signal ? { signal: options.signal } : {})
      })
    }
    case 'databricks-uc': {
      const { createUnityCatalogRegistry } = await import('./databricks/uc-registry.js')
      return createUnityCatalogRegistry({
        host: choice.trackingUri!,
        env,
        ...(choice.trackingUriSource ? { hostSource: choice.trackingUriSource } : {}),
        ...(options.nameSource ? { nameSource: options.nameSource } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...tuningOptions(options),
        ...(options.signal ? { signal: options.signal } : {})
      })
    }
  }
}
