/**
 * The serving target seam: what every place a model can be served (HAProxy in front of model server processes,
 * Databricks Model Serving) offers the rollout, so the rollout's plan → apply → wait → observe → promote or roll back
 * → verify is written once.
 *
 * The shapes follow what both routers can report back, because the rollout trusts only what it reads back, never
 * what it sent (the rollout failures elsewhere, serving-facts §6, came from trusting the request):
 * - HAProxy: one server per version in a backend, a weight each; `X-Served-By` names the server that answered.
 * - Databricks: `config.served_entities` + `traffic_config.routes` (percentages), a `config_version`, a
 *   `config_update` state machine; the `served-model-name` header names the entity that answered.
 */
import { sleep } from '../http/client.js'

/** A registered model version as the rollout knows it. */
export interface ModelVersionRef {
  /** The registered model's name (`churn-classifier`, or UC `catalog.schema.model`). */
  readonly name: string
  /** The version number as a string (`"7"`). */
  readonly version: string
  /** A local directory holding the MLflow model, for targets that serve from disk (haproxy). */
  readonly dir?: string
}

/** One version behind the endpoint, as read back from the router. */
export interface ServedVersion {
  /** The model version this member serves. */
  readonly version: string
  /**
   * The router's own name for the member: the HAProxy server (`v7`) or the Databricks served entity
   * (`churn-7`). It is what the answering-version header carries.
   */
  readonly member: string
  /** Where the router sends its share: `127.0.0.1:41234` for HAProxy, the entity (`name@version`) for Databricks. */
  readonly address: string
  /**
   * The router's raw routing value: the HAProxy weight (0–256) or the Databricks traffic percentage. Compared
   * exactly when a restore is proven.
   */
  readonly weight: number
  /** The percentage of traffic this member takes, derived from the weights of the members that take traffic. */
  readonly share: number
  /** Whether the router would send it traffic now. */
  readonly health: 'ready' | 'starting' | 'down' | 'maintenance' | 'failed'
  /** The router's words about the health (check status, deployment state message). */
  readonly detail?: string
}

/** What serves now. */
export interface EndpointState {
  readonly endpoint: string
  /** Members in the router's order. */
  readonly versions: readonly ServedVersion[]
  /** An update still running on the target's side (Databricks `config_update: IN_PROGRESS`). */
  readonly updating: boolean
  /** The target's own revision of the routing (Databricks `config_version`); absent for HAProxy. */
  readonly revision?: string
}

/** One version and the share of traffic it should take. Shares of a desired state sum to 100. */
export interface DesiredRoute {
  readonly model: ModelVersionRef
  /** Integer percent, 0–100. A route at 0 keeps the version ready beside the others, without traffic. */
  readonly share: number
}

export interface DesiredState {
  readonly routes: readonly DesiredRoute[]
}

/** How to send a request to the endpoint and tell which version answered it. */
export interface InvocationTarget {
  /** The scoring URL (`http://127.0.0.1:8080/invocations`, `https://…/serving-endpoints/x/invocations`). */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** The response header that names the member that answered (`x-served-by`, `served-model-name`). */
  readonly versionHeader: string
  /** Maps the header's value to a model version; undefined when it names no member of the endpoint. */
  versionOf(headerValue: string): string | undefined
}

/**
 * A point in time after which waiting must stop; the rollout passes one down to every wait. Its signal (a cancelled
 * job) ends the waits at once, as if the time had run out.
 */
export interface Deadline {
  /** `performance.now()` value at which the deadline passes. */
  readonly at: number
  /** What the deadline is for, used in the error that reports it running out. */
  readonly label: string
  readonly signal?: AbortSignal
}

export function deadlineIn(ms: number, label: string, signal?: AbortSignal): Deadline {
  return { at: performance.now() + ms, label, ...(signal ? { signal } : {}) }
}

export function remainingMs(deadline: Deadline): number {
  if (deadline.signal?.aborted) return 0
  return Math.max(0, deadline.at - performance.now())
}

/** Sleeps `ms`, less when the deadline comes first or its signal fires. */
export async function pause(ms: number, deadline: Deadline): Promise<void> {
  try {
    await sleep(Math.min(ms, remainingMs(deadline)), deadline.signal)
  } catch {
    // Cancelled: the wait ends at once, and the caller reads the deadline's signal to know why.
  }
}

/** Raised when a wait runs out of its deadline (or is cancelled): the rollout treats it as a failed step. */
export class DeadlineExceededError extends Error {
  readonly cancelled: boolean

  constructor(
    readonly deadline: Deadline,
    readonly waitingFor: string
  ) {
    const cancelled = deadline.signal?.aborted === true
    super(
      cancelled
        ? `${deadline.label} was cancelled while waiting for ${waitingFor}`
        : `the deadline for ${deadline.label} ran out while waiting for ${waitingFor}`
    )
    this.name = 'DeadlineExceededError'
    this.cancelled = cancelled
  }
}

/** The outcome of waiting for a desired state: ready, or why not (which the rollout reports with its numbers). */
export type ReadyResult =
  | { readonly ready: true; readonly state: EndpointState }
  | {
      readonly ready: false
      readonly reason: string
      readonly state?: EndpointState
      /** The deadline ran out while the endpoint was still on its way; without it, the endpoint will not get there. */
      readonly timedOut?: boolean
    }

/**
 * A place models are served. Implementations read their router for every answer; nothing they return comes from
 * a cache of what they sent.
 */
export interface ServingTarget {
  readonly kind: string
  readonly endpoint: string
  /** The address clients use, reported as `endpoint-url`. */
  readonly url: string
  /** What serves now, read from the router. An endpoint that does not exist yet reads as no versions. */
  read(): Promise<EndpointState>
  /**
   * Starts moving the endpoint to the desired state (starting model servers, adding members, setting weights, or
   * putting a Databricks config). It may return before the state is ready; `waitReady` follows.
   */
  apply(desired: DesiredState, deadline: Deadline): Promise<void>
  /** Waits, with backoff, until the router reports the desired state ready, or the deadline passes. */
  waitReady(desired: DesiredState, deadline: Deadline): Promise<ReadyResult>
  /** How to send requests and attribute answers; `state` is the state they will hit (maps members to versions). */
  invocation(state: EndpointState): InvocationTarget
  /**
   * Puts back a state read earlier by `read()`: the same members, addresses and weights. It must work after any
   * partial `apply`, and when the deadline given to the rollout has already passed (the caller gives its own).
   */
  restore(saved: EndpointState, deadline: Deadline): Promise<void>
  /**
   * Holds the endpoint for one rollout at a time, where the target itself does not refuse concurrent changes
   * (Databricks answers 409 instead). Waits for another holder until the deadline.
   */
  lock?(purpose: string, deadline: Deadline, onWait?: (holder: string) => void): Promise<() => Promise<void>>
  /**
   * Releases what no longer serves once a rollout is over (model server processes of versions the state does not
   * route to). Never touches what the state routes to.
   */
  release(state: EndpointState): Promise<void>
}

/**
 * The part of a state a restore must reproduce: members, addresses and routing weights, in a stable order. Health
 * and derived shares are not compared (a restored member may still be turning healthy when it is read), but
 * maintenance is: it is set, not observed, and a member in maintenance takes no traffic whatever its weight.
 */
export function routingOf(state: EndpointState): string[] {
  return state.versions
    .map(v => `${v.member} ${v.version} ${v.address} ${v.weight}${v.health === 'maintenance' ? ' maintenance' : ''}`)
    .sort()
}

export function sameRouting(a: EndpointState, b: EndpointState): boolean {
  const left = routingOf(a)
  const right = routingOf(b)
  return left.length === right.length && left.every((line, i) => line === right[i])
}

/** The versions that take traffic in a state, highest share first. */
export function servingVersions(state: EndpointState): string[] {
  return state.versions
    .filter(v => v.share > 0)
    .sort((a, b) => b.share - a.share)
    .map(v => v.version)
}

/** `v7 10% / v6 90%`: the candidate first (integer-like keys of an object always iterate in numeric order). */
export function formatRoutes(routes: Readonly<Record<string, number>>, candidate: string): string {
  return Object.entries(routes)
    .sort(([a], [b]) => Number(b === candidate) - Number(a === candidate))
    .map(([version, share]) => `v${version} ${share}%`)
    .join(' / ')
}

/** `v6 90% / v7 10%`: the versions taking traffic, or `empty` when none does. */
export function formatServing(state: EndpointState, empty: string): string {
  const serving = state.versions.filter(v => v.share > 0)
  return serving.length ? serving.map(v => `v${v.version} ${v.share}%`).join(' / ') : empty
}

/** Shares in percent from raw weights, rounded so they sum to 100 (largest remainder). */
export function sharesFromWeights(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + Math.max(0, w), 0)
  if (total === 0) return weights.map(() => 0)
  const exact = weights.map(w => (Math.max(0, w) * 100) / total)
  const floors = exact.map(Math.floor)
  let left = 100 - floors.reduce((sum, f) => sum + f, 0)
  const order = exact.map((e, i) => [e - floors[i]!, i] as const).sort((a, b) => b[0] - a[0])
  for (const [, i] of order) {
    if (left <= 0) break
    floors[i] = floors[i]! + 1
    left -= 1
  }
  return floors
}
