import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRunContext } from './event.js'

const dir = mkdtempSync(join(tmpdir(), 'modelgate-event-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function contextOf(eventName: string, payload: unknown) {
  const path = join(dir, `${eventName}.json`)
  writeFileSync(path, JSON.stringify(payload))
  return readRunContext({ GITHUB_EVENT_NAME: eventName, GITHUB_EVENT_PATH: path, GITHUB_REPOSITORY: 'acme/churn' })
}

describe('readRunContext', () => {
  it('finds the pull request of pull_request and pull_request_target events', () => {
    const payload = { pull_request: { number: 7, head: { repo: { full_name: 'fork/churn' } } } }
    expect(contextOf('pull_request', payload)).toMatchObject({ pullRequest: 7, fromFork: true })
    expect(contextOf('pull_request_target', payload)).toMatchObject({ pullRequest: 7, fromFork: true })
  })

  it('finds the pull request of a comment on it (issue_comment), and none for a comment on an issue', () => {
    const onPull = { issue: { number: 12, pull_request: { url: 'https://api.github.com/repos/acme/churn/pulls/12' } } }
    expect(contextOf('issue_comment', onPull)).toMatchObject({ pullRequest: 12, fromFork: false })
    expect(contextOf('issue_comment', { issue: { number: 13 } }).pullRequest).toBeUndefined()
  })

  it('finds the pull request of a workflow_run when it names exactly one', () => {
    const one = { workflow_run: { event: 'pull_request', pull_requests: [{ number: 21 }] } }
    expect(contextOf('workflow_run', one)).toMatchObject({ pullRequest: 21, fromFork: false })
    // A fork's pull request is not listed, and two cannot be told apart: no pull request rather than a wrong one.
    const none = { workflow_run: { event: 'pull_request', pull_requests: [] } }
    expect(contextOf('workflow_run', none).pullRequest).toBeUndefined()
    const two = { workflow_run: { event: 'push', pull_requests: [{ number: 1 }, { number: 2 }] } }
    expect(contextOf('workflow_run', two).pullRequest).toBeUndefined()
  })

  it('has no pull request on a push', () => {
    expect(contextOf('push', { ref: 'refs/heads/main' }).pullRequest).toBeUndefined()
  })
})
