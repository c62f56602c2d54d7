/**
 * One register-model run from user-level settings to a registration: the config's model and registry, the gate
 * reports, lineage from the workflow run, the user's tags, then registerModel. The action and the CLI both call
 * this and render the result their own way.
 */
import { isAbsolute, resolve } from 'node:path'
import { FAILSAFE_SCHEMA, loadAll, YAMLException } from 'js-yaml'
import { checkYamlExpansion } from '../config/yaml-bounds.js'
import { findModelConfig } from '../config/find.js'
import { tuningOptions, type TuningOptions } from '../environment.js'
import { parseDuration } from '../duration.js'
import { ConfigurationError, ServiceError, describeValue } from '../errors.js'
import { readRunContext } from '../github/event.js'
import { gateTags, lineageTags, readGateReports, runSourceTags, type GateReports } from '../registry/lineage.js'
import { modelFolderName } from '../registry/file/layout.js'
import { checkMlflowModelName, checkMlflowTag } from '../registry/mlflow/names.js'
import { openChosenRegistry, type RegistryChoice } from '../registry/open.js'
import { registerModel, type Registration } from '../registry/register.js'
import type { RegistryKind } from '../vocabulary.js'

export interface RegisterOptions extends TuningOptions {
  readonly workspace: string
  readonly registry?: RegistryKind | undefined
  readonly registryPath?: string | undefined
  readonly trackingUri?: string | undefined
  readonly name?: string | undefined
  readonly modelPath?: string | undefined
  readonly source?: string | undefined
  readonly runId?: string | undefined
  readonly aliases: readonly string[]
  /** YAML map text. */
  readonly tags?: string | undefined
  readonly description?: string | undefined
  readonly validationReport?: string | undefined
  readonly comparisonReport?: string | undefined
  readonly config?: string | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  /** The `timeout` input: the whole registration's deadline, as in `10m`, `90s` or `1h`. Default 10m. */
  readonly timeout?: string | undefined
  readonly describeInput?: (name: string) => string
  readonly log?: (line: string) => void
}

export interface RegisterRun extends Registration {
  readonly name: string
  readonly registry: RegistryChoice & { readonly location: string }
  readonly reports: GateReports
  /** Said loudly by the action and the command: a gate report that says the model did not pass. */
  readonly warnings: readonly string[]
}

export async function runRegistration(options: RegisterOptions): Promise<RegisterRun> {
  const describe = options.describeInput ?? ((name: string) => `input '${name}'`)
  const env = options.env ?? process.env
  const found = await findModelConfig({ workspace: options.workspace, config: options.config, modelName: options.name })
  const name = options.name ?? found.model?.model
  if (!name) {
    throw new ConfigurationError(
      'is required: expected the registered model name (or a .modelgate.yml whose model: names it)',
      { source: describe('name') }
    )
  }
  if (options.modelPath) {
    // Loaded here: the MLmodel reader brings zod, which a registration from a `source` never needs.
    const { assertRegistrableModel } = await import('../model/registrable.js')
    await assertRegistrableModel(absolute(options.workspace, options.modelPath), describe('model-path'))
  }
  const tags = parseTags(options.tags, describe('tags'))
  const reports = await readGateReports({
    workspace: options.workspace,
    validation: options.validationReport,
    comparison: options.comparisonReport,
    describeInput: describe
  })
  const deadline = startDeadline(options.timeout, describe('timeout'))
  try {
    return await register(options, { describe, env, found, name, tags, reports, deadline })
  } finally {
    deadline.stop()
  }
}

/**
 * Registering is not refused for a failed gate (the verdict is recorded in the version's tags, and a team may
 * register a challenger to inspect it), but it is never quiet about one: the workflows only register what passed.
 */
function failedGates(reports: GateReports, describe: (name: string) => string): string[] {
  const warnings: string[] = []
  if (reports.validation && (reports.validation.verdict === 'fail' || !reports.validation.passed)) {
    warnings.push(
      `${describe('validation-report')} says the model did not pass validate-model (verdict ${reports.validation.verdict}); it is registered with that verdict in its tags`
    )
  }
  if (reports.comparison && (reports.comparison.verdict === 'fail' || !reports.comparison.passed)) {
    warnings.push(
      `${describe('comparison-report')} says the model did not pass compare-metrics (verdict ${reports.comparison.verdict}, ${reports.comparison.regressions} regressions); it is registered with that verdict in its tags`
    )
  }
  return warnings
}

/** The registration proper, under the deadline. */
async function register(
  options: RegisterOptions,
  settled: {
    describe: (name: string) => string
    env: NodeJS.ProcessEnv
    found: Awaited<ReturnType<typeof findModelConfig>>
    name: string
    tags: Record<string, string>
    reports: GateReports
    deadline: Deadline
  }
): Promise<RegisterRun> {
  const { describe, env, found, name, tags, reports, deadline } = settled
  const { registry, choice } = await openChosenRegistry({
    workspace: options.workspace,
    kind: options.registry,
    registryPath: options.registryPath,
    trackingUri: options.trackingUri,
    config: found.model?.registry,
    env,
    describeInput: describe,
    ...(options.log ? { log: options.log } : {}),
    ...tuningOptions(options),
    signal: deadline.signal
  })
  deadline.describeRegistry(registry.location)
  const namePlace = options.name ? { source: describe('name') } : { source: found.path!, path: 'model' }
  if (registry.kind === 'mlflow') {
    // Checked here, where the inputs are known: the server refuses a tag key only after the upload.
    checkMlflowModelName(name, namePlace)
    for (const [key, value] of Object.entries(tags)) checkMlflowTag(key, value, { source: describe('tags') })
  }
  if (registry.kind === 'file') {
    // The folder registry refuses such a name without knowing where it came from.
    try {
      modelFolderName(name)
    } catch (error) {
      if (error instanceof ConfigurationError) throw new ConfigurationError(error.detail, namePlace)
      throw error
    }
  }
  const context = readRunContext(env)
  const registration = await registerModel({
    registry,
    name,
    ...(options.modelPath ? { modelDir: absolute(options.workspace, options.modelPath) } : {}),
    ...(options.source ? { source: options.source } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    aliases: options.aliases,
    tags,
    lineage: { ...lineageTags(context, env), ...gateTags(reports) },
    runTags: runSourceTags(context, env),
    ...(options.description ? { description: options.description } : {}),
    ...(reports.comparison ? { metrics: reports.comparison.metrics } : {}),
    ...(reports.validation?.digest ? { validatedDigest: reports.validation.digest } : {}),
    describeInput: describe,
    ...(options.log ? { log: options.log } : {})
  })
  return {
    ...registration,
    name,
    registry: { ...choice, location: registry.location },
    reports,
    warnings: failedGates(reports, describe)
  }
}

export const DEFAULT_TIMEOUT = '10m'

interface Deadline {
  readonly signal: AbortSignal
  /** Names the registry in the message when the time runs out. */
  describeRegistry(location: string): void
  stop(): void
}

/**
 * One deadline for the whole registration: a server that accepts connections and never answers would otherwise keep
 * the step through every attempt's timeout. When it runs out, the request in flight is abandoned and the error says
 * which limit it was and how to change it.
 */
function startDeadline(text: string | undefined, source: string): Deadline {
  const value = text?.trim() || DEFAULT_TIMEOUT
  const ms = parseDuration(value, source, DEFAULT_TIMEOUT)
  const controller = new AbortController()
  let where = 'the registry'
  const timer = setTimeout(() => {
    controller.abort(
      new ServiceError(
        `the registration did not finish within ${value} (${source}): ${where} was too slow or stopped answering. A re-run finishes what this one started; raise ${source} if the registry is slow for large models`,
        undefined,
        'TIMEOUT'
      )
    )
  }, ms)
  // The deadline must not keep a process alive that has nothing else to do.
  timer.unref()
  return {
    signal: controller.signal,
    describeRegistry: location => {
      where = `the registry at ${location}`
    },
    stop: () => clearTimeout(timer)
  }
}

/** The `tags` input: a YAML map of names to scalars; values become strings, as registries store them. */
export function parseTags(text: string | undefined, source: string): Record<string, string> {
  if (!text || text.trim() === '') return {}
  let parsed: unknown
  try {
    // The failsafe schema keeps every scalar as written: a tag is text, and `version: 1.10` must not become 1.1.
    // loadAll, because load refuses a document that is only comments (tags commented out in a workflow).
    const documents = loadAll(text, { schema: FAILSAFE_SCHEMA })
    if (documents.length > 1) {
      throw new ConfigurationError('holds several YAML documents; expected one map such as "team: fraud"', { source })
    }
    parsed = documents[0]
    checkYamlExpansion(parsed, { source }, { expected: 'a map such as "team: fraud"' })
  } catch (error) {
    if (error instanceof YAMLException) {
      throw new ConfigurationError(`is not valid YAML: ${error.reason}; expected a map such as "team: fraud"`, {
        source,
        ...(error.mark ? { line: error.mark.line + 1 } : {})
      })
    }
    throw error
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError(
      `expected a YAML map of tag names to values, such as "team: fraud", got ${describeValue(parsed)}`,
      {
        source
      }
    )
  }
  const tags: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || typeof value === 'object') {
      throw new ConfigurationError(`expected a text, number or boolean value, got ${describeValue(value)}`, {
        source,
        path: key
      })
    }
    if (key.trim() === '') {
      // Registries refuse it, some only at the create request, after the upload.
      throw new ConfigurationError('a tag name must not be empty; expected a map such as "team: fraud"', {
        source,
        path: key
      })
    }
    if (key.startsWith('modelgate.')) {
      throw new ConfigurationError('tag names starting with "modelgate." are reserved for lineage; choose another', {
        source,
        path: key
      })
    }
    tags[key] = String(value)
  }
  return tags
}

function absolute(workspace: string, path: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path)
}
