/**
 * Waiting for a version to be READY, the same way for every registry that registers asynchronously (Unity Catalog,
 * Databricks; the open-source store is READY at creation): poll, fail on FAILED_REGISTRATION, give up at a deadline
 * with words that say a re-run finishes the work.
 */
import { ServiceError } from '../errors.js'
import { sleep } from '../http/client.js'
import type { ModelVersion } from './types.js'

export async function pollUntilReady(
  get: () => Promise<ModelVersion | undefined>,
  options: {
    service: string
    name: string
    version: string
    timeoutMs: number
    intervalMs: number
    /** The whole operation's deadline: the wait stops with it. */
    signal?: AbortSignal | undefined
  }
): Promise<ModelVersion> {
  const { service, name, version } = options
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const current = await get()
    if (!current) throw new ServiceError(`version ${version} of ${name} disappeared while waiting for it to be READY`)
    if (current.status === 'READY') return current
    if (current.status === 'FAILED_REGISTRATION') {
      throw new ServiceError(
        `${service} failed to register version ${version} of ${name}: ${current.statusMessage ?? 'no reason given'}; delete that version and run again`
      )
    }
    if (Date.now() > deadline) {
      throw new ServiceError(
        `version ${version} of ${name} is still ${current.status} after waiting; run again later (a re-run finishes it)`
      )
    }
    await sleep(options.intervalMs, options.signal)
  }
}
