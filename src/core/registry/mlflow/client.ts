/**
 * A typed client of the MLflow tracking server's REST API: the calls modelgate makes, each response checked against
 * its schema, and the server's errors turned into ours. What MLflow answers that a client must know (the statuses
 * `mlflow/exceptions.py` gives each error code, and the SQL store's answers): an existing model is
 * `RESOURCE_ALREADY_EXISTS` with HTTP 400 (Databricks says `ALREADY_EXISTS`, 409), a missing alias is
 * `INVALID_PARAMETER_VALUE` 400 rather than a 404, an unknown route is a bare 404 (how an MLflow 2 server answers
 * MLflow 3's logged-model calls), and since 3.5 a Host name the server does not allow gets a plain-text 403.
 */
import type * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { NetworkError, type Auth, type HttpRequest } from '../../http/client.js'
import { RestClient, encodePath, htmlPage, isAlreadyExists, isDoesNotExist, type RestDialect } from '../../http/rest.js'
import {
  Responses,
  type MlflowLoggedModel,
  type MlflowMetric,
  type MlflowModelVersion,
  type MlflowRun
} from './schemas.js'

export interface MlflowClientOptions {
  /** The tracking server's URL, without a trailing slash. */
  readonly baseUrl: string
  readonly auth?: Auth
  readonly retryBaseMs?: number
  readonly timeoutMs?: number
  readonly fetch?: typeof fetch
  /** The step log, for retries. */
  readonly log?: (line: string) => void
  /** The deadline of the operation (HttpClient's `signal`). */
  readonly signal?: AbortSignal
  /** How errors name where the URL came from: `input 'tracking-uri'`, `--tracking-uri`, `MLFLOW_TRACKING_URI`. */
  readonly source: string
  /** Where the credentials sent came from (`MLFLOW_TRACKING_TOKEN`), for a 401's message; undefined when none were. */
  readonly credentials?: string
}

const API = '/api/2.0/mlflow'
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts'
/** In `accept`: a bare 404 (no such route) means "not supported here" rather than a wrong URL. */
const NO_ROUTE = -404

export class MlflowClient {
  private readonly rest: RestClient<string>

  constructor(options: MlflowClientOptions) {
    const { source, credentials, ...http } = options
    this.rest = new RestClient({ ...http, label: 'MLflow', dialect: mlflowDialect(http.baseUrl, source, credentials) })
  }

  get url(): string {
    return this.rest.baseUrl
  }

  // --- experiments and runs -------------------------------------------------------------------------------------

  async getExperimentByName(name: string): Promise<{ id: string; artifactLocation?: string | undefined } | undefined> {
    const body = await this.call('get experiment', Responses.experiment, {
      method: 'GET',
      path: `${API}/experiments/get-by-name`,
      query: { experiment_name: name },
      accept: [404]
    })
    return body && { id: body.experiment.experiment_id, artifactLocation: body.experiment.artifact_location }
  }

  /** The experiment's id, creating it if needed (two writers creating it at once both succeed). */
  async ensureExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name)
    if (existing) return existing.id
    try {
      const created = await this.call('create experiment', Responses.experimentId, {
        method: 'POST',
        path: `${API}/experiments/create`,
        json: { name },
        idempotent: true
      })
      return created!.experiment_id
    } catch (error) {
      if (!isAlreadyExists(error)) throw error
      const raced = await this.getExperimentByName(name)
      if (!raced) throw error
      return raced.id
    }
  }

  async createRun(experimentId: string, runName: string, tags: Readonly<Record<string, string>>): Promise<MlflowRun> {
    const body = await this.call('create run', Responses.run, {
      method: 'POST',
      path: `${API}/runs/create`,
      json: { experiment_id: experimentId, run_name: runName, start_time: Date.now(), tags: tagList(tags) }
    })
    return body!.run
  }

  async getRun(runId: string): Promise<MlflowRun | undefined> {
    const body = await this.call('get run', Responses.run, {
      method: 'GET',
      path: `${API}/runs/get`,
      query: { run_id: runId },
      accept: [404]
    })
    return body?.run
  }

  async logMetrics(runId: string, metrics: Readonly<Record<string, number>>, modelId?: string): Promise<void> {
    const entries = Object.entries(metrics)
    const timestamp = Date.now()
    // log-batch takes at most 1000 metrics per call.
    for (let i = 0; i < entries.length; i += 1000) {
      await this.call('log metrics', Responses.empty, {
        method: 'POST',
        path: `${API}/runs/log-batch`,
        json: {
          run_id: runId,
          metrics: entries.slice(i, i + 1000).map(([key, value]) => ({
            key,
            value: finiteOrText(value),
            timestamp,
            step: 0,
            ...(modelId ? { model_id: modelId } : {})
          }))
        },
        // Logging the same value at the same timestamp and step twice leaves one value for runs/get.
        idempotent: true
      })
    }
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED'): Promise<void> {
    await this.call('end run', Responses.empty, {
      method: 'POST',
      path: `${API}/runs/update`,
      json: { run_id: runId, status, end_time: Date.now() },
      idempotent: true
    })
  }

  /** Moves the run to the deleted lifecycle stage (MLflow's own delete: the server may purge it later). */
  async deleteRun(runId: string): Promise<void> {
    await this.call('delete run', Responses.empty, {
      method: 'POST',
      path: `${API}/runs/delete`,
      json: { run_id: runId },
      idempotent: true,
      accept: [404]
    })
  }

  // --- logged models (MLflow 3) ---------------------------------------------------------------------------------

  /** Undefined when the server predates MLflow 3 (its answer to the route is a bare 404). */
  async createLoggedModel(request: {
    experimentId: string
    name: string
    runId?: string
    tags: Readonly<Record<string, string>>
  }): Promise<MlflowLoggedModel | undefined> {
    const body = await this.call('create logged model', Responses.loggedModel, {
      method: 'POST',
      path: `${API}/logged-models`,
      json: {
        experiment_id: request.experimentId,
        name: request.name,
        ...(request.runId ? { source_run_id: request.runId } : {}),
        tags: tagList(request.tags)
      },
      accept: [404, NO_ROUTE]
    })
    return body?.model
  }

  async finalizeLoggedModel(
    modelId: string,
    status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'
  ): Promise<void> {
    // The server reads model_id from the body as well as the path (3.17 answers "Missing value for required
    // parameter 'model_id'" without it).
    await this.call('finalize logged model', Responses.loggedModel, {
      method: 'PATCH',
      path: `${API}/logged-models/${encodeURIComponent(modelId)}`,
      json: { model_id: modelId, status }
    })
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.call('delete logged model', Responses.empty, {
      method: 'DELETE',
      path: `${API}/logged-models/${encodeURIComponent(modelId)}`,
      accept: [404]
    })
  }

  async getLoggedModel(modelId: string): Promise<MlflowLoggedModel | undefined> {
    const body = await this.call('get logged model', Responses.loggedModel, {
      method: 'GET',
      path: `${API}/logged-models/${encodeURIComponent(modelId)}`,
      accept: [404]
    })
    return body?.model
  }

  // --- registry -------------------------------------------------------------------------------------------------

  async createRegisteredModel(name: string): Promise<void> {
    try {
      await this.call('create registered model', Responses.registeredModel, {
        method: 'POST',
        path: `${API}/registered-models/create`,
        json: { name },
        idempotent: true
      })
    } catch (error) {
      if (!isAlreadyExists(error)) throw error
    }
  }

  async createModelVersion(request: {
    name: string
    source: string
    runId?: string
    modelId?: string
    tags: Readonly<Record<string, string>>
    description?: string
  }): Promise<MlflowModelVersion> {
    const body = await this.call('create model version', Responses.modelVersion, {
      method: 'POST',
      path: `${API}/model-versions/create`,
      json: {
        name: request.name,
        source: request.source,
        ...(request.runId ? { run_id: request.runId } : {}),
        ...(request.modelId ? { model_id: request.modelId } : {}),
        ...(request.description ? { description: request.description } : {}),
        tags: tagList(request.tags)
      },
      // Creating twice makes two versions: the registry recovers from a lost answer by looking for the digest.
      idempotent: false
    })
    return body!.model_version
  }

  async getModelVersion(name: string, version: string): Promise<MlflowModelVersion | undefined> {
    const body = await this.call('get model version', Responses.modelVersion, {
      method: 'GET',
      path: `${API}/model-versions/get`,
      query: { name, version },
      accept: [404]
    })
    return body?.model_version
  }

  async searchModelVersions(filter: string): Promise<MlflowModelVersion[]> {
    const versions: MlflowModelVersion[] = []
    let pageToken: string | undefined
    do {
      const body = await this.call('search model versions', Responses.modelVersions, {
        method: 'GET',
        path: `${API}/model-versions/search`,
        query: { filter, max_results: 1000, page_token: pageToken }
      })
      versions.push(...(body!.model_versions ?? []))
      pageToken = body!.next_page_token || undefined
    } while (pageToken)
    return versions
  }

  /** Undefined when the model does not exist or has no such alias. */
  async getModelVersionByAlias(name: string, alias: string): Promise<MlflowModelVersion | undefined> {
    try {
      const body = await this.call('get version by alias', Responses.modelVersion, {
        method: 'GET',
        path: `${API}/registered-models/alias`,
        query: { name, alias },
        accept: [404]
      })
      return body?.model_version
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'INVALID_PARAMETER_VALUE' && /alias/i.test(error.message))
        return undefined
      throw error
    }
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('set version tag', Responses.empty, {
      method: 'POST',
      path: `${API}/model-versions/set-tag`,
      json: { name, version, key, value },
      idempotent: true
    })
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<MlflowModelVersion> {
    const body = await this.call('update model version', Responses.modelVersion, {
      method: 'PATCH',
      path: `${API}/model-versions/update`,
      json: { name, version, description },
      idempotent: true
    })
    return body!.model_version
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('set alias', Responses.empty, {
      method: 'POST',
      path: `${API}/registered-models/alias`,
      json: { name, alias, version },
      idempotent: true
    })
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.call('delete model version', Responses.empty, {
      method: 'DELETE',
      path: `${API}/model-versions/delete`,
      json: { name, version },
      accept: [404]
    })
  }

  async getDownloadUri(name: string, version: string): Promise<string> {
    const body = await this.call('get download URI', Responses.downloadUri, {
      method: 'GET',
      path: `${API}/model-versions/get-download-uri`,
      query: { name, version }
    })
    return body!.artifact_uri
  }

  // --- artifacts, through the server's mlflow-artifacts proxy ---------------------------------------------------

  /** `path` is relative to the proxy's root (an `mlflow-artifacts:/` URI without its scheme). */
  async uploadArtifact(path: string, file: { absolute: string; size: number }): Promise<void> {
    await this.call('upload artifact', Responses.empty, {
      method: 'PUT',
      path: `${ARTIFACTS}/${encodePath(path)}`,
      file: { path: file.absolute, size: file.size },
      idempotent: true
    })
  }

  async listArtifacts(path: string): Promise<{ path: string; isDir: boolean; size?: number }[]> {
    const body = await this.call('list artifacts', Responses.artifacts, {
      method: 'GET',
      path: ARTIFACTS,
      query: { path }
    })
    return (body!.files ?? []).map(f => ({
      path: f.path,
      isDir: f.is_dir === true,
      ...(f.file_size !== undefined ? { size: f.file_size } : {})
    }))
  }

  async downloadArtifact(path: string, destination: string): Promise<void> {
    await this.rest.download('download artifact', `${ARTIFACTS}/${encodePath(path)}`, destination)
  }

  /** The proxy path of an `mlflow-artifacts:` URI, or undefined when the URI is elsewhere (s3:, dbfs:, a path). */
  artifactPath(uri: string): string | undefined {
    if (!uri.startsWith('mlflow-artifacts:')) return undefined
    // `mlflow-artifacts://host:port/path` names the server explicitly; the path is what the proxy needs.
    const rest = uri.startsWith('mlflow-artifacts://')
      ? new URL(uri.replace(/^mlflow-artifacts:/, 'http:')).pathname
      : uri.slice('mlflow-artifacts:'.length)
    return decodeURIComponent(rest.replace(/^\/+/, '').replace(/\/+$/, ''))
  }

  private call<S extends z.ZodMiniType>(
    operation: string,
    schema: S,
    request: HttpRequest
  ): Promise<z.infer<S> | undefined> {
    return this.rest.call(operation, schema, request)
  }
}

/** MLflow's answers in words: a call is named by its operation (`create run`). */
function mlflowDialect(baseUrl: string, source: string, credentials: string | undefined): RestDialect<string> {
  const where = `the MLflow server at ${baseUrl}`
  return {
    name: where,
    describe: operation => operation,
    unexpectedHint: 'this does not look like an MLflow tracking server',
    // A JSON 404 is "no such object"; a bare one is "no such route", which only a caller that expects an older
    // server (logged models on MLflow 2) may take as an answer. Anywhere else it means a wrong URL, and taking it
    // for "absent" would turn a misconfigured champion into "no baseline yet".
    isAbsent: (_operation, answer, request) =>
      isDoesNotExist(answer) || (answer.json === undefined && request.accept?.includes(NO_ROUTE) === true),
    translate: (operation, error, url) => {
      if (error instanceof NetworkError) {
        return new ServiceError(
          `${operation} failed: could not get an answer from ${where} (${error.reason}) after retries`,
          undefined,
          error.timedOut ? 'TIMEOUT' : 'NETWORK'
        )
      }
      const code = error.code
      const page = htmlPage(error)
      const message = page ?? error.serverMessage
      if (page && error.status !== 401 && error.status !== 404) {
        const answer = `${where} answered ${operation} with HTTP ${error.status} and ${page}: this does not look like an MLflow tracking server`
        // A web page for a client error is another server at the URL; for a server error, maybe a failing gateway.
        if (error.status < 500) {
          return new ConfigurationError(
            `${answer}; expected the tracking server's base URL, as in http://mlflow.internal:5000`,
            { source }
          )
        }
        return new ServiceError(`${answer} (or a proxy in front of it is failing) after retries`, error.status)
      }
      if (error.status === 401) {
        return new ConfigurationError(
          credentials
            ? `${where} refused the credentials in ${credentials} for ${operation} (HTTP 401: ${message}); check them`
            : `${where} needs credentials for ${operation} (HTTP 401: ${message}); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN`,
          { source }
        )
      }
      if (error.status === 403 && /Host header/i.test(error.body)) {
        return new ConfigurationError(
          `${where} refused the Host name (MLflow 3.5+ allows only localhost and private addresses by default); start the server with --allowed-hosts <this name> or set MLFLOW_SERVER_ALLOWED_HOSTS`,
          { source }
        )
      }
      if (error.status === 403) {
        return new ConfigurationError(
          `${where} denied ${operation} (HTTP 403${code ? ` ${code}` : ''}: ${message}); the user needs EDIT permission on the model to register versions and set aliases`,
          { source }
        )
      }
      if (error.status === 404 && error.json === undefined) {
        return new ConfigurationError(
          `${url} is not an MLflow REST endpoint (HTTP 404 without an MLflow error); expected the tracking server's base URL, as in http://mlflow.internal:5000`,
          { source }
        )
      }
      if (error.status === 503 && url.includes('/mlflow-artifacts/')) {
        return new ConfigurationError(
          `${where} does not serve artifacts (HTTP 503 on ${operation}: ${message}); start it without --no-serve-artifacts so modelgate can upload through it`,
          { source }
        )
      }
      return new ServiceError(
        `${where} failed to ${operation}: HTTP ${error.status}${code ? ` ${code}` : ''}: ${message}`,
        error.status,
        code
      )
    }
  }
}

function tagList(tags: Readonly<Record<string, string>>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }))
}

/** Python's json writes non-finite floats as NaN/Infinity, which MLflow's parser accepts; JSON.stringify cannot. */
function finiteOrText(value: number): number | string {
  if (Number.isFinite(value)) return value
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
}

/** The latest value of each metric, in the order the server listed them. */
export function metricValues(metrics: readonly MlflowMetric[] | undefined): Map<string, number | string> {
  const values = new Map<string, number | string>()
  for (const metric of metrics ?? []) values.set(metric.key, metric.value)
  return values
}
