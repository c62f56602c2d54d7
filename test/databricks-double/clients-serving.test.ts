/**
 * The double's Model Serving driven by the official Databricks SDK from the project's .venv (clients_serving.py):
 * create_and_wait, update_config_and_wait, ResourceConflict, query and its served-model-name, a failed update.
 */
import { describe, expect, it } from '@jest/globals'
import { databricksDoublePerTest } from './per-test.js'
import { expectHonest, runScript } from './python-clients.js'
import { DOUBLE_OAUTH_ENV } from './server.js'

const startDouble = databricksDoublePerTest()

/** What the serving script prints; compared whole, so its fields stay loose. */
type ServingOutput = Record<string, unknown> & { answered_by: Record<string, number>; failed_update: string | null }

describe('the SDK against Model Serving', () => {
  it('creates, canaries 90/10 exactly, conflicts while updating, sees a failed update leave the old config, deletes', async () => {
    const double = await startDouble({ serving: { deployMs: 200 } })
    const model = 'main.ml.churn'
    const versions = [double.addVersion(model), double.addVersion(model), double.addVersion(model)]
    double.serving.failDeployment(model, versions[2]!, 'Container failed to start: the model could not be loaded')
    const out = await runScript<ServingOutput>(
      double,
      'clients_serving.py',
      [model, JSON.stringify(versions)],
      DOUBLE_OAUTH_ENV
    )

    expect(out.created).toEqual({
      ready: 'READY',
      config_update: 'NOT_UPDATING',
      config_version: 1,
      entities: ['churn-1'],
      deployment: ['DEPLOYMENT_READY']
    })
    expect(out.conflict).toBe('ResourceConflict')
    expect(out.while_updating).toEqual({
      config_update: 'IN_PROGRESS',
      pending_config_version: 2,
      active_entities: ['churn-1']
    })
    expect(out.canary_routes).toEqual({ 'churn-1': 90, 'churn-2': 10 })
    expect(out.answered_by).toEqual({ 'churn-1': 90, 'churn-2': 10 })
    expect(out.predictions).toEqual([0, 0])
    expect(out.failed_update).toContain('UPDATE_FAILED')
    expect(out.after_failure).toEqual({
      ready: 'READY',
      config_update: 'UPDATE_FAILED',
      config_version: 2,
      entities: ['churn-1', 'churn-2']
    })
    expect(out.listed_after_delete).toEqual([])
    expectHonest(double)
  }, 240_000)
})
