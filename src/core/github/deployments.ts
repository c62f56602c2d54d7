/**
 * Each rollout as a GitHub deployment, so the repository's Deployments page shows what serves on each environment.
 *
 * Why it is more than "create, then post a status":
 * - `auto_merge` defaults to true: with a ref behind the default branch GitHub merges and answers 202 with no
 *   deployment. `required_contexts` defaults to every commit status context: one red check answers 409. Both are
 *   turned off, since the gate that decided the rollout is the check that matters here.
 * - `auto_inactive` only retires prior non-transient, non-production deployments. On a production environment the
 *   previous rollout would read active forever, so after a success the deployments this one replaced (same
 *   environment and task, latest status `success`) get an `inactive` status here, on every environment alike.
 * - A re-run of the same rollout (same sha, task, environment, endpoint, model and version) finds its deployment
 *   across every page instead of creating a second one, and posts no status the deployment already has.
 * - One model may serve from several endpoints of one environment (two regions, say): the payload's endpoint keeps
 *   their records apart, so a rollout neither reuses nor retires another endpoint's deployment.
 * - Recording is bookkeeping: a read-only token or a GitHub outage is a warning, never a failed or rolled-back
 *   rollout. 429 and 5xx are retried by the octokit plugins underneath.
 *
 * This file knows GitHub only through the `DeploymentApi` seam; `open-deployment-recorder.ts` picks the recorder for
 * a run and imports the GitHub client (octokit.ts) only when it writes.
 */
export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success'

/** What modelgate puts in a deployment's `payload` (GitHub stores any JSON object). */
export interface DeploymentPayload {
  readonly model: string
  readonly version: string
  readonly previousVersion: string | null
  /** The serving target kind, e.g. `haproxy` or `databricks`. */
  readonly target: string
  readonly endpoint: string
}

export interface StoredDeployment {
  readonly id: number
  readonly sha: string
  readonly task: string
  readonly environment: string
  readonly payload: unknown
}

export interface StoredDeploymentStatus {
  readonly id: number
  readonly state: DeploymentState
  readonly description: string
  readonly environmentUrl: string
  readonly logUrl: string
}

export interface NewDeployment {
  readonly ref: string
  readonly task: string
  readonly environment: string
  readonly payload: DeploymentPayload
  readonly description: string
  readonly productionEnvironment: boolean
}

export interface NewDeploymentStatus {
  readonly state: DeploymentState
  readonly description: string
  readonly logUrl?: string
  readonly environmentUrl?: string
}

/** The seam between the recorder and GitHub: the octokit adapter implements it, tests can too. */
export interface DeploymentApi {
  /** Deployments matching every given filter, newest first, one page at a time (so a search can stop early). */
  list(filter: { sha?: string; task: string; environment: string }): AsyncIterable<StoredDeployment[]>
  /**
   * Creates with `auto_merge: false`, `required_contexts: []` and `transient_environment: false`. Resolves to
   * `undefined` when GitHub created nothing (a 202 after all).
   */
  create(deployment: NewDeployment): Promise<StoredDeployment | undefined>
  /** The newest status, or undefined for a deployment that has none. */
  latestStatus(deploymentId: number): Promise<StoredDeploymentStatus | undefined>
  createStatus(deploymentId: number, status: NewDeploymentStatus): Promise<StoredDeploymentStatus>
}

/** One rollout, as the rollout code knows it when it starts. */
export interface DeploymentRollout {
  readonly model: string
  /** The registry version being rolled out, e.g. "7". */
  readonly version: string
  /** What served before, if anything. */
  readonly previousVersion?: string | undefined
  /** The serving target kind, e.g. `haproxy` or `databricks`. */
  readonly target: string
  /** The endpoint's name. */
  readonly endpoint: string
  /** The GitHub environment (the action's `environment` input). */
  readonly environment: string
  /** The commit the workflow runs on (GITHUB_SHA). */
  readonly sha: string
  /** Overrides the guess from the environment's name (`isProductionEnvironment`). */
  readonly productionEnvironment?: boolean | undefined
}

export type DeploymentOutcome =
  | {
      readonly state: 'success'
      /** Where the endpoint answers; the Deployments page links it. */
      readonly environmentUrl?: string | undefined
      /** The observed numbers, e.g. "200 requests, 0.0% errors, p95 35 ms". */
      readonly summary?: string | undefined
    }
  | {
      readonly state: 'failure'
      /** Whether the previous state was restored (and proven). */
      readonly rolledBack: boolean
      /** The rollout ended in an error before it changed the endpoint: there was nothing to roll back. */
      readonly beforeAnyChange?: boolean
      /** What failed, with numbers, e.g. "error rate 12.0% > 1.0%". */
      readonly summary?: string | undefined
    }

/** What was recorded, for the report. */
export interface RecordedDeployment {
  readonly id: number
  /** False when a re-run found the deployment of an earlier attempt. */
  readonly created: boolean
  /** The state the deployment reads now. */
  readonly state: DeploymentState
  /** Deployments this one replaced that were set `inactive` by this run. */
  readonly retired: readonly number[]
}

/**
 * Records one rollout. `start` before anything changes, `finish` once the outcome is known. Neither throws: a
 * deployment that cannot be recorded is a warning and `undefined`.
 */
export interface DeploymentRecorder {
  start(rollout: DeploymentRollout): Promise<RecordedDeployment | undefined>
  finish(outcome: DeploymentOutcome): Promise<RecordedDeployment | undefined>
}

/** Creates of one deployment before a 5xx is given up on, each after a look for what the last one stored. */
const CREATE_ATTEMPTS = 3

/** GitHub's limit on a deployment status description, in characters. */
export const DESCRIPTION_LIMIT = 140

/** Records nothing: no token or repository, or a dry run. */
export const noDeploymentRecorder: DeploymentRecorder = {
  start: () => Promise.resolve(undefined),
  finish: () => Promise.resolve(undefined)
}

/** The deployment task of a model: distinct per model so that models sharing an environment do not retire each other. */
export function deploymentTask(model: string): string {
  return `deploy:${model}`
}

/** `production`, `prod`, `prod-eu`, `us-production`: environments end users reach. */
export function isProductionEnvironment(environment: string): boolean {
  return /(^|[-_./\s])prod(uction)?($|[-_./\s])/i.test(environment)
}

/** Cut to GitHub's 140 characters (counted in code points), with an ellipsis when cut. */
export function clampDescription(text: string): string {
  const characters = [...text.replace(/\s+/g, ' ').trim()]
  return characters.length <= DESCRIPTION_LIMIT
    ? characters.join('')
    : `${characters.slice(0, DESCRIPTION_LIMIT - 1).join('')}…`
}

export interface GitHubDeploymentRecorderOptions {
  /** The workflow run's URL (the run context's `runUrl`): each status links it as its log. */
  readonly logUrl?: string
  readonly warn: (message: string) => void
  readonly info?: (message: string) => void
}

export class GitHubDeploymentRecorder implements DeploymentRecorder {
  private rollout: DeploymentRollout | undefined
  private deployment: { id: number; created: boolean; state: DeploymentState } | undefined
  /** Set once recording failed: later calls do nothing rather than warn again. */
  private disabled = false

  constructor(
    private readonly api: DeploymentApi,
    private readonly options: GitHubDeploymentRecorderOptions
  ) {}

  async start(rollout: DeploymentRollout): Promise<RecordedDeployment | undefined> {
    this.rollout = rollout
    this.deployment = undefined
    return this.guard('create the deployment', async () => {
      const task = deploymentTask(rollout.model)
      const found = await this.findExisting(rollout, task)
      let id: number
      let latest: StoredDeploymentStatus | undefined
      if (found) {
        id = found.id
        latest = await this.api.latestStatus(id)
        this.info(`Deployment ${id} on ${rollout.environment} is this rollout's from an earlier attempt; reusing it`)
      } else {
        const created = await this.create(rollout, task)
        if (!created) {
          this.options.warn(
            `GitHub created no deployment for ${rollout.sha} (it answered 202: the ref was merged instead).`
          )
          this.disabled = true
          return undefined
        }
        id = created.id
      }
      // A re-run of a rollout that already finished well changes nothing, and says so by posting nothing.
      const state =
        latest?.state === 'success' || latest?.state === 'in_progress'
          ? latest.state
          : (await this.post(id, latest, { state: 'in_progress', description: startDescription(rollout) })).state
      this.deployment = { id, created: !found, state }
      return { id, created: !found, state, retired: [] }
    })
  }

  async finish(outcome: DeploymentOutcome): Promise<RecordedDeployment | undefined> {
    const rollout = this.rollout
    const deployment = this.deployment
    if (!rollout || !deployment) return undefined
    return this.guard('record the rollout outcome', async () => {
      const latest = await this.api.latestStatus(deployment.id)
      const status =
        outcome.state === 'success'
          ? await this.post(deployment.id, latest, {
              state: 'success',
              description: successDescription(rollout, outcome.summary),
              ...(outcome.environmentUrl ? { environmentUrl: outcome.environmentUrl } : {})
            })
          : await this.post(deployment.id, latest, {
              state: 'failure',
              description: failureDescription(rollout, outcome)
            })
      deployment.state = status.state
      const retired = outcome.state === 'success' ? await this.retireReplaced(rollout, deployment.id) : []
      return { id: deployment.id, created: deployment.created, state: status.state, retired }
    })
  }

  /**
   * Creates the deployment. A 5xx (or a timeout, which octokit reports as 500) may come after GitHub stored it, so
   * the create is sent again only when a look finds no deployment of this rollout.
   */
  private async create(rollout: DeploymentRollout, task: string): Promise<StoredDeployment | undefined> {
    const deployment: NewDeployment = {
      ref: rollout.sha,
      task,
      environment: rollout.environment,
      payload: payloadOf(rollout),
      description: clampDescription(
        `${rollout.model} ${versionLabel(rollout.version)} to ${rollout.endpoint} (${rollout.target})`
      ),
      productionEnvironment: rollout.productionEnvironment ?? isProductionEnvironment(rollout.environment)
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.api.create(deployment)
      } catch (error) {
        const status = (error as { status?: number }).status
        if (status === undefined || status < 500 || attempt >= CREATE_ATTEMPTS) throw error
        const stored = await this.findExisting(rollout, task)
        if (stored) {
          this.info(`GitHub answered ${status} to creating the deployment but stored it: deployment ${stored.id}`)
          return stored
        }
      }
    }
  }

  /**
   * This rollout's deployment from an earlier attempt (same sha, task and environment, same model and version),
   * unless a later deployment of the environment has served since (reads `success` or `inactive`): a rollout re-run
   * after a later one (putting an older version back) gets a new deployment. So no deployment older than one that
   * served ever reads `success` again, which is what lets `retireReplaced` stop early.
   */
  private async findExisting(rollout: DeploymentRollout, task: string): Promise<StoredDeployment | undefined> {
    let found: StoredDeployment | undefined
    for await (const page of this.api.list({ sha: rollout.sha, task, environment: rollout.environment })) {
      found = page.find(deployment => {
        const payload = parsePayload(deployment.payload)
        return (
          payload?.model === rollout.model && payload.version === rollout.version && sameEndpoint(deployment, rollout)
        )
      })
      if (found) break
    }
    if (!found) return undefined
    for await (const page of this.api.list({ task, environment: rollout.environment })) {
      for (const later of page) {
        if (later.id <= found.id) return found
        if (!sameEndpoint(later, rollout)) continue
        const state = (await this.api.latestStatus(later.id))?.state
        if (state === 'success' || state === 'inactive') {
          this.info(`Deployment ${later.id} served after deployment ${found.id} of this rollout; recording it anew`)
          return undefined
        }
      }
    }
    return found
  }

  /**
   * Older deployments of the same environment and task that still read `success` get `inactive`. Newest first, the
   * scan stops at the first one already inactive: it was retired by a later success, which retired those before it
   * (statuses only go on the newest deployment, see `findExisting`, so none of those can read `success` again).
   */
  private async retireReplaced(rollout: DeploymentRollout, currentId: number): Promise<number[]> {
    const retired: number[] = []
    const filter = { task: deploymentTask(rollout.model), environment: rollout.environment }
    for await (const page of this.api.list(filter)) {
      for (const deployment of page) {
        if (deployment.id === currentId || !sameEndpoint(deployment, rollout)) continue
        const latest = await this.api.latestStatus(deployment.id)
        if (latest?.state === 'inactive') return retired
        if (latest?.state !== 'success') continue
        await this.api.createStatus(deployment.id, {
          state: 'inactive',
          description: clampDescription(
            `Replaced by ${rollout.model} ${versionLabel(rollout.version)} (deployment ${currentId})`
          ),
          ...(latest.environmentUrl ? { environmentUrl: latest.environmentUrl } : {}),
          ...(this.options.logUrl ? { logUrl: this.options.logUrl } : {})
        })
        retired.push(deployment.id)
      }
    }
    return retired
  }

  /**
   * Posts a status unless the deployment already reads that state at that URL: a re-run's numbers differ in the
   * description, but the Deployments page would only gain a repeated line.
   */
  private async post(
    id: number,
    latest: StoredDeploymentStatus | undefined,
    status: NewDeploymentStatus
  ): Promise<StoredDeploymentStatus> {
    if (latest && latest.state === status.state && latest.environmentUrl === (status.environmentUrl ?? '')) {
      return latest
    }
    return this.api.createStatus(id, { ...status, ...(this.options.logUrl ? { logUrl: this.options.logUrl } : {}) })
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.disabled) return undefined
    try {
      return await work()
    } catch (error) {
      this.disabled = true
      if (isRefused(error)) {
        this.options.warn(
          `The token may not ${what} on GitHub (the workflow needs \`permissions: deployments: write\`); ` +
            'the rollout is not recorded on the Deployments page.'
        )
      } else {
        this.options.warn(`Could not ${what} on GitHub: ${(error as Error).message}`)
      }
      return undefined
    }
  }

  private info(message: string): void {
    this.options.info?.(message)
  }
}

function payloadOf(rollout: DeploymentRollout): DeploymentPayload {
  return {
    model: rollout.model,
    version: rollout.version,
    previousVersion: rollout.previousVersion ?? null,
    target: rollout.target,
    endpoint: rollout.endpoint
  }
}

/** Whether a deployment of the task is this rollout's endpoint; one whose payload names none is taken as it. */
function sameEndpoint(deployment: StoredDeployment, rollout: DeploymentRollout): boolean {
  const endpoint = parsePayload(deployment.payload)?.endpoint
  return endpoint === undefined || endpoint === rollout.endpoint
}

/** GitHub returns the payload as it was sent: an object, or a string that may hold JSON. */
function parsePayload(payload: unknown): Partial<DeploymentPayload> | undefined {
  let value = payload
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown
    } catch {
      return undefined
    }
  }
  return typeof value === 'object' && value !== null ? (value as Partial<DeploymentPayload>) : undefined
}

function versionLabel(version: string): string {
  return /^\d+$/.test(version) ? `v${version}` : version
}

function was(rollout: DeploymentRollout): string {
  return rollout.previousVersion === undefined
    ? 'nothing served before'
    : `was ${versionLabel(rollout.previousVersion)}`
}

function startDescription(rollout: DeploymentRollout): string {
  return clampDescription(
    `Rolling out ${rollout.model} ${versionLabel(rollout.version)} to ${rollout.endpoint} (${was(rollout)})`
  )
}

function successDescription(rollout: DeploymentRollout, summary: string | undefined): string {
  const head = `${rollout.model} ${versionLabel(rollout.version)} serves ${rollout.endpoint} (${was(rollout)})`
  return clampDescription(summary ? `${head}: ${summary}` : head)
}

function failureDescription(
  rollout: DeploymentRollout,
  outcome: Extract<DeploymentOutcome, { state: 'failure' }>
): string {
  // The rollback part comes first so that a long summary is what gets cut.
  const back = outcome.beforeAnyChange
    ? 'before any change'
    : outcome.rolledBack
      ? rollout.previousVersion === undefined
        ? 'rolled back (nothing served before)'
        : `rolled back to ${versionLabel(rollout.previousVersion)}`
      : 'NOT rolled back'
  const head = `${rollout.model} ${versionLabel(rollout.version)} failed, ${back}`
  return clampDescription(outcome.summary ? `${head}: ${outcome.summary}` : head)
}

/** A 403 that is not a rate limit: the token may not write deployments (a fork's read-only token, no permission). */
function isRefused(error: unknown): boolean {
  const status = (error as { status?: number }).status
  const message = (error as { message?: string }).message ?? ''
  return status === 403 && !/rate limit/i.test(message)
}
