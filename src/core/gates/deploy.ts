/**
 * One deploy-endpoint run from user-level settings to a rollout: the config's `deploy:` section and its deploy rules,
 * the version resolved through the registry (and, for `haproxy`, its files put where a later job finds them), the
 * serving target chosen by name, the GitHub deployment, the rollout itself, and the alias moved after success. The
 * action and the CLI both call this and render the result their own way.
 *
 * Only rules on `deploy.error_rate`, `deploy.latency_p50_ms` and `deploy.latency_p95_ms` apply to a deploy, and only
 * as upper bounds (`max`, or MLflow's `threshold` on a lower-is-better rule): a rollout has no baseline to regress
 * from, so a rule on those names that asks for anything else is refused rather than silently ignored. Globs do not
 * select deploy rules: `deploy.*` in a config written for compare-metrics must not change what a rollout accepts.
 */
import { access, constants, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { findModelConfig } from '../config/find.js'
import type { DeploySection, DeploySettings, MetricRules, RuleSpec } from '../config/schema.js'
import { tuningOptions, type TuningOptions } from '../environment.js'
import { parseDuration } from '../duration.js'
import { isDeployRule } from '../vocabulary.js'
import { ConfigurationError, ServiceError, describeValue, errorMessage } from '../errors.js'
import type { DeploymentRecorder, RecordedDeployment } from '../github/deployments.js'
import { readRunContext } from '../github/event.js'
import { openChosenRegistry } from '../registry/open.js'
import type { ModelRegistry } from '../registry/types.js'
import { checkAlias, modelVersionUri, parseModelUri } from '../registry/uri.js'
import {
  DEPLOY_METRICS,
  planRollout,
  rollout,
  type DeployRule,
  type RolloutEvent,
  type RolloutPlan,
  type RolloutReport
} from '../serving/rollout.js'
import type { ModelVersionRef, ServingTarget } from '../serving/types.js'

export const DEPLOY_TARGET_KINDS = ['haproxy', 'databricks'] as const
export type DeployTargetKind = (typeof DEPLOY_TARGET_KINDS)[number]
export const ROLLBACK_MODES = ['on-failure', 'never'] as const
export type RollbackMode = (typeof ROLLBACK_MODES)[number]

/** The serving example MLflow writes beside MLmodel, sent when no smoke-input is given. */
const SERVING_EXAMPLE = 'serving_input_example.json'
const DEFAULT_STATE_DIR = join('.modelgate', 'serving')

export interface DeployOptions extends TuningOptions {
  readonly workspace: string
  readonly target?: DeployTargetKind | undefined
  readonly endpoint?: string | undefined
  readonly haproxySocket?: string | undefined
  readonly modelUri: string
  readonly trackingUri?: string | undefined
  /** Percent the new version takes while observed (1–100). Default 100. */
  readonly traffic?: number | undefined
  /** A JSON file holding the scoring request, relative to the workspace. */
  readonly smokeInput?: string | undefined
  readonly requests?: number | undefined
  /** The whole rollout's deadline (the `timeout` input). */
  readonly rolloutTimeoutMs?: number | undefined
  readonly rollback?: RollbackMode | undefined
  readonly promoteAlias?: string | undefined
  readonly environment?: string | undefined
  readonly dryRun?: boolean | undefined
  readonly config?: string | undefined
  readonly githubToken?: string | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly signal?: AbortSignal | undefined
  readonly describeInput?: (name: string) => string
  readonly log?: (line: string) => void
  readonly warn?: (line: string) => void
  readonly onEvent?: (event: RolloutEvent) => void
  /** For tests and the benchmark: requests that prove a state (default 20). */
  readonly verifyRequests?: number | undefined
}

export interface DeployRun {
  readonly model: string
  readonly version: string
  readonly modelUri: string
  readonly target: DeployTargetKind
  readonly endpoint: string
  readonly endpointUrl: string
  readonly rules: readonly DeployRule[]
  readonly report: RolloutReport
  /** Passed: deployed, or already serving as asked, or (dry-run) planned. */
  readonly passed: boolean
  readonly promotedAlias?: string
  readonly deployment?: RecordedDeployment
  readonly dryRun: boolean
  /** Where the rollout's settings came from (shown in the plan, so a dry run says which environment it would use). */
  readonly settings: DeploySettingsSource
}

export async function runDeploy(options: DeployOptions): Promise<DeployRun> {
  const describe = options.describeInput ?? ((name: string) => `input '${name}'`)
  const env = options.env ?? process.env
  const log = options.log ?? (() => undefined)
  const warn = options.warn ?? log
  const uri = parseModelUri(options.modelUri, describe('model-uri'))
  if (uri.kind !== 'version' && uri.kind !== 'alias') {
    throw new ConfigurationError(
      `"${options.modelUri}" is not a registered version; expected models:/<name>/<version> or models:/<name>@<alias>`,
      { source: describe('model-uri') }
    )
  }
  const found = await findModelConfig({ workspace: options.workspace, config: options.config, modelName: uri.name })
  const configFile = found.path ?? '.modelgate.yml'
  const { settings: deploy, source: settingsSource } = deploySettingsFor(found.model?.deploy, {
    configFile,
    configRead: found.path !== undefined,
    environment: options.environment,
    inputs: { target: options.target, endpoint: options.endpoint, runtimeApi: options.haproxySocket },
    describe
  })
  log(`deploy settings: ${describeSettingsSource(settingsSource)}`)
  const rules = deployRules(found.model?.metrics, configFile, warn)
  const kind = deploy.target
  if (!kind) {
    throw new ConfigurationError(
      `is required: expected ${DEPLOY_TARGET_KINDS.map(k => `"${k}"`).join(' or ')} (or ${settingsSource.key('target')} in ${configFile})`,
      { source: describe('target') }
    )
  }
  const endpoint = deploy.endpoint
  if (!endpoint) {
    throw new ConfigurationError(
      `is required: expected the serving endpoint's name (or ${settingsSource.key('endpoint')} in ${configFile})`,
      {
        source: describe('endpoint')
      }
    )
  }
  if (options.traffic !== undefined) parseTraffic(String(options.traffic), describe('traffic'))
  if (options.promoteAlias) checkAlias(options.promoteAlias, describe('promote-alias'))

  const { registry, choice } = await openChosenRegistry({
    workspace: options.workspace,
    trackingUri: options.trackingUri,
    config: found.model?.registry,
    env,
    describeInput: describe,
    // The model's name is part of model-uri here: register-model's 'name' input does not exist on this action.
    nameSource: describe('model-uri'),
    log,
    ...tuningOptions(options)
  })
  const version =
    uri.kind === 'version'
      ? await registry.getVersion(uri.name, uri.version)
      : await registry.getVersionByAlias(uri.name, checkAlias(uri.alias, describe('model-uri')))
  if (!version) {
    throw new ConfigurationError(
      `"${options.modelUri}" names no ${uri.kind === 'alias' ? 'version (the alias is not set)' : 'version'} in the ${registry.kind} registry at ${registry.location}`,
      { source: describe('model-uri') }
    )
  }
  if (version.status !== 'READY') {
    // A version whose registration failed or is still under way may lack files: no endpoint is touched for it.
    throw new ConfigurationError(
      `"${options.modelUri}" is ${uri.name} version ${version.version}, which is ${version.status}${version.statusMessage ? ` (${version.statusMessage})` : ''}; only a READY version can be deployed: ${version.status === 'PENDING_REGISTRATION' ? 're-run once its registration finished' : 'register the model again, or deploy another version'}`,
      { source: describe('model-uri') }
    )
  }
  const dryRun = options.dryRun === true
  const stateRoot = absolute(options.workspace, deploy['state-dir'] ?? join(homedir(), DEFAULT_STATE_DIR))
  const stateDir = join(stateRoot, safeName(endpoint))
  let modelDir: string | undefined
  if (kind === 'haproxy' && !dryRun) {
    await writableStateDir(
      stateDir,
      deploy['state-dir'] === undefined
        ? { source: 'the default state folder' }
        : { source: configFile, path: settingsSource.key('state-dir') }
    )
    modelDir = await localCopy(registry, uri.name, version.version, join(stateDir, 'models'), log)
  }
  const target = await openTarget(kind, {
    endpoint,
    model: uri.name,
    deploy,
    configFile,
    settingKey: settingsSource.key,
    stateDir,
    // Unity Catalog and Model Serving live on the same workspace, with the same credentials.
    workspaceUrl:
      choice.kind === 'databricks-uc'
        ? { value: choice.trackingUri!, source: choice.trackingUriSource ?? 'DATABRICKS_HOST' }
        : options.trackingUri && /^https?:\/\//.test(options.trackingUri)
          ? { value: options.trackingUri, source: describe('tracking-uri') }
          : undefined,
    env,
    describe,
    log,
    ...tuningOptions(options)
  })
  const endpointUrl = deploy.url ?? target.url
  const candidate: ModelVersionRef = {
    name: uri.name,
    version: version.version,
    ...(modelDir ? { dir: modelDir } : {})
  }
  const body = dryRun ? undefined : await requestBody(options, registry, uri.name, version.version, modelDir, describe)

  const rolloutOptions = {
    target,
    candidate,
    body,
    rules,
    ...(options.traffic !== undefined ? { traffic: options.traffic } : {}),
    ...(options.requests !== undefined ? { requests: options.requests } : {}),
    ...(options.rolloutTimeoutMs !== undefined ? { timeoutMs: options.rolloutTimeoutMs } : {}),
    ...(options.rollback ? { rollback: options.rollback } : {}),
    ...(options.verifyRequests !== undefined ? { verifyRequests: options.verifyRequests } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    dryRun
  }
  // The plan is read once before recording, so an unchanged endpoint records no deployment and a deployment names
  // the version it replaces. The rollout reads again under its lock and acts on what it reads then.
  const plan: RolloutPlan = planRollout(await target.read(), rolloutOptions)
  if (dryRun) await sayWhatElseWouldChange(options, registry, uri.name, version.version, plan, log)
  const context = readRunContext(env)
  let recorder: DeploymentRecorder | undefined
  let deployment: RecordedDeployment | undefined
  if (options.environment && !dryRun && plan.steps.length > 0) {
    const { openDeploymentRecorder } = await import('../github/open-deployment-recorder.js')
    recorder = await openDeploymentRecorder({
      apiUrl: context.apiUrl,
      token: options.githubToken,
      repository: context.repository,
      logUrl: context.runUrl,
      dryRun,
      warn,
      info: log,
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {})
    })
    deployment = await recorder.start({
      model: uri.name,
      version: version.version,
      previousVersion: plan.previousVersion,
      target: kind,
      endpoint,
      environment: options.environment,
      sha: context.sha ?? 'HEAD'
    })
  }

  let outcome: RolloutReport
  try {
    outcome = await rollout(rolloutOptions)
  } catch (error) {
    // A rollout that ends in an error rather than a report failed before it changed anything (the endpoint could
    // not be read, or another rollout held it past the deadline), but its deployment was started: it must not read
    // "in progress" for ever on the repository's Deployments page.
    await recorder?.finish({ state: 'failure', rolledBack: false, beforeAnyChange: true, summary: errorMessage(error) })
    throw error
  }
  const report = { ...outcome, endpointUrl }
  const passed = report.outcome === 'deployed' || report.outcome === 'unchanged' || report.outcome === 'planned'
  if (recorder) {
    deployment =
      (await recorder.finish(
        passed
          ? { state: 'success', environmentUrl: endpointUrl, summary: numbers(report) }
          : {
              state: 'failure',
              rolledBack: report.rolledBack,
              summary: report.failure?.message ?? report.outcome
            }
      )) ?? deployment
  }
  let promotedAlias: string | undefined
  if (options.promoteAlias && !dryRun && (report.outcome === 'deployed' || report.outcome === 'unchanged')) {
    try {
      await registry.setAlias(uri.name, options.promoteAlias, version.version)
    } catch (error) {
      // The endpoint serves the version by now: the message must say so, or the failed step reads as a failed rollout.
      const done = `${uri.name} version ${version.version} ${report.outcome === 'deployed' ? 'was deployed to' : 'already served'} ${endpoint}, but the alias ${options.promoteAlias} was not moved to it`
      if (error instanceof ConfigurationError) throw new ConfigurationError(`${done}: ${error.detail}`, error.place)
      if (error instanceof ServiceError) throw new ServiceError(`${done}: ${error.message}`, error.status, error.code)
      throw error
    }
    promotedAlias = options.promoteAlias
    log(`alias ${options.promoteAlias} now points at ${uri.name} version ${version.version}`)
  }
  return {
    model: uri.name,
    version: version.version,
    modelUri: modelVersionUri(uri.name, version.version),
    target: kind,
    endpoint,
    endpointUrl,
    rules: plan.rules,
    report,
    passed,
    ...(promotedAlias ? { promotedAlias } : {}),
    ...(deployment ? { deployment } : {}),
    dryRun,
    settings: settingsSource
  }
}

/**
 * A dry run's plan is also what the run would change beside the endpoint: the alias it would move after success and
 * the GitHub deployment it would record. Only read here; nothing is written.
 */
async function sayWhatElseWouldChange(
  options: DeployOptions,
  registry: ModelRegistry,
  name: string,
  version: string,
  plan: RolloutPlan,
  log: (line: string) => void
): Promise<void> {
  if (options.promoteAlias) {
    const current = (await registry.getVersionByAlias(name, options.promoteAlias))?.version
    log(
      current === version
        ? `dry run: alias ${options.promoteAlias} already points at version ${version}; a real run would leave it`
        : `dry run: after a successful rollout, alias ${options.promoteAlias} would move to version ${version}${current ? ` (it is on version ${current} now)` : ''}`
    )
  }
  if (options.environment && plan.steps.length > 0) {
    log(`dry run: the rollout would be recorded as a GitHub deployment in environment ${options.environment}`)
  }
}

/** Which settings a rollout used: the top-level `deploy:` keys, with one `deploy.environments` entry over them. */
export interface DeploySettingsSource {
  /** The config file as the user named it; absent when no config file was read. */
  readonly configFile?: string
  /** The environment the rollout is recorded in (the `environment` input), when one was given. */
  readonly environment?: string
  /** The `deploy.environments` key whose settings were used (as written in the file); absent when none was. */
  readonly entry?: string
  /** The names `deploy.environments` holds, when the config has the map. */
  readonly environments?: readonly string[]
  /** The inputs that replaced a config setting, by the setting's name (`target`, `endpoint`, `runtime-api`). */
  readonly fromInputs: readonly string[]
  /** Where a setting is read from, for messages: `deploy.environments.staging.url or deploy.url`. */
  readonly key: (name: keyof DeploySettings) => string
}

export interface DeploySettingsInputs {
  readonly target?: DeployTargetKind | undefined
  readonly endpoint?: string | undefined
  /** The `haproxy-socket` input. */
  readonly runtimeApi?: string | undefined
}

/**
 * The settings of one rollout, merged here and nowhere else. Precedence, highest first:
 *
 * 1. the inputs `target`, `endpoint` and `haproxy-socket` (the CLI's flags of the same names);
 * 2. `deploy.environments.<environment>`, the entry named by the `environment` input, key by key;
 * 3. the top-level `deploy:` keys;
 * 4. the defaults (server mlflow, python3 on PATH, state-dir ~/.modelgate/serving), applied by the caller.
 *
 * When the config has a `deploy.environments` map and the environment input names an environment it lacks, this
 * is a ConfigurationError: deploying with the top-level settings instead could put a candidate behind another
 * environment's endpoint. Without an environment input the top-level keys apply, as they do without a map. GitHub
 * environment names are not case sensitive, so an entry is found whatever the case of either name.
 */
export function deploySettingsFor(
  section: DeploySection | undefined,
  options: {
    readonly configFile: string
    /** Whether a config file was read at all (messages then name its keys). */
    readonly configRead?: boolean
    readonly environment?: string | undefined
    readonly inputs?: DeploySettingsInputs
    readonly describe?: (name: string) => string
  }
): { settings: DeploySettings; source: DeploySettingsSource } {
  const describe = options.describe ?? ((name: string) => `input '${name}'`)
  const { environments, ...top } = section ?? {}
  const environment = options.environment
  let entry: string | undefined
  if (environments && environment !== undefined) {
    const names = Object.keys(environments)
    entry = names.find(name => name === environment) ?? names.find(n => n.toLowerCase() === environment.toLowerCase())
    if (entry === undefined) {
      throw new ConfigurationError(
        `has no settings for environment "${environment}" (${describe('environment')}); ${
          names.length
            ? `it names ${names.map(n => `"${n}"`).join(', ')}. Add "${environment}" to deploy.environments, or give one of those names`
            : `it names none. Add "${environment}" to deploy.environments`
        }: with a deploy.environments map, a rollout never falls back to the top-level deploy settings`,
        { source: options.configFile, path: 'deploy.environments' }
      )
    }
  }
  const over: DeploySettings = entry === undefined ? {} : environments![entry]!
  const inputs: DeploySettings = {
    ...(options.inputs?.target !== undefined ? { target: options.inputs.target } : {}),
    ...(options.inputs?.endpoint !== undefined ? { endpoint: options.inputs.endpoint } : {}),
    ...(options.inputs?.runtimeApi !== undefined ? { 'runtime-api': options.inputs.runtimeApi } : {})
  }
  const settings: DeploySettings = { ...defined(top), ...defined(over), ...inputs }
  const key = (name: keyof DeploySettings): string =>
    entry !== undefined
      ? `deploy.environments.${entry}.${name} or deploy.${name}`
      : environments && environment === undefined
        ? `deploy.${name} (deploy.environments applies only when ${describe('environment')} names one)`
        : `deploy.${name}`
  return {
    settings,
    source: {
      ...(options.configRead ? { configFile: options.configFile } : {}),
      ...(environment !== undefined ? { environment } : {}),
      ...(entry !== undefined ? { entry } : {}),
      ...(environments ? { environments: Object.keys(environments) } : {}),
      fromInputs: Object.keys(inputs),
      key
    }
  }
}

/** `deploy.environments.staging over deploy in .modelgate.yml; endpoint from the inputs`. */
export function describeSettingsSource(source: DeploySettingsSource): string {
  const config = source.configFile
    ? source.entry !== undefined
      ? `deploy.environments.${source.entry} over deploy in ${source.configFile}`
      : source.environments
        ? `deploy in ${source.configFile} (no environment given, so deploy.environments does not apply)`
        : `deploy in ${source.configFile}`
    : 'no config file'
  const inputs = source.fromInputs.length ? `; ${source.fromInputs.join(', ')} from the inputs` : ''
  return `${config}${inputs}`
}

/** The keys that hold a value: a key present but undefined must not hide the one below it. */
function defined(settings: DeploySettings): DeploySettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as DeploySettings
}

/** "50 requests, 0% errors, p95 35 ms": the last observed step, for the deployment status. */
function numbers(report: RolloutReport): string | undefined {
  const step = report.steps.at(-1)
  if (!step) return undefined
  const c = step.candidate
  return `${c.requests} requests, ${(c.errorRate * 100).toFixed(1)}% errors, p95 ${Math.round(c.latencyP95Ms)} ms`
}

const DEPLOY_METRIC_NAMES: readonly string[] = Object.values(DEPLOY_METRICS)
/** Keys of a rule that carry no meaning for an upper bound and may stay. */
const HARMLESS_KEYS = new Set(['max', 'threshold', 'direction', 'greater_is_better', 'higher_is_better', 'required'])

/**
 * The `{ name, max }` rules of a deploy, from the config's rules on the deploy metrics. A rule on one of those names
 * that sets anything but an upper bound is a ConfigurationError naming it.
 */
export function deployRules(
  metrics: MetricRules | undefined,
  configFile: string,
  warn: (line: string) => void = () => undefined
): DeployRule[] {
  const rules: DeployRule[] = []
  for (const [name, spec] of Object.entries(metrics ?? {})) {
    if (!DEPLOY_METRIC_NAMES.includes(name)) {
      if (isDeployRule(name) && !name.includes('*')) {
        warn(
          `${configFile}: metrics.${name} is not a deploy metric (${DEPLOY_METRIC_NAMES.join(', ')}); a rollout ignores it`
        )
      }
      continue
    }
    rules.push({ name, max: upperBound(name, spec, configFile) })
  }
  return rules
}

function upperBound(name: string, spec: RuleSpec, configFile: string): number {
  const source = configFile
  const path = `metrics.${name}`
  const expected = `expected an upper bound such as { max: ${name === DEPLOY_METRICS.errorRate ? '0.01' : '200'} }: a rollout judges ${name} against a maximum only`
  if (typeof spec === 'string') throw new ConfigurationError(`sets only a direction; ${expected}`, { source, path })
  const extra = Object.keys(spec).filter(key => !HARMLESS_KEYS.has(key) && spec[key as keyof typeof spec] !== undefined)
  if (extra.length > 0) {
    throw new ConfigurationError(`sets ${extra.join(', ')}; ${expected}`, { source, path })
  }
  const greater = spec.greater_is_better ?? spec.higher_is_better
  if (spec.direction === 'higher' || greater === true) {
    throw new ConfigurationError(`says higher is better; ${expected}`, { source, path })
  }
  if (spec.required === false) {
    throw new ConfigurationError(`sets required: false, but a rollout always measures it; ${expected}`, {
      source,
      path
    })
  }
  const max = spec.max ?? spec.threshold
  if (max === undefined) throw new ConfigurationError(`has no max; ${expected}`, { source, path })
  if (max < 0) throw new ConfigurationError(`has max ${max}; ${expected} of 0 or more`, { source, path })
  return max
}

/** `traffic`: a whole percentage from 1 to 100. */
export function parseTraffic(text: string, source: string): number {
  const value = Number(text.trim().replace(/%$/, ''))
  if (!/^\s*\d+\s*%?\s*$/.test(text) || !Number.isInteger(value) || value < 1 || value > 100) {
    throw new ConfigurationError(
      `expected a whole percentage from 1 to 100 (below 100 is a canary beside the version serving now), got "${text}"`,
      { source }
    )
  }
  return value
}

/** `requests`: how many requests the candidate must answer per observed step. */
export function parseRequests(text: string, source: string): number {
  const value = Number(text.trim())
  if (!/^\s*\d+\s*$/.test(text) || value < 1 || value > 100_000) {
    throw new ConfigurationError(`expected a whole number of requests from 1 to 100000, got "${text}"`, { source })
  }
  return value
}

/** `timeout`: the rollout's deadline (`15m`, `90s`, `1h30m`, `500ms`, or a bare number of seconds). */
export function parseRolloutTimeout(text: string, source: string): number {
  return parseDuration(text, source, '15m')
}

interface TargetContext extends TuningOptions {
  readonly endpoint: string
  /** The registered model's name (MLServer serves the model under it). */
  readonly model: string
  /** The merged settings (deploySettingsFor): the inputs already in them. */
  readonly deploy: DeploySettings
  readonly configFile: string
  /** Where the config sets a key, for messages. */
  readonly settingKey: (name: keyof DeploySettings) => string
  readonly stateDir: string
  /** The Databricks workspace, when the registry is Unity Catalog's or the tracking-uri names one. */
  readonly workspaceUrl?: { readonly value: string; readonly source: string } | undefined
  readonly env: NodeJS.ProcessEnv
  readonly describe: (name: string) => string
  readonly log: (line: string) => void
}

/** The targets by name; each loads its module only when chosen. */
const TARGETS: Readonly<Record<DeployTargetKind, (context: TargetContext) => Promise<ServingTarget>>> = {
  haproxy: async context => {
    const { deploy, configFile, describe } = context
    const runtimeApi = deploy['runtime-api']
    if (!runtimeApi) {
      throw new ConfigurationError(
        `is required for the haproxy target: expected HAProxy's Runtime API address, a socket path or host:port (or ${context.settingKey('runtime-api')} in ${configFile})`,
        { source: describe('haproxy-socket') }
      )
    }
    if (!deploy.url) {
      throw new ConfigurationError(
        `${context.settingKey('url')} is required for the haproxy target: expected the address of HAProxy's frontend that clients use, as in http://127.0.0.1:8080`,
        { source: configFile }
      )
    }
    const { HaproxyTarget } = await import('../serving/haproxy/target.js')
    const { ModelServers, mlflowServeLauncher } = await import('../serving/model-server.js')
    // deploy.python is the environment of the chosen server: mlflow, or mlserver with mlserver-mlflow (a separate
    // environment, python/requirements-mlserver.txt); python3 on PATH when not set, for both.
    const python = deploy.python ?? 'python3'
    const launcher =
      deploy.server === 'mlserver'
        ? (await import('../serving/mlserver.js')).mlserverLauncher({ python, model: context.model })
        : mlflowServeLauncher({ python })
    const servers = new ModelServers({ stateDir: context.stateDir, launcher, log: context.log })
    return new HaproxyTarget({
      endpoint: context.endpoint,
      endpointSource: context.describe('endpoint'),
      runtimeApi,
      url: deploy.url,
      servers,
      log: context.log
    })
  },
  databricks: async context => {
    const host =
      context.workspaceUrl ??
      (context.env.DATABRICKS_HOST ? { value: context.env.DATABRICKS_HOST, source: 'DATABRICKS_HOST' } : undefined)
    if (!host) {
      throw new ConfigurationError(
        'the databricks target needs the workspace URL; set DATABRICKS_HOST (as in https://adb-123.4.azuredatabricks.net) or pass it as tracking-uri',
        { source: context.describe('tracking-uri') }
      )
    }
    const { openWorkspace } = await import('../databricks/workspace.js')
    const { DatabricksServingTarget } = await import('../serving/databricks/target.js')
    const workspace = openWorkspace({
      host: host.value,
      hostSource: host.source,
      env: context.env,
      log: context.log,
      ...(context.retryBaseMs !== undefined ? { retryBaseMs: context.retryBaseMs } : {})
    })
    return new DatabricksServingTarget({
      endpoint: context.endpoint,
      endpointSource: context.describe('endpoint'),
      model: context.model,
      workspace,
      log: context.log,
      ...(context.retryBaseMs !== undefined ? { retryBaseMs: context.retryBaseMs } : {})
    })
  }
}

async function openTarget(kind: DeployTargetKind, context: TargetContext): Promise<ServingTarget> {
  const open = TARGETS[kind]
  if (!open) {
    throw new ConfigurationError(`expected ${DEPLOY_TARGET_KINDS.map(k => `"${k}"`).join(' or ')}, got "${kind}"`, {
      source: context.describe('target')
    })
  }
  return open(context)
}

/**
 * The haproxy target keeps its model copies, model server records and rollout lock in the state folder: one it
 * cannot write is the user's setting to fix, said before anything is downloaded or started.
 */
async function writableStateDir(stateDir: string, place: { source: string; path?: string }): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true })
    await access(stateDir, constants.W_OK)
  } catch (error) {
    throw new ConfigurationError(
      `the state folder ${stateDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}): expected a folder modelgate may create and write, where the model servers of an endpoint are remembered between jobs`,
      place
    )
  }
}

/**
 * The version's files in the state folder, where the model server that serves it reads them for as long as it
 * runs (a later job's runner may have removed the workspace). Downloaded once per version; a folder half written
 * by a crash is never taken for a copy, because it only gets its name when complete.
 */
async function localCopy(
  registry: ModelRegistry,
  name: string,
  version: string,
  root: string,
  log: (line: string) => void
): Promise<string> {
  const dir = join(root, safeName(`${name}-${version}`))
  const present = await stat(join(dir, 'MLmodel')).then(
    () => true,
    () => false
  )
  if (present) return dir
  await mkdir(root, { recursive: true })
  const partial = `${dir}.partial-${process.pid}`
  await rm(partial, { recursive: true, force: true })
  await mkdir(partial)
  log(`downloading ${modelVersionUri(name, version)} into ${dir}`)
  try {
    await registry.downloadModel(modelVersionUri(name, version), partial)
    await rename(partial, dir)
  } catch (error) {
    await rm(partial, { recursive: true, force: true })
    // Another run on this machine finished the same copy first: its copy is as good as ours.
    const finished = await stat(join(dir, 'MLmodel')).then(
      () => true,
      () => false
    )
    if (!finished) throw error
  }
  return dir
}

/** The scoring request: the smoke-input file, else the model's serving input example. */
async function requestBody(
  options: DeployOptions,
  registry: ModelRegistry,
  name: string,
  version: string,
  modelDir: string | undefined,
  describe: (name: string) => string
): Promise<unknown> {
  if (options.smokeInput) {
    const path = absolute(options.workspace, options.smokeInput)
    return readJson(path, describe('smoke-input'), 'the scoring request as JSON, as in {"dataframe_split": …}')
  }
  let dir = modelDir
  let temporary: string | undefined
  if (!dir) {
    temporary = await mkdtemp(join(tmpdir(), 'modelgate-deploy-'))
    await registry.downloadModel(modelVersionUri(name, version), temporary)
    dir = temporary
  }
  try {
    const path = join(dir, SERVING_EXAMPLE)
    const present = await stat(path).then(
      () => true,
      () => false
    )
    if (!present) {
      throw new ConfigurationError(
        `is required: ${modelVersionUri(name, version)} has no ${SERVING_EXAMPLE} (log the model with an input_example), so give a file holding the scoring request`,
        { source: describe('smoke-input') }
      )
    }
    return await readJson(path, `${modelVersionUri(name, version)}/${SERVING_EXAMPLE}`, 'a JSON scoring request')
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true })
  }
}

async function readJson(path: string, source: string, expected: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigurationError(`cannot be read (${errorMessage(error)}); expected ${expected}`, { source })
  }
  try {
    const value: unknown = JSON.parse(text)
    if (value === null || typeof value !== 'object') {
      throw new ConfigurationError(`holds ${describeValue(value)}; expected ${expected}`, { source })
    }
    return value
  } catch (error) {
    if (error instanceof ConfigurationError) throw error
    throw new ConfigurationError(`is not valid JSON (${errorMessage(error)}); expected ${expected}`, { source })
  }
}

function safeName(text: string): string {
  return text.replace(/[^\w.-]+/g, '_')
}

function absolute(workspace: string, path: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path)
}
