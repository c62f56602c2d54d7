/**
 * The Unity Catalog registry (`registry: databricks-uc`): registered models in a Databricks workspace's Unity
 * Catalog, spoken to over the REST protocol MLflow's own client uses for `databricks-uc`: a service of its own under
 * `/api/2.0/mlflow/unity-catalog/`, with three-level names and no stages.
 *
 * Registering a local model directory, the way `mlflow.register_model` does against `databricks-uc`
 * (`mlflow/store/_unity_catalog/registry/rest_store.py`, `create_model_version`):
 *   1. the MLmodel signature is checked on this side, with MLflow's words: Unity Catalog takes only models whose
 *      signature has inputs and outputs;
 *   2. `model-versions/create` with every tag (the digest included) and the run id, which answers a version in
 *      PENDING_REGISTRATION (register.ts retries a create whose answer was lost, and converges racing writers);
 *   3. every file PUT through the Files API under `/Models/<catalog>/<schema>/<model>/<version>/`, several at once;
 *   4. `model-versions/finalize`, then `model-versions/get` until READY.
 * A run that dies between 2 and 4 leaves a PENDING version that already carries the digest tag: the next run finds
 * it by digest and `completeVersion` uploads again (overwriting) and finalizes it, so no second version appears.
 *
 * Unity Catalog keeps its own copy of every version's files, so a version cannot point at files elsewhere. An
 * existing source is therefore copied, as MLflow's `copy_model_version` does: a `models:/` URI of this workspace is
 * downloaded and uploaded into the new version. Sources outside the registry (`runs:/`, `dbfs:/`, cloud URIs) are
 * refused with what to do instead, because registering them without files would leave a version that never
 * becomes READY.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabricksCredentials } from '../../databricks/auth.js'
import { openWorkspace } from '../../databricks/workspace.js'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { MLMODEL_FILE, readMLmodel } from '../../model-dir/mlmodel.js'
import { walkModelDir } from '../../model-dir/walk.js'
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
import { checkAlias, parseModelUri } from '../uri.js'
import { PermissionDenied, UcClient, type DirectoryEntry, type UcModelVersion, type UcRun } from './uc-client.js'

export interface UnityCatalogRegistryOptions {
  /** The workspace URL (`https://adb-….azuredatabricks.net`); a bare host name gets https://. */
  readonly host: string
  /** Where the credentials are read: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET. */
  readonly env?: NodeJS.ProcessEnv
  readonly retryBaseMs?: number
  /** Between `model-versions/get` calls while a version is not READY. Default 3 s, as MLflow's client. */
  readonly pollIntervalMs?: number
  readonly fetch?: typeof fetch
  readonly log?: (line: string) => void
  /** How errors name where the workspace URL came from. Default `DATABRICKS_HOST`. */
  readonly hostSource?: string
  /** How errors name where the model name came from. Default `input 'name'`. */
  readonly nameSource?: string
  /** Per request, for JSON calls. */
  readonly timeoutMs?: number
  /** Files uploaded or downloaded at once. Default 4. */
  readonly concurrency?: number
  /** Longest wait for a version to become READY. Default 300 s, as MLflow's client. */
  readonly readyTimeoutMs?: number
  /**
   * The deadline of the whole registration: when it aborts, requests and waits stop and the operation throws its
   * reason.
   */
  readonly signal?: AbortSignal
}

const READY_TIMEOUT_MS = 300_000
/** Versions whose tags are read at once when looking for a digest (search results carry no tags). */
const LOOKUP_WINDOW = 8
/** MLflow's switch between the Files API and temporary cloud credentials for UC model files. */
const FILES_API_VARIABLE = 'MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC'

const SIGNATURE_REQUIRED =
  'All models in the Unity Catalog must be logged with a model signature containing both input and output type specifications'
const SIGNATURE_FIX =
  'log the model with a signature that has both, e.g. mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, y)) with y = model.predict(X), and register that model'

interface StagedContent {
  readonly dir: string
  readonly files: readonly UploadFile[]
  readonly source: string
  readonly runId?: string
  cleanup(): Promise<void>
}

export class UnityCatalogRegistry implements ModelRegistry {
  readonly kind = 'databricks-uc'
  readonly location: string
  readonly retryBaseMs: number
  readonly client: UcClient
  readonly credentials: DatabricksCredentials
  private readonly pollIntervalMs: number
  private readonly concurrency: number
  private readonly readyTimeoutMs: number
  private readonly nameSource: string
  private readonly log: (line: string) => void
  private readonly signal: AbortSignal | undefined
  private readonly env: NodeJS.ProcessEnv
  private filesApi: Promise<boolean | undefined> | undefined

  constructor(options: UnityCatalogRegistryOptions) {
    const env = options.env ?? process.env
    this.env = env
    this.log = options.log ?? (() => {})
    this.retryBaseMs = options.retryBaseMs ?? 500
    const workspace = openWorkspace({
      host: options.host,
      env,
      retryBaseMs: this.retryBaseMs,
      log: this.log,
      ...(options.hostSource ? { hostSource: options.hostSource } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.signal ? { signal: options.signal } : {})
    })
    this.signal = options.signal
    const hostSource = workspace.hostSource
    this.location = workspace.url
    this.credentials = workspace.credentials
    this.nameSource = options.nameSource ?? "input 'name'"
    this.client = new UcClient({
      baseUrl: this.location,
      auth: this.credentials.auth,
      retryBaseMs: this.retryBaseMs,
      log: this.log,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      credentialSource: this.credentials.source,
      credentialKind: this.credentials.kind,
      nameSource: this.nameSource,
      hostSource
    })
    this.pollIntervalMs = options.pollIntervalMs ?? 3000
    this.concurrency = options.concurrency ?? 4
    this.readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS
  }

  async ensureRegisteredModel(name: string): Promise<void> {
    this.checkName(name)
    try {
      const outcome = await this.client.createRegisteredModel(name)
      if (outcome === 'created') this.log(`created the registered model ${name}`)
    } catch (error) {
      // An identity that owns the model but may not create models in the schema is refused the create; the model
      // being there is all this step needs.
      if (error instanceof PermissionDenied) {
        if (await this.client.getRegisteredModel(name).catch(() => undefined)) return
      }
      throw error
    }
  }

  async findVersionByDigest(name: string, digest: string): Promise<ModelVersion | undefined> {
    this.checkName(name)
    const found = await this.findByDigest(name, digest)
    return found && toVersion(found)
  }

  async prepareVersion(request: NewVersion): Promise<VersionDraft> {
    this.checkName(request.name)
    if (request.metrics && Object.keys(request.metrics).length && !request.runId) {
      // UC versions have no run of their own to hold them; the training run's id links its metrics instead.
      this.log(
        `Unity Catalog keeps metrics on MLflow runs, and this version names none: pass the training run's id (run-id) so a later gate can read its metrics`
      )
    }
    await this.checkUploadPath()
    const staged = await this.stage(request)
    try {
      await checkSignature(staged.dir)
    } catch (error) {
      await staged.cleanup()
      throw error
    }
    const tags = { ...request.tags, [DIGEST_TAG]: request.digest }
    return {
      create: async () => {
        const created = await this.client.createModelVersion({
          name: request.name,
          source: staged.source,
          ...(staged.runId ? { runId: staged.runId } : {}),
          ...(request.description ? { description: request.description } : {}),
          tags
        })
        const version = toVersion(created)
        this.log(`created version ${version.version} of ${version.name} (${version.status})`)
        return { version, created: true }
      },
      finish: version => this.uploadAndFinalize(version, staged.files),
      // Deleting a UC version removes its files; nothing else was made.
      discard: async () => {},
      release: () => staged.cleanup()
    }
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    this.checkName(name)
    await this.client.deleteModelVersion(name, version)
  }

  async completeVersion(found: ModelVersion, request: NewVersion): Promise<ModelVersion> {
    // Another writer may have finished it since it was found; its files can then no longer be written.
    const version = found.status === 'READY' ? found : ((await this.getVersion(found.name, found.version)) ?? found)
    if (version.status === 'READY') return version
    if (version.status === 'FAILED_REGISTRATION') {
      throw new ServiceError(
        `version ${version.version} of ${version.name} holds this model but its registration failed (${version.statusMessage ?? 'no reason given'}); Unity Catalog does not retry a failed version: delete it (Catalog Explorer, or databricks model-versions delete ${version.name} ${version.version}) and run again`
      )
    }
    // A run that died between create and finalize: the version has the digest tag but maybe not all its files.
    this.log(`version ${version.version} of ${version.name} was left ${version.status}; uploading its files again`)
    await this.checkUploadPath()
    const staged = await this.stage(request)
    try {
      await checkSignature(staged.dir)
      return await this.uploadAndFinalize(version, staged.files)
    } finally {
      await staged.cleanup()
    }
  }

  async waitUntilReady(name: string, version: string, options: { timeoutMs?: number } = {}): Promise<ModelVersion> {
    return pollUntilReady(() => this.getVersion(name, version), {
      service: 'Unity Catalog',
      name,
      version,
      timeoutMs: options.timeoutMs ?? this.readyTimeoutMs,
      intervalMs: this.pollIntervalMs,
      signal: this.signal
    })
  }

  async getVersion(name: string, version: string): Promise<ModelVersion | undefined> {
    this.checkName(name)
    const found = await this.client.getModelVersion(name, version)
    return found && toVersion(found)
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    this.checkName(name)
    // Callers check an alias's spelling first (types.ts); one UC could never hold is simply not there.
    try {
      checkAlias(alias, `models:/${name}@${alias}`)
    } catch {
      return undefined
    }
    const found = await this.client.getModelVersionByAlias(name, alias)
    return found && toVersion(found)
  }

  async setVersionTags(name: string, version: string, tags: Readonly<Record<string, string>>): Promise<void> {
    this.checkName(name)
    await forEachConcurrently(Object.entries(tags), this.concurrency, ([key, value]) =>
      this.client.setModelVersionTag(name, version, key, value)
    )
  }

  async setVersionDescription(name: string, version: string, description: string): Promise<void> {
    this.checkName(name)
    await this.client.updateModelVersion(name, version, description)
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    this.checkName(name)
    checkAlias(alias, "input 'aliases'")
    const target = await this.client.getModelVersion(name, version)
    if (!target) {
      throw new ConfigurationError(`version ${version} of ${name} does not exist on ${this.location}`, {
        source: this.nameSource
      })
    }
    // UC compares alias names without regard to case; a re-run whose alias is already in place needs no write, so
    // it also needs no ownership of the model.
    const wanted = alias.toLowerCase()
    if (toVersion(target).aliases.some(existing => existing.toLowerCase() === wanted)) return
    await this.client.setAlias(name, alias, version)
  }

  async readVersionMetrics(version: ModelVersion): Promise<RegistryMetrics> {
    if (!version.runId) return { values: new Map() }
    const run = await this.client.getRun(version.runId)
    if (!run) this.log(`run ${version.runId} of ${version.name} version ${version.version} no longer exists`)
    return { values: metricValues(run), runId: version.runId }
  }

  async readRunMetrics(runId: string): Promise<RegistryMetrics> {
    const run = await this.client.getRun(runId)
    if (!run) {
      throw new ConfigurationError(`run ${runId} does not exist in the Databricks workspace at ${this.location}`, {
        source: `mlflow-run:${runId}`
      })
    }
    return { values: metricValues(run), runId }
  }

  async downloadModel(uri: string, destination: string): Promise<void> {
    const version = await this.versionOf(uri)
    if (version.status !== 'READY') {
      throw new ConfigurationError(
        `${uri} is version ${version.version}, which is ${version.status}: its files are not complete`,
        { source: uri }
      )
    }
    await this.downloadVersion(version.name, version.version, destination, uri)
  }

  // --- registration steps ---------------------------------------------------------------------------------------

  private async stage(request: NewVersion): Promise<StagedContent> {
    const content = request.content
    if (content.kind === 'directory') {
      return {
        dir: content.dir,
        files: content.files,
        // What MLflow records as the source of a version registered from a local directory: its path.
        source: content.dir,
        ...(request.runId ? { runId: request.runId } : {}),
        cleanup: async () => {}
      }
    }
    const from = await this.versionOf(content.uri)
    if (from.status !== 'READY') {
      throw new ConfigurationError(`${content.uri} is ${from.status}: only a READY version can be copied`, {
        source: content.uri
      })
    }
    const dir = await mkdtemp(join(tmpdir(), 'modelgate-uc-'))
    const cleanup = () => rm(dir, { recursive: true, force: true })
    try {
      this.log(`copying ${from.name} version ${from.version} into the new version`)
      await this.downloadVersion(from.name, from.version, dir, content.uri)
      const walk = await walkModelDir(dir, { source: content.uri })
      const runId = request.runId ?? from.runId
      return {
        dir,
        files: walk.files,
        source: `models:/${from.name}/${from.version}`,
        ...(runId ? { runId } : {}),
        cleanup
      }
    } catch (error) {
      await cleanup()
      throw error
    }
  }

  /**
   * Refuses, before a version is created, a workspace that takes model files only through temporary cloud
   * credentials: the version could never be finished. MLflow's client asks the same question and lets
   * MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC answer it instead. A workspace that does not answer
   * (404) is refused too: MLflow's client then falls back to temporary credentials, so the Files API is not known
   * to take the files there, and a version created now could be left unfinished.
   */
  private async checkUploadPath(): Promise<void> {
    this.filesApi ??= this.decideUploadPath()
    const answer = await this.filesApi
    if (answer === false) {
      throw new ConfigurationError(
        `Databricks at ${this.location} says this workspace takes model files through temporary cloud credentials, not the Files API (/Models/…), and modelgate uploads through the Files API only; register the model with mlflow.register_model from Python on this workspace, or set ${FILES_API_VARIABLE}=true if the workspace does accept it`,
        { source: FILES_API_VARIABLE }
      )
    }
    if (answer === undefined) {
      throw new ConfigurationError(
        `Databricks at ${this.location} does not say whether this workspace takes model files through the Files API (/Models/…): registered-models:is-databricks-sdk-models-artifact-repository-enabled answered 404, and MLflow's client then uploads through temporary cloud credentials, which modelgate does not use; set ${FILES_API_VARIABLE}=true if the workspace does take them through the Files API, or register the model with mlflow.register_model from Python`,
        { source: FILES_API_VARIABLE }
      )
    }
  }

  private async decideUploadPath(): Promise<boolean | undefined> {
    const override = this.env[FILES_API_VARIABLE]?.trim().toLowerCase()
    if (override) return override === 'true' || override === '1'
    return this.client.filesApiForModels()
  }

  private async uploadAndFinalize(version: ModelVersion, files: readonly UploadFile[]): Promise<ModelVersion> {
    const root = modelRoot(version.name, version.version)
    const bytes = files.reduce((sum, file) => sum + file.size, 0)
    this.log(`uploading ${files.length} files (${bytes} bytes) to ${root}`)
    // Largest first, so one big file does not start last and run alone.
    const bySize = [...files].sort((a, b) => b.size - a.size)
    await forEachConcurrently(bySize, this.concurrency, file =>
      this.client.uploadFile(`${root}/${file.path}`, file, version.name)
    )
    const finalized = toVersion(await this.client.finalizeModelVersion(version.name, version.version))
    return finalized.status === 'READY' ? finalized : this.waitUntilReady(version.name, version.version)
  }

  /** The lowest-numbered version whose digest tag matches, read with `get` because search results carry no tags. */
  private async findByDigest(name: string, digest: string): Promise<UcModelVersion | undefined> {
    const listed = await this.client.searchModelVersions(name)
    const versions = listed.sort((a, b) => Number(a.version) - Number(b.version))
    for (let start = 0; start < versions.length; start += LOOKUP_WINDOW) {
      const window = versions.slice(start, start + LOOKUP_WINDOW)
      const full = await Promise.all(
        window.map(version =>
          // A server that does list tags saves the get, but only when the digest tag is among them.
          tagOf(version, DIGEST_TAG) !== undefined
            ? version
            : this.client.getModelVersion(name, String(version.version))
        )
      )
      const match = full.find(version => version && tagOf(version, DIGEST_TAG) === digest)
      if (match) return match
    }
    return undefined
  }

  private async versionOf(uri: string): Promise<ModelVersion> {
    const parsed = parseModelUri(uri, uri)
    if (parsed.kind !== 'version' && parsed.kind !== 'alias') {
      throw new ConfigurationError(
        `the databricks-uc registry reads registered versions only (models:/<catalog.schema.model>/<version> or models:/<catalog.schema.model>@<alias>); Unity Catalog keeps its own copy of a version's files, so download ${parsed.kind === 'run' ? "the run's model" : 'the model'} (mlflow artifacts download) and pass that directory as model-path`,
        { source: uri }
      )
    }
    this.checkName(parsed.name, uri)
    if (parsed.kind === 'version') {
      const version = await this.getVersion(parsed.name, parsed.version)
      if (!version) {
        throw new ConfigurationError(`version ${parsed.version} of ${parsed.name} does not exist on ${this.location}`, {
          source: uri
        })
      }
      return version
    }
    const version = await this.getVersionByAlias(parsed.name, parsed.alias)
    if (!version) {
      throw new ConfigurationError(
        `${parsed.name} has no alias ${parsed.alias} on ${this.location} (or no such registered model)`,
        { source: uri }
      )
    }
    return version
  }

  private async downloadVersion(name: string, version: string, destination: string, uri: string): Promise<void> {
    const root = modelRoot(name, version)
    const files = await this.listFiles(root, name)
    if (files.length === 0) {
      throw new ConfigurationError(`${uri} resolves to version ${version} of ${name}, which holds no files`, {
        source: uri
      })
    }
    await forEachConcurrently(files, this.concurrency, path =>
      this.client.downloadFile(`${root}/${path}`, join(destination, path), name)
    )
  }

  /** Every file below root, as `/` paths relative to it. */
  private async listFiles(root: string, name: string): Promise<string[]> {
    const files: string[] = []
    const pending = [root]
    for (let dir = pending.shift(); dir !== undefined; dir = pending.shift()) {
      for (const entry of await this.client.listDirectory(dir, name)) {
        const relative = relativeTo(root, entry)
        if (entry.is_directory) pending.push(`${root}/${relative}`)
        else files.push(relative)
      }
    }
    return files.sort()
  }

  /** UC names: no period, space, slash or control character, at most 255 each (Databricks' "Names" page). */
  private checkName(name: string, source = this.nameSource): void {
    const parts = name.split('.')
    // eslint-disable-next-line no-control-regex
    if (parts.length !== 3 || parts.some(part => !part || part.length > 255 || /[\s/\x00-\x1f\x7f]/.test(part))) {
      throw new ConfigurationError(
        `"${name}" is not a Unity Catalog model name; expected three levels, catalog.schema.model, as in main.ml_models.churn_classifier (outside a Databricks notebook no default catalog or schema is filled in)`,
        { source }
      )
    }
  }
}

export function createUnityCatalogRegistry(options: UnityCatalogRegistryOptions): UnityCatalogRegistry {
  return new UnityCatalogRegistry(options)
}

/** Where MLflow's Files API repository keeps a version: `/Models/<catalog>/<schema>/<model>/<version>`. */
function modelRoot(name: string, version: string): string {
  return `/Models/${name.split('.').join('/')}/${version}`
}

/** Refuses, before anything is created, what Unity Catalog refuses: MLflow's check and words, with the fix. */
async function checkSignature(dir: string): Promise<void> {
  const { model, locate } = await readMLmodel(dir)
  const signature = model.signature
  const source = join(dir, MLMODEL_FILE)
  const line = locate(['signature'])
  const place = { source, ...(line !== undefined ? { line } : {}) }
  if (!signature || (!signature.inputs && !signature.outputs)) {
    throw new ConfigurationError(
      `Model passed for registration did not contain any signature metadata. ${SIGNATURE_REQUIRED}; ${SIGNATURE_FIX}`,
      place
    )
  }
  if (!signature.outputs) {
    throw new ConfigurationError(
      `Model passed for registration contained a signature that includes only inputs. ${SIGNATURE_REQUIRED}; ${SIGNATURE_FIX}`,
      { ...place, path: 'signature.outputs' }
    )
  }
}

function toVersion(version: UcModelVersion): ModelVersion {
  const number = String(version.version)
  const tags: Record<string, string> = {}
  for (const tag of version.tags ?? []) tags[tag.key] = tag.value ?? ''
  // A version's aliases are objects naming their version; keep the ones that point here.
  const aliases = (version.aliases ?? [])
    .filter(alias => alias.version === undefined || String(alias.version) === number)
    .map(alias => alias.alias)
  return {
    name: version.name,
    version: number,
    status: toStatus(version.status),
    ...(version.status_message ? { statusMessage: version.status_message } : {}),
    source: version.source ?? version.storage_location ?? '',
    ...(version.run_id ? { runId: version.run_id } : {}),
    ...(version.description ? { description: version.description } : {}),
    tags,
    aliases,
    ...(version.creation_timestamp !== undefined ? { createdAt: version.creation_timestamp } : {})
  }
}

function toStatus(status: string | undefined): VersionStatus {
  if (status === 'READY' || status === 'FAILED_REGISTRATION') return status
  // UC's enum starts at UNSPECIFIED; whatever is not known to be READY is not served as if it were.
  return 'PENDING_REGISTRATION'
}

function tagOf(version: UcModelVersion, key: string): string | undefined {
  return version.tags?.find(tag => tag.key === key)?.value
}

/** The latest value of each metric; NaN and infinities stay the text the service sent. */
function metricValues(run: UcRun | undefined): Map<string, number | string> {
  const values = new Map<string, number | string>()
  for (const metric of run?.data?.metrics ?? []) values.set(metric.key, metric.value)
  return values
}

/** An entry's path relative to root; the server's listing must not send a file outside the version. */
function relativeTo(root: string, entry: DirectoryEntry): string {
  const relative = entry.path.startsWith(`${root}/`) ? entry.path.slice(root.length + 1) : undefined
  if (!relative || relative.split('/').some(segment => segment === '' || segment === '.' || segment === '..')) {
    throw new ServiceError(`Databricks listed ${entry.path} among the files of ${root}, which is not inside it`)
  }
  return relative
}
