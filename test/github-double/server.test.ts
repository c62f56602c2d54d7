import { afterEach, describe, expect, it } from '@jest/globals'
import { Octokit } from '@octokit/core'
import { paginateRest } from '@octokit/plugin-paginate-rest'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { loadApiDescription } from './openapi.js'
import { gitHubDoublePerTest, READ, WRITE } from './per-test.js'
import type { IssueComment } from './server.js'

const COMMENTS = '/repos/acme/models/issues/7/comments'

const github = gitHubDoublePerTest()
const { call } = github

function seed(count: number): IssueComment[] {
  return github.double.seedComments(
    'acme',
    'models',
    7,
    Array.from({ length: count }, (_, index) => ({ body: `comment ${index + 1}` }))
  )
}

/** Follows the double's Link headers by hand, the way any client would. */
function links(response: Response): Record<string, string> {
  const header = response.headers.get('link') ?? ''
  return Object.fromEntries([...header.matchAll(/<([^>]+)>; rel="(\w+)"/g)].map(match => [match[2], match[1]]))
}

describe('well-formed traffic', () => {
  // Every test here talks to the double as a correct client would, so the description must have no complaint.
  afterEach(() => {
    expect(github.double.violations).toEqual([])
  })

  it('lists 250 comments as three pages of 100 linked the way GitHub links them', async () => {
    seed(250)
    const first = await call('GET', `${COMMENTS}?per_page=100`, WRITE)
    const base = `${github.double.url}${COMMENTS}`
    expect(first.headers.get('link')).toBe(
      `<${base}?per_page=100&page=2>; rel="next", <${base}?per_page=100&page=3>; rel="last"`
    )
    expect(((await first.json()) as IssueComment[]).map(c => c.body).slice(0, 2)).toEqual(['comment 1', 'comment 2'])

    const second = await fetch(links(first).next, { headers: WRITE })
    expect(second.headers.get('link')).toBe(
      `<${base}?per_page=100&page=1>; rel="prev", <${base}?per_page=100&page=3>; rel="next", ` +
        `<${base}?per_page=100&page=3>; rel="last", <${base}?per_page=100&page=1>; rel="first"`
    )
    expect((await second.json()) as unknown[]).toHaveLength(100)

    const third = await fetch(links(second).next, { headers: WRITE })
    expect(links(third)).toEqual({ prev: `${base}?per_page=100&page=2`, first: `${base}?per_page=100&page=1` })
    const last = (await third.json()) as IssueComment[]
    expect(last).toHaveLength(50)
    expect(last.at(-1)?.body).toBe('comment 250')
  })

  it('lets octokit.paginate collect all 250 comments, oldest first', async () => {
    const seeded = seed(250)
    const octokit = new (Octokit.plugin(paginateRest))({ auth: 'ghs_write_token', baseUrl: github.double.url })
    const all = await octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: 'acme',
      repo: 'models',
      issue_number: 7,
      per_page: 100
    })
    expect(all.map(c => c.id)).toEqual(seeded.map(c => c.id))
    expect(github.double.requests.map(r => [r.query.page ?? '1', r.status])).toEqual([
      ['1', 200],
      ['2', 200],
      ['3', 200]
    ])
  })

  it('caps per_page at 100 silently and defaults it to 30', async () => {
    seed(150)
    const capped = await call('GET', `${COMMENTS}?per_page=500`, WRITE)
    expect(capped.status).toBe(200)
    expect((await capped.json()) as unknown[]).toHaveLength(100)
    expect(links(capped).last).toBe(`${github.double.url}${COMMENTS}?per_page=500&page=2`)

    const byDefault = await call('GET', COMMENTS, WRITE)
    expect((await byDefault.json()) as unknown[]).toHaveLength(30)
    expect(links(byDefault).last).toBe(`${github.double.url}${COMMENTS}?page=5`)
  })

  it('creates, reads, updates and deletes a comment like GitHub', async () => {
    const [earlier] = seed(1)
    const created = await call('POST', COMMENTS, WRITE, { body: '<!-- modelgate:report -->\nfirst' })
    expect(created.status).toBe(201)
    const comment = (await created.json()) as IssueComment
    expect(comment.id).toBeGreaterThan(earlier.id)
    expect(comment.html_url).toBe(`https://github.com/acme/models/pull/7#issuecomment-${comment.id}`)
    expect(comment.user).toMatchObject({ login: 'github-actions[bot]', type: 'Bot' })
    expect(created.headers.get('location')).toBe(comment.url)

    const one = `/repos/acme/models/issues/comments/${comment.id}`
    expect(((await (await call('GET', one, READ)).json()) as IssueComment).body).toContain('first')

    // The seeded comment dates from yesterday, so its new updated_at is visibly later without waiting a second.
    const patched = `/repos/acme/models/issues/comments/${earlier.id}`
    const updated = (await (await call('PATCH', patched, WRITE, { body: 'second' })).json()) as IssueComment
    expect(updated).toMatchObject({ id: earlier.id, body: 'second', created_at: earlier.created_at })
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(earlier.updated_at))
    expect(github.double.comments('ACME', 'Models', 7).map(c => c.body)).toEqual([
      'second',
      '<!-- modelgate:report -->\nfirst'
    ])

    const deleted = await call('DELETE', one, WRITE)
    expect(deleted.status).toBe(204)
    expect(await deleted.text()).toBe('')
    const gone = await call('GET', one, WRITE)
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest/issues/comments#get-an-issue-comment',
      status: '404'
    })
    expect((await call('PATCH', one, WRITE, { body: 'x' })).status).toBe(404)
    expect((await call('DELETE', one, WRITE)).status).toBe(404)
    // A comment id is found only under its own repository.
    expect((await call('GET', `/repos/acme/other/issues/comments/${earlier.id}`, WRITE)).status).toBe(404)
  })

  it('refuses a body over 65,536 characters, counting code points', async () => {
    const tooLong = await call('POST', COMMENTS, WRITE, { body: 'x'.repeat(65_537) })
    expect(tooLong.status).toBe(422)
    expect(await tooLong.json()).toEqual({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          code: 'custom',
          field: 'body',
          message: 'body is too long (maximum is 65536 characters)'
        }
      ],
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '422'
    })
    // 65,536 emoji are 131,072 UTF-16 units but 65,536 characters, which GitHub accepts.
    expect((await call('POST', COMMENTS, WRITE, { body: '📈'.repeat(65_536) })).status).toBe(201)
    const [kept] = github.double.comments('acme', 'models', 7)
    expect(
      (await call('PATCH', `/repos/acme/models/issues/comments/${kept.id}`, WRITE, { body: `${kept.body}!` })).status
    ).toBe(422)
  })

  it('lets a read-only token read but not write', async () => {
    const [comment] = seed(1)
    const one = `/repos/acme/models/issues/comments/${comment.id}`
    for (const [method, path] of [
      ['POST', COMMENTS],
      ['PATCH', one],
      ['DELETE', one]
    ]) {
      const response = await call(method, path, READ, method === 'DELETE' ? undefined : { body: 'x' })
      expect(response.status).toBe(403)
      expect(((await response.json()) as { message: string }).message).toBe('Resource not accessible by integration')
    }
    const refused = await call('POST', COMMENTS, READ, { body: 'x' })
    expect(await refused.json()).toEqual({
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '403'
    })
    expect((await call('GET', COMMENTS, READ)).status).toBe(200)
    expect((await call('GET', one, READ)).status).toBe(200)
    expect(github.double.comments('acme', 'models', 7)).toEqual([comment])
  })

  it('answers 401 Bad credentials without a known token', async () => {
    const credentials: Array<Record<string, string>> = [
      {},
      { authorization: 'token ghs_unknown' },
      { authorization: 'Basic ghs_write_token' }
    ]
    for (const headers of credentials) {
      const response = await call('GET', COMMENTS, headers)
      expect(response.status).toBe(401)
      expect(await response.json()).toEqual({
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401'
      })
    }
  })

  it('sends GitHub headers on every response and counts requests against the rate limit', async () => {
    const responses = [
      await call('GET', COMMENTS, WRITE),
      await call('GET', '/nowhere', WRITE),
      await call('GET', COMMENTS, {}),
      await call('GET', '/rate_limit', WRITE)
    ]
    for (const response of responses) {
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(response.headers.get('x-github-request-id')).toMatch(/^[0-9A-F]+(:[0-9A-F]+){4}$/)
      expect(response.headers.get('x-ratelimit-resource')).toBe('core')
      expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000)
      const limit = Number(response.headers.get('x-ratelimit-limit'))
      const used = Number(response.headers.get('x-ratelimit-used'))
      expect(Number(response.headers.get('x-ratelimit-remaining'))).toBe(limit - used)
    }
    const overview = (await responses[3].json()) as { rate: { used: number; limit: number } }
    expect(overview.rate).toMatchObject({ used: 2, limit: 5000 })
    expect(responses[2].headers.get('x-ratelimit-limit')).toBe('60')
    expect(github.double.violations.splice(0)).toEqual(['GET /nowhere: path not in the description'])
  })

  it('serves a schema-valid pull request for any number', async () => {
    seed(3)
    const response = await call('GET', '/repos/acme/models/pulls/7', READ)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ number: 7, state: 'open', comments: 3 })
  })

  it('answers 404 for routes it does not serve, and lists them as violations', async () => {
    const response = await call('GET', '/repos/acme/models/issues', WRITE)
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
    expect((await call('PUT', COMMENTS, WRITE, { body: 'x' })).status).toBe(404)
    expect([...github.double.violations]).toEqual([
      'GET /repos/acme/models/issues (issues/list-for-repo): described by GitHub but not implemented by the double',
      `PUT ${COMMENTS}: method not in the description`
    ])
    github.double.violations.splice(0)
  })

  it('runs onHandled after the state changes and before the client sees the response', async () => {
    github.double.onHandled = request => {
      if (request.method === 'GET')
        github.double.seedComments('acme', 'models', 7, [{ body: 'racer', login: 'octocat' }])
    }
    const listed = (await (await call('GET', COMMENTS, WRITE)).json()) as IssueComment[]
    expect(listed).toEqual([])
    expect(github.double.comments('acme', 'models', 7).map(c => [c.body, c.user.type])).toEqual([['racer', 'User']])
  })
})

describe('faults', () => {
  it('serves an injected secondary rate limit, then clears it', async () => {
    github.double.injectFault({ method: 'POST', path: /\/comments$/, count: 1, kind: 'secondary-rate-limit' })
    const limited = await call('POST', COMMENTS, WRITE, { body: 'x' })
    expect(limited.status).toBe(403)
    expect(limited.headers.get('retry-after')).toBe('0')
    expect(((await limited.json()) as { message: string }).message).toBe(
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
    )
    expect((await call('POST', COMMENTS, WRITE, { body: 'x' })).status).toBe(201)
    expect(github.double.requests.map(r => r.status)).toEqual([403, 201])
    expect(github.double.comments('acme', 'models', 7)).toHaveLength(1)
  })

  it('serves an injected 502 to matching requests only, then clears it', async () => {
    github.double.injectFault({ method: 'GET', count: 2, kind: 'server-error' })
    expect((await call('POST', COMMENTS, WRITE, { body: 'x' })).status).toBe(201)
    const failed = await call('GET', COMMENTS, WRITE)
    expect(failed.status).toBe(502)
    expect(await failed.json()).toEqual({ message: 'Server Error' })
    expect((await call('GET', COMMENTS, WRITE)).status).toBe(502)
    expect((await call('GET', COMMENTS, WRITE)).status).toBe(200)
    expect(github.double.violations).toEqual([])
  })

  it('serves a primary rate limit with no remaining requests until the reset', async () => {
    github.double.injectFault({ count: 1, kind: 'primary-rate-limit', retryAfterSeconds: 30 })
    const limited = await call('GET', COMMENTS, WRITE)
    expect(limited.status).toBe(403)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    const wait = Number(limited.headers.get('x-ratelimit-reset')) - Date.now() / 1000
    expect(wait).toBeGreaterThan(28)
    expect(wait).toBeLessThanOrEqual(31)
    expect(((await limited.json()) as { message: string }).message).toBe(
      'API rate limit exceeded for installation ID 1.'
    )
  })

  it('is recognised by the octokit throttling and retry plugins', async () => {
    const seen: string[] = []
    const MyOctokit = Octokit.plugin(paginateRest, throttling, retry)
    const octokit = new MyOctokit({
      auth: 'ghs_write_token',
      baseUrl: github.double.url,
      // Milliseconds instead of seconds: throttling reads `retry-after: 0` as absent and would wait its 60 s fallback.
      throttle: {
        retryAfterBaseValue: 1,
        onSecondaryRateLimit: (after: number) => (seen.push(`secondary ${after}`), true),
        onRateLimit: (after: number) => (seen.push(`primary ${after}`), true)
      },
      retry: { retryAfterBaseValue: 1 }
    })
    github.double.injectFault({ count: 1, kind: 'secondary-rate-limit', retryAfterSeconds: 2 })
    github.double.injectFault({ count: 1, kind: 'primary-rate-limit' })
    github.double.injectFault({ count: 1, kind: 'server-error', status: 503 })
    const response = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: 'acme',
      repo: 'models',
      issue_number: 7
    })
    expect(response.status).toBe(200)
    expect(seen).toEqual(['secondary 2', 'primary 1'])
    expect(github.double.requests.map(r => r.status)).toEqual([403, 403, 503, 200])
  })
})

describe('validation against the OpenAPI description', () => {
  it('answers a wrongly typed body with GitHub 422 and records a violation', async () => {
    const response = await call('POST', COMMENTS, WRITE, { body: 5 })
    expect(response.status).toBe(422)
    expect(await response.json()).toEqual({
      message: "Invalid request.\n\nFor 'properties/body', 5 is not a string.",
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '422'
    })
    expect(github.double.violations).toEqual([
      `POST ${COMMENTS} (issues/create-comment): For 'properties/body', 5 is not a string.`
    ])
    expect(github.double.requests[0]).toMatchObject({ method: 'POST', status: 422, body: { body: 5 } })
  })

  it('answers a missing body field with 422 and unparsable JSON with 400', async () => {
    const missing = await call('PATCH', '/repos/acme/models/issues/comments/1', WRITE, { text: 'x' })
    expect(missing.status).toBe(422)
    expect(((await missing.json()) as { message: string }).message).toBe('Invalid request.\n\n"body" wasn\'t supplied.')
    const garbled = await fetch(`${github.double.url}${COMMENTS}`, { method: 'POST', headers: WRITE, body: '{"body":' })
    expect(garbled.status).toBe(400)
    expect(((await garbled.json()) as { message: string }).message).toBe('Problems parsing JSON')
    expect(github.double.violations).toHaveLength(2)
  })

  it('answers badly typed parameters with 400 but only notes undeclared ones, which GitHub ignores', async () => {
    expect((await call('GET', `${COMMENTS}?per_page=many`, WRITE)).status).toBe(400)
    expect((await call('GET', '/repos/acme/models/issues/seven/comments', WRITE)).status).toBe(400)
    expect((await call('GET', `${COMMENTS}?since=yesterday`, WRITE)).status).toBe(400)
    expect((await call('GET', `${COMMENTS}?perpage=100`, WRITE)).status).toBe(200)
    expect(github.double.violations).toEqual([
      `GET ${COMMENTS}?per_page=many (issues/list-comments): For 'per_page', "many" is not an integer.`,
      `GET /repos/acme/models/issues/seven/comments (issues/list-comments): For 'issue_number', "seven" is not an integer.`,
      `GET ${COMMENTS}?since=yesterday (issues/list-comments): For 'since', "yesterday" must match format "date-time".`,
      `GET ${COMMENTS}?perpage=100 (issues/list-comments): "perpage" is not a parameter of this operation.`
    ])
  })

  it('catches a response that does not match the documented schema', () => {
    const lookup = loadApiDescription().find('GET', '/repos/acme/models/issues/comments/1')
    if (lookup.kind !== 'operation') throw new Error(`expected an operation, got ${lookup.kind}`)
    expect(lookup.operation.validateResponse(200, { id: 1 })).toEqual(["(root) must have required property 'node_id'"])
    expect(lookup.operation.validateResponse(201, {})).toEqual(['status 201 is not documented for this operation'])
    // Nullable fields take null, including nullable objects described with allOf/anyOf and no `type`.
    const [comment] = seed(1)
    expect(lookup.operation.validateResponse(200, { ...comment, performed_via_github_app: null })).toEqual([])
    expect(lookup.operation.validateResponse(200, { ...comment, user: null })).toEqual([])
    expect(lookup.operation.validateResponse(200, { ...comment, html_url: 'not a url' })).toEqual([
      '/html_url must match format "uri"'
    ])
  })
})
