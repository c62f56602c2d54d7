/**
 * Databricks Model Serving in the workspace double: serving endpoints with their configuration update state
 * machine, and their invocations. It follows the documented API (docs.databricks.com/api/workspace/servingendpoints,
 * "Update a model serving endpoint's configuration", "Model serving limits", and databricks-sdk 0.167.0's
 * `service/serving.py` for field names and enum values):
 * - `POST /api/2.0/serving-endpoints` `{name, config: {served_entities, traffic_config}}` creates an endpoint; the
 *   answer and `GET /api/2.0/serving-endpoints/{name}` are the endpoint object: `state: {ready, config_update}`,
 *   `config` (what serves, with `config_version`), `pending_config` (what it is updating to, with `start_time`).
 * - `PUT /api/2.0/serving-endpoints/{name}/config` `{served_entities, traffic_config}` replaces the served entities;
 *   while an update is IN_PROGRESS it answers 409 RESOURCE_CONFLICT ("can not be updated until the current update
 *   completes or fails").
 * - The active `config` serves until the pending one is ready; a failed update (UPDATE_FAILED) leaves the active
 *   config as it was ("as if the update didn't happen"). `state.ready` is READY iff every served entity of the
 *   active config is DEPLOYMENT_READY.
 * - `POST /serving-endpoints/{name}/invocations` (no /api/2.0) takes `dataframe_split | dataframe_records |
 *   instances | inputs` and answers `{"predictions": [...]}` with the `served-model-name` header naming the served
 *   entity that answered, chosen by the routes' percentages.
 * - At most 50 create or update operations per 5 minutes per workspace; more answer 429 REQUEST_LIMIT_EXCEEDED
 *   with Retry-After.
 * - Requests are validated as the API describes them: a name of 1–63 letters, digits, `-` and `_`; entity names
 *   unique; a UC entity naming a registered model version; every entity with exactly one route and routes naming
 *   only entities; integer percentages 0–100 summing to 100; workload_size Small|Medium|Large.
 *
 * Where it simplifies or guesses (no document states it):
 * - Deployment takes `deployMs` of wall time (real: minutes). An entity whose name, model, version and workload
 *   are unchanged keeps its READY state through an update, so a traffic-only update is quick but still goes
 *   through IN_PROGRESS.
 * - An update that never finishes stays IN_PROGRESS until `updateTimeoutMs` (default: forever), then fails as
 *   UPDATE_FAILED with the entity DEPLOYMENT_FAILED; a real workspace gives up after a time not documented.
 * - UPDATE_CANCELED is never produced: no documented request cancels an update.
 * - The first config of a new endpoint is `pending_config` until ready, with no `config`; if it fails, the endpoint
 *   stays without a config, NOT_READY and UPDATE_FAILED.
 * - Invoking an endpoint that has no active config answers 503 TEMPORARILY_UNAVAILABLE; a model error answers
 *   400 BAD_REQUEST (the status is the test's choice), with the `served-model-name` header.
 * - The entities' default name is `<entity_name>-<entity_version>` as documented, dots included.
 * - Only `served_entities` with `entity_name` (no `served_models`, external or foundation models), no tags, AI
 *   gateway, rate limits, metrics, logs or permissions.
 *
 * The split among routes is deterministic (smooth weighted round robin, as nginx does it), so a test can assert
 * an exact 90/10 split over 100 requests; the real router is random.
 */

export type DeploymentState =
  'DEPLOYMENT_CREATING' | 'DEPLOYMENT_READY' | 'DEPLOYMENT_FAILED' | 'DEPLOYMENT_ABORTED' | 'DEPLOYMENT_RECOVERING'

export type ConfigUpdate = 'NOT_UPDATING' | 'IN_PROGRESS' | 'UPDATE_FAILED' | 'UPDATE_CANCELED'

export interface ServingOptions {
  /** How long a new served entity takes to deploy. Default 100 ms. */
  deployMs?: number
  /** When an update still running gives up and fails. Default: never. */
  updateTimeoutMs?: number
  /** Create and update operations allowed per window. Default 50 per 5 minutes, the documented limit. */
  updateLimit?: { count: number; windowMs: number }
}

export interface ServingControls {
  /** Every served entity of this model version fails to deploy, with this message. */
  failDeployment(entityName: string, version: string, message?: string): void
  /** Every served entity of this model version stays DEPLOYMENT_CREATING. */
  stallDeployment(entityName: string, version: string): void
  /** Every prediction of this model version answers an error (status default 400). */
  failPredictions(entityName: string, version: string, status?: number): void
  /** Every prediction of this model version takes `ms` longer. */
  slowPredictions(entityName: string, version: string, ms: number): void
  /** The endpoint object as GET answers it, or undefined. */
  endpoint(name: string): Record<string, unknown> | undefined
  /** Invocations answered per served entity name, since the endpoint was created. */
  answeredBy(name: string): Record<string, number>
}

export interface ServingReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
  delayMs?: number
}

export interface ServingContext {
  fail(status: number, code: string, message: string): never
  /** Whether a UC model version exists and is READY (lower-case three-level name). */
  versionReady(name: string, version: string): boolean
  identity: { name: string; write: boolean }
}

interface Entity {
  name: string
  entityName: string
  entityVersion: string
  workloadSize: string
  scaleToZero: boolean
  deployment: DeploymentState
  message: string
  createdAt: number
}

interface Route {
  entity: string
  percentage: number
}

interface Config {
  version: number
  entities: Entity[]
  routes: Route[]
  startedAt: number
}

interface Endpoint {
  name: string
  id: string
  creator: string
  createdAt: number
  updatedAt: number
  config?: Config
  pending?: Config
  update: ConfigUpdate
  nextVersion: number
  /** Smooth weighted round robin: current weight per entity name. */
  current: Map<string, number>
  answered: Map<string, number>
}

const API = '/api/2.0/serving-endpoints'
const NAME = /^[A-Za-z0-9_-]{1,63}$/
const WORKLOADS = new Set(['Small', 'Medium', 'Large'])
const INPUT_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const

export function createServing(options: ServingOptions = {}) {
  const deployMs = options.deployMs ?? 100
  const updateTimeoutMs = options.updateTimeoutMs
  const limit = options.updateLimit ?? { count: 50, windowMs: 5 * 60_000 }
  const endpoints = new Map<string, Endpoint>()
  const operations: number[] = []
  const failing = new Map<string, string>()
  const stalled = new Set<string>()
  const erroring = new Map<string, number>()
  const slow = new Map<string, number>()
  let ids = 0

  const key = (entityName: string, version: string) => `${entityName.toLowerCase()}@${version}`

  /** Moves an endpoint's pending update along by the clock: deployments finish, fail, or give up. */
  function advance(endpoint: Endpoint, now = Date.now()): void {
    const pending = endpoint.pending
    if (!pending) return
    const elapsed = now - pending.startedAt
    for (const entity of pending.entities) {
      if (entity.deployment !== 'DEPLOYMENT_CREATING') continue
      const which = key(entity.entityName, entity.entityVersion)
      if (stalled.has(which)) {
        if (updateTimeoutMs !== undefined && elapsed >= updateTimeoutMs) {
          entity.deployment = 'DEPLOYMENT_FAILED'
          entity.message = `Served entity creation timed out after ${Math.round(updateTimeoutMs / 1000)} s.`
        }
        continue
      }
      if (elapsed < deployMs) continue
      const failure = failing.get(which)
      if (failure === undefined) {
        entity.deployment = 'DEPLOYMENT_READY'
        entity.message = ''
      } else {
        entity.deployment = 'DEPLOYMENT_FAILED'
        entity.message = failure
      }
    }
    const failed = pending.entities.some(e => e.deployment === 'DEPLOYMENT_FAILED')
    if (failed) {
      for (const entity of pending.entities) {
        if (entity.deployment === 'DEPLOYMENT_CREATING') {
          entity.deployment = 'DEPLOYMENT_ABORTED'
          entity.message = 'Served entity creation aborted because another served entity of the config failed.'
        }
      }
      // The active config stays as it was, as if the update did not happen.
      delete endpoint.pending
      endpoint.update = 'UPDATE_FAILED'
      endpoint.updatedAt = now
      return
    }
    // Even a traffic-only change goes through IN_PROGRESS for a while.
    if (elapsed >= deployMs && pending.entities.every(e => e.deployment === 'DEPLOYMENT_READY')) {
      endpoint.config = pending
      delete endpoint.pending
      endpoint.update = 'NOT_UPDATING'
      endpoint.current = new Map()
      endpoint.updatedAt = now
    }
  }

  function existing(name: string, ctx: ServingContext): Endpoint {
    const endpoint = endpoints.get(name)
    if (!endpoint) ctx.fail(404, 'RESOURCE_DOES_NOT_EXIST', `Endpoint with name '${name}' does not exist.`)
    advance(endpoint!)
    return endpoint!
  }

  function requireWrite(ctx: ServingContext, name: string): void {
    if (!ctx.identity.write) {
      ctx.fail(
        403,
        'PERMISSION_DENIED',
        `User '${ctx.identity.name}' does not have CAN_MANAGE permission on serving endpoint '${name}'.`
      )
    }
  }

  /** The documented limit on create and update operations, counted across the workspace. */
  function countOperation(): ServingReply | undefined {
    const now = Date.now()
    while (operations.length && operations[0]! <= now - limit.windowMs) operations.shift()
    if (operations.length >= limit.count) {
      const retryAfter = Math.max(1, Math.ceil((operations[0]! + limit.windowMs - now) / 1000))
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfter) },
        body: {
          error_code: 'REQUEST_LIMIT_EXCEEDED',
          message: `Exceeded the limit of ${limit.count} serving endpoint create or update operations per ${limit.windowMs / 1000} s in this workspace.`
        }
      }
    }
    operations.push(now)
    return undefined
  }

  /** A config from a request body, checked as the workspace checks it. */
  function parseConfig(body: Record<string, unknown>, ctx: ServingContext, previous?: Config): Config {
    const now = Date.now()
    if (body.served_models !== undefined) {
      ctx.fail(400, 'INVALID_PARAMETER_VALUE', 'served_models is deprecated; the double takes served_entities only.')
    }
    const list = body.served_entities
    if (!Array.isArray(list) || list.length === 0) {
      ctx.fail(400, 'INVALID_PARAMETER_VALUE', 'The config must have at least one served entity (served_entities).')
    }
    const entities: Entity[] = (list as unknown[]).map((raw, index) => {
      const item = (raw ?? {}) as Record<string, unknown>
      const where = `served_entities[${index}]`
      if (typeof item.entity_name !== 'string' || !item.entity_name) {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `${where}.entity_name is required.`)
      }
      const entityName = (item.entity_name as string).toLowerCase()
      const version = item.entity_version
      if (typeof version !== 'string' || !/^\d+$/.test(version)) {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `${where}.entity_version must be a version number as a string.`)
      }
      if (!ctx.versionReady(entityName, version as string)) {
        ctx.fail(
          404,
          'RESOURCE_DOES_NOT_EXIST',
          `${where}: model version '${entityName}/${version}' does not exist or is not READY in Unity Catalog.`
        )
      }
      const workloadSize = item.workload_size ?? 'Small'
      if (typeof workloadSize !== 'string' || !WORKLOADS.has(workloadSize)) {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `${where}.workload_size must be Small, Medium or Large.`)
      }
      if (item.scale_to_zero_enabled !== undefined && typeof item.scale_to_zero_enabled !== 'boolean') {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `${where}.scale_to_zero_enabled must be a boolean.`)
      }
      const name = item.name === undefined ? `${entityName}-${version}` : item.name
      if (typeof name !== 'string' || !NAME.test(name.replace(/\./g, '_'))) {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `${where}.name must be 1-63 letters, digits, '-' or '_'.`)
      }
      const scaleToZero = item.scale_to_zero_enabled === true
      // An entity that is the same as one already serving is not deployed again.
      const same = previous?.entities.find(
        e =>
          e.name === name &&
          e.entityName === entityName &&
          e.entityVersion === version &&
          e.workloadSize === workloadSize &&
          e.scaleToZero === scaleToZero &&
          e.deployment === 'DEPLOYMENT_READY'
      )
      return {
        name: name as string,
        entityName,
        entityVersion: version as string,
        workloadSize: workloadSize as string,
        scaleToZero,
        deployment: same ? 'DEPLOYMENT_READY' : 'DEPLOYMENT_CREATING',
        message: '',
        createdAt: same?.createdAt ?? now
      }
    })
    const names = entities.map(e => e.name)
    const duplicate = names.find((name, i) => names.indexOf(name) !== i)
    if (duplicate)
      ctx.fail(400, 'INVALID_PARAMETER_VALUE', `Served entity names must be unique: '${duplicate}' repeats.`)
    const traffic = body.traffic_config as { routes?: unknown } | undefined
    let routes: Route[]
    if (traffic === undefined) {
      if (entities.length > 1) {
        ctx.fail(
          400,
          'INVALID_PARAMETER_VALUE',
          'traffic_config is required when there is more than one served entity.'
        )
      }
      routes = [{ entity: entities[0]!.name, percentage: 100 }]
    } else {
      if (!Array.isArray(traffic.routes)) ctx.fail(400, 'INVALID_PARAMETER_VALUE', 'traffic_config.routes is required.')
      routes = (traffic.routes as unknown[]).map((raw, index) => {
        const item = (raw ?? {}) as Record<string, unknown>
        const entity = item.served_entity_name ?? item.served_model_name
        if (typeof entity !== 'string' || !names.includes(entity)) {
          ctx.fail(
            400,
            'INVALID_PARAMETER_VALUE',
            `traffic_config.routes[${index}] names '${String(entity)}', which is not a served entity of the config.`
          )
        }
        const percentage = item.traffic_percentage
        const value = typeof percentage === 'string' && /^\d+$/.test(percentage) ? Number(percentage) : percentage
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
          ctx.fail(
            400,
            'INVALID_PARAMETER_VALUE',
            `traffic_config.routes[${index}].traffic_percentage must be an integer from 0 to 100.`
          )
        }
        return { entity: entity as string, percentage: value as number }
      })
      for (const name of names) {
        const count = routes.filter(r => r.entity === name).length
        if (count !== 1) {
          ctx.fail(
            400,
            'INVALID_PARAMETER_VALUE',
            `Every served entity needs exactly one route; '${name}' has ${count}.`
          )
        }
      }
      const sum = routes.reduce((total, r) => total + r.percentage, 0)
      if (sum !== 100) {
        ctx.fail(400, 'INVALID_PARAMETER_VALUE', `The traffic percentages must sum to 100, not ${sum}.`)
      }
    }
    return { version: 0, entities, routes, startedAt: now }
  }

  function startUpdate(endpoint: Endpoint, config: Config): void {
    config.version = endpoint.nextVersion++
    endpoint.pending = config
    endpoint.update = 'IN_PROGRESS'
    endpoint.updatedAt = config.startedAt
  }

  function configJson(config: Config, pending: boolean) {
    return {
      served_entities: config.entities.map(e => ({
        name: e.name,
        entity_name: e.entityName,
        entity_version: e.entityVersion,
        workload_size: e.workloadSize,
        scale_to_zero_enabled: e.scaleToZero,
        creation_timestamp: e.createdAt,
        state: {
          deployment: e.deployment,
          ...(e.message ? { deployment_state_message: e.message } : {})
        }
      })),
      traffic_config: {
        routes: config.routes.map(r => ({
          served_model_name: r.entity,
          served_entity_name: r.entity,
          traffic_percentage: r.percentage
        }))
      },
      config_version: config.version,
      ...(pending ? { start_time: config.startedAt } : {})
    }
  }

  function endpointJson(endpoint: Endpoint) {
    const ready = endpoint.config?.entities.every(e => e.deployment === 'DEPLOYMENT_READY') === true
    return {
      name: endpoint.name,
      id: endpoint.id,
      creator: endpoint.creator,
      creation_timestamp: endpoint.createdAt,
      last_updated_timestamp: endpoint.updatedAt,
      state: { ready: ready ? 'READY' : 'NOT_READY', config_update: endpoint.update },
      ...(endpoint.config ? { config: configJson(endpoint.config, false) } : {}),
      ...(endpoint.pending ? { pending_config: configJson(endpoint.pending, true) } : {}),
      permission_level: 'CAN_MANAGE',
      route_optimized: false
    }
  }

  function create(body: Record<string, unknown>, ctx: ServingContext): ServingReply {
    const name = body.name
    if (typeof name !== 'string' || !NAME.test(name)) {
      ctx.fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid endpoint name '${String(name)}': 1-63 letters, digits, '-' and '_'.`
      )
    }
    requireWrite(ctx, name as string)
    if (endpoints.has(name as string)) {
      ctx.fail(409, 'RESOURCE_ALREADY_EXISTS', `Endpoint with name '${name}' already exists.`)
    }
    const config = parseConfig((body.config ?? {}) as Record<string, unknown>, ctx)
    const limited = countOperation()
    if (limited) return limited
    const endpoint: Endpoint = {
      name: name as string,
      id: `${(++ids).toString(16).padStart(32, '0')}`,
      creator: ctx.identity.name,
      createdAt: config.startedAt,
      updatedAt: config.startedAt,
      update: 'IN_PROGRESS',
      nextVersion: 1,
      current: new Map(),
      answered: new Map()
    }
    endpoints.set(endpoint.name, endpoint)
    startUpdate(endpoint, config)
    return { status: 200, body: endpointJson(endpoint) }
  }

  function updateConfig(name: string, body: Record<string, unknown>, ctx: ServingContext): ServingReply {
    const endpoint = existing(name, ctx)
    requireWrite(ctx, name)
    if (endpoint.update === 'IN_PROGRESS') {
      ctx.fail(
        409,
        'RESOURCE_CONFLICT',
        `Endpoint '${name}' is currently being updated; an endpoint that already has an update in progress can not be updated until the current update completes or fails.`
      )
    }
    const config = parseConfig(body, ctx, endpoint.config)
    const limited = countOperation()
    if (limited) return limited
    startUpdate(endpoint, config)
    return { status: 200, body: endpointJson(endpoint) }
  }

  function invoke(name: string, body: unknown, ctx: ServingContext): ServingReply {
    const endpoint = existing(name, ctx)
    const config = endpoint.config
    if (!config) {
      ctx.fail(503, 'TEMPORARILY_UNAVAILABLE', `Endpoint '${name}' is not ready: it has no active configuration yet.`)
    }
    const fields = (body ?? {}) as Record<string, unknown>
    const given = INPUT_KEYS.filter(k => fields[k] !== undefined)
    if (typeof body !== 'object' || body === null || given.length !== 1) {
      ctx.fail(
        400,
        'BAD_REQUEST',
        `The input must be a JSON dictionary with exactly one of the input fields {${INPUT_KEYS.map(k => `'${k}'`).join(', ')}}.`
      )
    }
    const rows = rowCount(fields[given[0]!])
    const entity = pick(endpoint, config!)
    endpoint.answered.set(entity.name, (endpoint.answered.get(entity.name) ?? 0) + 1)
    const which = key(entity.entityName, entity.entityVersion)
    const headers = { 'served-model-name': entity.name }
    const delayMs = slow.get(which)
    const error = erroring.get(which)
    if (error !== undefined) {
      return {
        status: error,
        headers,
        ...(delayMs ? { delayMs } : {}),
        body: {
          error_code: error === 400 ? 'BAD_REQUEST' : 'INTERNAL_ERROR',
          message: `Encountered an unexpected error while evaluating the model. Verify that the input is compatible with the model for inference. Error 'the model raised on every prediction'`
        }
      }
    }
    return {
      status: 200,
      headers,
      ...(delayMs ? { delayMs } : {}),
      body: { predictions: Array.from({ length: rows }, () => 0) }
    }
  }

  /** Smooth weighted round robin over the routes that take traffic: exact shares over every 100 requests. */
  function pick(endpoint: Endpoint, config: Config): Entity {
    const routes = config.routes.filter(r => r.percentage > 0)
    let best: Route | undefined
    for (const route of routes) {
      const weight = (endpoint.current.get(route.entity) ?? 0) + route.percentage
      endpoint.current.set(route.entity, weight)
      if (!best || weight > endpoint.current.get(best.entity)!) best = route
    }
    endpoint.current.set(best!.entity, endpoint.current.get(best!.entity)! - 100)
    return config.entities.find(e => e.name === best!.entity)!
  }

  /**
   * Answers a serving request, or undefined when the path is not Model Serving's. The caller authenticated it.
   */
  function handle(method: string, path: string, body: unknown, ctx: ServingContext): ServingReply | undefined {
    const fields = (body ?? {}) as Record<string, unknown>
    const invocation = /^\/serving-endpoints\/([^/]+)\/invocations$/.exec(path)
    if (invocation && method === 'POST') return invoke(invocation[1]!, body, ctx)
    if (path === API && method === 'POST') return create(fields, ctx)
    if (path === API && method === 'GET') {
      for (const endpoint of endpoints.values()) advance(endpoint)
      return { status: 200, body: { endpoints: [...endpoints.values()].map(endpointJson) } }
    }
    const config = new RegExp(`^${API}/([^/]+)/config$`).exec(path)
    if (config && method === 'PUT') return updateConfig(config[1]!, fields, ctx)
    const one = new RegExp(`^${API}/([^/]+)$`).exec(path)
    if (one && method === 'GET') return { status: 200, body: endpointJson(existing(one[1]!, ctx)) }
    if (one && method === 'DELETE') {
      existing(one[1]!, ctx)
      requireWrite(ctx, one[1]!)
      endpoints.delete(one[1]!)
      return { status: 200, body: {} }
    }
    return undefined
  }

  const controls: ServingControls = {
    failDeployment(entityName, version, message = 'Container failed to start: the model could not be loaded.') {
      failing.set(key(entityName, version), message)
    },
    stallDeployment(entityName, version) {
      stalled.add(key(entityName, version))
    },
    failPredictions(entityName, version, status = 400) {
      erroring.set(key(entityName, version), status)
    },
    slowPredictions(entityName, version, ms) {
      slow.set(key(entityName, version), ms)
    },
    endpoint(name) {
      const endpoint = endpoints.get(name)
      if (!endpoint) return undefined
      advance(endpoint)
      return endpointJson(endpoint) as Record<string, unknown>
    },
    answeredBy(name) {
      return Object.fromEntries(endpoints.get(name)?.answered ?? [])
    }
  }

  return { handle, controls }
}

/** How many rows a scoring input holds, for one prediction each. */
function rowCount(input: unknown): number {
  if (Array.isArray(input)) return input.length
  if (input && typeof input === 'object') {
    const data = (input as { data?: unknown }).data
    if (Array.isArray(data)) return data.length
    const first = Object.values(input)[0]
    if (Array.isArray(first)) return first.length
  }
  return 1
}
