/**
 * The MLflow registry: an open-source MLflow tracking server (or any server speaking its REST API).
 *
 * Registering a local model directory, the way MLflow 3's own `log_model` + `register_model` leave it:
 *   1. a run in the experiment (the user's `run-id`, or one modelgate creates, tagged with the commit and holding
 *      the candidate's metrics, so a later gate can compare with this version);
 *   2. a logged model (MLflow 3) linked to the run; on a server without logged models (MLflow 2, whose answer to
 *      the route is a bare 404) the files go under the run's artifacts instead: `<run artifacts>/model`;
 *   3. every file PUT through the server's `mlflow-artifacts` proxy, several at once;
 *   4. the logged model finalized READY, then the version created with `source` = `models:/<model id>` (or the
 *      run's artifact URI) and `run_id` (the server refuses a source no run or logged model contains), with every
 *      tag in the same request, so a version never exists without its `modelgate.digest`.
 * A failure before 4 leaves no version (a re-run starts over, the half-uploaded run marked FAILED); a failure
 * during or after 4 leaves a complete version that the re-run finds by digest. Versions on the open-source SQL
 * store are READY at creation; a server that says PENDING_REGISTRATION is polled.
 */
import { join } from 'node:path'
import { ConfigurationError, ServiceError } from '../../errors.js'
import type { Auth } from '../../http/client.js'
import {
  DIGEST_TAG,
  type ModelRegistry,
  type ModelVersion,
  type NewVersion,
  type RegistryMetrics,
  type UploadFile,
  type VersionDraft,
  type VersionStatus
} from '../types.js'
import { forEachConcurrently } from '../../concurrency.js'
import { pollUntilReady } from '../ready.js'
import { parseModelUri } from '../uri.js'
import { MlflowClient, metricValues } from './client.js'
import type { MlflowLoggedModel, MlflowModelVersion, MlflowRun } from './schemas.js'

export interface MlflowRegistryOptions {
  readonly trackingUri: string
  /** Credentials from the environment when not given (MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_TOKEN). */
  readonly auth?: Auth
  readonly env?: NodeJS.ProcessEnv
  /** The experiment that holds the runs modelgate creates. Default `modelgate`. */
  readonly experiment?: string
  /** How errors name where the tracking URI came from. */
  readonly source?: string
  readonly retryBaseMs?: number
  readonly timeoutMs?: number
  readonly pollIntervalMs?: number
  /** Files uploaded at once. */
  readonly concurrency?: number
  readonly log?: (line: string) => void
  readonly fetch?: typeof fetch
  /**
   * The deadline of the whole registration: when it aborts, requests and waits stop and the operation throws its
   * reason.
   */
  readonly signal?: AbortSignal
}

const DEFAULT_EXPERIMENT = 'modelgate'
const READY_TIMEOUT_MS = 300_000

export class MlflowRegistry implements ModelRegistry {
  readonly kind = 'mlflow'
  readonly location: string
  readonly retryBaseMs: number
  readonly client: MlflowClient
  private readonly experiment: string
  private readonly pollIntervalMs: number
  private readonly concurrency: number
  private readonly log: (line: string) => void
  private readonly signal: AbortSignal | undefined

  constructor(options: MlflowRegistryOptions) {
    const env = options.env ?? process.env
    const source = options.source ?? "input 'tracking-uri'"
    const baseUrl = checkTrackingUri(options.trackingUri, source)
    this.location = baseUrl
    this.log = options.log ?? (() => {})
    this.retryBaseMs = options.retryBaseMs ?? 500
    const auth = options.auth ?? authFromEnv(env)
    this.client = new MlflowClient({
      baseUrl,
      source,
      retryBaseMs: this.retryBaseMs,
      log: this.log,
      ...credentialSource(options.auth, env),
      ...(auth ? { auth } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.signal ? { signal: options.signal } : {})
    })
    this.signal = options.signal
    this.experiment = options.experiment ?? DEFAULT_EXPERIMENT
    this.pollIntervalMs = options.pollIntervalMs ?? 3000
    this.concurrency = options.concurrency ?? 4
  }

  async ensureRegisteredModel(name: string): Promise<void> {
    await this.client.createRegisteredModel(name)
  }

  async findVersionByDigest(name: string, digest: string): Promise<ModelVersion | undefined> {
    const versions = await this.client.searchModelVersions(
      `name = ${quote(name)} AND tags.\`${DIGEST_TAG}\` = ${quote(digest)}`
    )
    const lowest = versions.sort((a, b) => Number(a.version) - Number(b.version))[0]
    return lowest && toVersion(lowest)
  }

  async prepareVersion(request: NewVersion): Promise<VersionDraft> {
    const { source, runId, modelId } = await this.stage(request)
    const tags = { ...request.tags, [DIGEST_TAG]: request.digest }
    return {
      create: async () => {
        const created = await this.client.createModelVersion({
          name: request.name,
          source,
          ...(runId ? { runId } : {}),
          ...(modelId ? { modelId } : {}),
          tags,
          ...(request.description ? { description: request.description } : {})
        })
        return { version: toVersion(created), created: true }
      },
      finish: version => this.waitUntilReady(version.name, version.version),
      discard: async () => {
        // The logged model would still name the deleted version, and the run would hold a second copy of the files.
        if (modelId && request.content.kind === 'directory') await this.client.deleteLoggedModel(modelId)
        if (runId && request.content.kind === 'directory' && !request.runId) await this.client.deleteRun(runId)
      },
      release: async () => {}
    }
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    await this.client.deleteModelVersion(name, version)
  }

  async completeVersion(version: ModelVersion): Promise<ModelVersion> {
    if (version.status === 'FAILED_REGISTRATION') {
      throw new ServiceError(
        `version ${version.version} of ${version.name} holds this model but its registration failed (${version.statusMessage ?? 'no reason given'}); delete that version and run again`
      )
    }
    return version.status === 'READY' ? version : this.waitUntilReady(version.name, version.version)
  }

  async waitUntilReady(name: string, version: string, options: { timeoutMs?: number } = {}): Promise<ModelVersion> {
    return pollUntilReady(() => this.getVersion(name, version), {
      service: 'the MLflow server',
      name,
      version,
      timeoutMs: options.timeoutMs ?? READY_TIMEOUT_MS,
      intervalMs: this.pollIntervalMs,
      signal: this.signal
    })
  }

  async getVersion(name: string, version: string): Promise<ModelVersion | undefined> {
    const found = await this.client.getModelVersion(name, version)
    return found && toVersion(found)
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    const found = await this.client.getModelVersionByAlias(name, alias)
    return found && toVersion(found)
  }

  async setVersionTags(name: string, version: string, tags: Readonly<Record<string, string>>): Promise<void> {
    for (const [key, value] of Object.entries(tags)) await this.client.setModelVersionTag(name, version, key, value)
  }

  async setVersionDescription(name: string, version: string, description: string): Promise<void> {
    await this.client.updateModelVersion(name, version, description)
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.setAlias(name, alias, version)
  }

  async readVersionMetrics(version: ModelVersion): Promise<RegistryMetrics> {
    const values = new Map<string, number | string>()
    const run = version.runId ? await this.client.getRun(version.runId) : undefined
    for (const [key, value] of metricValues(run?.data?.metrics)) values.set(key, value)
    const modelId = version.modelId ?? loggedModelId(version.source)
    if (modelId) {
      // A logged model's metrics are the ones measured on that model; they win over the run's of the same name.
      const model = await this.client.getLoggedModel(modelId)
      for (const [key, value] of metricValues(model?.data?.metrics)) values.set(key, value)
    }
    return { values, ...(version.runId ? { runId: version.runId } : {}), ...(modelId ? { modelId } : {}) }
  }

  async readRunMetrics(runId: string): Promise<RegistryMetrics> {
    const run = await this.requireRun(runId, `mlflow-run:${runId}`)
    return { values: metricValues(run.data?.metrics), runId }
  }

  async downloadModel(uri: string, destination: string): Promise<void> {
    const artifactUri = await this.resolveArtifactUri(uri)
    const root = this.client.artifactPath(artifactUri)
    if (root === undefined) {
      throw new ConfigurationError(
        `${uri} is stored at ${artifactUri}, which modelgate cannot download through the tracking server (only mlflow-artifacts: locations are proxied); download it with mlflow artifacts download and pass the directory as model-path`,
        { source: uri }
      )
    }
    const files = await this.listFiles(root, '')
    if (files.length === 0) {
      throw new ConfigurationError(`${uri} resolves to ${artifactUri}, which holds no files`, { source: uri })
    }
    await forEachConcurrently(files, this.concurrency, file =>
      this.client.downloadArtifact(`${root}/${file}`, join(destination, file))
    )
  }

  // --- registration steps ---------------------------------------------------------------------------------------

  /** Uploads the content and returns what the version is created from. */
  private async stage(request: NewVersion): Promise<{ source: string; runId?: string; modelId?: string }> {
    const content = request.content
    if (content.kind === 'uri') return this.existingSource(content.uri, request.runId)

    const ownRun = !request.runId
    const run = ownRun ? await this.createRun(request) : await this.requireRun(request.runId!, "input 'run-id'")
    const runId = run.info.run_id ?? run.info.run_uuid!
    try {
      const logged = await this.client.createLoggedModel({
        experimentId: run.info.experiment_id,
        name: 'model',
        runId,
        tags: { [DIGEST_TAG]: request.digest }
      })
      let source: string
      if (logged) {
        await this.upload(logged.info.artifact_uri, content.files)
        // Logged with the model's id, the metrics belong to the run and to the model, as log_model leaves them.
        if (request.metrics && ownRun) await this.client.logMetrics(runId, request.metrics, logged.info.model_id)
        await this.client.finalizeLoggedModel(logged.info.model_id, 'LOGGED_MODEL_READY')
        source = `models:/${logged.info.model_id}`
      } else {
        this.log(`the MLflow server has no logged models (MLflow 2); storing the model under run ${runId}'s artifacts`)
        source = runArtifactUri(run, 'model')
        if (request.metrics && ownRun) await this.client.logMetrics(runId, request.metrics)
        await this.upload(source, content.files)
      }
      if (ownRun) await this.client.finishRun(runId, 'FINISHED')
      return { source, runId, ...(logged ? { modelId: logged.info.model_id } : {}) }
    } catch (error) {
      if (ownRun) await this.client.finishRun(runId, 'FAILED').catch(() => {})
      throw error
    }
  }

  private async createRun(request: NewVersion) {
    const experimentId = await this.client.ensureExperiment(this.experiment)
    const run = await this.client.createRun(experimentId, `register ${request.name}`, {
      ...request.runTags,
      [DIGEST_TAG]: request.digest
    })
    return run
  }

  private async existingSource(
    uri: string,
    runId: string | undefined
  ): Promise<{ source: string; runId?: string; modelId?: string }> {
    if (uri.startsWith('runs:/') || uri.startsWith('models:/')) {
      const parsed = parseModelUri(uri, "input 'source'")
      if (parsed.kind === 'logged-model') {
        const model = await this.requireLoggedModel(parsed.modelId, uri)
        return {
          source: uri,
          modelId: parsed.modelId,
          ...(model.info.source_run_id ? { runId: model.info.source_run_id } : {})
        }
      }
      if (parsed.kind === 'run') {
        const run = await this.requireRun(parsed.runId, uri)
        return { source: runArtifactUri(run, parsed.path), runId: parsed.runId }
      }
      // A version whose files a logged model holds has the source models:/m-<id>, which the server accepts only
      // with that model's id beside it.
      const version = await this.versionOf(uri)
      return {
        source: version.source,
        ...(version.runId ? { runId: version.runId } : {}),
        ...(version.modelId ? { modelId: version.modelId } : {})
      }
    }
    return { source: uri, ...(runId ? { runId } : {}) }
  }

  private async upload(artifactUri: string, files: readonly UploadFile[]): Promise<void> {
    const root = this.client.artifactPath(artifactUri)
    if (root === undefined) {
      throw new ConfigurationError(
        `the MLflow server stores artifacts at ${artifactUri}, which clients write directly (the server was started with --no-serve-artifacts or a non-proxied artifact root); modelgate uploads through the tracking server: start it with --serve-artifacts (the default) and an --artifacts-destination`,
        { source: this.client.url }
      )
    }
    // Largest first, so one big file does not start last and run alone.
    const bySize = [...files].sort((a, b) => b.size - a.size)
    await forEachConcurrently(bySize, this.concurrency, file =>
      this.client.uploadArtifact(`${root}/${file.path}`, file)
    )
  }

  private async resolveArtifactUri(uri: string): Promise<string> {
    if (uri.startsWith('mlflow-artifacts:')) return uri
    const parsed = parseModelUri(uri, uri)
    if (parsed.kind === 'run') return runArtifactUri(await this.requireRun(parsed.runId, uri), parsed.path)
    if (parsed.kind === 'logged-model') return (await this.requireLoggedModel(parsed.modelId, uri)).info.artifact_uri
    const version = await this.versionOf(uri)
    return this.client.getDownloadUri(version.name, version.version)
  }

  private async requireRun(runId: string, source: string): Promise<MlflowRun> {
    const run = await this.client.getRun(runId)
    if (!run)
      throw new ConfigurationError(`run ${runId} does not exist on the MLflow server at ${this.location}`, { source })
    return run
  }

  private async requireLoggedModel(modelId: string, source: string): Promise<MlflowLoggedModel> {
    const model = await this.client.getLoggedModel(modelId)
    if (!model) {
      throw new ConfigurationError(`logged model ${modelId} does not exist on the MLflow server at ${this.location}`, {
        source
      })
    }
    return model
  }

  private async versionOf(uri: string): Promise<ModelVersion> {
    const parsed = parseModelUri(uri, uri)
    if (parsed.kind === 'version') {
      const version = await this.getVersion(parsed.name, parsed.version)
      if (!version) {
        throw new ConfigurationError(`version ${parsed.version} of ${parsed.name} does not exist on ${this.location}`, {
          source: uri
        })
      }
      return version
    }
    if (parsed.kind === 'alias') {
      const version = await this.getVersionByAlias(parsed.name, parsed.alias)
      if (!version) {
        throw new ConfigurationError(
          `${parsed.name} has no alias ${parsed.alias} on ${this.location} (or no such registered model)`,
          { source: uri }
        )
      }
      return version
    }
    throw new ConfigurationError(`expected a registered model version, as in models:/name/1 or models:/name@champion`, {
      source: uri
    })
  }

  /** Every file below `root/prefix`, as paths relative to root. */
  private async listFiles(root: string, prefix: string): Promise<string[]> {
    const entries = await this.client.listArtifacts(prefix ? `${root}/${prefix}` : root)
    const files: string[] = []
    for (const entry of entries) {
      // The proxy lists basenames; older servers list paths relative to the root asked for.
      const name = entry.path.split('/').pop()!
      const path = prefix ? `${prefix}/${name}` : name
      if (entry.isDir) files.push(...(await this.listFiles(root, path)))
      else files.push(path)
    }
    return files
  }
}

export function createMlflowRegistry(options: MlflowRegistryOptions): MlflowRegistry {
  return new MlflowRegistry(options)
}

function checkTrackingUri(uri: string, source: string): string {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new ConfigurationError(
      `"${uri}" is not a URL; expected the tracking server's http(s) URL, as in http://mlflow.internal:5000`,
      {
        source
      }
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const hint = uri.startsWith('databricks')
      ? '; for Unity Catalog use registry: databricks-uc'
      : uri.startsWith('file:') || uri.startsWith('sqlite:')
        ? '; a local store has no REST API: start mlflow server over it, or use registry: file'
        : ''
    throw new ConfigurationError(`"${uri}" is not an http(s) URL${hint}`, { source })
  }
  return uri.replace(/\/+$/, '')
}

/** The credentials MLflow's own client reads; basic wins when both are set, as in MLflow. */
function authFromEnv(env: NodeJS.ProcessEnv): Auth | undefined {
  if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD) {
    return { kind: 'basic', username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD }
  }
  if (env.MLFLOW_TRACKING_TOKEN) return { kind: 'bearer', token: env.MLFLOW_TRACKING_TOKEN }
  return undefined
}

/** A path inside the run's artifacts, as a URI (`mlflow-artifacts:/1/<run>/artifacts/model`). */
function runArtifactUri(run: MlflowRun, path: string): string {
  const root = (run.info.artifact_uri ?? '').replace(/\/+$/, '')
  return path ? `${root}/${path}` : root
}

function credentialSource(auth: Auth | undefined, env: NodeJS.ProcessEnv): { credentials?: string } {
  const used = auth ?? authFromEnv(env)
  if (!used) return {}
  if (auth) return { credentials: 'the credentials given' }
  return {
    credentials:
      used.kind === 'basic' ? 'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD' : 'MLFLOW_TRACKING_TOKEN'
  }
}

function toVersion(version: MlflowModelVersion): ModelVersion {
  const tags: Record<string, string> = {}
  for (const tag of version.tags ?? []) tags[tag.key] = tag.value ?? ''
  const modelId = version.model_id || loggedModelId(version.source ?? '')
  return {
    name: version.name,
    version: version.version,
    status: toStatus(version.status),
    ...(version.status_message ? { statusMessage: version.status_message } : {}),
    source: version.source ?? '',
    ...(version.run_id ? { runId: version.run_id } : {}),
    ...(modelId ? { modelId } : {}),
    ...(version.description ? { description: version.description } : {}),
    tags,
    aliases: version.aliases ?? [],
    ...(version.creation_timestamp !== undefined ? { createdAt: version.creation_timestamp } : {})
  }
}

function toStatus(status: string | undefined): VersionStatus {
  if (status === 'PENDING_REGISTRATION' || status === 'FAILED_REGISTRATION') return status
  // The open-source store omits nothing here, but an absent status is how READY (the enum's default) would travel.
  return 'READY'
}

function loggedModelId(source: string): string | undefined {
  return /^models:\/(m-[0-9a-f]{32})$/.exec(source)?.[1]
}

/** A string literal in MLflow's search grammar. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}
