/**
 * The `haproxy` serving target: one model server process per version (owned through `ModelServers` and its state
 * folder) behind one HAProxy backend, whose servers and weights are changed through the Runtime API.
 *
 * A backend server is named `v<version>` and its weight is the version's percentage of traffic (0–100, inside
 * HAProxy's 0–256), so the router's state reads back as versions and shares without a side table. Every answer
 * here comes from reading HAProxy back (`show servers state`, `show stat`): runtime weights and servers vanish on a
 * reload, and a rollout must see that rather than believe what it set.
 */
import { ConfigurationError } from '../../errors.js'
import { acquireLock } from '../lock.js'
import { ModelServers } from '../model-server.js'
import {
  DeadlineExceededError,
  pause,
  remainingMs,
  sharesFromWeights,
  type Deadline,
  type DesiredState,
  type EndpointState,
  type InvocationTarget,
  type ReadyResult,
  type ServedVersion,
  type ServingTarget
} from '../types.js'
import { HaproxyBackend, serverName, type HealthCheck } from './backend.js'
import { RuntimeApi } from './runtime-api.js'
import type { ServerStatus } from './stats.js'

const PREFIX = 'v'

/**
 * Whether modelgate added the server: its servers are named `v<version number>`. Any other server in the backend
 * is someone else's (a static server of the configuration, a fallback): a rollout leaves it in place.
 */
function ours(name: string): boolean {
  return /^v\d+$/.test(name)
}

export interface HaproxyTargetOptions {
  /** The endpoint's name, which is the backend's name in HAProxy. */
  readonly endpoint: string
  /** Where the endpoint's name was set (`input 'endpoint'`, a config key), for errors about it. */
  readonly endpointSource?: string
  /** The Runtime API address: a socket path or `host:port`. */
  readonly runtimeApi: string
  /** The frontend's base URL clients use, `http://127.0.0.1:8080`. */
  readonly url: string
  /** The model server processes of this endpoint. */
  readonly servers: ModelServers
  /** The scoring path of the model servers. Default `/invocations`. */
  readonly invocationPath?: string
  readonly check?: HealthCheck
  readonly log?: (line: string) => void
}

export class HaproxyTarget implements ServingTarget {
  readonly kind = 'haproxy'
  readonly endpoint: string
  readonly url: string
  readonly backend: HaproxyBackend
  readonly servers: ModelServers
  private readonly invocationPath: string
  private readonly check: HealthCheck
  private readonly log: (line: string) => void

  constructor(options: HaproxyTargetOptions) {
    this.endpoint = options.endpoint
    this.url = options.url.replace(/\/+$/, '')
    this.backend = new HaproxyBackend(
      new RuntimeApi({ address: options.runtimeApi }),
      options.endpoint,
      options.endpointSource
    )
    this.servers = options.servers
    this.invocationPath = options.invocationPath ?? '/invocations'
    this.check = options.check ?? {}
    this.log = options.log ?? (() => undefined)
  }

  async read(): Promise<EndpointState> {
    return stateOf(this.endpoint, await this.backend.servers())
  }

  /**
   * Starts (or finds) a model server for every version routed to, adds the missing backend servers at weight 0,
   * waits for their checks to pass, then sets every weight; modelgate's servers of versions not in the desired state are
   * removed. New servers get traffic only once HAProxy's check sees them up.
   */
  async apply(desired: DesiredState, deadline: Deadline): Promise<void> {
    validate(desired)
    const current = await this.backend.servers()
    const foreign = current.filter(server => !ours(server.name) && server.weight > 0 && !server.maintenance)
    if (foreign.length > 0) {
      throw new ConfigurationError(
        `backend ${this.endpoint} has ${foreign.map(s => `server ${s.name} (weight ${s.weight})`).join(', ')}, which modelgate did not add, taking traffic: modelgate routes a backend's traffic among its own servers (v<version>); give the others weight 0 or another backend`,
        { source: this.backend.source }
      )
    }
    const added: string[] = []
    for (const route of desired.routes) {
      const name = serverName(PREFIX, route.model.version)
      // A version already served (the previous one) is found in the state folder with its directory.
      const dir = route.model.dir ?? (await this.servers.find(route.model.version))?.modelDir
      if (!dir)
        throw new Error(`the haproxy target serves from a model directory; version ${route.model.version} has none`)
      const record = await this.servers.ensure(route.model.version, dir, deadline)
      const present = current.find(server => server.name === name)
      if (present && present.address === record.address) {
        // Left in maintenance (or drained) by a run cut short or by hand: no weight would bring it traffic, and the
        // wait would run out.
        if (present.maintenance || present.draining) {
          this.log(`taking ${this.endpoint}/${name} out of maintenance`)
          await this.backend.enable(name)
        }
        continue
      }
      if (present) {
        this.log(`server ${name} points at ${present.address}, its model server is at ${record.address}: replacing it`)
        await this.backend.removeServer(name)
      }
      this.log(`adding ${this.endpoint}/${name} at ${record.address}`)
      await this.backend.addServer(name, record.address, this.check)
      added.push(name)
    }
    await this.waitUp(added, deadline)
    for (const route of desired.routes)
      await this.backend.setWeight(serverName(PREFIX, route.model.version), route.share)
    const wanted = new Set(desired.routes.map(route => serverName(PREFIX, route.model.version)))
    for (const server of current) {
      if (!wanted.has(server.name) && ours(server.name)) {
        this.log(`removing ${this.endpoint}/${server.name}`)
        await this.backend.removeServer(server.name)
      }
    }
  }

  async waitReady(desired: DesiredState, deadline: Deadline): Promise<ReadyResult> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      const state = await this.read()
      const reason = await this.notReady(desired, state)
      if (!reason) return { ready: true, state }
      if (remainingMs(deadline) <= 0) return { ready: false, reason, state, timedOut: true }
      await pause(delay, deadline)
    }
  }

  invocation(state: EndpointState): InvocationTarget {
    const versions = new Map(state.versions.map(v => [v.member, v.version]))
    return {
      url: `${this.url}${this.invocationPath}`,
      headers: {},
      versionHeader: 'x-served-by',
      versionOf: member => versions.get(member)
    }
  }

  /**
   * Puts back the servers, addresses and weights of `saved`: servers it did not have are removed, servers it had
   * are re-added where missing or moved, weights and maintenance set as they were. A saved server whose model
   * server process is gone cannot be put back at its address, and the read-back then shows it.
   */
  async restore(saved: EndpointState, deadline: Deadline): Promise<void> {
    const current = await this.backend.servers()
    const keep = new Map(saved.versions.map(v => [v.member, v]))
    for (const server of current) {
      if (!keep.has(server.name)) {
        this.log(`restore: removing ${this.endpoint}/${server.name}`)
        await this.backend.removeServer(server.name)
      }
    }
    const added: string[] = []
    for (const member of saved.versions) {
      const present = current.find(server => server.name === member.member)
      if (present && present.address !== member.address) await this.backend.removeServer(member.member)
      if (!present || present.address !== member.address) {
        this.log(`restore: adding ${this.endpoint}/${member.member} at ${member.address}`)
        await this.backend.addServer(member.member, member.address, this.check)
        added.push(member.member)
      }
    }
    await this.waitUp(
      added.filter(name => keep.get(name)!.health === 'ready'),
      deadline
    ).catch(error => this.log(`restore: ${(error as Error).message}`))
    for (const member of saved.versions) {
      await this.backend.setWeight(member.member, member.weight)
      // A removal cut short (in-flight requests outlasting `del server`) leaves a server in maintenance.
      const now = current.find(server => server.name === member.member)
      if (member.health === 'maintenance') {
        if (member.detail?.startsWith('DRAIN')) await this.backend.drain(member.member)
        else await this.backend.disable(member.member)
      } else if (now?.maintenance || now?.draining) {
        await this.backend.enable(member.member)
      }
    }
  }

  /** A lock file in the endpoint's state folder: one rollout per endpoint on this machine. */
  async lock(purpose: string, deadline: Deadline, onWait?: (holder: string) => void): Promise<() => Promise<void>> {
    return acquireLock(this.servers.stateDir, purpose, deadline, owner =>
      onWait?.(`pid ${owner.pid} (${owner.purpose}, since ${owner.since})`)
    )
  }

  /** Stops the model server processes of versions that are not members of the state. */
  async release(state: EndpointState): Promise<void> {
    const members = new Set(state.versions.map(v => v.version))
    for (const record of await this.servers.list()) {
      if (!members.has(record.version)) await this.servers.stop(record.version)
    }
  }

  private async waitUp(names: readonly string[], deadline: Deadline): Promise<void> {
    if (names.length === 0) return
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      const servers = await this.backend.servers()
      const down = names.filter(name => !servers.some(s => s.name === name && s.status === 'UP'))
      if (down.length === 0) return
      if (remainingMs(deadline) <= 0) {
        const detail = down.map(name => `${name} ${servers.find(s => s.name === name)?.status ?? 'missing'}`).join(', ')
        throw new DeadlineExceededError(deadline, `HAProxy's health check to see ${detail} up`)
      }
      await pause(delay, deadline)
    }
  }

  /** Why the state is not the desired one yet, or '' when it is. */
  private async notReady(desired: DesiredState, state: EndpointState): Promise<string> {
    const problems: string[] = []
    const owned = await this.servers.list()
    for (const route of desired.routes) {
      const member = state.versions.find(v => v.version === route.model.version)
      if (!member) {
        problems.push(`version ${route.model.version} is not in backend ${this.endpoint}`)
        continue
      }
      if (member.weight !== route.share)
        problems.push(`${member.member} has weight ${member.weight}, not ${route.share}`)
      if (route.share > 0 && member.health !== 'ready')
        problems.push(`${member.member} is ${member.detail ?? member.health}`)
      const process = owned.find(record => record.version === route.model.version)
      if (!process?.alive) problems.push(`the model server of version ${route.model.version} is not running`)
    }
    for (const member of state.versions) {
      if (desired.routes.some(route => route.model.version === member.version)) continue
      if (ours(member.member)) problems.push(`${member.member} is still in backend ${this.endpoint}`)
      else if (member.share > 0) problems.push(`${member.member}, not modelgate's, takes ${member.share}% of traffic`)
    }
    return problems.join('; ')
  }
}

function stateOf(endpoint: string, servers: readonly ServerStatus[]): EndpointState {
  // Servers in maintenance or drained take no new traffic whatever their weight.
  const off = (server: ServerStatus) => server.maintenance || server.draining
  const shares = sharesFromWeights(servers.map(s => (off(s) ? 0 : s.weight)))
  const versions: ServedVersion[] = servers.map((server, i) => ({
    version: server.name.startsWith(PREFIX) ? server.name.slice(PREFIX.length) : server.name,
    member: server.name,
    address: server.address,
    weight: server.weight,
    share: shares[i]!,
    health: off(server) ? 'maintenance' : server.status.startsWith('UP') ? 'ready' : 'down',
    detail: `${server.status}${server.checkStatus ? ` (${server.checkStatus})` : ''}`
  }))
  return { endpoint, versions, updating: false }
}

function validate(desired: DesiredState): void {
  const total = desired.routes.reduce((sum, route) => sum + route.share, 0)
  const versions = new Set(desired.routes.map(route => route.model.version))
  if (versions.size !== desired.routes.length) throw new Error('a desired state names a version twice')
  if (
    desired.routes.some(route => !Number.isInteger(route.share) || route.share < 0 || route.share > 100) ||
    total !== 100
  ) {
    throw new Error(`shares must be integers 0–100 that sum to 100, got ${desired.routes.map(r => r.share).join('+')}`)
  }
}
