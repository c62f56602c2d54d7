/**
 * A local double of the Databricks workspace APIs that modelgate's Unity Catalog registry uses, for tests.
 *
 * Databricks cannot be reached from where these tests run (no workspace, no network), so this double stands in
 * for one. It follows the documented API, not a recording of a real workspace:
 * - The MLflow Unity Catalog registry service, `/api/2.0/mlflow/unity-catalog/...`, as declared in
 *   `mlflow/protos/databricks_uc_registry_service.proto` and `databricks_uc_registry_messages.proto` (read through
 *   the code search: the endpoint paths and methods, the request and response fields, `ModelVersionStatus` with
 *   UNSPECIFIED/PENDING_REGISTRATION/FAILED_REGISTRATION/READY, `aliases` as `{alias, version}` objects, versions as
 *   strings, search's `filter`/`max_results` (at most 10 000)/`page_token`/`next_page_token`, and that the current
 *   proto has `model-versions/set-tag`, where an older revision had `model-versions/tags`).
 * - The registration protocol of MLflow's `UcModelRegistryStore.create_model_version`
 *   (`mlflow/store/_unity_catalog/registry/rest_store.py`): create answers PENDING_REGISTRATION and a
 *   `storage_location`, the client uploads, then `finalize`. Files are written where MLflow's
 *   `DatabricksSDKModelsArtifactRepository` writes them, `/Models/<catalog>/<schema>/<model>/<version>/…`, and, as
 *   the proto says of temporary credentials, "model version files can only be written at creation time".
 * - `GET .../registered-models:is-databricks-sdk-models-artifact-repository-enabled`, answering
 *   `{is_databricks_sdk_models_artifact_repository_enabled}`: MLflow's client asks it to choose between the Files
 *   API and temporary cloud credentials (`mlflow/utils/_unity_catalog_utils.py`).
 * - That search results carry no tags and no aliases (MLflow's `ModelVersionSearch`: "UC Model Versions gathered
 *   through search_model_versions do not have tags. Please use get_model_version…").
 * - The Files API (docs.databricks.com/api/workspace/files, and the Go SDK's `service/files` model):
 *   `PUT /api/2.0/fs/files{path}?overwrite=` with the raw bytes and no response body ("If true or unspecified, an
 *   existing file will be overwritten"), `GET /api/2.0/fs/files{path}`, and `GET /api/2.0/fs/directories{path}`
 *   answering `{contents: [{path, is_directory, file_size, last_modified, name}], next_page_token}` with
 *   `page_size`/`page_token`, and a 404 for a directory that does not exist; `HEAD` on a file (its metadata:
 *   `Content-Length`, `Last-Modified`) and on a directory (200 or 404), which MLflow's client and the SDK use
 *   before downloading; downloads carry `Content-Length`.
 * - The discovery documents a workspace answers without credentials, which the SDKs read before they log in:
 *   `GET /.well-known/databricks-config` (`{oidc_endpoint, workspace_id, cloud}`, the SDK's `HostMetadata`) and
 *   `GET /oidc/.well-known/oauth-authorization-server` (`{authorization_endpoint, token_endpoint, …}`).
 * - A DELETE's parameters are read from the query string (where the SDKs send them) and from a JSON body (where
 *   MLflow's client sends them).
 * - `PATCH .../model-versions/update` (`UpdateModelVersionRequest`: `name` and `version` required, `description`
 *   optional; it answers `{model_version}`), which MLflow's client sends for `update_model_version`.
 * - `POST .../model-versions/emit-lineage`, which MLflow's client sends when it loads a model.
 * - Model Serving (serving.ts): serving endpoints, their config update state machine and their invocations.
 * - `GET /api/2.0/mlflow/runs/get` (`mlflow/protos/service.proto`): metrics as `{key, value, timestamp, step}`,
 *   with NaN and infinities as the strings Python's JSON writes.
 * - OAuth M2M (docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m): `POST /oidc/v1/token` with HTTP Basic
 *   client credentials and `grant_type=client_credentials&scope=all-apis`, answering
 *   `{access_token, token_type: "Bearer", expires_in, scope}`; tokens expire.
 * - Errors as `{error_code, message}` with the statuses `mlflow/exceptions.py` maps each code to: ALREADY_EXISTS
 *   409, RESOURCE_DOES_NOT_EXIST / NOT_FOUND 404, INVALID_PARAMETER_VALUE 400, PERMISSION_DENIED 403,
 *   UNAUTHENTICATED 401, REQUEST_LIMIT_EXCEEDED 429, and UC's CATALOG_DOES_NOT_EXIST / SCHEMA_DOES_NOT_EXIST 404.
 *   A missing alias is RESOURCE_DOES_NOT_EXIST "Alias <name> not found", as UC reports it (open-source MLflow says
 *   INVALID_PARAMETER_VALUE instead).
 *
 * Where it simplifies (or guesses what no document states):
 * - Permissions are one bit per identity: a writer may do everything, a reader only read. Real UC checks
 *   CREATE_MODEL on the schema, ownership of the model, APPLY_TAG and EXECUTE separately; the 403 messages here
 *   are written in that spirit, not copied from a workspace.
 * - Names are stored lower-case, as the "Names" page of the SQL reference says UC does; aliases are stored
 *   lower-case and compared without case too, which no document states. Catalogs and schemas are a fixed list
 *   given at start.
 * - `run_id` on a version is not checked against the runs, `source` is stored as given, `run_link` is refused
 *   (MLflow's client refuses it before sending; what the server does with it is unknown).
 * - Search supports only `name='…'` and `run_id='…'`, answers newest first, and a missing model as an empty list;
 *   the real ordering and the answer for a missing model are not documented.
 * - Finalize refuses a version with no files (the real server's check, if any, is not documented) and makes it
 *   READY at once, or after `readyAfterGets` reads to imitate asynchronous registration. A version becomes
 *   FAILED_REGISTRATION only when a test says so (`failVersion`). Writing files of a version that is no longer
 *   PENDING_REGISTRATION is refused with 403 PERMISSION_DENIED (the real status is not documented).
 * - 401 bodies use UNAUTHENTICATED; a real workspace's wording for a bad or expired token may differ. The token
 *   endpoint's errors are OAuth's `{error, error_description}`.
 * - The Files API serves `/Models/` only; there are no volumes, DBFS, workspace files or directory creation. The
 *   SDK's probes for faster transfers (`/api/2.0/fs/endpoints`, presigned URLs) are answered 404 as a workspace
 *   without them answers, and are not violations. Other unknown routes answer 404 ENDPOINT_NOT_FOUND and are
 *   listed in `violations`, so a test notices.
 * - Lineage sent by `emit-lineage` is checked to name a version, then dropped.
 * - `model-versions/update` without `description` leaves the description as it was, and an empty one clears it;
 *   the proto makes the field optional and says no more.
 * - No temporary cloud credentials, registered-model tags, deployment jobs, or the public
 *   `/api/2.1/unity-catalog` API: modelgate does not use them.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServing, type ServingControls, type ServingOptions } from './serving.js'

export const DOUBLE_PAT = 'dapi-double-writer-0123456789abcdef'
export const DOUBLE_READ_PAT = 'dapi-double-reader-0123456789abcdef'
export const DOUBLE_CLIENT_ID = 'double-service-principal'
export const DOUBLE_CLIENT_SECRET = 'dose-double-secret'
/** The writer's token and the service principal as a client finds them in its environment. */
export const DOUBLE_PAT_ENV = { DATABRICKS_TOKEN: DOUBLE_PAT }
export const DOUBLE_OAUTH_ENV = {
  DATABRICKS_CLIENT_ID: DOUBLE_CLIENT_ID,
  DATABRICKS_CLIENT_SECRET: DOUBLE_CLIENT_SECRET
}

export interface Identity {
  /** Who the workspace says the caller is (`user_id` on what it creates). */
  readonly name: string
  /** May create, upload, finalize, tag and alias; otherwise only read. */
  readonly write: boolean
}

export interface DatabricksDoubleOptions {
  /** Personal access tokens the workspace knows. Default: DOUBLE_PAT (writer) and DOUBLE_READ_PAT (reader). */
  pats?: Record<string, Identity>
  /** OAuth service principals: client id → secret and identity. Default: DOUBLE_CLIENT_ID, a writer. */
  oauthClients?: Record<string, { secret: string; identity?: Identity }>
  /** Lifetime of the OAuth tokens it issues. Default 3600 (a Databricks M2M token lives one hour). */
  tokenLifetimeSeconds?: number
  /** The `catalog.schema` pairs that exist. Default main.default and main.ml. */
  schemas?: string[]
  /** Most entries in one page of search results or of a directory listing. Default 3, so tests cross pages. */
  pageSize?: number
  /** After finalize, how many `model-versions/get` reads still see PENDING_REGISTRATION. Default 0. */
  readyAfterGets?: number
  /**
   * The workspace's answer to `registered-models:is-databricks-sdk-models-artifact-repository-enabled`: true (the
   * default) takes model files through the Files API, false through temporary cloud credentials (which the double
   * does not implement), undefined answers the route with ENDPOINT_NOT_FOUND, as a workspace without it would.
   */
  filesApiForModels?: boolean | undefined
  /** Model Serving's timings and limits (serving.ts). */
  serving?: ServingOptions
}

export interface RecordedRequest {
  readonly method: string
  /** The decoded path. */
  readonly path: string
  readonly query: Record<string, string>
  readonly status: number
  /** The identity that made the request, when it authenticated. */
  readonly identity?: string
  /** The JSON body, for JSON requests. */
  readonly body?: unknown
}

export interface Fault {
  /** How many matching requests get it. */
  count: number
  /** 500, 503, 429, … */
  status: number
  /** Sent as Retry-After (429 and 503). Default 0 to keep tests fast. */
  retryAfterSeconds?: number
  /** e.g. 'POST'; undefined = any. */
  method?: string
  /** Matched against the decoded path; undefined = any. */
  path?: RegExp
  /** A finer test on the request. */
  match?: (request: { method: string; path: string; query: Record<string, string>; body: unknown }) => boolean
  /** Do the work, then answer with the fault: the answer is lost, the change is not. */
  after?: boolean
}

export interface VersionSnapshot {
  readonly name: string
  readonly version: string
  readonly status: Status
  readonly statusMessage?: string
  readonly source: string
  readonly runId?: string
  readonly description?: string
  readonly tags: Record<string, string>
  readonly aliases: string[]
  /** Paths relative to the version's root. */
  readonly files: string[]
}

export interface DatabricksDouble {
  /** http://127.0.0.1:<port>, the workspace URL (DATABRICKS_HOST). */
  readonly url: string
  readonly requests: RecordedRequest[]
  /** Requests the double does not implement, and its own crashes. Tests assert it stays empty. */
  readonly violations: string[]
  /** OAuth tokens issued so far. */
  readonly tokensIssued: number
  inject(fault: Fault): void
  /** A run of the workspace's tracking service with its latest metric values. */
  addRun(runId: string, metrics: Record<string, number | string>): void
  /** What an asynchronous registration failure leaves: FAILED_REGISTRATION with a status message. */
  failVersion(name: string, version: string, message: string): void
  /** Model Serving's test controls: deployments that fail or never finish, predictions that fail or are slow. */
  readonly serving: ServingControls
  /** Test setup outside the API: a READY version of a UC model (created with its model when absent), no files. */
  addVersion(name: string): string
  /** Makes every OAuth token issued so far expired, as an hour passing would. */
  expireTokens(): void
  version(name: string, version: string): VersionSnapshot | undefined
  /** Version numbers of a model, lowest first. */
  versions(name: string): string[]
  /** A file of a version, or undefined. */
  file(name: string, version: string, path: string): Buffer | undefined
  /** Ends the server; closing a closed double does nothing. */
  close(): Promise<void>
}

type Status = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY'

interface VersionState {
  name: string
  version: number
  status: Status
  statusMessage?: string
  source: string
  runId?: string
  description?: string
  tags: Map<string, string>
  storageLocation: string
  createdAt: number
  updatedAt: number
  userId: string
  /** Reads left before a finalized version shows READY. */
  readyCountdown?: number
}

interface ModelState {
  name: string
  id: string
  createdAt: number
  updatedAt: number
  userId: string
  versions: Map<number, VersionState>
  nextVersion: number
  /** lower-case alias → version. */
  aliases: Map<string, number>
}

interface Reply {
  status: number
  body?: unknown
  raw?: Buffer
  headers?: Record<string, string>
  /** Answer this much later (a slow model). */
  delayMs?: number
}

const UC = '/api/2.0/mlflow/unity-catalog'
/**
 * What the Databricks SDK asks before a Files API transfer, to find a faster way than the plain API (endpoint
 * discovery, presigned URLs); a workspace without those features answers 404 and the SDK falls back to the plain
 * Files API. The double answers them so, and does not count them as violations.
 */
const KNOWN_ABSENT = [
  'GET /api/2.0/fs/endpoints',
  'POST /api/2.0/fs/create-download-url',
  'POST /api/2.0/fs/create-upload-part-urls',
  'POST /api/2.0/fs/create-upload-url'
]
/** The workspace id the double reports in its host metadata. */
const WORKSPACE_ID = '1234567890123456'
const FILES = '/api/2.0/fs/files'
const DIRECTORIES = '/api/2.0/fs/directories'
const MAX_SEARCH_RESULTS = 10_000

const ERROR_CODES: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'ALREADY_EXISTS',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED'
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

const fail = (status: number, code: string, message: string): never => {
  throw new ApiError(status, code, message)
}

export async function startDatabricksDouble(options: DatabricksDoubleOptions = {}): Promise<DatabricksDouble> {
  const pats: Record<string, Identity> = options.pats ?? {
    [DOUBLE_PAT]: { name: 'ci@example.com', write: true },
    [DOUBLE_READ_PAT]: { name: 'reader@example.com', write: false }
  }
  const clients = options.oauthClients ?? { [DOUBLE_CLIENT_ID]: { secret: DOUBLE_CLIENT_SECRET } }
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600
  const schemas = new Set((options.schemas ?? ['main.default', 'main.ml']).map(s => s.toLowerCase()))
  const catalogs = new Set([...schemas].map(s => s.split('.')[0]!))
  const pageSize = options.pageSize ?? 3
  const readyAfterGets = options.readyAfterGets ?? 0
  const filesApiForModels = 'filesApiForModels' in options ? options.filesApiForModels : true

  const requests: RecordedRequest[] = []
  const violations: string[] = []
  const faults: Fault[] = []
  const models = new Map<string, ModelState>()
  /** Absolute Files API path → bytes and time. */
  const files = new Map<string, { bytes: Buffer; modified: number }>()
  const runs = new Map<string, Record<string, number | string>>()
  const issued = new Map<string, { identity: Identity; expiresAt: number }>()
  let tokensIssued = 0
  const serving = createServing(options.serving)

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`${req.method} ${req.url}: the double crashed: ${error instanceof Error ? error.stack : error}`)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: 'the double crashed' }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  /**
   * The discovery documents a workspace answers without credentials: the SDKs read them before they can log in
   * (the OAuth endpoints) and to learn the workspace (host metadata).
   */
  const discovery: Record<string, unknown> = {
    '/.well-known/databricks-config': { oidc_endpoint: `${baseUrl}/oidc`, workspace_id: WORKSPACE_ID, cloud: 'AWS' },
    '/oidc/.well-known/oauth-authorization-server': {
      issuer: `${baseUrl}/oidc`,
      authorization_endpoint: `${baseUrl}/oidc/v1/authorize`,
      token_endpoint: `${baseUrl}/oidc/v1/token`,
      grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post']
    }
  }

  // --- the request cycle ----------------------------------------------------------------------------------------

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl)
    const method = req.method ?? 'GET'
    const path = decodePath(url.pathname)
    const query = Object.fromEntries(url.searchParams)
    const raw = await readBody(req)
    const isJson = (req.headers['content-type'] ?? '').startsWith('application/json')
    let body: unknown
    let reply: Reply | undefined
    if (isJson && raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        reply = errorReply(new ApiError(400, 'MALFORMED_REQUEST', 'Malformed JSON in the request body'))
      }
    }
    let identity: Identity | undefined
    const fault = reply ? undefined : takeFault(method, path, query, body)
    if (fault && !fault.after) reply = faultReply(fault)
    if (!reply) {
      try {
        if (path === '/oidc/v1/token') reply = issueToken(method, req, raw)
        else if (method === 'GET' && path in discovery) reply = ok(discovery[path])
        else {
          identity = authenticate(req)
          reply = route(method, path, query, body, raw, identity)
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        reply = errorReply(error)
      }
      if (fault?.after) reply = faultReply(fault)
    }
    requests.push({
      method,
      path,
      query,
      status: reply.status,
      ...(identity ? { identity: identity.name } : {}),
      ...(body !== undefined ? { body } : {})
    })
    if (reply.delayMs) await new Promise(resolve => setTimeout(resolve, reply.delayMs))
    const headers: Record<string, string> = { ...reply.headers }
    if (reply.raw) {
      // A download says its length, as the workspace's does: clients check what they received against it.
      res.writeHead(reply.status, {
        'content-type': 'application/octet-stream',
        'content-length': String(reply.raw.length),
        ...headers
      })
      res.end(method === 'HEAD' ? undefined : reply.raw)
    } else if (reply.body === undefined) {
      res.writeHead(reply.status, headers)
      res.end()
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(reply.body))
    }
  }

  function takeFault(method: string, path: string, query: Record<string, string>, body: unknown): Fault | undefined {
    const fault = faults.find(
      f =>
        f.count > 0 &&
        (!f.method || f.method === method) &&
        (!f.path || f.path.test(path)) &&
        (!f.match || f.match({ method, path, query, body }))
    )
    if (fault) fault.count--
    return fault
  }

  function faultReply(fault: Fault): Reply {
    const code = ERROR_CODES[fault.status] ?? 'INTERNAL_ERROR'
    const headers: Record<string, string> =
      fault.status === 429 || fault.status === 503 ? { 'retry-after': String(fault.retryAfterSeconds ?? 0) } : {}
    return { status: fault.status, body: { error_code: code, message: `injected fault: ${code}` }, headers }
  }

  function errorReply(error: ApiError): Reply {
    return { status: error.status, body: { error_code: error.code, message: error.message } }
  }

  // --- authentication -------------------------------------------------------------------------------------------

  function issueToken(method: string, req: IncomingMessage, raw: Buffer): Reply {
    if (method !== 'POST') return { status: 405, body: { error: 'invalid_request', error_description: 'POST only' } }
    const header = req.headers.authorization ?? ''
    const basic = /^Basic\s+(.+)$/i.exec(header)
    const [clientId, ...secret] = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':') : []
    const client = clientId ? clients[clientId] : undefined
    if (!client || client.secret !== secret.join(':')) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } }
    }
    const form = new URLSearchParams(raw.toString('utf8'))
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'expected client_credentials' }
      }
    }
    if (!(form.get('scope') ?? '').split(' ').includes('all-apis')) {
      return { status: 400, body: { error: 'invalid_scope', error_description: 'expected all-apis' } }
    }
    const token = `eyJdouble.${randomBytes(24).toString('hex')}`
    issued.set(token, {
      identity: client.identity ?? { name: clientId!, write: true },
      expiresAt: Date.now() + lifetimeSeconds * 1000
    })
    tokensIssued++
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: lifetimeSeconds, scope: 'all-apis' }
    }
  }

  function authenticate(req: IncomingMessage): Identity {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    if (!bearer)
      return fail(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.')
    const token = bearer[1]!
    const pat = pats[token]
    if (pat) return pat
    const oauth = issued.get(token)
    if (!oauth) return fail(401, 'UNAUTHENTICATED', 'Invalid access token.')
    if (Date.now() >= oauth.expiresAt) return fail(401, 'UNAUTHENTICATED', 'Token is expired.')
    return oauth.identity
  }

  // --- routing --------------------------------------------------------------------------------------------------

  function route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    raw: Buffer,
    identity: Identity
  ): Reply {
    // The SDKs send a DELETE's parameters in the query string, MLflow's client in a JSON body: both are read.
    const fields = (
      method === 'GET' ? query : method === 'DELETE' ? { ...query, ...(body ?? {}) } : (body ?? {})
    ) as Record<string, unknown>
    const key = `${method} ${path}`
    const served = serving.handle(method, path, body, {
      fail,
      identity,
      versionReady: (name, number) => models.get(name)?.versions.get(Number(number))?.status === 'READY'
    })
    if (served) return served
    switch (key) {
      case `POST ${UC}/registered-models/create`:
        return createModel(fields, identity)
      case `GET ${UC}/registered-models/get`:
        return ok({ registered_model: modelJson(existingModel(fields)) })
      case `DELETE ${UC}/registered-models/delete`:
        return deleteModel(fields, identity)
      case `POST ${UC}/model-versions/create`:
        return createVersion(fields, identity)
      case `GET ${UC}/model-versions/get`:
        return getVersion(fields)
      case `GET ${UC}/model-versions/search`:
        return searchVersions(fields)
      case `DELETE ${UC}/model-versions/delete`:
        return deleteVersion(fields, identity)
      case `POST ${UC}/model-versions/finalize`:
        return finalize(fields, identity)
      case `POST ${UC}/model-versions/set-tag`:
        return setTag(fields, identity)
      case `PATCH ${UC}/model-versions/update`:
        return updateVersion(fields, identity)
      case `POST ${UC}/model-versions/emit-lineage`:
        return emitLineage(fields)
      case `POST ${UC}/registered-models/alias`:
        return setAlias(fields, identity)
      case `GET ${UC}/registered-models/alias`:
        return getByAlias(fields)
      case `DELETE ${UC}/registered-models/alias`:
        return deleteAlias(fields, identity)
      case 'GET /api/2.0/mlflow/runs/get':
        return getRun(fields)
      case `GET ${UC}/registered-models:is-databricks-sdk-models-artifact-repository-enabled`:
        if (filesApiForModels === undefined) break
        // proto3 JSON leaves a false boolean out.
        return ok(filesApiForModels ? { is_databricks_sdk_models_artifact_repository_enabled: true } : {})
    }
    if (path.startsWith(`${FILES}/`)) {
      const filePath = path.slice(FILES.length)
      if (method === 'PUT') return putFile(filePath, query, raw, identity)
      if (method === 'GET' || method === 'HEAD') return getFile(filePath)
    }
    if (path.startsWith(`${DIRECTORIES}/`) && method === 'GET')
      return listDirectory(path.slice(DIRECTORIES.length), query)
    if (path.startsWith(`${DIRECTORIES}/`) && method === 'HEAD')
      return directoryMetadata(path.slice(DIRECTORIES.length))
    const known =
      KNOWN_ABSENT.includes(key) ||
      (filesApiForModels === undefined && path.endsWith(':is-databricks-sdk-models-artifact-repository-enabled'))
    if (!known) {
      violations.push(`${method} ${path}: not an endpoint the double implements`)
    }
    return fail(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${path}'`)
  }

  // --- registered models ------------------------------------------------------------------------------------------

  function createModel(fields: Record<string, unknown>, identity: Identity): Reply {
    const name = fullName(fields.name)
    parentOf(name)
    if (!identity.write) {
      fail(
        403,
        'PERMISSION_DENIED',
        `User does not have CREATE MODEL on Schema '${name.split('.').slice(0, 2).join('.')}'.`
      )
    }
    if (models.has(name)) fail(409, 'ALREADY_EXISTS', `Registered model '${name}' already exists.`)
    const now = Date.now()
    const model: ModelState = {
      name,
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      userId: identity.name,
      versions: new Map(),
      nextVersion: 1,
      aliases: new Map()
    }
    models.set(name, model)
    return ok({ registered_model: modelJson(model) })
  }

  function deleteModel(fields: Record<string, unknown>, identity: Identity): Reply {
    const model = existingModel(fields)
    requireWrite(identity, model.name)
    for (const version of model.versions.values()) removeFiles(model.name, version.version)
    models.delete(model.name)
    return ok({})
  }

  function modelJson(model: ModelState) {
    return {
      name: model.name,
      creation_timestamp: model.createdAt,
      last_updated_timestamp: model.updatedAt,
      user_id: model.userId,
      ...(model.aliases.size
        ? { aliases: [...model.aliases].map(([alias, version]) => ({ alias, version: String(version) })) }
        : {})
    }
  }

  // --- model versions -------------------------------------------------------------------------------------------

  function createVersion(fields: Record<string, unknown>, identity: Identity): Reply {
    const model = existingModel(fields)
    requireWrite(identity, model.name)
    const source = fields.source
    if (typeof source !== 'string' || !source) fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: source')
    if (fields.run_link !== undefined) {
      fail(400, 'INVALID_PARAMETER_VALUE', 'run_link is not supported for model versions in Unity Catalog')
    }
    const tags = new Map<string, string>()
    for (const tag of tagList(fields.tags)) tags.set(tag.key, tag.value)
    const now = Date.now()
    const number = model.nextVersion++
    const version: VersionState = {
      name: model.name,
      version: number,
      status: 'PENDING_REGISTRATION',
      source: source as string,
      ...(typeof fields.run_id === 'string' && fields.run_id ? { runId: fields.run_id } : {}),
      ...(typeof fields.description === 'string' && fields.description ? { description: fields.description } : {}),
      tags,
      storageLocation: `s3://double-metastore/models/${model.id}/versions/${randomUUID()}`,
      createdAt: now,
      updatedAt: now,
      userId: identity.name
    }
    model.versions.set(number, version)
    model.updatedAt = now
    return ok({ model_version: versionJson(model, version, true) })
  }

  function getVersion(fields: Record<string, unknown>): Reply {
    const { model, version } = existingVersion(fields)
    if (version.readyCountdown !== undefined) {
      if (version.readyCountdown <= 0) {
        version.status = 'READY'
        delete version.readyCountdown
      } else version.readyCountdown--
    }
    return ok({ model_version: versionJson(model, version, true) })
  }

  function searchVersions(fields: Record<string, unknown>): Reply {
    const filter = String(fields.filter ?? '')
    const condition = /^\s*(name|run_id)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(filter)
    if (!condition) {
      fail(400, 'INVALID_PARAMETER_VALUE', `Unsupported filter '${filter}': expected one condition, name='<model>'`)
    }
    const maxResults = fields.max_results === undefined ? MAX_SEARCH_RESULTS : Number(fields.max_results)
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_SEARCH_RESULTS) {
      fail(400, 'INVALID_PARAMETER_VALUE', `max_results must be between 1 and ${MAX_SEARCH_RESULTS}`)
    }
    const [, attribute, quoted] = condition!
    const value = quoted!.replace(/\\(.)/g, '$1')
    let matches: { model: ModelState; version: VersionState }[] = []
    if (attribute === 'name') {
      const name = fullName(value)
      parentOf(name)
      const model = models.get(name)
      matches = model ? [...model.versions.values()].map(version => ({ model, version })) : []
    } else {
      for (const model of models.values())
        for (const version of model.versions.values()) if (version.runId === value) matches.push({ model, version })
    }
    matches.sort((a, b) => b.version.version - a.version.version)
    const page = paginate(matches, Math.min(maxResults, pageSize), fields.page_token, `search:${filter}`)
    return ok({
      // Search results carry neither tags nor aliases.
      model_versions: page.items.map(({ model, version }) => versionJson(model, version, false)),
      ...(page.next ? { next_page_token: page.next } : {})
    })
  }

  function deleteVersion(fields: Record<string, unknown>, identity: Identity): Reply {
    const { model, version } = existingVersion(fields)
    requireWrite(identity, model.name)
    model.versions.delete(version.version)
    for (const [alias, number] of model.aliases) if (number === version.version) model.aliases.delete(alias)
    removeFiles(model.name, version.version)
    return ok({})
  }

  function finalize(fields: Record<string, unknown>, identity: Identity): Reply {
    const { model, version } = existingVersion(fields)
    requireWrite(identity, model.name)
    if (version.status === 'FAILED_REGISTRATION') {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `Model version ${model.name}/${version.version} is FAILED_REGISTRATION and cannot be finalized.`
      )
    }
    if (version.status === 'PENDING_REGISTRATION' && version.readyCountdown === undefined) {
      if (filesOf(model.name, version.version).length === 0) {
        fail(
          400,
          'INVALID_PARAMETER_VALUE',
          `Model version ${model.name}/${version.version} has no files; upload them to ${versionRoot(model.name, version.version)} before finalizing.`
        )
      }
      if (readyAfterGets > 0) version.readyCountdown = readyAfterGets
      else version.status = 'READY'
      version.updatedAt = Date.now()
    }
    return ok({ model_version: versionJson(model, version, true) })
  }

  /**
   * MLflow's client reports what a version was loaded into (`EmitModelVersionLineageRequest`); the double checks
   * the version exists and keeps nothing.
   */
  function emitLineage(fields: Record<string, unknown>): Reply {
    existingVersion(fields)
    return ok({})
  }

  function setTag(fields: Record<string, unknown>, identity: Identity): Reply {
    const { model, version } = existingVersion(fields)
    requireWrite(identity, model.name)
    if (typeof fields.key !== 'string' || !fields.key)
      fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: key')
    version.tags.set(fields.key as string, typeof fields.value === 'string' ? fields.value : '')
    version.updatedAt = Date.now()
    return ok({})
  }

  /** `UpdateModelVersionRequest`, answered with the version as get answers it. */
  function updateVersion(fields: Record<string, unknown>, identity: Identity): Reply {
    const { model, version } = existingVersion(fields)
    requireWrite(identity, model.name)
    const description = fields.description
    if (description !== undefined && typeof description !== 'string') {
      fail(400, 'INVALID_PARAMETER_VALUE', `Invalid description: expected a string.`)
    }
    if (typeof description === 'string') {
      if (description) version.description = description
      else delete version.description
      version.updatedAt = Date.now()
    }
    return ok({ model_version: versionJson(model, version, true) })
  }

  function versionJson(model: ModelState, version: VersionState, full: boolean) {
    const aliases = [...model.aliases].filter(([, number]) => number === version.version)
    return {
      name: model.name,
      version: String(version.version),
      creation_timestamp: version.createdAt,
      last_updated_timestamp: version.updatedAt,
      user_id: version.userId,
      source: version.source,
      ...(version.runId ? { run_id: version.runId } : {}),
      ...(version.description ? { description: version.description } : {}),
      status: version.status,
      ...(version.statusMessage ? { status_message: version.statusMessage } : {}),
      storage_location: version.storageLocation,
      // Empty repeated fields are left out of proto JSON.
      ...(full && version.tags.size ? { tags: [...version.tags].map(([key, value]) => ({ key, value })) } : {}),
      ...(full && aliases.length
        ? { aliases: aliases.map(([alias, number]) => ({ alias, version: String(number) })) }
        : {})
    }
  }

  // --- aliases ----------------------------------------------------------------------------------------------------

  function setAlias(fields: Record<string, unknown>, identity: Identity): Reply {
    const alias = aliasName(fields.alias)
    const { model, version } = existingVersion(fields)
    requireWrite(identity, model.name)
    model.aliases.set(alias, version.version)
    return ok({})
  }

  function getByAlias(fields: Record<string, unknown>): Reply {
    const model = existingModel(fields)
    const alias = aliasName(fields.alias)
    const number = model.aliases.get(alias)
    const version = number === undefined ? undefined : model.versions.get(number)
    if (!version) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Alias ${alias} not found`)
    return ok({ model_version: versionJson(model, version!, true) })
  }

  function deleteAlias(fields: Record<string, unknown>, identity: Identity): Reply {
    const model = existingModel(fields)
    requireWrite(identity, model.name)
    const alias = aliasName(fields.alias)
    if (!model.aliases.delete(alias)) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Alias ${alias} not found`)
    return ok({})
  }

  function aliasName(value: unknown): string {
    const alias = String(value ?? '')
    if (!/^[\w-]+$/.test(alias) || alias.length > 255) {
      fail(400, 'INVALID_PARAMETER_VALUE', `Invalid alias name '${alias}': alphanumerics, underscores and dashes only.`)
    }
    if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
      fail(400, 'INVALID_PARAMETER_VALUE', `'${alias}' alias name (case insensitive) is reserved.`)
    }
    return alias.toLowerCase()
  }

  // --- files ------------------------------------------------------------------------------------------------------

  function putFile(path: string, query: Record<string, string>, raw: Buffer, identity: Identity): Reply {
    const { model, version, relative } = versionOfPath(path)
    if (!relative) fail(400, 'INVALID_PARAMETER_VALUE', `'${path}' names the version's directory, not a file.`)
    requireWrite(identity, model.name)
    if (version.status !== 'PENDING_REGISTRATION' || version.readyCountdown !== undefined) {
      fail(
        403,
        'PERMISSION_DENIED',
        `Files of model version ${model.name}/${version.version} can only be written while it is PENDING_REGISTRATION.`
      )
    }
    const key = `${versionRoot(model.name, version.version)}/${relative}`
    const overwrite = query.overwrite === undefined || query.overwrite === 'true'
    if (files.has(key) && !overwrite) fail(409, 'ALREADY_EXISTS', `The file being created already exists: ${key}`)
    files.set(key, { bytes: raw, modified: Date.now() })
    return { status: 204 }
  }

  function getFile(path: string): Reply {
    const file = files.get(canonicalPath(path))
    if (!file) fail(404, 'NOT_FOUND', 'The file being accessed is not found.')
    return { status: 200, raw: file!.bytes, headers: { 'last-modified': new Date(file!.modified).toUTCString() } }
  }

  /** HEAD on a directory: 200 with no body when it holds anything, else 404 (the API's "get directory metadata"). */
  function directoryMetadata(path: string): Reply {
    const dir = canonicalPath(path).replace(/\/+$/, '')
    if (![...files.keys()].some(filePath => filePath.startsWith(`${dir}/`)))
      fail(404, 'NOT_FOUND', 'The directory being accessed is not found.')
    return { status: 200 }
  }

  function listDirectory(path: string, query: Record<string, string>): Reply {
    const dir = canonicalPath(path).replace(/\/+$/, '')
    const children = new Map<string, { isDirectory: boolean; size?: number; modified: number }>()
    for (const [filePath, file] of files) {
      if (!filePath.startsWith(`${dir}/`)) continue
      const rest = filePath.slice(dir.length + 1)
      const slash = rest.indexOf('/')
      const child = slash < 0 ? rest : rest.slice(0, slash)
      if (slash < 0) children.set(child, { isDirectory: false, size: file.bytes.length, modified: file.modified })
      else if (!children.has(child)) children.set(child, { isDirectory: true, modified: file.modified })
    }
    if (children.size === 0) fail(404, 'NOT_FOUND', 'The directory being accessed is not found.')
    const entries = [...children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const requested = query.page_size === undefined ? 1000 : Math.min(1000, Number(query.page_size))
    const page = paginate(entries, Math.min(requested, pageSize), query.page_token, `dir:${dir}:${requested}`)
    return ok({
      contents: page.items.map(([name, entry]) => ({
        path: `${dir}/${name}`,
        is_directory: entry.isDirectory,
        ...(entry.size !== undefined ? { file_size: entry.size } : {}),
        last_modified: entry.modified,
        name
      })),
      ...(page.next ? { next_page_token: page.next } : {})
    })
  }

  /** The model version a `/Models/<catalog>/<schema>/<model>/<version>/…` path belongs to. */
  function versionOfPath(path: string): { model: ModelState; version: VersionState; relative: string } {
    const segments = path.split('/')
    if (segments[0] !== '' || segments[1] !== 'Models' || segments.length < 6) {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `'${path}' is not a model version path; the double serves /Models/<catalog>/<schema>/<model>/<version>/ only.`
      )
    }
    const name = segments.slice(2, 5).join('.').toLowerCase()
    const model = models.get(name)
    const version = model?.versions.get(Number(segments[5]))
    if (!model || !version || !/^\d+$/.test(segments[5]!))
      fail(404, 'NOT_FOUND', `Model version ${name}/${segments[5]} does not exist.`)
    const relative = segments.slice(6).join('/')
    if (relative.split('/').some(part => part === '.' || part === '..'))
      fail(400, 'INVALID_PARAMETER_VALUE', `'${path}' is not a normalized path.`)
    return { model: model!, version: version!, relative }
  }

  /** Paths under a model compare without case in the model's name, as the registry's names do. */
  function canonicalPath(path: string): string {
    const segments = path.split('/')
    if (segments[1] === 'Models' && segments.length >= 5) {
      for (let i = 2; i < 5; i++) segments[i] = segments[i]!.toLowerCase()
    }
    return segments.join('/')
  }

  function versionRoot(name: string, version: number): string {
    return `/Models/${name.split('.').join('/')}/${version}`
  }

  function filesOf(name: string, version: number): string[] {
    const root = `${versionRoot(name, version)}/`
    return [...files.keys()].filter(path => path.startsWith(root)).map(path => path.slice(root.length))
  }

  function removeFiles(name: string, version: number): void {
    const root = `${versionRoot(name, version)}/`
    for (const path of [...files.keys()]) if (path.startsWith(root)) files.delete(path)
  }

  // --- tracking ---------------------------------------------------------------------------------------------------

  function getRun(fields: Record<string, unknown>): Reply {
    const runId = String(fields.run_id ?? '')
    if (!runId) fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: run_id')
    const metrics = runs.get(runId)
    if (!metrics) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found.`)
    const timestamp = Date.now()
    return ok({
      run: {
        info: { run_id: runId, run_uuid: runId, experiment_id: '1', status: 'FINISHED', lifecycle_stage: 'active' },
        data: { metrics: Object.entries(metrics!).map(([key, value]) => ({ key, value, timestamp, step: 0 })) }
      }
    })
  }

  // --- shared checks ----------------------------------------------------------------------------------------------

  function fullName(value: unknown): string {
    const name = String(value ?? '')
    const parts = name.split('.')
    if (parts.length !== 3 || parts.some(part => !part)) {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid name '${name}': a model in Unity Catalog has a three-level name, catalog.schema.model.`
      )
    }
    return name.toLowerCase()
  }

  function parentOf(name: string): void {
    const [catalog, schema] = name.split('.')
    if (!catalogs.has(catalog!)) fail(404, 'CATALOG_DOES_NOT_EXIST', `Catalog '${catalog}' does not exist.`)
    if (!schemas.has(`${catalog}.${schema}`))
      fail(404, 'SCHEMA_DOES_NOT_EXIST', `Schema '${catalog}.${schema}' does not exist.`)
  }

  function existingModel(fields: Record<string, unknown>): ModelState {
    const name = fullName(fields.name)
    parentOf(name)
    const model = models.get(name)
    if (!model) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Registered model '${name}' does not exist.`)
    return model!
  }

  function existingVersion(fields: Record<string, unknown>): { model: ModelState; version: VersionState } {
    const model = existingModel(fields)
    const text = String(fields.version ?? '')
    if (!/^\d+$/.test(text)) fail(400, 'INVALID_PARAMETER_VALUE', `Invalid version '${text}': expected a number.`)
    const version = model.versions.get(Number(text))
    if (!version) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Model version '${model.name}/${text}' does not exist.`)
    return { model, version: version! }
  }

  function requireWrite(identity: Identity, name: string): void {
    if (!identity.write) {
      fail(
        403,
        'PERMISSION_DENIED',
        `User '${identity.name}' does not have permission to modify Registered Model '${name}'.`
      )
    }
  }

  function paginate<T>(items: T[], size: number, token: unknown, key: string): { items: T[]; next?: string } {
    let offset = 0
    if (token !== undefined && token !== '') {
      try {
        const decoded = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { o: number; k: string }
        if (decoded.k !== key || !Number.isInteger(decoded.o)) throw new Error('mismatch')
        offset = decoded.o
      } catch {
        fail(400, 'INVALID_PARAMETER_VALUE', 'Invalid page token: the other parameters must match the first request.')
      }
    }
    const end = offset + size
    return {
      items: items.slice(offset, end),
      ...(end < items.length ? { next: Buffer.from(JSON.stringify({ o: end, k: key })).toString('base64url') } : {})
    }
  }

  // --- the test's handle ------------------------------------------------------------------------------------------

  function snapshotOf(name: string, number: string): VersionSnapshot | undefined {
    const model = models.get(name.toLowerCase())
    const version = model?.versions.get(Number(number))
    if (!model || !version) return undefined
    return {
      name: model.name,
      version: String(version.version),
      status: version.status,
      ...(version.statusMessage ? { statusMessage: version.statusMessage } : {}),
      source: version.source,
      ...(version.runId ? { runId: version.runId } : {}),
      ...(version.description ? { description: version.description } : {}),
      tags: Object.fromEntries(version.tags),
      aliases: [...model.aliases].filter(([, v]) => v === version.version).map(([alias]) => alias),
      files: filesOf(model.name, version.version).sort()
    }
  }

  return {
    url: baseUrl,
    requests,
    violations,
    get tokensIssued() {
      return tokensIssued
    },
    inject(fault) {
      faults.push(fault)
    },
    addRun(runId, metrics) {
      runs.set(runId, { ...metrics })
    },
    failVersion(name, number, message) {
      const version = models.get(name.toLowerCase())?.versions.get(Number(number))
      if (!version) throw new Error(`no version ${number} of ${name}`)
      version.status = 'FAILED_REGISTRATION'
      version.statusMessage = message
      delete version.readyCountdown
    },
    serving: serving.controls,
    addVersion(name) {
      const full = name.toLowerCase()
      let model = models.get(full)
      if (!model) {
        const now = Date.now()
        model = {
          name: full,
          id: randomUUID(),
          createdAt: now,
          updatedAt: now,
          userId: 'setup',
          versions: new Map(),
          nextVersion: 1,
          aliases: new Map()
        }
        models.set(full, model)
      }
      const number = model.nextVersion++
      model.versions.set(number, {
        name: full,
        version: number,
        status: 'READY',
        source: 'setup',
        tags: new Map(),
        storageLocation: `s3://double-metastore/models/${model.id}/versions/${randomUUID()}`,
        createdAt: Date.now(),
        updatedAt: Date.now(),
        userId: 'setup'
      })
      return String(number)
    },
    expireTokens() {
      for (const token of issued.values()) token.expiresAt = 0
    },
    version: snapshotOf,
    versions(name) {
      const model = models.get(name.toLowerCase())
      return model ? [...model.versions.keys()].sort((a, b) => a - b).map(String) : []
    },
    file(name, number, path) {
      return files.get(`${versionRoot(name.toLowerCase(), Number(number))}/${path}`)?.bytes
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // A test may close its double early; the close after every test must not fail on that.
        if (!server.listening) return resolve()
        server.closeAllConnections()
        server.close(error => (error ? reject(error) : resolve()))
      })
  }
}

function ok(body: unknown): Reply {
  return { status: 200, body }
}

function tagList(value: unknown): { key: string; value: string }[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) return fail(400, 'INVALID_PARAMETER_VALUE', 'tags must be a list of {key, value}')
  return value.map(tag => {
    const { key, value: tagValue } = (tag ?? {}) as { key?: unknown; value?: unknown }
    if (typeof key !== 'string' || !key) fail(400, 'INVALID_PARAMETER_VALUE', 'Every tag needs a key.')
    return { key: key as string, value: typeof tagValue === 'string' ? tagValue : '' }
  })
}

function decodePath(pathname: string): string {
  try {
    return pathname.split('/').map(decodeURIComponent).join('/')
  } catch {
    return pathname
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
