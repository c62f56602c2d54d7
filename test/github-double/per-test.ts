/**
 * A GitHub double for each test of a file that speaks to it by hand (plain fetch): a fresh one per test, so no
 * comment, deployment or fault of one test is seen by the next.
 */
import { afterEach, beforeEach } from '@jest/globals'
import { startGitHubDouble, type GitHubDouble } from './server.js'

/** The default write and read tokens, one in each authorization scheme GitHub accepts. */
export const WRITE = { authorization: 'token ghs_write_token', 'content-type': 'application/json' }
export const READ = { authorization: 'Bearer ghs_read_token', 'content-type': 'application/json' }

export interface GitHubDoubleHandle {
  /** The current test's double. */
  readonly double: GitHubDouble
  /** One request to it, `body` sent as JSON. */
  call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response>
}

/** Call at the top level of a test file: the double starts before each test and is closed after it. */
export function gitHubDoublePerTest(): GitHubDoubleHandle {
  let current: GitHubDouble | undefined
  beforeEach(async () => {
    current = await startGitHubDouble()
  })
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  const handle: GitHubDoubleHandle = {
    get double() {
      if (!current) throw new Error('the GitHub double runs only inside a test')
      return current
    },
    call: (method, path, headers, body) =>
      fetch(`${handle.double.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
  }
  return handle
}
