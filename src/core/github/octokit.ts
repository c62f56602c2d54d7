/**
 * The GitHub REST client: @actions/github's octokit with the retry and throttling plugins and a per-request
 * timeout. This is the only core module that imports the Actions toolkit's GitHub client; callers load it with a
 * dynamic import so that runs which post nothing never pay for it.
 */
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
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

export function createIssueCommentApi(options: GitHubClientOptions): IssueCommentApi {
  const log = options.log ?? (() => undefined)
  const retryBase = options.retryBaseMs ?? 1000
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const rateLimitRetries = options.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES
  const octokit = getOctokit(
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
        onRateLimit: (
          retryAfter: number,
          request: { method: string; url: string },
          _o: unknown,
          retryCount: number
        ) => {
          log(`GitHub rate limit hit on ${request.method} ${request.url}; retrying after ${retryAfter} s`)
          return retryCount < rateLimitRetries
        },
        onSecondaryRateLimit: (
          retryAfter: number,
          request: { method: string; url: string },
          _o: unknown,
          retryCount: number
        ) => {
          log(`GitHub secondary rate limit hit on ${request.method} ${request.url}; retrying after ${retryAfter} s`)
          return retryCount < rateLimitRetries
        }
      }
    },
    retry,
    throttling
  )
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

/** A 403 on a write from a token without write access (fork pull requests): the gate degrades, it does not fail. */
export function isPermissionDenied(error: unknown): boolean {
  const status = (error as { status?: number }).status
  const message = (error as { message?: string }).message ?? ''
  return status === 403 && /not accessible by integration|must have (push|write) access|permission/i.test(message)
}
