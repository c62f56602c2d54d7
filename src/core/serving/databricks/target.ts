/**
 * The `databricks` serving target: a Databricks Model Serving endpoint, driven through its REST API with the
 * workspace's credentials (core/databricks) and the shared REST helper (core/http).
 *
 * - A version is a served entity named `<model>-<version>` (the UC name's last part), its share the route's
 *   `traffic_percentage`; the `served-model-name` response header names the entity that answered.
 * - An update is a `PUT …/config` that replaces the entities and routes, then the `config_update` state machine:
 *   IN_PROGRESS while the `pending_config` deploys (the active `config` serves meanwhile), then NOT_UPDATING with the
 *   pending config active, or UPDATE_FAILED with the active config untouched ("as if the update didn't happen").
 * - A PUT during an update is refused 409 RESOURCE_CONFLICT: wait for the update, then send it again. 429 (the
 *   workspace's 50 updates per 5 minutes) is waited out as Retry-After says, within the deadline.
 * - There is no rollback call: `read()` keeps the raw config of what it read, and `restore` PUTs it back (the same
 *   entity names, versions, workload settings and percentages). An endpoint that did not exist is deleted again.
 *   After a failed update there is nothing to put back: the active config is read and found equal.
 * - Waits poll with backoff (1 s doubling to 10 s, with jitter) until the rollout's deadline.
 */
import * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../../errors.js'
import type { DatabricksWorkspace } from '../../databricks/workspace.js'
import { HttpError, NetworkError, retryAfter, type HttpRequest, type HttpResponse } from '../../http/client.js'
import { RestClient, type RestDialect } from '../../http/rest.js'
import {
  DeadlineExceededError,
  remainingMs,
  sameRouting,
  sharesFromWeights,
  type Deadline,
  type DesiredState,
  type EndpointState,
  type InvocationTarget,
  type ReadyResult,
  type ServedVersion,
  type ServingTarget
} from '../types.js'

export interface DatabricksTargetOptions {
  /** The serving endpoint's name (1–63 letters, digits, `-` and `_`). */
  readonly endpoint: string
  /** How errors name where the endpoint came from. Default `input 'endpoint'`. */
  readonly endpointSource?: string
  /**
   * The registered model rolled out (its UC three-level name). An endpoint that serves another model is refused
   * rather than changed: its versions are not this model's, and an update would remove its served entities.
   * Without it, only `apply` checks, against the model it is asked to serve.
   */
  readonly model?: string
  readonly workspace: DatabricksWorkspace
  /** Of the served entities modelgate creates. Default Small. */
  readonly workloadSize?: 'Small' | 'Medium' | 'Large'
  /** Of the served entities modelgate creates. Default false: a canary must not be asleep when it is observed. */
  readonly scaleToZero?: boolean
  /** First and longest pause between reads of an update's state. Default 1 s and 10 s. */
  readonly pollMinMs?: number
  readonly pollMaxMs?: number
  /** REST retries' first backoff (core/http). */
  readonly retryBaseMs?: number
  readonly fetch?: typeof fetch
  readonly log?: (line: string) => void
  /** For tests: the jitter's source. */
  readonly random?: () => number
}

const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,63}$/

const Entity = z.looseObject({
  name: z.string(),
  entity_name: z.optional(z.string()),
  entity_version: z.optional(z.union([z.string(), z.number()])),
  state: z.optional(
    z.looseObject({ deployment: z.optional(z.string()), deployment_state_message: z.optional(z.string()) })
  )
})
const Route = z.looseObject({
  served_entity_name: z.optional(z.string()),
  served_model_name: z.optional(z.string()),
  traffic_percentage: z.optional(z.union([z.number(), z.string()]))
})
const Config = z.looseObject({
  served_entities: z.optional(z.array(Entity)),
  traffic_config: z.optional(z.looseObject({ routes: z.optional(z.array(Route)) })),
  config_version: z.optional(z.union([z.number(), z.string()]))
})
const Endpoint = z.looseObject({
  name: z.string(),
  state: z.optional(
    z.looseObject({
      ready: z.optional(z.string()),
      config_update: z.optional(z.string()),
      // One Databricks guide writes update_state for config_update.
      update_state: z.optional(z.string())
    })
  ),
  config: z.optional(Config),
  pending_config: z.optional(Config)
})
type EndpointJson = z.infer<typeof Endpoint>
type ConfigJson = z.infer<typeof Config>
type EntityJson = z.infer<typeof Entity>

/** What a PUT sends: the entity fields an update must repeat to leave an entity as it is. */
type EntitySpec = Record<string, unknown> & { name: string; entity_name: string; entity_version: string }

interface Snapshot {
  readonly entities: EntitySpec[]
  readonly routes: { served_entity_name: string; traffic_percentage: number }[]
}

interface Call {
  readonly operation: string
  readonly absent?: boolean
}

export class DatabricksServingTarget implements ServingTarget {
  readonly kind = 'databricks'
  readonly endpoint: string
  readonly url: string
  private readonly rest: RestClient<Call>
  private readonly workspace: DatabricksWorkspace
  private readonly endpointSource: string
  private readonly model: string | undefined
  private readonly workloadSize: string
  private readonly scaleToZero: boolean
  private readonly pollMinMs: number
  private readonly pollMaxMs: number
  private readonly log: (line: string) => void
  private readonly random: () => number
  /** The raw configs read, by config_version: what a restore puts back. */
  private readonly snapshots = new Map<string, Snapshot>()
  /** The Authorization header for invocations, refreshed on every read (an OAuth token changes). */
  private authorization: string | undefined
  private refreshing: Promise<void> | undefined

  constructor(options: DatabricksTargetOptions) {
    const source = options.endpointSource ?? "input 'endpoint'"
    if (!ENDPOINT_NAME.test(options.endpoint)) {
      throw new ConfigurationError(
        `"${options.endpoint}" is not a serving endpoint name; expected 1 to 63 letters, digits, '-' or '_'`,
        { source }
      )
    }
    this.endpoint = options.endpoint
    this.endpointSource = source
    this.model = options.model
    this.workspace = options.workspace
    this.url = `${options.workspace.url}/serving-endpoints/${options.endpoint}/invocations`
    this.workloadSize = options.workloadSize ?? 'Small'
    this.scaleToZero = options.scaleToZero ?? false
    this.pollMinMs = options.pollMinMs ?? 1000
    this.pollMaxMs = options.pollMaxMs ?? 10_000
    this.log = options.log ?? (() => undefined)
    this.random = options.random ?? Math.random
    this.rest = new RestClient({
      baseUrl: options.workspace.url,
      auth: options.workspace.credentials.auth,
      label: 'Databricks',
      dialect: servingDialect(options.workspace, this.endpoint, source),
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.log ? { log: options.log } : {})
    })
  }

  async read(): Promise<EndpointState> {
    const current = await this.get()
    if (this.model !== undefined) this.refuseForeign(current, this.model)
    return this.stateOf(current)
  }

  async apply(desired: DesiredState, deadline: Deadline): Promise<void> {
    validate(desired)
    const current = await this.get()
    this.refuseForeign(current, this.model ?? desired.routes[0]!.model.name)
    const active = current ? snapshotOf(current.config) : undefined
    // A version already served keeps its entity (name and settings), so Databricks does not deploy it again.
    const kept = desired.routes.map(route =>
      active?.entities.find(
        e => e.entity_name.toLowerCase() === route.model.name.toLowerCase() && e.entity_version === route.model.version
      )
    )
    // A kept entity may carry the name a new one would get (an entity named by hand): names must be unique.
    const taken = new Set(kept.flatMap(e => (e ? [e.name] : [])))
    const entities: EntitySpec[] = desired.routes.map((route, i) => {
      if (kept[i]) return kept[i]
      const name = uniqueName(entityName(route.model.name, route.model.version), taken)
      taken.add(name)
      return {
        name,
        entity_name: route.model.name,
        entity_version: route.model.version,
        workload_size: this.workloadSize,
        scale_to_zero_enabled: this.scaleToZero
      }
    })
    const config: Snapshot = {
      entities,
      routes: desired.routes.map((route, i) => ({
        served_entity_name: entities[i]!.name,
        traffic_percentage: route.share
      }))
    }
    if (!current) {
      this.log(`creating serving endpoint ${this.endpoint}`)
      const created = await this.write(
        { operation: `create the serving endpoint ${this.endpoint}` },
        { method: 'POST', path: '/api/2.0/serving-endpoints', json: { name: this.endpoint, config: body(config) } },
        deadline
      )
      // Created meanwhile by another run: update it like any other endpoint.
      if (created !== 'exists') return
    } else if (
      current.config &&
      !isUpdating(current) &&
      sameConfig(snapshotOf(current.config), config) &&
      current.pending_config === undefined
    ) {
      return
    }
    await this.putConfig(config, deadline)
  }

  async waitReady(desired: DesiredState, deadline: Deadline): Promise<ReadyResult> {
    const wanted = new Map(desired.routes.map(r => [r.model.version, r.share]))
    for (let attempt = 0; ; attempt++) {
      const current = await this.get()
      const state = this.stateOf(current)
      const update = updateOf(current)
      if (!current) {
        // Deleted meanwhile (by someone else): no update will ever make it ready.
        return { ready: false, reason: `the serving endpoint ${this.endpoint} no longer exists`, state }
      }
      if (!isUpdating(current)) {
        const matches =
          state.versions.length === wanted.size && state.versions.every(v => wanted.get(v.version) === v.weight)
        const notReady = state.versions.filter(v => v.health !== 'ready')
        // A failed update leaves the active config as it was: reported, with what still serves.
        if (!matches && (update === 'UPDATE_FAILED' || update === 'UPDATE_CANCELED')) {
          return {
            ready: false,
            reason: `Databricks reports ${update} for the endpoint ${this.endpoint}; the configuration that served before still serves (config_version ${state.revision ?? 'none'}: ${describe(state)})`,
            state
          }
        }
        if (!matches) {
          return {
            ready: false,
            reason: `the endpoint ${this.endpoint} serves ${describe(state)} (config_version ${state.revision ?? 'none'}), not the configuration asked for`,
            state
          }
        }
        if (notReady.length === 0) return { ready: true, state }
        const failed = notReady.filter(v => v.health === 'failed' || v.health === 'down')
        if (failed.length) {
          return {
            ready: false,
            reason: failed.map(v => `${v.member}: ${v.detail ?? v.health}`).join('; '),
            state
          }
        }
      }
      await this.pause(attempt, deadline, `the endpoint ${this.endpoint} to finish its update`)
    }
  }

  invocation(state: EndpointState): InvocationTarget {
    const versions = new Map(state.versions.map(v => [v.member, v.version]))
    return {
      url: this.url,
      headers: this.invocationHeaders(),
      versionHeader: 'served-model-name',
      versionOf: member => versions.get(member)
    }
  }

  async restore(saved: EndpointState, deadline: Deadline): Promise<void> {
    let current = await this.get()
    if (saved.revision === undefined) {
      // Nothing served before: the endpoint did not exist, so it goes again.
      if (current) {
        this.log(`deleting serving endpoint ${this.endpoint}, which did not exist before`)
        await this.rest.call({ operation: `delete the serving endpoint ${this.endpoint}`, absent: true }, z.unknown(), {
          method: 'DELETE',
          path: this.path(),
          accept: [404]
        })
      }
      return
    }
    if (current && isUpdating(current)) {
      this.log(`waiting for the update in progress on ${this.endpoint} before putting the previous configuration back`)
      current = await this.waitUpdated(deadline, true)
    }
    if (current && sameRouting(this.stateOf(current), saved)) return
    const snapshot = this.snapshots.get(saved.revision) ?? this.snapshotFromState(saved)
    this.log(`putting back config_version ${saved.revision} of ${this.endpoint}`)
    if (!current) {
      await this.write(
        { operation: `create the serving endpoint ${this.endpoint} again` },
        { method: 'POST', path: '/api/2.0/serving-endpoints', json: { name: this.endpoint, config: body(snapshot) } },
        deadline
      )
    } else {
      await this.putConfig(snapshot, deadline)
    }
    const after = await this.waitUpdated(deadline, false)
    const update = after ? updateOf(after) : undefined
    if (update === 'UPDATE_FAILED' || update === 'UPDATE_CANCELED') {
      throw new ServiceError(
        `Databricks reports ${update} for putting back the previous configuration of the endpoint ${this.endpoint}`
      )
    }
  }

  /**
   * Databricks refuses a second update (409) but cannot be held, so this only waits for an update in progress (another
   * run's, or a person's) to finish before the rollout reads the state it plans from and would restore: planned
   * from the config being replaced, a rollout would drop what that update deployed, and its rollback put back a
   * config that no longer served.
   */
  async lock(_purpose: string, deadline: Deadline, onWait?: (holder: string) => void): Promise<() => Promise<void>> {
    const current = await this.get()
    if (current && isUpdating(current)) {
      onWait?.(
        `the update to config_version ${current.pending_config?.config_version ?? '?'} in progress on ${this.endpoint}`
      )
      await this.waitUpdated(deadline, true)
    }
    return async () => undefined
  }

  /** Nothing to release: a served entity no route takes is gone once the promoted config replaced the list. */
  async release(): Promise<void> {}

  /**
   * A served entity of another model would pass for one of this model's versions (versions are numbers, the same
   * in every model), and an update replaces the whole list: it would be removed without a word.
   */
  private refuseForeign(current: EndpointJson | undefined, model: string): void {
    const foreign = (current?.config?.served_entities ?? []).filter(
      e => (e.entity_name ?? '').toLowerCase() !== model.toLowerCase()
    )
    if (foreign.length === 0) return
    const listed = foreign
      .map(e => `${e.name} (${e.entity_name ?? 'no entity_name'} version ${e.entity_version ?? '?'})`)
      .join(', ')
    throw new ConfigurationError(
      `the serving endpoint ${this.endpoint} serves ${listed}, which ${foreign.length === 1 ? 'is' : 'are'} not ${model}; modelgate rolls out one model per endpoint and does not replace another model's served entities: name an endpoint of ${model} only, or remove them from ${this.endpoint} first`,
      { source: this.endpointSource }
    )
  }

  // --- the update protocol ----------------------------------------------------------------------------------------

  /** PUTs a config; 409 (an update in progress) waits for it and sends again, 429 waits as Retry-After says. */
  private async putConfig(config: Snapshot, deadline: Deadline): Promise<void> {
    this.log(
      `updating ${this.endpoint}: ${config.routes.map(r => `${r.served_entity_name} ${r.traffic_percentage}%`).join(', ')}`
    )
    await this.write(
      { operation: `update the configuration of the serving endpoint ${this.endpoint}` },
      { method: 'PUT', path: `${this.path()}/config`, json: body(config) },
      deadline,
      config
    )
  }

  /**
   * Sends a create or an update within the deadline. 409 RESOURCE_CONFLICT (an update in progress) waits for the
   * update, then sends again unless the endpoint now serves `config`; 429 waits as long as Retry-After says, unless
   * that is past the deadline. 'exists' when a create found the endpoint already there.
   */
  private async write(
    call: Call,
    request: HttpRequest,
    deadline: Deadline,
    config?: Snapshot
  ): Promise<'done' | 'exists'> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(call, { ...request, accept: [409, 429], idempotent: true })
      if (response.status < 400) return 'done'
      const error = new HttpError(
        request.method,
        this.rest.http.url(request.path),
        response.status,
        response.text,
        response.json
      )
      if (response.status === 409) {
        if (request.method === 'POST' && error.code !== 'RESOURCE_CONFLICT') return 'exists'
        const current = await this.get()
        if (current && isUpdating(current)) {
          this.log(
            `${this.endpoint} has an update in progress (HTTP 409 ${error.code ?? ''}); waiting for it to finish`
          )
          const after = await this.waitUpdated(deadline, true)
          // The update waited for may be this very one, sent before an answer that was lost (the retry met it).
          if (
            config &&
            after?.config &&
            updateOf(after) !== 'UPDATE_FAILED' &&
            sameConfig(snapshotOf(after.config), config)
          ) {
            return 'done'
          }
        } else {
          // No update explains the conflict (one just ended, or another cause): sent again after a pause, not at once
          // and for ever.
          await this.pause(
            attempt,
            deadline,
            `Databricks to accept the change to ${this.endpoint} (HTTP 409 ${error.code ?? ''}: ${error.serverMessage}, with no update in progress)`
          )
        }
        continue
      }
      const waitMs = retryAfter(response.headers) ?? this.backoff(attempt)
      if (waitMs > remainingMs(deadline)) {
        throw new DeadlineExceededError(
          deadline,
          `Databricks' limit on serving endpoint updates (HTTP 429: ${error.serverMessage}; retry after ${Math.ceil(waitMs / 1000)} s)`
        )
      }
      this.log(`Databricks limits serving endpoint updates (HTTP 429); retrying in ${Math.ceil(waitMs / 1000)} s`)
      await sleep(waitMs, deadline)
    }
  }

  /** Reads until no update is in progress; the endpoint as read then (undefined when it is gone). */
  private async waitUpdated(deadline: Deadline, throwOnDeadline: boolean): Promise<EndpointJson | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get()
      if (!current || !isUpdating(current)) return current
      if (remainingMs(deadline) <= 0 && !throwOnDeadline) return current
      await this.pause(
        attempt,
        deadline,
        `the update to config_version ${current.pending_config?.config_version ?? '?'} of ${this.endpoint} to finish (the previous configuration still serves meanwhile; Databricks has no call to cancel an update)`
      )
    }
  }

  private async get(): Promise<EndpointJson | undefined> {
    const answer = await this.rest.call(
      { operation: `read the serving endpoint ${this.endpoint}`, absent: true },
      Endpoint,
      {
        method: 'GET',
        path: this.path(),
        accept: [404]
      }
    )
    this.authorization = await this.authorizationHeader()
    if (answer?.config) {
      const version = answer.config.config_version
      if (version !== undefined) this.snapshots.set(String(version), snapshotOf(answer.config))
    }
    return answer
  }

  private async send(call: Call, request: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.rest.http.request(request)
    } catch (error) {
      throw this.rest.translate(call, error, this.rest.http.url(request.path))
    }
  }

  private async pause(attempt: number, deadline: Deadline, waitingFor: string): Promise<void> {
    const left = remainingMs(deadline)
    if (left <= 0) throw new DeadlineExceededError(deadline, waitingFor)
    await sleep(Math.min(left, this.backoff(attempt)), deadline)
  }

  /** 1 s, 2 s, 4 s, 8 s, then 10 s, each between half and all of it. */
  private backoff(attempt: number): number {
    const step = Math.min(this.pollMaxMs, this.pollMinMs * 2 ** Math.min(attempt, 20))
    return step * (0.5 + this.random() / 2)
  }

  private stateOf(current: EndpointJson | undefined): EndpointState {
    if (!current) return { endpoint: this.endpoint, versions: [], updating: false }
    const updating = isUpdating(current)
    const config = current.config
    if (!config) return { endpoint: this.endpoint, versions: [], updating }
    const routes = config.traffic_config?.routes ?? []
    const entities = config.served_entities ?? []
    const weights = entities.map(e => percentageOf(routes, e.name))
    const shares = sharesFromWeights(weights)
    const versions: ServedVersion[] = entities.map((e, i) => {
      const message = e.state?.deployment_state_message
      return {
        version: String(e.entity_version ?? ''),
        member: e.name,
        address: `${e.entity_name ?? ''}@${e.entity_version ?? ''}`,
        weight: weights[i]!,
        share: shares[i]!,
        health: healthOf(e),
        ...(message ? { detail: `${e.state?.deployment}: ${message}` } : {})
      }
    })
    return {
      endpoint: this.endpoint,
      versions,
      updating,
      ...(config.config_version !== undefined ? { revision: String(config.config_version) } : {})
    }
  }

  /** A state read by another process, without its raw config: entities rebuilt from members and addresses. */
  private snapshotFromState(saved: EndpointState): Snapshot {
    const entities = saved.versions.map(v => {
      const at = v.address.lastIndexOf('@')
      return {
        name: v.member,
        entity_name: v.address.slice(0, at),
        entity_version: v.address.slice(at + 1),
        workload_size: this.workloadSize,
        scale_to_zero_enabled: this.scaleToZero
      }
    })
    return {
      entities,
      routes: saved.versions.map(v => ({ served_entity_name: v.member, traffic_percentage: v.weight }))
    }
  }

  private path(): string {
    return `/api/2.0/serving-endpoints/${encodeURIComponent(this.endpoint)}`
  }

  /**
   * An OAuth token lives an hour and a long observation can outlast it: the probe spreads these headers into each
   * request, so a getter hands every request the latest token and asks the token source (which caches it until
   * shortly before it expires) for the next one, while the one in hand is still valid.
   */
  private invocationHeaders(): Readonly<Record<string, string>> {
    const current = this.authorization
    if (current === undefined) return {}
    if (this.workspace.credentials.auth.kind !== 'token-provider') return { authorization: current }
    return Object.defineProperty({} as Record<string, string>, 'authorization', {
      enumerable: true,
      get: () => {
        this.refreshing ??= this.authorizationHeader()
          .then(header => {
            this.authorization = header
          })
          // A refused refresh is reported by the next read, with its message; meanwhile the token in hand is sent.
          .catch(() => undefined)
          .finally(() => {
            this.refreshing = undefined
          })
        return this.authorization ?? current
      }
    })
  }

  private async authorizationHeader(): Promise<string | undefined> {
    const auth = this.workspace.credentials.auth
    if (auth.kind === 'bearer') return `Bearer ${auth.token}`
    if (auth.kind === 'token-provider') return `Bearer ${await auth.token()}`
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  }
}

/** `churn-7` for version 7 of `main.ml.churn`: the UC name's last part, in the characters an entity name takes. */
export function entityName(model: string, version: string): string {
  const base = (model.split('.').at(-1) ?? model).replace(/[^A-Za-z0-9_-]/g, '-')
  return `${base.slice(0, 62 - version.length)}-${version}`
}

/** `name`, or `name_2`, `name_3`… (within 63 characters) when a kept entity already has it. */
function uniqueName(base: string, taken: ReadonlySet<string>): string {
  let name = base
  for (let n = 2; taken.has(name); n++) name = `${base.slice(0, 62 - String(n).length)}_${n}`
  return name
}

function validate(desired: DesiredState): void {
  const sum = desired.routes.reduce((total, r) => total + r.share, 0)
  const versions = new Set(desired.routes.map(r => r.model.version))
  if (
    desired.routes.length === 0 ||
    sum !== 100 ||
    versions.size !== desired.routes.length ||
    desired.routes.some(r => !Number.isInteger(r.share) || r.share < 0)
  ) {
    throw new Error(
      `a desired state needs distinct versions with whole percentages summing to 100, got ${desired.routes.map(r => `${r.model.version}:${r.share}`).join(', ')}`
    )
  }
}

/** Entity fields the workspace reports, which an update does not take back. */
const REPORTED_FIELDS = ['state', 'creation_timestamp', 'creator', 'external_model_state']

function snapshotOf(config: ConfigJson | undefined): Snapshot {
  const entities = (config?.served_entities ?? []).map(e => {
    // Everything the entity was created with, but not what the workspace reports about it.
    const spec: Record<string, unknown> = { ...e }
    for (const reported of REPORTED_FIELDS) delete spec[reported]
    return {
      ...spec,
      entity_name: e.entity_name ?? '',
      entity_version: String(e.entity_version ?? '')
    } as EntitySpec
  })
  const routes = entities.map(e => ({
    served_entity_name: e.name,
    traffic_percentage: percentageOf(config?.traffic_config?.routes ?? [], e.name)
  }))
  return { entities, routes }
}

function body(config: Snapshot): Record<string, unknown> {
  return { served_entities: config.entities, traffic_config: { routes: config.routes } }
}

function sameConfig(a: Snapshot, b: Snapshot): boolean {
  const key = (s: Snapshot) =>
    s.entities
      .map(e => `${e.name} ${e.entity_name.toLowerCase()} ${e.entity_version} ${percentageOf(s.routes, e.name)}`)
      .sort()
      .join('\n')
  return key(a) === key(b)
}

function percentageOf(routes: readonly z.infer<typeof Route>[], entity: string): number {
  const route = routes.find(r => (r.served_entity_name ?? r.served_model_name) === entity)
  return route ? Number(route.traffic_percentage ?? 0) : 0
}

function updateOf(current: EndpointJson | undefined): string | undefined {
  return current?.state?.config_update ?? current?.state?.update_state
}

function isUpdating(current: EndpointJson): boolean {
  return updateOf(current) === 'IN_PROGRESS' || current.pending_config !== undefined
}

function healthOf(entity: EntityJson): ServedVersion['health'] {
  switch (entity.state?.deployment) {
    case 'DEPLOYMENT_READY':
      return 'ready'
    case 'DEPLOYMENT_CREATING':
    case 'DEPLOYMENT_RECOVERING':
      return 'starting'
    case 'DEPLOYMENT_FAILED':
      return 'failed'
    default:
      return 'down'
  }
}

function describe(state: EndpointState): string {
  return state.versions.map(v => `${v.member} ${v.weight}%`).join(', ') || 'nothing'
}

/** Sleeps `ms`, or less when the deadline's signal (a cancelled job) fires, so a cancel is not held up by a poll. */
function sleep(ms: number, deadline: Deadline): Promise<void> {
  const signal = (deadline as Deadline & { readonly signal?: AbortSignal }).signal
  return new Promise(resolve => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Model Serving's answers in words: credentials and permissions are the user's to fix. */
function servingDialect(workspace: DatabricksWorkspace, endpoint: string, endpointSource: string): RestDialect<Call> {
  const where = `Databricks Model Serving at ${workspace.url}`
  const credentials = workspace.credentials.source
  return {
    name: where,
    describe: call => call.operation,
    unexpectedHint: `is ${workspace.hostSource} a workspace URL?`,
    isAbsent: (call, answer) =>
      call.absent === true && (answer.code === 'RESOURCE_DOES_NOT_EXIST' || answer.code === 'NOT_FOUND'),
    translate: (call, error) => {
      if (error instanceof NetworkError) {
        return new ServiceError(
          `could not ${call.operation}: no answer from ${where} (${error.reason}) after retries`,
          undefined,
          error.timedOut ? 'TIMEOUT' : 'NETWORK'
        )
      }
      const status = `HTTP ${error.status}${error.code ? ` ${error.code}` : ''}`
      if (error.status === 401) {
        return new ConfigurationError(
          `${where} refused the credentials to ${call.operation} (${status}: ${error.serverMessage}); check ${credentials}`,
          { source: credentials.split('/')[0]! }
        )
      }
      if (error.status === 403) {
        return new ConfigurationError(
          `${where} denied the request to ${call.operation} (${status}: ${error.serverMessage}); the identity behind ${credentials} needs CAN_MANAGE on the serving endpoint ${endpoint} (or the right to create endpoints) and EXECUTE on the registered model`,
          { source: credentials.split('/')[0]! }
        )
      }
      if (error.status === 400 || error.status === 404) {
        return new ConfigurationError(`${where} refused to ${call.operation} (${status}: ${error.serverMessage})`, {
          source: endpointSource
        })
      }
      return new ServiceError(
        `${where} failed to ${call.operation}: ${status}: ${error.serverMessage}`,
        error.status,
        error.code
      )
    }
  }
}
