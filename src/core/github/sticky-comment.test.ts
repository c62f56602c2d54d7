/**
 * The sticky comment against the GitHub double through the real octokit adapter: runs that find their comment gone
 * between the list and the write, report ids that are prefixes of each other, and comments past the first page.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { gitHubDoublePerTest } from '../../../test/github-double/per-test.js'
import { createIssueCommentApi } from './octokit.js'
import { markerFor, upsertStickyComment, withMarker } from './sticky-comment.js'

// Declared before the double's own hooks so that it runs before the double closes.
afterEach(() => {
  expect(github.double.violations).toEqual([])
})

const github = gitHubDoublePerTest()
const PR = 7

function api() {
  return createIssueCommentApi({
    token: 'ghs_write_token',
    apiUrl: github.double.url,
    owner: 'acme',
    repo: 'models',
    retryBaseMs: 1
  })
}

const bodies = () => github.double.comments('acme', 'models', PR).map(c => c.body)

describe('upsertStickyComment', () => {
  it('finds its comment past the first page of 100, and updates it in place', async () => {
    github.double.seedComments('acme', 'models', PR, [
      ...Array.from({ length: 150 }, (_, i) => ({ body: `chatter ${i}`, login: 'octocat' })),
      { body: withMarker('churn', 'old') }
    ])
    const result = await upsertStickyComment(api(), PR, 'churn', 'new')
    expect(result.action).toBe('updated')
    expect(bodies().filter(b => b.startsWith(markerFor('churn')))).toEqual([withMarker('churn', 'new')])
  })

  it('keeps the comments of report ids that are prefixes of each other apart', async () => {
    github.double.seedComments('acme', 'models', PR, [
      { body: withMarker('churn-v2', 'v2 report') },
      { body: withMarker('churn', 'v1 report') }
    ])
    await upsertStickyComment(api(), PR, 'churn', 'v1 again')
    await upsertStickyComment(api(), PR, 'churn-v2', 'v2 again')
    expect(bodies()).toEqual([withMarker('churn-v2', 'v2 again'), withMarker('churn', 'v1 again')])
  })

  it('posts a new comment when its comment was deleted between the list and the update', async () => {
    const [stale] = github.double.seedComments('acme', 'models', PR, [{ body: withMarker('churn', 'old') }])
    let deleted = false
    github.double.onHandled = async request => {
      if (request.method !== 'GET' || deleted) return
      deleted = true
      // A person deletes the comment while the run is between its list and its update.
      const removed = await github.call('DELETE', `/repos/acme/models/issues/comments/${stale!.id}`, {
        authorization: 'token ghs_write_token'
      })
      expect(removed.status).toBe(204)
    }
    const result = await upsertStickyComment(api(), PR, 'churn', 'new')
    expect(result.action).toBe('created')
    expect(bodies()).toEqual([withMarker('churn', 'new')])
  })

  it('posts again when the racing run it yielded to has lost its comment too', async () => {
    let lists = 0
    let racer: number | undefined
    github.double.onHandled = async request => {
      if (request.method !== 'GET') return
      lists++
      // Another run posts first, while this one is between its list and its create ...
      if (lists === 1)
        racer = github.double.seedComments('acme', 'models', PR, [{ body: withMarker('churn', 'racer') }])[0]!.id
      // ... and that comment is gone by the time this run, having removed its own, updates it.
      if (lists === 2)
        await github.call('DELETE', `/repos/acme/models/issues/comments/${racer}`, {
          authorization: 'token ghs_write_token'
        })
    }
    const result = await upsertStickyComment(api(), PR, 'churn', 'mine')
    expect(result.action).toBe('created')
    expect(bodies()).toEqual([withMarker('churn', 'mine')])
  })
})
