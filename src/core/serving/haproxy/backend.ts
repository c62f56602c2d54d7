/**
 * One HAProxy backend driven through the Runtime API: its servers read back, servers added and removed at run
 * time, weights set. Runtime weights and added servers are lost when HAProxy reloads (serving-facts §4), so
 * callers read the servers back rather than trusting what they set.
 */
import { ConfigurationError } from '../../errors.js'
import { RuntimeApi } from './runtime-api.js'
import { mergeServerStatus, parseServersState, parseStat, type ServerStatus } from './stats.js'

export interface HealthCheck {
  /** Check interval in ms. Default 500. */
  readonly interval?: number
  /** Failed checks before DOWN. Default 2. */
  readonly fall?: number
  /** Good checks before UP. Default 1. */
  readonly rise?: number
}

/** Characters HAProxy accepts in a server name; anything else becomes `_`. */
export function serverName(prefix: string, version: string): string {
  return `${prefix}${version}`.replace(/[^A-Za-z0-9_.-]/g, '_')
}

export class HaproxyBackend {
  constructor(
    readonly api: RuntimeApi,
    readonly name: string,
    /** Where the name came from, for the errors that are the user's to fix. */
    readonly source = 'endpoint'
  ) {
    // The endpoint is the user's setting: a name HAProxy cannot have is their mistake to fix, not a crash.
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
      throw new ConfigurationError(
        `${JSON.stringify(name)} is not an HAProxy backend name: expected letters, digits and _ . : - only, the name of the backend in HAProxy's configuration`,
        { source }
      )
    }
  }

  async servers(): Promise<ServerStatus[]> {
    const state = await this.api.query(`show servers state ${this.name}`)
    if (/^Can't find backend/m.test(state)) {
      throw new ConfigurationError(`HAProxy at ${this.api.address} has no backend named "${this.name}"`, {
        source: this.source
      })
    }
    const stat = await this.api.query(`show stat ${this.name} 4 -1`)
    return mergeServerStatus(parseServersState(state), parseStat(stat, this.name))
  }

  /**
   * Adds a server and takes it out of maintenance with its health check on. A dynamic server starts in
   * maintenance with checks off; HAProxy 2.6 does not apply `default-server` to it, so the check is spelt here.
   * It starts at weight 0 so no request reaches it before its check passes; `setWeight` gives it traffic.
   */
  async addServer(name: string, address: string, check: HealthCheck = {}): Promise<void> {
    const { interval = 500, fall = 2, rise = 1 } = check
    await this.api.run(
      `add server ${this.name}/${name} ${address} weight 0 check inter ${interval} fall ${fall} rise ${rise}`
    )
    await this.api.run(`enable health ${this.name}/${name}`)
    await this.api.run(`enable server ${this.name}/${name}`)
  }

  async setWeight(name: string, weight: number): Promise<void> {
    if (!Number.isInteger(weight) || weight < 0 || weight > 256)
      throw new Error(`HAProxy weights are 0–256, got ${weight}`)
    await this.api.run(`set weight ${this.name}/${name} ${weight}`)
  }

  async enable(name: string): Promise<void> {
    await this.api.run(`enable server ${this.name}/${name}`)
  }

  /** Drain: no new requests except those bound to it by persistence; `enable` ends it as it ends maintenance. */
  async drain(name: string): Promise<void> {
    await this.api.run(`set server ${this.name}/${name} state drain`)
  }

  /** Maintenance: no new requests; what is in flight finishes. */
  async disable(name: string): Promise<void> {
    await this.api.run(`disable server ${this.name}/${name}`)
  }

  /**
   * Takes a server out: weight 0 (new requests go elsewhere), maintenance, then `del server`, which HAProxy only
   * accepts in maintenance. `del server` also refuses while connections are still open to the server, so it is
   * retried until `deadlineMs` passes.
   */
  async removeServer(name: string, timeoutMs = 10_000): Promise<void> {
    await this.setWeight(name, 0)
    await this.disable(name)
    const deadline = performance.now() + timeoutMs
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.api.run(`del server ${this.name}/${name}`)
        return
      } catch (error) {
        if (performance.now() + delay > deadline) throw error
        await new Promise(resolve => setTimeout(resolve, delay))
      }
    }
  }
}
