/**
 * The parts of the workflow run's context the gate needs, read from the runner's environment and event file.
 * Reading them ourselves (instead of through @actions/github's context) keeps the toolkit's GitHub client out of a
 * run that posts no comment.
 */
import { readFileSync } from 'node:fs'
import { ConfigurationError } from '../errors.js'

export interface RunContext {
  readonly eventName?: string
  readonly repository?: { owner: string; repo: string }
  /**
   * The pull request number: of pull_request and pull_request_target events, of an issue_comment on a pull request,
   * and of a workflow_run that lists exactly one (GitHub lists none for a fork's).
   */
  readonly pullRequest?: number
  /** Whether the pull request comes from a fork, where GITHUB_TOKEN is read-only. */
  readonly fromFork: boolean
  readonly sha?: string
  readonly runUrl?: string
  readonly apiUrl: string
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const event = readEvent(env.GITHUB_EVENT_PATH)
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  const pr = event?.pull_request as { number?: number; head?: { repo?: { full_name?: string } } } | undefined
  const pullRequest = pullRequestNumber(event, pr)
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com'
  const runUrl =
    env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` +
        (env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '')
      : undefined
  return {
    ...(env.GITHUB_EVENT_NAME ? { eventName: env.GITHUB_EVENT_NAME } : {}),
    ...(owner && repo ? { repository: { owner, repo } } : {}),
    ...(pullRequest !== undefined ? { pullRequest } : {}),
    fromFork: Boolean(
      pr?.head?.repo?.full_name && env.GITHUB_REPOSITORY && pr.head.repo.full_name !== env.GITHUB_REPOSITORY
    ),
    ...(env.GITHUB_SHA ? { sha: env.GITHUB_SHA } : {}),
    ...(runUrl ? { runUrl } : {}),
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com'
  }
}

function pullRequestNumber(
  event: Record<string, unknown> | undefined,
  pr: { number?: number } | undefined
): number | undefined {
  if (typeof pr?.number === 'number') return pr.number
  const issue = event?.issue as { number?: unknown; pull_request?: unknown } | undefined
  if (issue?.pull_request && typeof issue.number === 'number') return issue.number
  const listed = (event?.workflow_run as { pull_requests?: unknown } | undefined)?.pull_requests
  if (Array.isArray(listed) && listed.length === 1) {
    const number = (listed[0] as { number?: unknown } | null)?.number
    if (typeof number === 'number') return number
  }
  return undefined
}

function readEvent(path: string | undefined): Record<string, unknown> | undefined {
  if (!path) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ConfigurationError(`could not read the event payload: ${(error as Error).message}`, {
      source: `GITHUB_EVENT_PATH (${path})`
    })
  }
}
