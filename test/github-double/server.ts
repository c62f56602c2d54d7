/**
 * A local double of GitHub's REST API (api.github.com), for tests that cannot reach GitHub.
 *
 * What it reproduces, because the sticky-comment action depends on it:
 * - Issue comments: list (oldest first, `per_page` default 30 and silently capped at 100, 1-based `page`, `since`,
 *   and a `Link` header in GitHub's format and rel order built on the double's own URL so octokit's paginate follows
 *   it), create, get, update and delete, with complete comment objects (a full simple-user, ids that only increase,
 *   `html_url` with `#issuecomment-{id}`), GitHub's 65,536-character body limit counted in code points, and 404s with
 *   the operation's documentation URL.
 * - `GET /repos/{owner}/{repo}/pulls/{pull_number}`: a minimal but schema-valid open pull request for any number.
 * - `GET /rate_limit`, and the `x-ratelimit-*` headers on every response (`/rate_limit` itself is not counted).
 * - Deployments and their statuses (see ./deployments.ts): create with GitHub's `auto_merge` (202) and
 *   `required_contexts` (409) checks, list with filters and pagination, statuses, and `auto_inactive`.
 * - Authentication by `Authorization: token X` or `Bearer X`: 401 "Bad credentials" for a missing or unknown token,
 *   and 403 "Resource not accessible by integration" (with `x-accepted-github-permissions`) for writes by a token
 *   that may only read, which is what a `pull_request` run from a fork gets.
 * - Injected faults that @octokit/plugin-throttling and @octokit/plugin-retry recognise as GitHub's (see
 *   `faultReply`): secondary and primary rate limits, and 5xx server errors.
 * - Validation of every request and every response against GitHub's OpenAPI description (see ./openapi.ts): a request
 *   outside it gets GitHub's 400/422 and a line in `violations`.
 *
 * What it does not reproduce: any endpoint beyond the ones above (they answer 404 and are listed in `violations`,
 * so a test notices), anonymous access to public repositories (every request must carry a token), repository
 * existence and visibility (every owner/repo/issue exists), the `/repositories/{id}/...` URLs GitHub really puts in
 * `Link` headers, ETags and conditional requests, media types such as `body_html`, reactions beyond empty counts,
 * GraphQL, webhooks, real rate-limit accounting per installation, and GitHub's eventual consistency (a created
 * comment is listed at once).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DeploymentStore, type CommitState, type DeploymentSeed, type StoredDeployment } from './deployments.js'
import { loadApiDescription, type Problem } from './openapi.js'

export type TokenPermission = 'write' | 'read'

export interface GitHubDoubleOptions {
  /** token -> permission on issues/pull requests. Default: { 'ghs_write_token': 'write', 'ghs_read_token': 'read' } */
  tokens?: Record<string, TokenPermission>
  /** login the write token's comments are created as. Default 'github-actions[bot]' (type 'Bot'). */
  botLogin?: string
}

export interface Fault {
  /** e.g. 'POST'; undefined = any */
  method?: string
  /** matched against the URL pathname; undefined = any */
  path?: RegExp
  /** how many matching requests get the fault */
  count: number
  kind: 'server-error' | 'secondary-rate-limit' | 'primary-rate-limit'
  /** server-error: default 502 */
  status?: number
  /** default 0 for tests to stay fast; sent as retry-after / used to compute x-ratelimit-reset */
  retryAfterSeconds?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  status: number
  body?: unknown
}

export interface SimpleUser {
  login: string
  id: number
  node_id: string
  avatar_url: string
  gravatar_id: string | null
  url: string
  html_url: string
  followers_url: string
  following_url: string
  gists_url: string
  starred_url: string
  subscriptions_url: string
  organizations_url: string
  repos_url: string
  events_url: string
  received_events_url: string
  type: 'User' | 'Bot'
  user_view_type: string
  site_admin: boolean
}

export interface ReactionRollup {
  url: string
  total_count: number
  '+1': number
  '-1': number
  laugh: number
  confused: number
  heart: number
  hooray: number
  eyes: number
  rocket: number
}

/** An issue comment as GitHub returns it (the `issue-comment` schema). */
export interface IssueComment {
  id: number
  node_id: string
  url: string
  html_url: string
  body: string
  user: SimpleUser
  created_at: string
  updated_at: string
  issue_url: string
  author_association: 'NONE' | 'CONTRIBUTOR' | 'MEMBER' | 'OWNER' | 'COLLABORATOR'
  performed_via_github_app: null
  reactions: ReactionRollup
}

export interface GitHubDouble {
  /** e.g. http://127.0.0.1:41234 (use as GITHUB_API_URL) */
  readonly url: string
  readonly requests: RecordedRequest[]
  /** Every way a request or one of our own responses did not match the OpenAPI description. Tests assert it is empty. */
  readonly violations: string[]
  /** Stores comments as if posted earlier, oldest first. Without a `login` a comment is the bot's, as a prior run's. */
  seedComments(
    owner: string,
    repo: string,
    issueNumber: number,
    comments: Array<{ body: string; login?: string }>
  ): IssueComment[]
  /** A copy of the comments on an issue, oldest first. */
  comments(owner: string, repo: string, issueNumber: number): IssueComment[]
  /** Stores deployments as if created earlier (by the bot), oldest first, each with the given statuses. */
  seedDeployments(owner: string, repo: string, deployments: DeploymentSeed[]): StoredDeployment[]
  /** A copy of a repository's deployments, oldest first, each with its statuses, oldest first. */
  deployments(owner: string, repo: string): StoredDeployment[]
  /** The ref is behind the default branch, so a deployment with `auto_merge` merges instead (202, no deployment). */
  markBehind(owner: string, repo: string, ref: string): void
  /** Commit status contexts on a ref, which a deployment's `required_contexts` is checked against (409). */
  setCommitStatuses(owner: string, repo: string, ref: string, contexts: Record<string, CommitState>): void
  injectFault(fault: Fault): void
  /**
   * Called after a request is handled (for tests that simulate races between two runs). It runs after the double's
   * state has changed but before the response is sent, so whatever it does happens strictly between this request
   * and the client's next one. A hook that throws is reported in `violations`.
   */
  onHandled?: (request: RecordedRequest) => void | Promise<void>
  close(): Promise<void>
}

const DEFAULT_TOKENS: Record<string, TokenPermission> = { ghs_write_token: 'write', ghs_read_token: 'read' }
const BODY_LIMIT = 65_536
const RATE_LIMIT = 5000
const ANONYMOUS_RATE_LIMIT = 60
const GENERIC_DOCS = 'https://docs.github.com/rest'
const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api'
/** The real id of github-actions[bot], so the default bot user looks exactly like GitHub's. */
const GITHUB_ACTIONS_BOT_ID = 41_898_282

interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
  /** Overrides of the rate-limit headers, for the primary-rate-limit fault. */
  rateLimit?: { remaining: number; reset: number }
}

interface Thread {
  owner: string
  repo: string
  issueNumber: number
  comments: IssueComment[]
}

interface RateWindow {
  limit: number
  used: number
  /** Epoch seconds. */
  reset: number
}

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  // Loaded before listening so the first request of a test is not the one that pays for parsing 70 MB of JSON.
  const api = loadApiDescription()
  const tokens = options.tokens ?? DEFAULT_TOKENS
  const botLogin = options.botLogin ?? 'github-actions[bot]'
  const requests: RecordedRequest[] = []
  const violations: string[] = []
  const faults: Fault[] = []
  const threads = new Map<string, Thread>()
  const commentIndex = new Map<number, Thread>()
  // GitHub's comment ids are large and only grow; starting high keeps them from passing as issue numbers in tests.
  let nextCommentId = 2_000_000_001
  const windows = new Map<string, RateWindow>()
  let baseUrl = ''
  const deploymentStore = new DeploymentStore({
    baseUrl: () => baseUrl,
    user: login => simpleUser(baseUrl, login),
    error,
    page: (items, url) => page(items, url),
    timestamp,
    sha
  })

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`${req.method} ${req.url}: the double crashed: ${error instanceof Error ? error.stack : error}`)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ message: 'Server Error' }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  function threadKey(owner: string, repo: string, issueNumber: number): string {
    // Owner and repository names are not case sensitive on GitHub.
    return `${owner.toLowerCase()}/${repo.toLowerCase()}#${issueNumber}`
  }

  function thread(owner: string, repo: string, issueNumber: number): Thread {
    const key = threadKey(owner, repo, issueNumber)
    let found = threads.get(key)
    if (!found) {
      found = { owner, repo, issueNumber, comments: [] }
      threads.set(key, found)
    }
    return found
  }

  function createComment(target: Thread, body: string, login: string, at: Date): IssueComment {
    const id = nextCommentId++
    const { owner, repo, issueNumber } = target
    const url = `${baseUrl}/repos/${owner}/${repo}/issues/comments/${id}`
    const comment: IssueComment = {
      id,
      node_id: Buffer.from(`012:IssueComment${id}`).toString('base64'),
      url,
      html_url: `https://github.com/${owner}/${repo}/pull/${issueNumber}#issuecomment-${id}`,
      body,
      user: simpleUser(baseUrl, login),
      created_at: timestamp(at),
      updated_at: timestamp(at),
      issue_url: `${baseUrl}/repos/${owner}/${repo}/issues/${issueNumber}`,
      author_association: login.endsWith('[bot]') ? 'NONE' : 'CONTRIBUTOR',
      performed_via_github_app: null,
      reactions: {
        url: `${url}/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        confused: 0,
        heart: 0,
        hooray: 0,
        eyes: 0,
        rocket: 0
      }
    }
    target.comments.push(comment)
    commentIndex.set(id, target)
    return comment
  }

  function findComment(owner: string, repo: string, id: number): { target: Thread; comment: IssueComment } | undefined {
    const target = commentIndex.get(id)
    // A comment id is global on GitHub, but it is only found under the repository it belongs to.
    if (!target || threadKey(owner, repo, 0) !== threadKey(target.owner, target.repo, 0)) return undefined
    const comment = target.comments.find(c => c.id === id)
    return comment ? { target, comment } : undefined
  }

  /** The caller's rate-limit window, reset hourly like GitHub's; `count` spends one request of it. */
  function rateWindow(key: string, limit: number, count = false): RateWindow {
    const now = Math.floor(Date.now() / 1000)
    let window = windows.get(key)
    if (!window || window.reset <= now) {
      window = { limit, used: 0, reset: now + 3600 }
      windows.set(key, window)
    }
    if (count) window.used = Math.min(window.used + 1, window.limit)
    return { ...window }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', baseUrl)
    const raw = await readBody(req)
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0
    }

    let body: unknown
    let unparsable = false
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw)
        record.body = body
      } catch {
        unparsable = true
        record.body = raw
      }
    }

    const token = bearer(req.headers.authorization)
    const permission = token === undefined ? undefined : tokens[token]
    const windowKey = permission ? `token:${token}` : 'anonymous'
    const limit = permission ? RATE_LIMIT : ANONYMOUS_RATE_LIMIT
    // GitHub does not count /rate_limit against the limit it reports.
    rateWindow(windowKey, limit, url.pathname !== '/rate_limit')

    const lookup = api.find(method, url.pathname)
    const where = `${method} ${url.pathname}${url.search}`
    const operation = lookup.kind === 'operation' ? lookup.operation : undefined
    let paramProblems: Problem[] = []
    let bodyProblems: Problem[] = []
    if (lookup.kind === 'operation') {
      paramProblems = lookup.operation.validateParameters(lookup.pathParams, url.searchParams)
      if (unparsable) violations.push(`${where} (${lookup.operation.operationId}): request body is not JSON`)
      else if (lookup.operation.acceptsBody) {
        if (body === undefined) {
          if (lookup.operation.requiresBody) bodyProblems = [{ where: 'body', message: 'A request body is required.' }]
        } else bodyProblems = lookup.operation.validateBody(body)
      }
      for (const problem of [...paramProblems, ...bodyProblems]) {
        violations.push(`${where} (${lookup.operation.operationId}): ${problem.message}`)
      }
    } else {
      violations.push(`${where}: ${lookup.kind === 'path-not-described' ? 'path' : 'method'} not in the description`)
    }

    const reply = respond()
    // Serialised now: what onHandled changes belongs after this request, not in its response.
    const payload = reply.body === undefined ? '' : JSON.stringify(reply.body)
    record.status = reply.status
    if (operation) {
      for (const problem of operation.validateResponse(reply.status, reply.body)) {
        violations.push(`${where} (${operation.operationId}): our ${reply.status} response: ${problem}`)
      }
    }
    requests.push(record)
    try {
      await double.onHandled?.(record)
    } catch (error) {
      violations.push(`${where}: onHandled threw: ${error instanceof Error ? error.message : String(error)}`)
    }
    send(res, reply, payload, rateWindow(windowKey, limit))

    function respond(): Reply {
      // Faults come first: they stand for GitHub's front line, which answers before looking at the request.
      const fault = takeFault(method, url.pathname)
      if (fault) return faultReply(fault)

      if (permission === undefined) return error(401, 'Bad credentials', GENERIC_DOCS)
      if (lookup.kind !== 'operation') return notFound()
      const { operation, pathParams } = lookup
      const docs = operation.documentationUrl
      if (unparsable) return error(400, 'Problems parsing JSON', docs)
      const rejected = paramProblems.filter(problem => !problem.ignoredByGitHub)
      if (rejected.length > 0) return error(400, invalid(rejected), docs)
      if (bodyProblems.length > 0) return error(422, invalid(bodyProblems), docs)

      const { owner, repo } = pathParams
      const isWrite = method !== 'GET' && method !== 'HEAD'
      if (isWrite && permission !== 'write') {
        return {
          ...error(403, 'Resource not accessible by integration', docs),
          headers: {
            'x-accepted-github-permissions': operation.operationId.includes('deployment')
              ? 'deployments=write'
              : 'issues=write; pull_requests=write'
          }
        }
      }

      switch (operation.operationId) {
        case 'issues/list-comments':
          return listComments(thread(owner, repo, Number(pathParams.issue_number)), url)
        case 'issues/create-comment': {
          const text = (body as { body: string }).body
          if (tooLong(text)) return bodyTooLong(docs)
          const created = createComment(
            thread(owner, repo, Number(pathParams.issue_number)),
            text,
            botLogin,
            new Date()
          )
          return { status: 201, body: created, headers: { location: created.url } }
        }
        case 'issues/get-comment': {
          const found = findComment(owner, repo, Number(pathParams.comment_id))
          return found ? { status: 200, body: found.comment } : error(404, 'Not Found', docs)
        }
        case 'issues/update-comment': {
          const found = findComment(owner, repo, Number(pathParams.comment_id))
          if (!found) return error(404, 'Not Found', docs)
          const text = (body as { body: string }).body
          if (tooLong(text)) return bodyTooLong(docs)
          found.comment.body = text
          found.comment.updated_at = timestamp(new Date())
          return { status: 200, body: found.comment }
        }
        case 'issues/delete-comment': {
          const found = findComment(owner, repo, Number(pathParams.comment_id))
          if (!found) return error(404, 'Not Found', docs)
          found.target.comments.splice(found.target.comments.indexOf(found.comment), 1)
          commentIndex.delete(found.comment.id)
          return { status: 204 }
        }
        case 'pulls/get': {
          const number = Number(pathParams.pull_number)
          return {
            status: 200,
            body: pullRequest(baseUrl, owner, repo, number, thread(owner, repo, number).comments.length)
          }
        }
        case 'rate-limit/get':
          return { status: 200, body: rateLimitOverview(rateWindow(windowKey, limit)) }
        default: {
          const deployment = deploymentStore.handle(operation.operationId, pathParams, url, body, botLogin, docs)
          if (deployment) return deployment
          violations.push(`${where} (${operation.operationId}): described by GitHub but not implemented by the double`)
          return notFound()
        }
      }
    }
  }

  function listComments(target: Thread, url: URL): Reply {
    const since = url.searchParams.get('since')
    const matching = since
      ? target.comments.filter(c => Date.parse(c.updated_at) >= Date.parse(since))
      : target.comments
    return page(matching, url)
  }

  /** One page of `matching` as the request's `per_page` (default 30, capped at 100) and `page` ask. */
  function page<T>(matching: T[], url: URL): Reply {
    const requestedPerPage = integerParam(url.searchParams.get('per_page'))
    const perPage = Math.min(requestedPerPage !== undefined && requestedPerPage > 0 ? requestedPerPage : 30, 100)
    const requestedPage = integerParam(url.searchParams.get('page'))
    const current = requestedPage !== undefined && requestedPage > 0 ? requestedPage : 1
    const items = matching.slice((current - 1) * perPage, current * perPage)
    const last = Math.max(1, Math.ceil(matching.length / perPage))
    const link = linkHeader(url, current, last)
    return { status: 200, body: items, headers: link ? { link } : {} }
  }

  /**
   * GitHub keeps the request's own query (per_page as the client wrote it) and only swaps `page`, and orders the
   * relations prev, next, last, first. Links point at the double so a client that follows them stays here.
   */
  function linkHeader(url: URL, page: number, last: number): string | undefined {
    const at = (target: number): string => {
      const query = new URLSearchParams(url.search)
      query.delete('page')
      query.set('page', String(target))
      return `<${baseUrl}${url.pathname}?${query.toString()}>`
    }
    const parts: string[] = []
    if (page > 1) parts.push(`${at(page - 1)}; rel="prev"`)
    if (page < last) parts.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`)
    if (page > 1) parts.push(`${at(1)}; rel="first"`)
    return parts.length > 0 ? parts.join(', ') : undefined
  }

  function takeFault(method: string, pathname: string): Fault | undefined {
    const index = faults.findIndex(
      f =>
        (f.method === undefined || f.method.toUpperCase() === method) && (f.path === undefined || f.path.test(pathname))
    )
    if (index < 0) return undefined
    const fault = faults[index]
    fault.count--
    if (fault.count <= 0) faults.splice(index, 1)
    return fault
  }

  function send(res: ServerResponse, reply: Reply, payload: string, window: RateWindow): void {
    const remaining = reply.rateLimit?.remaining ?? Math.max(0, window.limit - window.used)
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      'x-github-request-id': requestId(),
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': String(window.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(window.limit - remaining),
      'x-ratelimit-reset': String(reply.rateLimit?.reset ?? window.reset),
      'x-ratelimit-resource': 'core',
      ...reply.headers
    })
    res.end(payload)
  }

  const double: GitHubDouble = {
    url: baseUrl,
    requests,
    violations,
    seedComments(owner, repo, issueNumber, comments) {
      const target = thread(owner, repo, issueNumber)
      // Seeds are spaced a minute apart and end a day ago, so they sort before anything the test creates.
      const end = Date.now() - 24 * 3600 * 1000
      return comments.map((seed, index) => {
        const at = new Date(end - (comments.length - index) * 60_000)
        return structuredClone(createComment(target, seed.body, seed.login ?? botLogin, at))
      })
    },
    comments(owner, repo, issueNumber) {
      return structuredClone(threads.get(threadKey(owner, repo, issueNumber))?.comments ?? [])
    },
    seedDeployments(owner, repo, deployments) {
      return deploymentStore.seed(owner, repo, deployments, botLogin)
    },
    deployments(owner, repo) {
      return deploymentStore.all(owner, repo)
    },
    markBehind(owner, repo, ref) {
      deploymentStore.markBehind(owner, repo, ref)
    },
    setCommitStatuses(owner, repo, ref, contexts) {
      deploymentStore.setCommitStatuses(owner, repo, ref, contexts)
    },
    injectFault(fault) {
      if (fault.count > 0) faults.push({ ...fault })
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close(error => (error ? reject(error) : resolve()))
        // fetch keeps connections alive; without this close() would wait for them to time out.
        server.closeAllConnections()
      })
    }
  }
  return double
}

/**
 * Replies that the octokit plugins take for GitHub's (read from their source, plugin-throttling 11.0.5 and
 * plugin-retry 8.1.1):
 * - plugin-throttling acts only on 403 and 429. It takes a response as a secondary rate limit when the error message,
 *   which @octokit/request builds from the body's `message`, matches /\bsecondary rate\b/i, and then waits
 *   `retry-after` seconds; `Number('0') || 60` means a `retry-after: 0` is read as missing and replaced by its
 *   `fallbackSecondaryRateRetryAfter` (60 s) - tests must lower `retryAfterBaseValue` rather than rely on 0. It takes a
 *   response as a primary rate limit when `x-ratelimit-remaining` is exactly "0", and waits until
 *   `x-ratelimit-reset` (epoch seconds) plus one second.
 * - plugin-retry never retries 400, 401, 403, 404, 410, 422 or 451 and retries any other status >= 400, so a 5xx
 *   is retried (after (retryCount + 1)^2 x `retryAfterBaseValue` ms) while rate-limit 403s are left to throttling.
 */
function faultReply(fault: Fault): Reply {
  const retryAfter = fault.retryAfterSeconds ?? 0
  switch (fault.kind) {
    case 'secondary-rate-limit':
      return {
        ...error(
          403,
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`
        ),
        headers: { 'retry-after': String(retryAfter) }
      }
    case 'primary-rate-limit':
      return {
        ...error(
          403,
          'API rate limit exceeded for installation ID 1.',
          `${RATE_LIMIT_DOCS}#about-the-primary-rate-limit`
        ),
        rateLimit: { remaining: 0, reset: Math.floor(Date.now() / 1000) + retryAfter }
      }
    case 'server-error':
      return { status: fault.status ?? 502, body: { message: 'Server Error' } }
  }
}

function error(status: number, message: string, documentationUrl: string): Reply {
  return { status, body: { message, documentation_url: documentationUrl, status: String(status) } }
}

/** Exactly GitHub's body for a route it does not have (no `status` field, unlike its other errors). */
function notFound(): Reply {
  return { status: 404, body: { message: 'Not Found', documentation_url: GENERIC_DOCS } }
}

function invalid(problems: Problem[]): string {
  return `Invalid request.\n\n${problems.map(p => p.message).join('\n')}`
}

function tooLong(text: string): boolean {
  // GitHub counts characters, not UTF-16 units: an emoji is one character of the 65,536.
  let count = 0
  for (const _ of text) if (++count > BODY_LIMIT) return true
  return false
}

function bodyTooLong(documentationUrl: string): Reply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          code: 'custom',
          field: 'body',
          message: `body is too long (maximum is ${BODY_LIMIT} characters)`
        }
      ],
      documentation_url: documentationUrl,
      status: '422'
    }
  }
}

function rateLimitOverview(window: RateWindow): unknown {
  const core = { limit: window.limit, remaining: window.limit - window.used, reset: window.reset, used: window.used }
  const idle = (limit: number) => ({ limit, remaining: limit, reset: window.reset, used: 0 })
  return {
    resources: {
      core,
      search: idle(30),
      graphql: idle(5000),
      integration_manifest: idle(5000),
      code_search: idle(10)
    },
    rate: core
  }
}

/** The fields GitHub's `pull-request` schema requires, with values a real open PR from a branch would have. */
function pullRequest(base: string, owner: string, repo: string, number: number, comments: number): unknown {
  const api = `${base}/repos/${owner}/${repo}`
  const html = `https://github.com/${owner}/${repo}/pull/${number}`
  const author = simpleUser(base, 'octocat')
  const repository = repositoryObject(base, owner, repo, simpleUser(base, owner))
  const headSha = sha(`${owner}/${repo}#${number}:head`)
  const baseSha = sha(`${owner}/${repo}#${number}:base`)
  const created = timestamp(new Date(Date.now() - 2 * 24 * 3600 * 1000))
  return {
    url: `${api}/pulls/${number}`,
    id: 1_000_000 + number,
    node_id: Buffer.from(`011:PullRequest${1_000_000 + number}`).toString('base64'),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${number}`,
    commits_url: `${api}/pulls/${number}/commits`,
    review_comments_url: `${api}/pulls/${number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${number}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
    number,
    state: 'open',
    locked: false,
    title: `Pull request #${number}`,
    user: author,
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: created,
    updated_at: created,
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${owner}:feature-${number}`,
      ref: `feature-${number}`,
      sha: headSha,
      user: repository.owner,
      repo: repository
    },
    base: { label: `${owner}:main`, ref: 'main', sha: baseSha, user: repository.owner, repo: repository },
    _links: {
      self: { href: `${api}/pulls/${number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${number}` },
      comments: { href: `${api}/issues/${number}/comments` },
      review_comments: { href: `${api}/pulls/${number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${number}/commits` },
      statuses: { href: `${api}/statuses/${headSha}` }
    },
    author_association: 'CONTRIBUTOR',
    auto_merge: null,
    draft: false,
    merged: false,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    comments,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1
  }
}

function repositoryObject(base: string, owner: string, repo: string, ownerUser: SimpleUser) {
  const api = `${base}/repos/${owner}/${repo}`
  const urls: Record<string, string> = {}
  // [field, path under the repository URL]: the hypermedia links every repository object carries.
  const links: Array<[string, string]> = [
    ['archive_url', '/{archive_format}{/ref}'],
    ['assignees_url', '/assignees{/user}'],
    ['blobs_url', '/git/blobs{/sha}'],
    ['branches_url', '/branches{/branch}'],
    ['collaborators_url', '/collaborators{/collaborator}'],
    ['comments_url', '/comments{/number}'],
    ['commits_url', '/commits{/sha}'],
    ['compare_url', '/compare/{base}...{head}'],
    ['contents_url', '/contents/{+path}'],
    ['contributors_url', '/contributors'],
    ['deployments_url', '/deployments'],
    ['downloads_url', '/downloads'],
    ['events_url', '/events'],
    ['forks_url', '/forks'],
    ['git_commits_url', '/git/commits{/sha}'],
    ['git_refs_url', '/git/refs{/sha}'],
    ['git_tags_url', '/git/tags{/sha}'],
    ['hooks_url', '/hooks'],
    ['issue_comment_url', '/issues/comments{/number}'],
    ['issue_events_url', '/issues/events{/number}'],
    ['issues_url', '/issues{/number}'],
    ['keys_url', '/keys{/key_id}'],
    ['labels_url', '/labels{/name}'],
    ['languages_url', '/languages'],
    ['merges_url', '/merges'],
    ['milestones_url', '/milestones{/number}'],
    ['notifications_url', '/notifications{?since,all,participating}'],
    ['pulls_url', '/pulls{/number}'],
    ['releases_url', '/releases{/id}'],
    ['stargazers_url', '/stargazers'],
    ['statuses_url', '/statuses/{sha}'],
    ['subscribers_url', '/subscribers'],
    ['subscription_url', '/subscription'],
    ['tags_url', '/tags'],
    ['teams_url', '/teams'],
    ['trees_url', '/git/trees{/sha}']
  ]
  for (const [field, path] of links) urls[field] = `${api}${path}`
  const id = stableId(`${owner}/${repo}`)
  const pushed = timestamp(new Date(Date.now() - 3600 * 1000))
  return {
    id,
    node_id: Buffer.from(`010:Repository${id}`).toString('base64'),
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: ownerUser,
    private: true,
    html_url: `https://github.com/${owner}/${repo}`,
    description: null,
    fork: false,
    url: api,
    ...urls,
    git_url: `git://github.com/${owner}/${repo}.git`,
    ssh_url: `git@github.com:${owner}/${repo}.git`,
    clone_url: `https://github.com/${owner}/${repo}.git`,
    svn_url: `https://github.com/${owner}/${repo}`,
    homepage: null,
    mirror_url: null,
    language: 'Python',
    license: null,
    size: 1,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    forks_count: 0,
    forks: 0,
    open_issues_count: 1,
    open_issues: 1,
    default_branch: 'main',
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    visibility: 'private',
    pushed_at: pushed,
    created_at: timestamp(new Date(Date.now() - 30 * 24 * 3600 * 1000)),
    updated_at: pushed
  }
}

/** API URLs point at the double (`base`), page URLs at github.com, as GitHub's point at api.github.com and github.com. */
function simpleUser(base: string, login: string): SimpleUser {
  const isBot = login.endsWith('[bot]')
  const id = login === 'github-actions[bot]' ? GITHUB_ACTIONS_BOT_ID : stableId(login)
  const api = `${base}/users/${encodeURIComponent(login)}`
  return {
    login,
    id,
    node_id: Buffer.from(isBot ? `03:Bot${id}` : `04:User${id}`).toString('base64'),
    avatar_url: isBot
      ? 'https://avatars.githubusercontent.com/in/15368?v=4'
      : `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: isBot ? `https://github.com/apps/${login.slice(0, -'[bot]'.length)}` : `https://github.com/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: isBot ? 'Bot' : 'User',
    user_view_type: 'public',
    site_admin: false
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function integerParam(text: string | null): number | undefined {
  return text !== null && /^-?\d+$/.test(text) ? Number(text) : undefined
}

/** GitHub's timestamps have whole seconds. */
function timestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Shaped like GitHub's `x-github-request-id` (e.g. `C0DE:1A2B:3C4D5E:6F7A8B:65F0A1B2`). */
function requestId(): string {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase()
  return `${hex(2)}:${hex(2)}:${hex(3)}:${hex(3)}:${Math.floor(Date.now() / 1000)
    .toString(16)
    .toUpperCase()}`
}

/** A positive id derived from a name, so the same user or repository has the same id in every run. */
function stableId(name: string): number {
  let hash = 2166136261
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619)
  return ((hash >>> 0) % 90_000_000) + 10_000_000
}

function sha(seed: string): string {
  let out = ''
  for (let round = 0; out.length < 40; round++) out += stableId(`${seed}:${round}`).toString(16).padStart(8, '0')
  return out.slice(0, 40)
}
