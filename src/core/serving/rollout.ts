/**
 * The rollout, the same for every target: plan → apply → wait → observe → promote or roll back → verify.
 *
 * - `traffic` 100 (or no version serving yet): the candidate takes all traffic, is observed, and the previous
 *   version is removed once it passed.
 * - `traffic` below 100: a canary beside the version serving now, observed; once it passes, 100%, observed again.
 *
 * Observing sends real requests through the router and judges what the candidate answered (plus requests no
 * version claimed: connection failures and the router's own errors) by the metrics `deploy.error_rate`,
 * `deploy.latency_p50_ms` and `deploy.latency_p95_ms`. A candidate that answered far fewer requests than its share
 * (it died, and the router sent its requests elsewhere) fails too.
 *
 * On failure the saved state is put back and proven: the router's state read back must equal the one read before
 * (members, addresses, weights), and real requests must all be answered by the previous version without error.
 * Only then is the rollout reported `rolledBack`.
 */
import { errorMessage } from '../errors.js'
import { probe, summarizeProbe, type ProbeSample, type ProbeStats } from './probe.js'
import {
  DeadlineExceededError,
  deadlineIn,
  formatRoutes,
  formatServing,
  remainingMs,
  routingOf,
  sameRouting,
  servingVersions,
  type Deadline,
  type DesiredState,
  type EndpointState,
  type ModelVersionRef,
  type ServingTarget
} from './types.js'

export const DEPLOY_METRICS = {
  errorRate: 'deploy.error_rate',
  latencyP50: 'deploy.latency_p50_ms',
  latencyP95: 'deploy.latency_p95_ms'
} as const

/** An upper bound on a deploy metric. The config's full rule language is wired in later. */
export interface DeployRule {
  readonly name: string
  readonly max: number
}

/** Applied when no rule names `deploy.error_rate`: a rollout never passes with errors unless a rule allows them. */
export const DEFAULT_ERROR_RULE: DeployRule = { name: DEPLOY_METRICS.errorRate, max: 0 }

export interface RolloutOptions {
  readonly target: ServingTarget
  readonly candidate: ModelVersionRef
  /** Percent of traffic the candidate takes while observed; below 100 is a canary. Default 100. */
  readonly traffic?: number
  /** The scoring request sent to observe (the model's serving input example). */
  readonly body: unknown
  /** Requests the candidate must answer per observed step. Default 50. */
  readonly requests?: number
  readonly rules?: readonly DeployRule[]
  /** Deadline of the whole rollout up to promotion. Default 15 min. */
  readonly timeoutMs?: number
  /** Time allowed to put the previous state back and prove it, on top of the rollout's. Default 5 min. */
  readonly rollbackTimeoutMs?: number
  readonly rollback?: 'on-failure' | 'never'
  /** Requests that must all be answered well when a state is verified. Default 20. */
  readonly verifyRequests?: number
  readonly requestTimeoutMs?: number
  /** Compute and return the plan; touch nothing. */
  readonly dryRun?: boolean
  /**
   * Cancels the rollout (the job was cancelled): waits end at once and the saved state is put back and proven, so
   * the endpoint is left as it was, never in a mix. The rollback itself is not cancelled.
   */
  readonly signal?: AbortSignal
  readonly onEvent?: (event: RolloutEvent) => void
}

export type RolloutPhase = 'plan' | 'apply' | 'wait' | 'observe' | 'promote' | 'verify' | 'rollback'

export interface RolloutEvent {
  readonly phase: RolloutPhase
  readonly message: string
  /** Index of the traffic step, for apply/wait/observe. */
  readonly step?: number
}

export interface PlannedStep {
  /** `{ version: share }` */
  readonly routes: Readonly<Record<string, number>>
  /** Requests sent while observing this step. */
  readonly requests: number
}

export interface RolloutPlan {
  readonly endpoint: string
  readonly before: EndpointState
  readonly previousVersion?: string
  readonly candidateVersion: string
  /** Empty when the endpoint already serves the candidate as asked. */
  readonly steps: readonly PlannedStep[]
  readonly rules: readonly DeployRule[]
}

export interface Judgement {
  readonly name: string
  readonly value: number
  readonly max: number
  readonly pass: boolean
}

export interface StepReport {
  readonly routes: Readonly<Record<string, number>>
  /** The candidate's numbers (what it answered, plus unattributed requests). */
  readonly candidate: ProbeStats
  /** Every request of the step by answering version. */
  readonly byVersion: Readonly<Record<string, ProbeStats>>
  readonly unattributed: ProbeStats
  readonly metrics: Readonly<Record<string, number>>
  readonly judgements: readonly Judgement[]
  readonly firstErrors: readonly string[]
  readonly passed: boolean
  /** `performance.now()` when the candidate's first good answer came back. */
  readonly firstAnswerAt?: number
}

export interface RollbackReport {
  /** The router's state read back after the restore, in `routingOf` form, beside the one read before. */
  readonly before: readonly string[]
  readonly after: readonly string[]
  readonly stateRestored: boolean
  /** The requests sent to prove the previous version serves; undefined when nothing served before. */
  readonly verification?: ProbeStats & { readonly byVersion: Readonly<Record<string, ProbeStats>> }
  readonly proven: boolean
  readonly message: string
}

export interface RolloutReport {
  readonly outcome: 'planned' | 'unchanged' | 'deployed' | 'rolled-back' | 'failed'
  readonly changed: boolean
  readonly rolledBack: boolean
  readonly endpointUrl: string
  readonly deployedVersion?: string
  readonly previousVersion?: string
  readonly plan: RolloutPlan
  readonly steps: readonly StepReport[]
  /** The metrics of the last observed step. */
  readonly metrics: Readonly<Record<string, number>>
  readonly failure?: { readonly phase: RolloutPhase; readonly message: string; readonly cancelled: boolean }
  readonly rollback?: RollbackReport
  readonly timings: {
    /** From the first apply until the candidate's first good answer through the router. */
    readonly applyToAnswerMs?: number
    /** From the failure seen until the previous version was proven serving. */
    readonly failureToProvenMs?: number
  }
}

const DEFAULTS = {
  traffic: 100,
  requests: 50,
  timeoutMs: 15 * 60_000,
  rollbackTimeoutMs: 5 * 60_000,
  verifyRequests: 20,
  requestTimeoutMs: 30_000
}
/** A canary step never sends more than this many requests, whatever the share. */
const MAX_STEP_REQUESTS = 5000
/** A candidate that answered fewer than this part of what its share should have brought failed. */
const MIN_SHARE_ANSWERED = 0.5

class StepFailed extends Error {
  constructor(
    readonly phase: RolloutPhase,
    message: string,
    readonly cancelled = false
  ) {
    super(message)
  }
}

export function planRollout(before: EndpointState, options: RolloutOptions): RolloutPlan {
  const traffic = options.traffic ?? DEFAULTS.traffic
  if (!Number.isInteger(traffic) || traffic < 1 || traffic > 100) {
    throw new Error(`traffic must be a whole percentage from 1 to 100, got ${traffic}`)
  }
  const requests = options.requests ?? DEFAULTS.requests
  const candidate = options.candidate.version
  const serving = servingVersions(before)
  const previous = serving.find(version => version !== candidate)
  const rules = [...(options.rules ?? [])]
  if (!rules.some(rule => rule.name === DEFAULT_ERROR_RULE.name)) rules.push(DEFAULT_ERROR_RULE)
  const base = {
    endpoint: before.endpoint,
    before,
    candidateVersion: candidate,
    rules,
    ...(previous === undefined ? {} : { previousVersion: previous })
  }
  const alreadyServes =
    serving.length === 1 &&
    serving[0] === candidate &&
    !before.updating &&
    before.versions.every(v => (v.version === candidate ? v.share === 100 && v.health === 'ready' : v.weight === 0))
  if (alreadyServes) return { ...base, steps: [] }
  const full: PlannedStep = {
    routes: { [candidate]: 100, ...(previous === undefined ? {} : { [previous]: 0 }) },
    requests
  }
  if (traffic === 100 || previous === undefined) return { ...base, steps: [full] }
  const canaryRequests = Math.min(MAX_STEP_REQUESTS, Math.ceil((requests * 100) / traffic))
  return {
    ...base,
    steps: [{ routes: { [candidate]: traffic, [previous]: 100 - traffic }, requests: canaryRequests }, full]
  }
}

export async function rollout(options: RolloutOptions): Promise<RolloutReport> {
  const deadline = deadlineIn(options.timeoutMs ?? DEFAULTS.timeoutMs, 'the rollout', options.signal)
  const { target } = options
  if (options.dryRun || !target.lock) return run(options, deadline)
  // Held from before the state is read until the rollout is over, so the state restored is the one this run saw.
  const release = await target.lock(`rollout of version ${options.candidate.version}`, deadline, holder =>
    options.onEvent?.({ phase: 'plan', message: `waiting for ${holder} to finish with this endpoint` })
  )
  try {
    return await run(options, deadline)
  } finally {
    await release()
  }
}

async function run(options: RolloutOptions, deadline: Deadline): Promise<RolloutReport> {
  const { target } = options
  const emit = (phase: RolloutPhase, message: string, step?: number) =>
    options.onEvent?.({ phase, message, ...(step === undefined ? {} : { step }) })
  const before = await target.read()
  const plan = planRollout(before, options)
  emit('plan', describePlan(plan))
  const base = {
    endpointUrl: target.url,
    plan,
    ...(plan.previousVersion === undefined ? {} : { previousVersion: plan.previousVersion })
  }
  if (options.dryRun) {
    return {
      ...base,
      outcome: 'planned',
      changed: plan.steps.length > 0,
      rolledBack: false,
      steps: [],
      metrics: {},
      timings: {}
    }
  }
  if (plan.steps.length === 0) {
    return {
      ...base,
      outcome: 'unchanged',
      changed: false,
      rolledBack: false,
      deployedVersion: plan.candidateVersion,
      steps: [],
      metrics: {},
      timings: {}
    }
  }

  const guard = async <T>(phase: RolloutPhase, action: () => Promise<T>): Promise<T> => {
    if (options.signal?.aborted) throw new StepFailed(phase, `the rollout was cancelled before ${phase}`, true)
    let result: T
    try {
      result = await action()
    } catch (error) {
      if (error instanceof StepFailed) throw error
      const cancelled = error instanceof DeadlineExceededError && error.cancelled
      throw new StepFailed(phase, errorMessage(error), cancelled)
    }
    if (options.signal?.aborted) throw new StepFailed(phase, `the rollout was cancelled during ${phase}`, true)
    return result
  }
  const steps: StepReport[] = []
  const started = performance.now()
  let applyToAnswerMs: number | undefined
  try {
    for (const [index, step] of plan.steps.entries()) {
      const desired = desiredOf(step, options.candidate)
      emit('apply', `traffic ${formatRoutes(step.routes, plan.candidateVersion)}`, index)
      await guard('apply', () => target.apply(desired, deadline))
      emit('wait', 'waiting for the endpoint to be ready', index)
      const ready = await guard('wait', () => target.waitReady(desired, deadline))
      if (!ready.ready) {
        const how = ready.timedOut ? 'was not ready before the deadline' : 'did not become ready'
        throw new StepFailed('wait', `the endpoint ${how}: ${ready.reason}`)
      }
      emit('observe', `sending ${step.requests} requests`, index)
      const report = await guard('observe', () => observe(options, ready.state, step, plan.rules, deadline))
      steps.push(report)
      if (report.firstAnswerAt !== undefined) applyToAnswerMs ??= report.firstAnswerAt - started
      if (!report.passed) throw new StepFailed('observe', failureText(report, plan.candidateVersion))
    }
    emit('promote', `version ${plan.candidateVersion} takes all traffic; removing the previous version`)
    const final: DesiredState = { routes: [{ model: options.candidate, share: 100 }] }
    await guard('promote', () => target.apply(final, deadline))
    const ready = await guard('promote', () => target.waitReady(final, deadline))
    if (!ready.ready) throw new StepFailed('promote', `the promoted state did not read back: ${ready.reason}`)
    emit('verify', `proving version ${plan.candidateVersion} answers`)
    const proof = await prove(options, target, ready.state, [plan.candidateVersion])
    if (!proof.ok) throw new StepFailed('verify', `after promotion, ${proof.message}`)
    // Proven: from here nothing may turn the deployment into a rollback. Stopping what the promoted state no longer
    // routes to is housekeeping, and a failure of it is said, not acted on.
    await target
      .release(ready.state)
      .catch((error: unknown) =>
        emit('verify', `could not stop what no longer serves (${errorMessage(error)}); a later rollout retries it`)
      )
    return {
      ...base,
      outcome: 'deployed',
      changed: true,
      rolledBack: false,
      deployedVersion: plan.candidateVersion,
      steps,
      metrics: steps.at(-1)?.metrics ?? {},
      timings: applyToAnswerMs === undefined ? {} : { applyToAnswerMs }
    }
  } catch (caught) {
    const failure =
      caught instanceof StepFailed
        ? { phase: caught.phase, message: caught.message, cancelled: caught.cancelled }
        : { phase: 'apply' as const, message: errorMessage(caught), cancelled: false }
    const metrics = steps.at(-1)?.metrics ?? {}
    const timings = applyToAnswerMs === undefined ? {} : { applyToAnswerMs }
    if ((options.rollback ?? 'on-failure') === 'never') {
      return { ...base, outcome: 'failed', changed: true, rolledBack: false, steps, metrics, failure, timings }
    }
    emit('rollback', `${failure.message}; putting back ${formatServing(before, 'an empty endpoint')}`)
    const seen = performance.now()
    const rollback = await rollBack(options, before)
    emit('rollback', rollback.message)
    return {
      ...base,
      outcome: rollback.proven ? 'rolled-back' : 'failed',
      changed: true,
      rolledBack: rollback.proven,
      steps,
      metrics,
      failure,
      rollback,
      timings: { ...timings, ...(rollback.proven ? { failureToProvenMs: performance.now() - seen } : {}) }
    }
  }
}

/** Puts `before` back and proves it: the state read back equal, and the previous versions answering every request. */
async function rollBack(options: RolloutOptions, before: EndpointState): Promise<RollbackReport> {
  const { target } = options
  const deadline = deadlineIn(options.rollbackTimeoutMs ?? DEFAULTS.rollbackTimeoutMs, 'the rollback')
  const expected = routingOf(before)
  let after: EndpointState | undefined
  try {
    await target.restore(before, deadline)
    // Read back until it matches or the deadline passes: some routers report a change a little later.
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      after = await target.read()
      if ((sameRouting(before, after) && !after.updating) || remainingMs(deadline) <= 0) break
      await new Promise(resolve => setTimeout(resolve, Math.min(delay, remainingMs(deadline))))
    }
  } catch (error) {
    after = await target.read().catch(() => undefined)
    return {
      before: expected,
      after: after ? routingOf(after) : [],
      stateRestored: false,
      proven: false,
      message: `the rollback failed: ${errorMessage(error)}`
    }
  }
  const stateRestored = sameRouting(before, after)
  if (!stateRestored) {
    return {
      before: expected,
      after: routingOf(after),
      stateRestored,
      proven: false,
      message: `the state read back after the rollback differs from before: ${routingOf(after).join(', ') || 'empty'} instead of ${expected.join(', ') || 'empty'}`
    }
  }
  const previous = servingVersions(before)
  if (previous.length === 0) {
    await target.release(after).catch(() => undefined)
    return {
      before: expected,
      after: routingOf(after),
      stateRestored,
      proven: true,
      message: 'nothing served before; the endpoint is empty again'
    }
  }
  const proof = await prove(options, target, after, previous)
  // The state read back routes to none of what the rollout started, whether or not the previous version answers:
  // the candidate's model server would otherwise run on, serving nothing, after the job.
  await target.release(after).catch(() => undefined)
  return {
    before: expected,
    after: routingOf(after),
    stateRestored,
    verification: proof.stats,
    proven: proof.ok,
    message: proof.ok
      ? `rolled back: state read back equal to before, and ${proof.stats.requests} requests all answered by version ${previous.join(', ')}`
      : `the state read back equals before, but ${proof.message}`
  }
}

/** Sends `verifyRequests` requests that must all be answered, without error, by one of `versions`. */
async function prove(
  options: RolloutOptions,
  target: ServingTarget,
  state: EndpointState,
  versions: readonly string[]
): Promise<{ ok: boolean; message: string; stats: ProbeStats & { byVersion: Record<string, ProbeStats> } }> {
  const invocation = target.invocation(state)
  const requests = options.verifyRequests ?? DEFAULTS.verifyRequests
  const result = await probe({
    url: invocation.url,
    headers: invocation.headers,
    body: options.body,
    requests,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    totalTimeoutMs: Math.max(30_000, requests * (options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs)),
    versionHeader: invocation.versionHeader,
    versionOf: invocation.versionOf,
    // One error already fails the proof: a version that hangs would otherwise hold the job for every request's
    // timeout in turn (20 × 30 s), long after the outcome is known.
    stopOnError: true
  })
  const stats = { ...pickStats(result), byVersion: { ...result.byVersion } }
  const others = result.samples.filter(s => s.version === undefined || !versions.includes(s.version)).length
  const ok = result.requests === requests && result.errors === 0 && others === 0
  const message = ok
    ? 'verified'
    : `${result.errors} of ${result.requests} requests failed and ${others} were not answered by version ${versions.join(', ')}` +
      (result.firstErrors.length ? ` (${result.firstErrors[0]})` : '')
  return { ok, message, stats }
}

async function observe(
  options: RolloutOptions,
  state: EndpointState,
  step: PlannedStep,
  rules: readonly DeployRule[],
  deadline: Deadline
): Promise<StepReport> {
  const invocation = options.target.invocation(state)
  const candidate = options.candidate.version
  const result = await probe({
    url: invocation.url,
    headers: invocation.headers,
    body: options.body,
    requests: step.requests,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    totalTimeoutMs: remainingMs(deadline),
    versionHeader: invocation.versionHeader,
    versionOf: invocation.versionOf,
    ...(options.signal ? { signal: options.signal } : {})
  })
  const mine: ProbeSample[] = result.samples.filter(s => s.version === candidate || s.version === undefined)
  const stats = summarizeProbe(mine, result.startedAt, result.durationMs, false)
  const first = result.samples.find(s => s.version === candidate && s.error === undefined)
  const metrics: Record<string, number> = {
    [DEPLOY_METRICS.errorRate]: stats.errorRate,
    [DEPLOY_METRICS.latencyP50]: stats.latencyP50Ms,
    [DEPLOY_METRICS.latencyP95]: stats.latencyP95Ms
  }
  const judgements: Judgement[] = rules.map(rule => {
    const value = metrics[rule.name] ?? Number.NaN
    return { name: rule.name, value, max: rule.max, pass: Number.isFinite(value) && value <= rule.max }
  })
  const share = step.routes[candidate] ?? 0
  const expected = (result.requests * share) / 100
  const answered = result.byVersion[candidate]?.requests ?? 0
  const enoughAnswered = result.requests === step.requests && answered >= expected * MIN_SHARE_ANSWERED
  return {
    routes: step.routes,
    candidate: pickStats(stats),
    byVersion: result.byVersion,
    unattributed: result.unattributed,
    metrics,
    judgements,
    firstErrors: result.firstErrors,
    passed: enoughAnswered && judgements.every(j => j.pass),
    ...(first ? { firstAnswerAt: result.startedAt + first.sentAtMs + first.latencyMs! } : {})
  }
}

function failureText(step: StepReport, candidate: string): string {
  const parts: string[] = []
  const share = step.routes[candidate] ?? 0
  const total = Object.values(step.byVersion).reduce((sum, s) => sum + s.requests, 0) + step.unattributed.requests
  const answered = step.byVersion[candidate]?.requests ?? 0
  if (answered < ((total * share) / 100) * MIN_SHARE_ANSWERED) {
    parts.push(`version ${candidate} answered ${answered} of ${total} requests at a ${share}% share`)
  }
  for (const j of step.judgements.filter(j => !j.pass)) {
    parts.push(
      Number.isFinite(j.value) ? `${j.name} ${round(j.value)} > max ${j.max}` : `${j.name} could not be measured`
    )
  }
  if (step.firstErrors.length) parts.push(`first error: ${step.firstErrors[0]}`)
  return `version ${candidate} failed at ${formatRoutes(step.routes, candidate)}: ${parts.join('; ')}`
}

function desiredOf(step: PlannedStep, candidate: ModelVersionRef): DesiredState {
  return {
    routes: Object.entries(step.routes).map(([version, share]) => ({
      model: version === candidate.version ? candidate : modelOf(candidate, version),
      share
    }))
  }
}

/** The serving version as a reference; targets that serve from disk find its directory in their own records. */
function modelOf(candidate: ModelVersionRef, version: string): ModelVersionRef {
  return { name: candidate.name, version }
}

function pickStats(stats: ProbeStats): ProbeStats {
  const { requests, errors, errorRate, latencyP50Ms, latencyP95Ms } = stats
  return { requests, errors, errorRate, latencyP50Ms, latencyP95Ms }
}

function describePlan(plan: RolloutPlan): string {
  if (plan.steps.length === 0) return `${plan.endpoint} already serves version ${plan.candidateVersion}: nothing to do`
  return `${plan.endpoint}: ${formatServing(plan.before, 'an empty endpoint')} → ${plan.steps.map(s => formatRoutes(s.routes, plan.candidateVersion)).join(' → ')}`
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3)
}
