/**
 * The Databricks serving target aimed at the workspace double's `churn` endpoint, for the target's and the
 * rollout's tests. The double deploys in milliseconds rather than minutes, so the target polls and retries at that
 * pace instead of its defaults of seconds.
 */
import { openWorkspace } from '../../src/core/databricks/workspace.js'
import { DatabricksServingTarget, type DatabricksTargetOptions } from '../../src/core/serving/databricks/target.js'
import { DOUBLE_PAT_ENV, type DatabricksDouble } from '../databricks-double/server.js'

export function churnTarget(
  double: DatabricksDouble,
  env: NodeJS.ProcessEnv = DOUBLE_PAT_ENV,
  options: Partial<DatabricksTargetOptions> = {}
): DatabricksServingTarget {
  return new DatabricksServingTarget({
    endpoint: 'churn',
    workspace: openWorkspace({ host: double.url, env, retryBaseMs: 1 }),
    pollMinMs: 20,
    pollMaxMs: 100,
    retryBaseMs: 1,
    ...options
  })
}
