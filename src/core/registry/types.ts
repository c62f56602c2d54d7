/**
 * The registry seam: what register-model, the registry-backed metric sources and validate-model's `model-uri` need
 * from a model registry, whichever it is (a folder, an MLflow tracking server, Unity Catalog).
 *
 * Each operation is small and idempotent on its own; `register.ts` composes them into a registration that a re-run
 * never duplicates. Implementations speak their service's language inside and MLflow's vocabulary outside:
 * versions are strings, aliases point at one version, tags are string to string.
 */
import type { RegistryKind } from '../vocabulary.js'

export type VersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION'

export interface ModelVersion {
  readonly name: string
  /** A decimal string, as MLflow has it. */
  readonly version: string
  readonly status: VersionStatus
  readonly statusMessage?: string
  /** Where the version's files are: `mlflow-artifacts:/…`, `models:/m-…`, or the file registry's absolute path. */
  readonly source: string
  readonly runId?: string
  /** The MLflow 3 logged model behind the version, when there is one. */
  readonly modelId?: string
  readonly description?: string
  readonly tags: Readonly<Record<string, string>>
  readonly aliases: readonly string[]
  /** ms since the epoch. */
  readonly createdAt?: number
}

/** A file of a local model directory to upload: model-relative `/` path and where it is on disk. */
export interface UploadFile {
  readonly path: string
  readonly absolute: string
  readonly size: number
}

export type ModelContent =
  /** A local model directory, uploaded into the registry. */
  | { readonly kind: 'directory'; readonly dir: string; readonly files: readonly UploadFile[] }
  /** An artifact the registry can already reach (`runs:/…`, `mlflow-artifacts:/…`, `models:/m-…`). */
  | { readonly kind: 'uri'; readonly uri: string }

export interface NewVersion {
  readonly name: string
  /** `sha256:<hex>`, the content address; also the `modelgate.digest` tag, which makes registration idempotent. */
  readonly digest: string
  readonly content: ModelContent
  readonly runId?: string
  /** Set on the version when it is created (the digest tag included), so a crash after create loses nothing. */
  readonly tags: Readonly<Record<string, string>>
  /** Set when the version is created; on a version that exists, register.ts sets it with setVersionDescription. */
  readonly description?: string
  /**
   * Metrics to record with the version (the candidate's, from compare-metrics' report), so that a later gate can
   * compare a new candidate with this version when it becomes the champion. Recorded on the run the registry
   * creates; a run the user names keeps its own metrics.
   */
  readonly metrics?: Readonly<Record<string, number>>
  /** Tags for the run the registry creates to hold the artifacts (git commit, source name). */
  readonly runTags?: Readonly<Record<string, string>>
}

export interface CreatedVersion {
  readonly version: ModelVersion
  /**
   * False when another writer registered the same digest first and this call converged on its version (the file
   * registry checks under its lock; register.ts checks again after creating on the server registries).
   */
  readonly created: boolean
}

/**
 * A version about to be created, its content staged where the registry needs it first (a run and logged model on
 * MLflow, a staging folder in the file registry, a checked local copy for Unity Catalog). register.ts drives it:
 * create (again when an answer was lost and no version holds the digest), finish, release.
 */
export interface VersionDraft {
  /**
   * One create request, with every tag (the registry sets `modelgate.digest` to the digest whatever the tags say),
   * so a version never exists without its digest. An error may come after the version was made (a lost answer).
   * `created: false` when the registry itself found the digest registered meanwhile.
   */
  create(): Promise<CreatedVersion>
  /** Brings the version `create` made to READY: the files, where they follow the create, then the wait. */
  finish(version: ModelVersion): Promise<ModelVersion>
  /**
   * Removes what staging made outside the version (MLflow's run and logged model) once the version was deleted as
   * the duplicate of another writer's, so the registry keeps no debris pointing at a version that is gone.
   */
  discard(): Promise<void>
  /** Removes what staging left that no version needs; called once, whatever happened. */
  release(): Promise<void>
}

/** Metric values as the registry stores them: numbers, or the text `NaN`, `Infinity`, `-Infinity`. */
export interface RegistryMetrics {
  readonly values: ReadonlyMap<string, number | string>
  readonly runId?: string
  readonly modelId?: string
}

export interface ModelRegistry {
  readonly kind: RegistryKind
  /** Where the registry is, for messages: the folder or the server URL. */
  readonly location: string
  /** The first backoff delay of this registry's requests (ms), also used between attempts of a lost create. */
  readonly retryBaseMs: number

  /** Creates the registered model unless it exists (existing is success). */
  ensureRegisteredModel(name: string): Promise<void>
  /** The version whose `modelgate.digest` tag is this digest (the lowest number if several), or undefined. */
  findVersionByDigest(name: string, digest: string): Promise<ModelVersion | undefined>
  /**
   * Stages the content of a version to create (needs ensureRegisteredModel first). Creating goes through
   * register.ts's createVersion, which owns the protocol: retrying a create whose answer was lost, and converging
   * two writers that raced.
   */
  prepareVersion(request: NewVersion): Promise<VersionDraft>
  /** Removes a version (a racing writer's duplicate); a version that is not there is success. */
  deleteVersion(name: string, version: string): Promise<void>
  /**
   * Brings a version found by digest but not READY (a registration that died between create and finalize) to
   * READY, re-uploading what the request holds. A registry where versions are READY at creation returns it.
   */
  completeVersion(version: ModelVersion, request: NewVersion): Promise<ModelVersion>
  /** Polls until READY; FAILED_REGISTRATION or the timeout is an error. */
  waitUntilReady(name: string, version: string, options?: { timeoutMs?: number }): Promise<ModelVersion>
  /** Undefined when the model or version does not exist. */
  getVersion(name: string, version: string): Promise<ModelVersion | undefined>
  /**
   * Undefined when the model or the alias does not exist: for a gate, "no baseline yet". Callers check the alias's
   * spelling (uri.ts checkAlias) first; an invalid one is simply not found.
   */
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined>
  /** Sets (adds or overwrites) tags on a version. */
  setVersionTags(name: string, version: string, tags: Readonly<Record<string, string>>): Promise<void>
  /**
   * Replaces the version's description (register.ts converges it to the `description` input on a re-run). The
   * version must exist; an unknown one is an error.
   */
  setVersionDescription(name: string, version: string, description: string): Promise<void>
  /** Points the alias at the version, moving it if it pointed elsewhere. */
  setAlias(name: string, alias: string, version: string): Promise<void>
  /** The metrics recorded for a version: its run's, overlaid with its logged model's where there is one. */
  readVersionMetrics(version: ModelVersion): Promise<RegistryMetrics>
  /** A run's latest metric values (`mlflow-run:<id>`); registries without runs throw a ConfigurationError. */
  readRunMetrics(runId: string): Promise<RegistryMetrics>
  /**
   * Copies a model's files into `destination` (an empty directory that exists). `uri` is what the registry
   * understands: `models:/<name>/<version>`, `models:/<name>@<alias>`, and for MLflow also `runs:/<run-id>/<path>`,
   * `models:/m-<id>` and `mlflow-artifacts:/…`. An unknown model, version or alias is a ConfigurationError.
   */
  downloadModel(uri: string, destination: string): Promise<void>
}

export const DIGEST_TAG = 'modelgate.digest'
