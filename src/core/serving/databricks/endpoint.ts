/**
 * Databricks Model Serving seen through the serving target's shapes (serving-facts §1): how an endpoint's GET
 * answer reads as an EndpointState, and how a desired state becomes the `served_entities` + `traffic_config` of a
 * config PUT. The REST client, the update state machine (409, 429, UPDATE_FAILED) and the target built on these
 * come next, against the Databricks double; these mappings need neither.
 *
 * Databricks has no rollback call: a rollback PUTs the saved config back. An EndpointState keeps only what the
 * rollout compares, so the target keeps the raw `config` it read, by `config_version`, to put it back whole.
 */
import * as z from 'zod/mini'
import type { DesiredState, EndpointState, ServedVersion } from '../types.js'

z.config({ jitless: true })

const Entity = z.looseObject({
  name: z.optional(z.string()),
  entity_name: z.optional(z.string()),
  entity_version: z.optional(z.union([z.string(), z.number()])),
  // The deprecated served_models spell the model this way.
  model_name: z.optional(z.string()),
  model_version: z.optional(z.union([z.string(), z.number()])),
  state: z.optional(
    z.looseObject({ deployment: z.optional(z.string()), deployment_state_message: z.optional(z.string()) })
  )
})

const Route = z.looseObject({
  served_model_name: z.optional(z.string()),
  served_entity_name: z.optional(z.string()),
  // An int in the API; the docs' example writes a string.
  traffic_percentage: z.union([z.number(), z.string()])
})

const Config = z.looseObject({
  config_version: z.optional(z.union([z.number(), z.string()])),
  served_entities: z.optional(z.array(Entity)),
  served_models: z.optional(z.array(Entity)),
  traffic_config: z.optional(z.looseObject({ routes: z.optional(z.array(Route)) }))
})

export const ServingEndpointSchema = z.looseObject({
  name: z.string(),
  state: z.optional(
    z.looseObject({
      ready: z.optional(z.string()),
      config_update: z.optional(z.string()),
      // One guide spells it this way.
      update_state: z.optional(z.string())
    })
  ),
  config: z.optional(Config),
  pending_config: z.optional(Config)
})

export type ServingEndpoint = z.infer<typeof ServingEndpointSchema>
export type EndpointConfig = z.infer<typeof Config>

/** The states of `state.config_update`. */
export type ConfigUpdate = 'NOT_UPDATING' | 'IN_PROGRESS' | 'UPDATE_FAILED' | 'UPDATE_CANCELED'

export function configUpdateOf(endpoint: ServingEndpoint): ConfigUpdate | string {
  return endpoint.state?.config_update ?? endpoint.state?.update_state ?? 'NOT_UPDATING'
}

/** What serves: the active `config` (never `pending_config`, which is only what was asked for). */
export function stateOfEndpoint(endpoint: ServingEndpoint): EndpointState {
  const config = endpoint.config
  const entities = config?.served_entities ?? config?.served_models ?? []
  const routes = config?.traffic_config?.routes ?? []
  const versions: ServedVersion[] = entities.map(entity => {
    const name = entity.name ?? ''
    const route = routes.find(r => (r.served_entity_name ?? r.served_model_name) === name)
    const weight = route ? Number(route.traffic_percentage) : 0
    const model = entity.entity_name ?? entity.model_name ?? ''
    const version = String(entity.entity_version ?? entity.model_version ?? '')
    const deployment = entity.state?.deployment
    return {
      version,
      member: name,
      address: `${model}@${version}`,
      weight,
      share: weight,
      health: healthOf(deployment, endpoint.state?.ready),
      ...(deployment || entity.state?.deployment_state_message
        ? { detail: [deployment, entity.state?.deployment_state_message].filter(Boolean).join(': ') }
        : {})
    }
  })
  const update = configUpdateOf(endpoint)
  return {
    endpoint: endpoint.name,
    versions,
    updating: update === 'IN_PROGRESS',
    ...(config?.config_version === undefined ? {} : { revision: String(config.config_version) })
  }
}

function healthOf(deployment: string | undefined, ready: string | undefined): ServedVersion['health'] {
  switch (deployment) {
    case 'DEPLOYMENT_READY':
    case 'READY':
      return 'ready'
    case 'DEPLOYMENT_CREATING':
    case 'DEPLOYMENT_RECOVERING':
    case 'CREATING':
    case 'RECOVERING':
      return 'starting'
    case 'DEPLOYMENT_FAILED':
    case 'DEPLOYMENT_ABORTED':
    case 'FAILED':
    case 'ABORTED':
      return 'failed'
    default:
      return ready === 'READY' ? 'ready' : 'starting'
  }
}

export interface EntityOptions {
  /** `Small`, `Medium` or `Large`. Default `Small`. */
  readonly workloadSize?: string
  /** Default true. */
  readonly scaleToZero?: boolean
}

/**
 * The served entity's name for a version: the model's last name part and the version (`churn-7`). Set explicitly
 * (the default name is not documented to be stable) and it is what `served-model-name` carries in each answer.
 */
export function entityNameFor(model: string, version: string): string {
  const short = model.split('.').at(-1) ?? model
  return `${short}-${version}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 63)
}

/**
 * The body of `PUT /api/2.0/serving-endpoints/{name}/config` (and of the create call's `config`) for a desired
 * state. It replaces the entity list, so every version that should stay (the previous one at 0 % during a replace)
 * is in it, each with a route.
 */
export function configFor(desired: DesiredState, options: EntityOptions = {}): EndpointConfig {
  const entities = desired.routes.map(route => ({
    name: entityNameFor(route.model.name, route.model.version),
    entity_name: route.model.name,
    entity_version: route.model.version,
    workload_size: options.workloadSize ?? 'Small',
    scale_to_zero_enabled: options.scaleToZero ?? true
  }))
  return {
    served_entities: entities,
    traffic_config: {
      routes: desired.routes.map((route, i) => ({
        served_entity_name: entities[i]!.name,
        traffic_percentage: route.share
      }))
    }
  }
}

/** The body that puts a saved config back: its entities (with the fields read) and routes, nothing else. */
export function restoreBodyOf(saved: EndpointConfig): EndpointConfig {
  const entities = (saved.served_entities ?? saved.served_models ?? []).map(entity => {
    // `state` is read-only; a served_models entry (deprecated) is spelt as an entity.
    const { state: _state, model_name, model_version, ...rest } = entity
    void _state
    return {
      ...rest,
      ...(rest.entity_name === undefined && model_name !== undefined ? { entity_name: model_name } : {}),
      ...(rest.entity_version === undefined && model_version !== undefined ? { entity_version: model_version } : {})
    }
  })
  return { served_entities: entities, traffic_config: { routes: saved.traffic_config?.routes ?? [] } }
}
