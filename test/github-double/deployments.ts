/**
 * Deployments and deployment statuses for the GitHub double (docs.github.com/rest/deployments), kept apart from
 * server.ts, which routes the requests here and validates them and the replies against the OpenAPI description.
 *
 * What it reproduces, because recording a rollout depends on it:
 * - Create (`POST /repos/{o}/{r}/deployments`) with GitHub's defaults: `task` "deploy", `environment` "production",
 *   `production_environment` true iff the environment is "production", `transient_environment` false, `auto_merge`
 *   true, `required_contexts` all of the ref's commit status contexts.
 *   - `auto_merge` not false and the ref behind the default branch (`markBehind`): 202 "Auto-merged main into <ref>
 *     on deployment." and no deployment, as GitHub merges instead of deploying.
 *   - A required context (all the ref's contexts when `required_contexts` is omitted, the listed ones otherwise)
 *     that is not `success` (`setCommitStatuses`; a listed context with no status at all also counts): 409
 *     "Conflict: Commit status checks failed for <ref>." with the contexts in `errors`, as GitHub words it.
 * - List (newest first, filters `sha`, `ref`, `task`, `environment`, pagination with `Link` like comments), get.
 * - Statuses: create (newest first when listed; `log_url` also sets `target_url`; an `environment` moves the
 *   deployment; a `description` over 140 characters is a 422 as GitHub's `maxLength` says), list, get.
 * - `auto_inactive` (default true) on a `success` status: every prior deployment of the same repository and
 *   environment that is neither transient nor production and whose latest status is `success` gets an `inactive`
 *   status. Production and transient deployments are left as they are, which is why a client must retire them.
 *
 * What it does not reproduce: git (a branch ref gets a made-up sha; `markBehind` stands for "behind the default
 * branch"), deployment protection rules and environments as repository objects, the `deployment` and
 * `deployment_status` webhooks, and deleting deployments.
 */
/** The parts of a simple-user the store relies on; the double passes its full simple-user. */
export interface Creator {
  login: string
  type: string
}

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success'

/** A deployment as GitHub returns it (the `deployment` schema). */
export interface Deployment {
  url: string
  id: number
  node_id: string
  sha: string
  ref: string
  task: string
  payload: Record<string, unknown> | string
  original_environment: string
  environment: string
  description: string | null
  creator: Creator
  created_at: string
  updated_at: string
  statuses_url: string
  repository_url: string
  transient_environment: boolean
  production_environment: boolean
  performed_via_github_app: null
}

/** A deployment status as GitHub returns it (the `deployment-status` schema). */
export interface DeploymentStatus {
  url: string
  id: number
  node_id: string
  state: DeploymentState
  creator: Creator
  description: string
  environment: string
  target_url: string
  log_url: string
  environment_url: string
  created_at: string
  updated_at: string
  deployment_url: string
  repository_url: string
  performed_via_github_app: null
}

/** A deployment with its statuses, oldest first, as the double stores it. */
export interface StoredDeployment {
  deployment: Deployment
  statuses: DeploymentStatus[]
}

export interface DeploymentSeed {
  ref?: string
  sha?: string
  task?: string
  environment?: string
  payload?: Record<string, unknown> | string
  production_environment?: boolean
  transient_environment?: boolean
  /** Statuses to add, oldest first. */
  states?: DeploymentState[]
  environment_url?: string
}

export type CommitState = 'error' | 'failure' | 'pending' | 'success'

/** What the store answers; server.ts validates and sends it. */
export interface DeploymentReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface DeploymentStoreContext {
  baseUrl(): string
  user(login: string): Creator
  /** The error body GitHub sends, with `documentation_url`. */
  error(status: number, message: string, documentationUrl: string): DeploymentReply
  /** One page of `items` for the request's `per_page`/`page`, with GitHub's Link header. */
  page<T>(items: T[], url: URL): DeploymentReply
  timestamp(at: Date): string
  sha(seed: string): string
}

const DESCRIPTION_LIMIT = 140
const DEFAULT_BRANCH = 'main'

export class DeploymentStore {
  private readonly repos = new Map<string, StoredDeployment[]>()
  private readonly behind = new Set<string>()
  private readonly commitStatuses = new Map<string, Map<string, CommitState>>()
  // GitHub's ids are large and only grow; distinct ranges keep deployment and status ids apart in tests.
  private nextDeploymentId = 3_000_000_001
  private nextStatusId = 4_000_000_001

  constructor(private readonly context: DeploymentStoreContext) {}

  /** A copy of a repository's deployments with their statuses, oldest first. */
  all(owner: string, repo: string): StoredDeployment[] {
    return structuredClone(this.repos.get(repoKey(owner, repo)) ?? [])
  }

  /** Deployments as if created earlier (a minute apart, ending a day ago), oldest first. */
  seed(owner: string, repo: string, seeds: DeploymentSeed[], login: string): StoredDeployment[] {
    const end = Date.now() - 24 * 3600 * 1000
    return seeds.map((seed, index) => {
      const at = new Date(end - (seeds.length - index) * 60_000)
      const ref = seed.ref ?? seed.sha ?? DEFAULT_BRANCH
      const stored = this.create(owner, repo, login, at, {
        ref,
        sha: seed.sha ?? this.resolve(owner, repo, ref),
        task: seed.task ?? 'deploy',
        environment: seed.environment ?? 'production',
        payload: seed.payload ?? {},
        description: null,
        production: seed.production_environment ?? (seed.environment ?? 'production') === 'production',
        transient: seed.transient_environment ?? false
      })
      for (const state of seed.states ?? []) {
        this.addStatus(owner, repo, stored, login, at, {
          state,
          description: '',
          logUrl: '',
          environmentUrl: seed.environment_url ?? ''
        })
      }
      return structuredClone(stored)
    })
  }

  /** The ref is behind the default branch: a deployment with `auto_merge` would merge instead (202). */
  markBehind(owner: string, repo: string, ref: string): void {
    this.behind.add(`${repoKey(owner, repo)}@${ref}`)
  }

  /** Commit status contexts on a ref, which `required_contexts` is checked against. */
  setCommitStatuses(owner: string, repo: string, ref: string, contexts: Record<string, CommitState>): void {
    this.commitStatuses.set(`${repoKey(owner, repo)}@${ref}`, new Map(Object.entries(contexts)))
  }

  handle(
    operationId: string,
    params: Record<string, string>,
    url: URL,
    body: unknown,
    login: string,
    docs: string
  ): DeploymentReply | undefined {
    const { owner, repo } = params
    const { error } = this.context
    switch (operationId) {
      case 'repos/list-deployments': {
        const query = url.searchParams
        const matching = (this.repos.get(repoKey(owner, repo)) ?? [])
          .filter(({ deployment: d }) => {
            for (const field of ['sha', 'ref', 'task', 'environment'] as const) {
              const wanted = query.get(field)
              if (wanted !== null && d[field] !== wanted) return false
            }
            return true
          })
          .map(stored => stored.deployment)
          .reverse()
        return this.context.page(matching, url)
      }
      case 'repos/create-deployment':
        return this.createRequested(owner, repo, body as CreateDeploymentBody, login, docs)
      case 'repos/get-deployment': {
        const found = this.find(owner, repo, Number(params.deployment_id))
        return found ? { status: 200, body: found.deployment } : error(404, 'Not Found', docs)
      }
      case 'repos/list-deployment-statuses': {
        const found = this.find(owner, repo, Number(params.deployment_id))
        return found ? this.context.page([...found.statuses].reverse(), url) : error(404, 'Not Found', docs)
      }
      case 'repos/create-deployment-status': {
        const found = this.find(owner, repo, Number(params.deployment_id))
        if (!found) return error(404, 'Not Found', docs)
        const request = body as CreateStatusBody
        const description = request.description ?? ''
        if ([...description].length > DESCRIPTION_LIMIT) return descriptionTooLong(docs)
        if (request.environment !== undefined) found.deployment.environment = request.environment
        const status = this.addStatus(owner, repo, found, login, new Date(), {
          state: request.state,
          description,
          logUrl: request.log_url ?? request.target_url ?? '',
          environmentUrl: request.environment_url ?? ''
        })
        if (request.state === 'success' && request.auto_inactive !== false) this.autoInactive(owner, repo, found, login)
        return { status: 201, body: status, headers: { location: status.url } }
      }
      case 'repos/get-deployment-status': {
        const found = this.find(owner, repo, Number(params.deployment_id))
        const status = found?.statuses.find(s => s.id === Number(params.status_id))
        return status ? { status: 200, body: status } : error(404, 'Not Found', docs)
      }
      default:
        return undefined
    }
  }

  private createRequested(
    owner: string,
    repo: string,
    request: CreateDeploymentBody,
    login: string,
    docs: string
  ): DeploymentReply {
    const key = repoKey(owner, repo)
    if (request.auto_merge !== false && this.behind.has(`${key}@${request.ref}`)) {
      // GitHub merges the default branch into the ref and creates no deployment; the ref is then up to date.
      this.behind.delete(`${key}@${request.ref}`)
      return { status: 202, body: { message: `Auto-merged ${DEFAULT_BRANCH} into ${request.ref} on deployment.` } }
    }
    const contexts = this.commitStatuses.get(`${key}@${request.ref}`) ?? new Map<string, CommitState>()
    const required = request.required_contexts ?? [...contexts.keys()]
    const unmet = required.filter(context => contexts.get(context) !== 'success')
    if (unmet.length > 0) {
      return {
        status: 409,
        body: {
          message: `Conflict: Commit status checks failed for ${request.ref}.`,
          errors: [
            {
              contexts: required.map(context => ({ context, state: contexts.get(context) ?? 'missing' })),
              resource: 'Deployment',
              field: 'required_contexts',
              code: 'invalid'
            }
          ],
          documentation_url: docs,
          status: '409'
        }
      }
    }
    const environment = request.environment ?? 'production'
    const stored = this.create(owner, repo, login, new Date(), {
      ref: request.ref,
      sha: this.resolve(owner, repo, request.ref),
      task: request.task ?? 'deploy',
      environment,
      payload: request.payload ?? {},
      description: request.description ?? '',
      production: request.production_environment ?? environment === 'production',
      transient: request.transient_environment ?? false
    })
    return { status: 201, body: stored.deployment, headers: { location: stored.deployment.url } }
  }

  private create(
    owner: string,
    repo: string,
    login: string,
    at: Date,
    fields: {
      ref: string
      sha: string
      task: string
      environment: string
      payload: Record<string, unknown> | string
      description: string | null
      production: boolean
      transient: boolean
    }
  ): StoredDeployment {
    const id = this.nextDeploymentId++
    const api = `${this.context.baseUrl()}/repos/${owner}/${repo}`
    const deployment: Deployment = {
      url: `${api}/deployments/${id}`,
      id,
      node_id: Buffer.from(`010:Deployment${id}`).toString('base64'),
      sha: fields.sha,
      ref: fields.ref,
      task: fields.task,
      payload: fields.payload,
      original_environment: fields.environment,
      environment: fields.environment,
      description: fields.description,
      creator: this.context.user(login),
      created_at: this.context.timestamp(at),
      updated_at: this.context.timestamp(at),
      statuses_url: `${api}/deployments/${id}/statuses`,
      repository_url: api,
      transient_environment: fields.transient,
      production_environment: fields.production,
      performed_via_github_app: null
    }
    const stored: StoredDeployment = { deployment, statuses: [] }
    const key = repoKey(owner, repo)
    this.repos.set(key, [...(this.repos.get(key) ?? []), stored])
    return stored
  }

  private addStatus(
    owner: string,
    repo: string,
    stored: StoredDeployment,
    login: string,
    at: Date,
    fields: { state: DeploymentState; description: string; logUrl: string; environmentUrl: string }
  ): DeploymentStatus {
    const id = this.nextStatusId++
    const api = `${this.context.baseUrl()}/repos/${owner}/${repo}`
    const { deployment } = stored
    const status: DeploymentStatus = {
      url: `${deployment.url}/statuses/${id}`,
      id,
      node_id: Buffer.from(`016:DeploymentStatus${id}`).toString('base64'),
      state: fields.state,
      creator: this.context.user(login),
      description: fields.description,
      environment: deployment.environment,
      target_url: fields.logUrl,
      log_url: fields.logUrl,
      environment_url: fields.environmentUrl,
      created_at: this.context.timestamp(at),
      updated_at: this.context.timestamp(at),
      deployment_url: deployment.url,
      repository_url: api,
      performed_via_github_app: null
    }
    stored.statuses.push(status)
    deployment.updated_at = status.updated_at
    return status
  }

  /** GitHub's `auto_inactive`: only prior non-transient, non-production deployments that read `success`. */
  private autoInactive(owner: string, repo: string, current: StoredDeployment, login: string): void {
    for (const stored of this.repos.get(repoKey(owner, repo)) ?? []) {
      const { deployment } = stored
      if (deployment.id >= current.deployment.id) continue
      if (deployment.environment !== current.deployment.environment) continue
      if (deployment.transient_environment || deployment.production_environment) continue
      const latest = stored.statuses.at(-1)
      if (latest?.state !== 'success') continue
      this.addStatus(owner, repo, stored, login, new Date(), {
        state: 'inactive',
        description: '',
        logUrl: '',
        environmentUrl: latest.environment_url
      })
    }
  }

  private find(owner: string, repo: string, id: number): StoredDeployment | undefined {
    return this.repos.get(repoKey(owner, repo))?.find(stored => stored.deployment.id === id)
  }

  /** A 40-hex ref is a commit; anything else is a branch or tag with a made-up, stable head. */
  private resolve(owner: string, repo: string, ref: string): string {
    return /^[0-9a-f]{40}$/i.test(ref) ? ref.toLowerCase() : this.context.sha(`${repoKey(owner, repo)}@${ref}`)
  }
}

interface CreateDeploymentBody {
  ref: string
  task?: string
  auto_merge?: boolean
  required_contexts?: string[]
  payload?: Record<string, unknown> | string
  environment?: string
  description?: string | null
  transient_environment?: boolean
  production_environment?: boolean
}

interface CreateStatusBody {
  state: DeploymentState
  target_url?: string
  log_url?: string
  description?: string
  environment?: string
  environment_url?: string
  auto_inactive?: boolean
}

function repoKey(owner: string, repo: string): string {
  // Owner and repository names are not case sensitive on GitHub.
  return `${owner.toLowerCase()}/${repo.toLowerCase()}`
}

function descriptionTooLong(documentationUrl: string): DeploymentReply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'DeploymentStatus',
          code: 'custom',
          field: 'description',
          message: `description is too long (maximum is ${DESCRIPTION_LIMIT} characters)`
        }
      ],
      documentation_url: documentationUrl,
      status: '422'
    }
  }
}
