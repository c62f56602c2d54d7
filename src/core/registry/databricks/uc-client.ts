/**
 * A typed client of the Databricks endpoints the Unity Catalog registry uses, each response checked against its
 * schema and each failure turned into our errors with Databricks' words.
 *
 * - The registry itself is MLflow's UC service under `/api/2.0/mlflow/unity-catalog/...`
 *   (`mlflow/protos/databricks_uc_registry_service.proto` and `databricks_uc_registry_messages.proto`), the service
 *   MLflow's client calls for `databricks-uc` rather than the public `/api/2.1/unity-catalog/`. What its wire does
 *   that a reader would not guess: versions are strings, a version's `aliases` are objects `{alias, version}`, its
 *   status has an `UNSPECIFIED` zero value, and search results carry neither tags nor aliases (MLflow's
 *   `ModelVersionSearch`: "UC Model Versions gathered through search_model_versions do not have tags. Please use
 *   get_model_version…"), so a tag is only read from `model-versions/get`.
 * - A version's files go through the Files API at `/Models/<catalog>/<schema>/<model>/<version>/…`, the way
 *   MLflow's `DatabricksSDKModelsArtifactRepository` writes them: `PUT /api/2.0/fs/files{path}?overwrite=true` with
 *   the raw bytes, `GET /api/2.0/fs/files{path}`, and `GET /api/2.0/fs/directories{path}`, which answers
 *   `{contents: [{path, is_directory, file_size, last_modified, name}], next_page_token}` a page at a time
 *   (docs.databricks.com/api/workspace/files). Each path segment is percent-encoded, as the SDK's `urllib.parse.quote`
 *   does.
 * - A run's metrics come from the workspace's MLflow tracking service, `GET /api/2.0/mlflow/runs/get`.
 *
 * Errors have open-source MLflow's `{error_code, message}` shape, which Databricks' REST pages document too. An
 * existing model is `ALREADY_EXISTS` (409) or `RESOURCE_ALREADY_EXISTS` (400); a missing object is
 * `RESOURCE_DOES_NOT_EXIST` or `NOT_FOUND` (404) — a missing alias included, where open-source MLflow says
 * `INVALID_PARAMETER_VALUE` 400; a missing catalog or schema is `CATALOG_DOES_NOT_EXIST` / `SCHEMA_DOES_NOT_EXIST`
 * (404), which is the user's naming mistake, not an absence.
 */
import * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { HttpError, NetworkError, type Auth, type HttpRequest } from '../../http/client.js'
import { RestClient, encodePath, isAlreadyExists, isDoesNotExist, type RestDialect } from '../../http/rest.js'

const Tag = z.looseObject({ key: z.string(), value: z.optional(z.string()) })
const Alias = z.looseObject({ alias: z.string(), version: z.optional(z.union([z.string(), z.number()])) })

const UcModelVersionSchema = z.looseObject({
  name: z.string(),
  version: z.union([z.string(), z.number()]),
  creation_timestamp: z.optional(z.number()),
  last_updated_timestamp: z.optional(z.number()),
  user_id: z.optional(z.string()),
  description: z.optional(z.string()),
  source: z.optional(z.string()),
  run_id: z.optional(z.string()),
  run_experiment_id: z.optional(z.string()),
  status: z.optional(z.string()),
  status_message: z.optional(z.string()),
  storage_location: z.optional(z.string()),
  aliases: z.optional(z.array(Alias)),
  tags: z.optional(z.array(Tag))
})

const MetricSchema = z.looseObject({ key: z.string(), value: z.union([z.number(), z.string()]) })

const RunSchema = z.looseObject({
  info: z.looseObject({ run_id: z.optional(z.string()), run_uuid: z.optional(z.string()) }),
  data: z.optional(z.looseObject({ metrics: z.optional(z.array(MetricSchema)) }))
})

const DirectoryEntrySchema = z.looseObject({
  path: z.string(),
  is_directory: z.optional(z.boolean()),
  file_size: z.optional(z.number()),
  name: z.optional(z.string())
})

const Responses = {
  registeredModel: z.looseObject({ registered_model: z.optional(z.looseObject({ name: z.string() })) }),
  filesApiFlag: z.looseObject({ is_databricks_sdk_models_artifact_repository_enabled: z.optional(z.boolean()) }),
  modelVersion: z.looseObject({ model_version: UcModelVersionSchema }),
  modelVersions: z.looseObject({
    model_versions: z.optional(z.array(UcModelVersionSchema)),
    next_page_token: z.optional(z.string())
  }),
  directory: z.looseObject({
    contents: z.optional(z.array(DirectoryEntrySchema)),
    next_page_token: z.optional(z.string())
  }),
  run: z.looseObject({ run: RunSchema }),
  empty: z.looseObject({})
} as const

export type UcModelVersion = z.infer<typeof UcModelVersionSchema>
export type DirectoryEntry = z.infer<typeof DirectoryEntrySchema>
export type UcRun = z.infer<typeof RunSchema>

export interface UcClientOptions {
  /** The workspace URL, without a trailing slash. */
  readonly baseUrl: string
  readonly auth: Auth
  readonly retryBaseMs?: number
  /** Per request, for JSON calls. */
  readonly timeoutMs?: number
  readonly fetch?: typeof fetch
  /** The step log, for retries. */
  readonly log?: (line: string) => void
  /** The deadline of the operation (HttpClient's `signal`). */
  readonly signal?: AbortSignal
  /** The variables the credentials came from (`DATABRICKS_TOKEN`, …), named by 401 and 403 errors. */
  readonly credentialSource: string
  readonly credentialKind: 'pat' | 'oauth-m2m'
  /** How errors name where the model name came from. Default `input 'name'`. */
  readonly nameSource?: string
  /** How errors name where the workspace URL came from. Default `DATABRICKS_HOST`. */
  readonly hostSource?: string
}

const UC = '/api/2.0/mlflow/unity-catalog'
const FILES = '/api/2.0/fs/files'
const DIRECTORIES = '/api/2.0/fs/directories'
/** UC's search takes up to 10 000 a page (proto: "Max threshold is 10K"); a smaller page keeps answers modest. */
const SEARCH_PAGE = 1000

/** What the identity needs for an operation, from Databricks' "Manage model lifecycle in Unity Catalog" page. */
const PRIVILEGES = {
  createModel: (name: string) =>
    `CREATE_MODEL on the schema ${schemaOf(name)} (with USE_CATALOG on ${catalogOf(name)} and USE_SCHEMA on the schema)`,
  own: (name: string) =>
    `ownership of the registered model ${name} (versions, files and aliases are the owner's; with USE_CATALOG and USE_SCHEMA)`,
  applyTag: (name: string) => `APPLY_TAG on the registered model ${name} (or its ownership)`,
  read: (name: string) =>
    `EXECUTE on the registered model ${name} (with USE_CATALOG on ${catalogOf(name)} and USE_SCHEMA on ${schemaOf(name)})`,
  readRun: () => `CAN_READ on the MLflow experiment that holds the run`
} as const

interface Call {
  readonly operation: string
  /** What a 403 means the identity lacks. */
  readonly privilege: string
  /** The 404s that mean "absent" rather than a mistake. */
  readonly absent?: boolean
}

export class UcClient {
  private readonly rest: RestClient<Call>

  constructor(options: UcClientOptions) {
    const { credentialSource, credentialKind, nameSource, hostSource, ...http } = options
    this.rest = new RestClient({
      ...http,
      label: 'Databricks',
      dialect: ucDialect({
        host: http.baseUrl,
        credentialSource,
        credentialKind,
        nameSource: nameSource ?? "input 'name'",
        hostSource: hostSource ?? 'DATABRICKS_HOST'
      })
    })
  }

  get host(): string {
    return this.rest.baseUrl
  }

  // --- registered models ----------------------------------------------------------------------------------------

  /** 'exists' when the model was already there (either of Databricks' two codes for it). */
  async createRegisteredModel(name: string): Promise<'created' | 'exists'> {
    try {
      await this.call(
        { operation: `create the registered model ${name}`, privilege: PRIVILEGES.createModel(name) },
        Responses.registeredModel,
        // Creating twice is answered ALREADY_EXISTS, which is success here: safe to repeat.
        { method: 'POST', path: `${UC}/registered-models/create`, json: { name }, idempotent: true }
      )
      return 'created'
    } catch (error) {
      if (isAlreadyExists(error)) return 'exists'
      throw error
    }
  }

  async getRegisteredModel(name: string): Promise<{ name: string } | undefined> {
    const body = await this.call(
      { operation: `get the registered model ${name}`, privilege: PRIVILEGES.read(name), absent: true },
      Responses.registeredModel,
      { method: 'GET', path: `${UC}/registered-models/get`, query: { name }, accept: [404] }
    )
    return body?.registered_model
  }

  /**
   * Whether the workspace takes model files through the Files API (`/Models/…`), as MLflow's client asks before
   * uploading (`is_databricks_sdk_models_artifact_repository_enabled`); false means temporary cloud credentials.
   * Undefined when the workspace does not answer the question.
   */
  async filesApiForModels(): Promise<boolean | undefined> {
    try {
      const body = await this.call(
        { operation: 'ask how model files are uploaded', privilege: 'USE_CATALOG', absent: true },
        Responses.filesApiFlag,
        {
          method: 'GET',
          path: `${UC}/registered-models:is-databricks-sdk-models-artifact-repository-enabled`,
          accept: [404]
        }
      )
      // proto3 JSON leaves a false boolean out.
      return body ? body.is_databricks_sdk_models_artifact_repository_enabled === true : undefined
    } catch (error) {
      if (error instanceof ServiceError && (error.status === 404 || error.code === 'ENDPOINT_NOT_FOUND'))
        return undefined
      throw error
    }
  }

  // --- model versions -------------------------------------------------------------------------------------------

  async createModelVersion(request: {
    name: string
    source: string
    runId?: string
    description?: string
    tags: Readonly<Record<string, string>>
  }): Promise<UcModelVersion> {
    const body = await this.call(
      { operation: `create a version of ${request.name}`, privilege: PRIVILEGES.own(request.name) },
      Responses.modelVersion,
      {
        method: 'POST',
        path: `${UC}/model-versions/create`,
        // No run_link: UC's CreateModelVersionRequest has none and MLflow's client refuses it.
        json: {
          name: request.name,
          source: request.source,
          ...(request.runId ? { run_id: request.runId } : {}),
          ...(request.description ? { description: request.description } : {}),
          tags: Object.entries(request.tags).map(([key, value]) => ({ key, value }))
        },
        // Creating twice makes two versions: the registry recovers from a lost answer by looking for the digest.
        idempotent: false
      }
    )
    return body!.model_version
  }

  async getModelVersion(name: string, version: string): Promise<UcModelVersion | undefined> {
    const body = await this.call(
      { operation: `get version ${version} of ${name}`, privilege: PRIVILEGES.read(name), absent: true },
      Responses.modelVersion,
      { method: 'GET', path: `${UC}/model-versions/get`, query: { name, version }, accept: [404] }
    )
    return body?.model_version
  }

  /** Every version of the model, across pages; empty when the model does not exist. Without tags or aliases. */
  async searchModelVersions(name: string): Promise<UcModelVersion[]> {
    const versions: UcModelVersion[] = []
    let pageToken: string | undefined
    do {
      const body = await this.call(
        { operation: `list the versions of ${name}`, privilege: PRIVILEGES.read(name), absent: true },
        Responses.modelVersions,
        {
          method: 'GET',
          path: `${UC}/model-versions/search`,
          // UC's filter is one condition with the value in single quotes; tags cannot be filtered on.
          query: { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: SEARCH_PAGE, page_token: pageToken },
          accept: [404]
        }
      )
      if (!body) return versions
      versions.push(...(body.model_versions ?? []))
      pageToken = body.next_page_token || undefined
    } while (pageToken)
    return versions
  }

  async finalizeModelVersion(name: string, version: string): Promise<UcModelVersion> {
    const body = await this.call(
      { operation: `finalize version ${version} of ${name}`, privilege: PRIVILEGES.own(name) },
      Responses.modelVersion,
      // Finalizing a version that is already READY answers it again: safe to repeat.
      { method: 'POST', path: `${UC}/model-versions/finalize`, json: { name, version }, idempotent: true }
    )
    return body!.model_version
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.call(
      { operation: `delete version ${version} of ${name}`, privilege: PRIVILEGES.own(name), absent: true },
      Responses.empty,
      { method: 'DELETE', path: `${UC}/model-versions/delete`, json: { name, version }, accept: [404] }
    )
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<UcModelVersion> {
    const body = await this.call(
      { operation: `set the description of version ${version} of ${name}`, privilege: PRIVILEGES.own(name) },
      Responses.modelVersion,
      // Setting the same description again changes nothing: safe to repeat.
      { method: 'PATCH', path: `${UC}/model-versions/update`, json: { name, version, description }, idempotent: true }
    )
    return body!.model_version
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call(
      { operation: `set the tag ${key} on version ${version} of ${name}`, privilege: PRIVILEGES.applyTag(name) },
      Responses.empty,
      { method: 'POST', path: `${UC}/model-versions/set-tag`, json: { name, version, key, value }, idempotent: true }
    )
  }

  // --- aliases ----------------------------------------------------------------------------------------------------
  // MLflow's UC endpoint rather than the public `PUT /api/2.1/unity-catalog/models/{full_name}/aliases/{alias}`: the
  // same service, error shapes and string versions as the rest of the registration, the call MLflow's own client
  // makes, and one service for the test double to reproduce.

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call(
      { operation: `point the alias ${alias} of ${name} at version ${version}`, privilege: PRIVILEGES.own(name) },
      Responses.empty,
      { method: 'POST', path: `${UC}/registered-models/alias`, json: { name, alias, version }, idempotent: true }
    )
  }

  /** Undefined when the model or the alias does not exist. */
  async getModelVersionByAlias(name: string, alias: string): Promise<UcModelVersion | undefined> {
    try {
      const body = await this.call(
        { operation: `get the version ${name}@${alias}`, privilege: PRIVILEGES.read(name), absent: true },
        Responses.modelVersion,
        { method: 'GET', path: `${UC}/registered-models/alias`, query: { name, alias }, accept: [404] }
      )
      return body?.model_version
    } catch (error) {
      // Open-source MLflow's answer to a missing alias; a server speaking that dialect means the same.
      if (error instanceof ServiceError && error.code === 'INVALID_PARAMETER_VALUE' && /alias/i.test(error.message))
        return undefined
      throw error
    }
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.call(
      { operation: `delete the alias ${alias} of ${name}`, privilege: PRIVILEGES.own(name), absent: true },
      Responses.empty,
      { method: 'DELETE', path: `${UC}/registered-models/alias`, json: { name, alias }, accept: [404] }
    )
  }

  // --- files ------------------------------------------------------------------------------------------------------

  /** PUTs one file's bytes, streamed from disk, replacing what a failed earlier attempt left. */
  async uploadFile(path: string, file: { absolute: string; size: number }, name: string): Promise<void> {
    await this.call({ operation: `upload ${path}`, privilege: PRIVILEGES.own(name) }, Responses.empty, {
      method: 'PUT',
      path: `${FILES}${encodePath(path)}`,
      query: { overwrite: 'true' },
      file: { path: file.absolute, size: file.size },
      idempotent: true
    })
  }

  /** The entries of one directory, across pages; empty when there is no such directory. */
  async listDirectory(path: string, name: string): Promise<DirectoryEntry[]> {
    const entries: DirectoryEntry[] = []
    let pageToken: string | undefined
    do {
      const body = await this.call(
        { operation: `list ${path}`, privilege: PRIVILEGES.read(name), absent: true },
        Responses.directory,
        { method: 'GET', path: `${DIRECTORIES}${encodePath(path)}`, query: { page_token: pageToken }, accept: [404] }
      )
      if (!body) return entries
      entries.push(...(body.contents ?? []))
      pageToken = body.next_page_token || undefined
    } while (pageToken)
    return entries
  }

  async downloadFile(path: string, destination: string, name: string): Promise<void> {
    const call = { operation: `download ${path}`, privilege: PRIVILEGES.read(name) }
    await this.rest.download(call, `${FILES}${encodePath(path)}`, destination)
  }

  // --- tracking ---------------------------------------------------------------------------------------------------

  async getRun(runId: string): Promise<UcRun | undefined> {
    const body = await this.call(
      { operation: `get the run ${runId}`, privilege: PRIVILEGES.readRun(), absent: true },
      Responses.run,
      { method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: runId }, accept: [404] }
    )
    return body?.run
  }

  private call<S extends z.ZodMiniType>(call: Call, schema: S, request: HttpRequest): Promise<z.infer<S> | undefined> {
    return this.rest.call(call, schema, request)
  }
}

interface UcDialectOptions {
  readonly host: string
  readonly credentialSource: string
  readonly credentialKind: 'pat' | 'oauth-m2m'
  readonly nameSource: string
  readonly hostSource: string
}

/** Databricks' answers in words: what failed, and what the user fixes (URL, credentials, privileges, names). */
function ucDialect(options: UcDialectOptions): RestDialect<Call> {
  const where = `Databricks at ${options.host}`
  return {
    name: where,
    describe: call => call.operation,
    // A missing catalog or schema is a wrong name, never "no baseline yet".
    isAbsent: (call, answer) => call.absent === true && isDoesNotExist(answer) && !isMissingParent(answer),
    translate: (call, error, url) => {
      if (error instanceof NetworkError) {
        return new ServiceError(
          `could not ${call.operation}: no answer from ${where} (${error.reason}) after retries`,
          undefined,
          error.timedOut ? 'TIMEOUT' : 'NETWORK'
        )
      }
      const code = error.code
      const message = error.serverMessage
      const status = `HTTP ${error.status}${code ? ` ${code}` : ''}`
      const credentials = options.credentialSource
      if (error.status === 401) {
        const fix =
          options.credentialKind === 'pat'
            ? `${credentials} is wrong, expired or revoked; create a new personal access token and store it as a secret`
            : `the OAuth token of the service principal in ${credentials.split('/')[0]} was refused; check that the service principal has been added to this workspace`
        return new ConfigurationError(
          `${where} refused the credentials to ${call.operation} (${status}: ${message}); ${fix}`,
          {
            source: credentials.split('/')[0]!
          }
        )
      }
      if (error.status === 403) {
        return new PermissionDenied(
          `${where} denied the request to ${call.operation} (${status}: ${message}); the identity behind ${credentials} needs ${call.privilege}`,
          { source: credentials.split('/')[0]! }
        )
      }
      if (error.status === 404 && isMissingParent(error)) {
        return new ConfigurationError(
          `${where} could not ${call.operation}: ${message}; check the catalog and schema in the name (catalog.schema.model) or create them first (CREATE SCHEMA needs USE_CATALOG and CREATE_SCHEMA)`,
          { source: options.nameSource }
        )
      }
      if (error.status === 404 && error.json === undefined) {
        return new ConfigurationError(
          `${url} is not a Databricks REST endpoint (HTTP 404 without a Databricks error); expected the workspace URL, as in https://adb-1234567890123456.7.azuredatabricks.net`,
          { source: options.hostSource }
        )
      }
      return new ServiceError(`${where} failed to ${call.operation}: ${status}: ${message}`, error.status, code)
    }
  }
}

/** A 403: the identity lacks a privilege. The registry tells it apart where the privilege may not be needed. */
export class PermissionDenied extends ConfigurationError {}

/** The catalog or schema in the name does not exist: UC's own codes, or a generic code whose message says so. */
function isMissingParent(error: HttpError): boolean {
  const code = error.code
  if (code === 'CATALOG_DOES_NOT_EXIST' || code === 'SCHEMA_DOES_NOT_EXIST') return true
  return /\b(catalog|schema)\b[^.]*\b(does not exist|not found)/i.test(error.serverMessage)
}

function catalogOf(name: string): string {
  return name.split('.')[0] ?? name
}

function schemaOf(name: string): string {
  return name.split('.').slice(0, 2).join('.')
}
