/**
 * The GitHub REST client: @actions/github's octokit with the retry and throttling plugins and a per-request
 * timeout. This is the only core module that imports the Actions toolkit's GitHub client; callers load it with a
 * dynamic import so that runs which post nothing never pay for it.
 */
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import type { DeploymentApi, StoredDeployment, StoredDeploymentStatus } from './deployments.js'
import type { IssueCommentApi, StoredComment } from './sticky-comment.js'

export interface GitHubClientOptions {
  token: string
  apiUrl: string
  owner: string
  repo: string
  /** Per request, in milliseconds. */
  timeoutMs?: number
  /** How often a rate-limited request is retried before giving up. */
  rateLimitRetries?: number
  /** Base of the backoff between retries, in milliseconds (tests make it small). */
  retryBaseMs?: number
  log?: (message: string) => void
}

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_RATE_LIMIT_RETRIES = 2
/** The longest rate-limit wait, in seconds: GitHub's secondary limits ask for 60. */
const MAX_RATE_LIMIT_WAIT_S = 60

function createClient(options: GitHubClientOptions) {
  const log = options.log ?? (() => undefined)
  const retryBase = options.retryBaseMs ?? 1000
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const rateLimitRetries = options.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES
  // A primary rate limit resets up to an hour away; waiting for it would hold the job (and its runner) that long for
  // what is bookkeeping, so a long wait gives up and the caller warns.
  const waitForRateLimit = (
    kind: string,
    retryAfter: number,
    request: { method: string; url: string },
    retryCount: number
  ): boolean => {
    if (retryAfter > MAX_RATE_LIMIT_WAIT_S) {
      log(
        `GitHub ${kind} hit on ${request.method} ${request.url}; it resets in ${retryAfter} s, longer than the ` +
          `${MAX_RATE_LIMIT_WAIT_S} s this step waits: giving up`
      )
      return false
    }
    if (retryCount >= rateLimitRetries) {
      log(`GitHub ${kind} hit on ${request.method} ${request.url} again; giving up after ${retryCount} retries`)
      return false
    }
    log(`GitHub ${kind} hit on ${request.method} ${request.url}; retrying after ${retryAfter} s`)
    return true
  }
  return getOctokit(
    options.token,
    {
      baseUrl: options.apiUrl,
      request: {
        // One slow request must not hold the job until the runner's six-hour limit.
        fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
      },
      retry: { retryAfterBaseValue: retryBase },
      throttle: {
        retryAfterBaseValue: retryBase,
        onRateLimit: (retryAfter: number, request: { method: string; url: string }, _o: unknown, retryCount: number) =>
          waitForRateLimit('rate limit', retryAfter, request, retryCount),
        onSecondaryRateLimit: (
          retryAfter: number,
          request: { method: string; url: string },
          _o: unknown,
          retryCount: number
        ) => waitForRateLimit('secondary rate limit', retryAfter, request, retryCount)
      }
    },
    retry,
    throttling
  )
}

export function createIssueCommentApi(options: GitHubClientOptions): IssueCommentApi {
  const octokit = createClient(options)
  const { owner, repo } = options
  const toStored = (c: { id: number; body?: string | null; html_url: string }): StoredComment => ({
    id: c.id,
    body: c.body ?? null,
    html_url: c.html_url
  })

  return {
    async listAll(issueNumber) {
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: issueNumber,
        per_page: 100
      })
      return comments.map(toStored)
    },
    async create(issueNumber, body) {
      const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body })
      return toStored(data)
    },
    async update(commentId, body) {
      const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: commentId, body })
      return toStored(data)
    },
    async remove(commentId) {
      await octokit.rest.issues.deleteComment({ owner, repo, comment_id: commentId })
    }
  }
}

export function createDeploymentApi(options: GitHubClientOptions): DeploymentApi {
  const octokit = createClient(options)
  const { owner, repo } = options
  const toDeployment = (d: {
    id: number
    sha: string
    task: string
    environment: string
    payload: unknown
  }): StoredDeployment => ({ id: d.id, sha: d.sha, task: d.task, environment: d.environment, payload: d.payload })
  const toStatus = (s: {
    id: number
    state: StoredDeploymentStatus['state']
    description: string
    environment_url?: string
    log_url?: string
  }): StoredDeploymentStatus => ({
    id: s.id,
    state: s.state,
    description: s.description,
    environmentUrl: s.environment_url ?? '',
    logUrl: s.log_url ?? ''
  })

  return {
    async *list(filter) {
      const pages = octokit.paginate.iterator(octokit.rest.repos.listDeployments, {
        owner,
        repo,
        ...filter,
        per_page: 100
      })
      for await (const { data } of pages) yield data.map(toDeployment)
    },
    async create(deployment) {
      const response = await octokit.rest.repos.createDeployment({
        owner,
        repo,
        ref: deployment.ref,
        task: deployment.task,
        environment: deployment.environment,
        payload: { ...deployment.payload },
        description: deployment.description,
        // true (the default) merges the default branch into a ref behind it and answers 202 with no deployment.
        auto_merge: false,
        // Omitted, every commit status context must be green (else 409); the gate already decided.
        required_contexts: [],
        transient_environment: false,
        production_environment: deployment.productionEnvironment,
        // A 5xx or a timeout may come after GitHub stored the deployment: the recorder looks for it before creating
        // again, where plugin-retry would send the create blindly and leave a second deployment.
        request: { retries: 0 }
      })
      return response.status === 201 && 'id' in response.data ? toDeployment(response.data) : undefined
    },
    async latestStatus(deploymentId) {
      // Newest first, as GitHub lists them; the highest id is taken in case an answer ever is not.
      const { data } = await octokit.rest.repos.listDeploymentStatuses({
        owner,
        repo,
        deployment_id: deploymentId,
        per_page: 100
      })
      const newest = data.reduce<(typeof data)[number] | undefined>((a, b) => (a && a.id > b.id ? a : b), undefined)
      return newest ? toStatus(newest) : undefined
    },
    async createStatus(deploymentId, status) {
      const { data } = await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: deploymentId,
        state: status.state,
        description: status.description,
        ...(status.logUrl !== undefined ? { log_url: status.logUrl } : {}),
        ...(status.environmentUrl !== undefined ? { environment_url: status.environmentUrl } : {}),
        // GitHub retires earlier non-production deployments itself; the recorder retires the others.
        ...(status.state === 'success' ? { auto_inactive: true } : {})
      })
      return toStatus(data)
    }
  }
}

/** A 403 on a write from a token without write access (fork pull requests): the gate degrades, it does not fail. */
export function isPermissionDenied(error: unknown): boolean {
  const status = (error as { status?: number }).status
  const message = (error as { message?: string }).message ?? ''
  return status === 403 && /not accessible by integration|must have (push|write) access|permission/i.test(message)
}
