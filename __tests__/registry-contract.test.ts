/**
 * The registry contract (test/registry/contract.ts) run against each ModelRegistry implementation: the same
 * behaviour whether a team keeps its registry in a folder or on a real MLflow tracking server.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFileRegistry } from '../src/core/registry/file/file-registry.js'
import { createMlflowRegistry } from '../src/core/registry/mlflow/registry.js'
import { startMlflowServer } from '../test/mlflow/server.js'
import { describeRegistryContract } from '../test/registry/contract.js'

describeRegistryContract('file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelgate-file-registry-'))
  return {
    registry: createFileRegistry({ root: join(root, 'registry') }),
    cleanup: () => rm(root, { recursive: true, force: true })
  }
})

describeRegistryContract('mlflow', async () => {
  const server = await startMlflowServer()
  return {
    registry: createMlflowRegistry({ trackingUri: server.url, retryBaseMs: 10 }),
    cleanup: () => server.stop()
  }
})
