import { describe, expect, it } from '@jest/globals'
import * as z from 'zod/mini'
import { sameRouting } from '../types.js'
import { configFor, entityNameFor, restoreBodyOf, ServingEndpointSchema, stateOfEndpoint } from './endpoint.js'

// A GET /api/2.0/serving-endpoints/{name} answer during a canary update, shaped as the docs and the SDK describe it.
const updating = z.parse(ServingEndpointSchema, {
  name: 'churn',
  state: { ready: 'READY', config_update: 'IN_PROGRESS' },
  config: {
    config_version: 4,
    served_entities: [
      {
        name: 'churn_classifier-6',
        entity_name: 'main.ml.churn_classifier',
        entity_version: '6',
        workload_size: 'Small',
        scale_to_zero_enabled: true,
        state: { deployment: 'DEPLOYMENT_READY', deployment_state_message: '' }
      }
    ],
    traffic_config: { routes: [{ served_entity_name: 'churn_classifier-6', traffic_percentage: 100 }] }
  },
  pending_config: {
    config_version: 5,
    served_entities: [
      { name: 'churn_classifier-6', entity_name: 'main.ml.churn_classifier', entity_version: '6' },
      { name: 'churn_classifier-7', entity_name: 'main.ml.churn_classifier', entity_version: '7' }
    ],
    traffic_config: {
      routes: [
        { served_entity_name: 'churn_classifier-6', traffic_percentage: 90 },
        { served_entity_name: 'churn_classifier-7', traffic_percentage: 10 }
      ]
    }
  }
})

describe('Databricks endpoint mapping', () => {
  it('reads what serves from the active config, not the pending one, and says an update runs', () => {
    expect(stateOfEndpoint(updating)).toEqual({
      endpoint: 'churn',
      updating: true,
      revision: '4',
      versions: [
        {
          version: '6',
          member: 'churn_classifier-6',
          address: 'main.ml.churn_classifier@6',
          weight: 100,
          share: 100,
          health: 'ready',
          detail: 'DEPLOYMENT_READY'
        }
      ]
    })
  })

  it('reads string percentages, the served_models spelling and the update_state spelling', () => {
    const state = stateOfEndpoint(
      z.parse(ServingEndpointSchema, {
        name: 'old',
        state: { ready: 'NOT_READY', update_state: 'UPDATE_FAILED' },
        config: {
          served_models: [
            {
              name: 'm-1',
              model_name: 'm',
              model_version: 1,
              state: { deployment: 'DEPLOYMENT_FAILED', deployment_state_message: 'OOM' }
            }
          ],
          traffic_config: { routes: [{ served_model_name: 'm-1', traffic_percentage: '100' }] }
        }
      })
    )
    expect(state.updating).toBe(false)
    expect(state.versions[0]).toMatchObject({
      version: '1',
      weight: 100,
      health: 'failed',
      detail: 'DEPLOYMENT_FAILED: OOM'
    })
  })

  it('writes served entities with explicit names and a route for every one, 0 % included', () => {
    const model = (version: string) => ({ name: 'main.ml.churn_classifier', version })
    const body = configFor({
      routes: [
        { model: model('7'), share: 100 },
        { model: model('6'), share: 0 }
      ]
    })
    expect(body).toEqual({
      served_entities: [
        {
          name: 'churn_classifier-7',
          entity_name: 'main.ml.churn_classifier',
          entity_version: '7',
          workload_size: 'Small',
          scale_to_zero_enabled: true
        },
        {
          name: 'churn_classifier-6',
          entity_name: 'main.ml.churn_classifier',
          entity_version: '6',
          workload_size: 'Small',
          scale_to_zero_enabled: true
        }
      ],
      traffic_config: {
        routes: [
          { served_entity_name: 'churn_classifier-7', traffic_percentage: 100 },
          { served_entity_name: 'churn_classifier-6', traffic_percentage: 0 }
        ]
      }
    })
    expect(entityNameFor('a.b.model with space', '3')).toBe('model-with-space-3')
  })

  it('a saved config put back reads as the same routing', () => {
    const body = restoreBodyOf(updating.config!)
    expect(body.served_entities![0]).not.toHaveProperty('state')
    const restored = stateOfEndpoint({ name: 'churn', config: { ...body, config_version: 6 } })
    expect(sameRouting(restored, stateOfEndpoint(updating))).toBe(true)
  })
})
