/**
 * The octokit adapter against the GitHub double: how long it is willing to wait for a rate limit.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { gitHubDoublePerTest } from '../../../test/github-double/per-test.js'
import { createIssueCommentApi } from './octokit.js'

// Declared before the double's own hooks so that it runs before the double closes.
afterEach(() => {
  expect(github.double.violations).toEqual([])
})

const github = gitHubDoublePerTest()

/** The comment client of acme/models on the double, with its log collected. */
function commentApi(log: string[], tuning: Partial<Parameters<typeof createIssueCommentApi>[0]> = {}) {
  return createIssueCommentApi({
    token: 'ghs_write_token',
    apiUrl: github.double.url,
    owner: 'acme',
    repo: 'models',
    log: line => log.push(line),
    ...tuning
  })
}

describe('rate limits', () => {
  it('gives up at once on a primary rate limit that resets in an hour, instead of holding the job for it', async () => {
    github.double.seedComments('acme', 'models', 7, [{ body: 'hello' }])
    github.double.injectFault({ method: 'GET', count: 1, kind: 'primary-rate-limit', retryAfterSeconds: 3600 })
    const log: string[] = []
    // The real wait unit (1 s per second of GitHub's reset): only a refusal to wait finishes in time.
    const api = commentApi(log)
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      api.listAll(7).then(
        () => 'listed',
        (error: unknown) => error
      ),
      new Promise(resolve => (timer = setTimeout(() => resolve('still waiting after 10 s'), 10_000)))
    ])
    clearTimeout(timer)
    expect(outcome).toMatchObject({ status: 403, message: expect.stringMatching(/^API rate limit exceeded/) })
    expect(log).toEqual([
      expect.stringMatching(
        /^GitHub rate limit hit on GET \S+\/repos\/acme\/models\/issues\/7\/comments.*; it resets in 36\d\d s, longer than the 60 s this step waits: giving up$/
      )
    ])
  })

  it('says it gives up, rather than that it retries, once the rate limit retries are spent', async () => {
    github.double.injectFault({ method: 'GET', count: 5, kind: 'primary-rate-limit', retryAfterSeconds: 1 })
    const log: string[] = []
    const api = commentApi(log, { retryBaseMs: 1, rateLimitRetries: 1 })
    await expect(api.listAll(7)).rejects.toMatchObject({ status: 403 })
    expect(log.map(line => line.replace(/ on GET [^\s;]+/, ''))).toEqual([
      expect.stringMatching(/^GitHub rate limit hit; retrying after \d s$/),
      'GitHub rate limit hit again; giving up after 1 retries'
    ])
  })

  it('waits out a primary rate limit that resets within a minute, and retries', async () => {
    github.double.seedComments('acme', 'models', 7, [{ body: 'hello' }])
    github.double.injectFault({ method: 'GET', count: 1, kind: 'primary-rate-limit', retryAfterSeconds: 1 })
    const api = commentApi([], { retryBaseMs: 1 })
    expect((await api.listAll(7)).map(c => c.body)).toEqual(['hello'])
  })
})
