import { describe, expect, it } from '@jest/globals'
import { ConfigurationError, ServiceError } from '../../core/errors.js'
import type { ActionIO } from './action-io.js'
import { runAction } from './run-action.js'

/** An ActionIO that records what a step would show: its failure line, its log and its job summary. */
function recorder(options: { summaryFails?: boolean } = {}) {
  const seen = { failed: [] as string[], summary: '', info: [] as string[] }
  const io: ActionIO = {
    getInput: () => '',
    setOutput: () => {},
    appendSummary: async markdown => {
      if (options.summaryFails) throw new Error('EACCES: the summary file is not writable')
      seen.summary += markdown
    },
    setSecret: () => {},
    debug: () => {},
    info: message => void seen.info.push(message),
    warning: () => {},
    setFailed: message => void seen.failed.push(message)
  }
  return { io, seen }
}

describe('a step stopped by an error', () => {
  it.each([
    [
      'a configuration error',
      new ConfigurationError('expected a map such as "team: fraud"', { source: "input 'tags'" })
    ],
    ['a service failure', new ServiceError('the MLflow server answered 503 five times', 503)]
  ])('says why in the job summary as in its error line: %s', async (_, error) => {
    const { io, seen } = recorder()
    await runAction('register-model', async () => Promise.reject(error), io)
    expect(seen.failed).toEqual([error.message])
    // A code span: the message as written, with no invisible guard characters in what a reader copies.
    expect(seen.summary).toBe(`### ❌ modelgate register-model stopped\n\n\`${error.message}\`\n`)
  })

  it('says so for our own bug too, with the stack in the log only', async () => {
    const { io, seen } = recorder()
    await runAction('deploy-endpoint', async () => Promise.reject(new TypeError('x is undefined')), io)
    expect(seen.failed).toEqual([
      'deploy-endpoint failed unexpectedly: x is undefined. This is a modelgate bug; please report it with the log above.'
    ])
    expect(seen.summary).toContain('### ❌ modelgate deploy-endpoint stopped')
    expect(seen.summary).toContain('This is a modelgate bug')
    expect(seen.summary).not.toContain('    at ')
    expect(seen.info.join('\n')).toContain('TypeError: x is undefined')
  })

  it('still fails with its error line when the summary cannot be written', async () => {
    const { io, seen } = recorder({ summaryFails: true })
    await runAction('validate-model', async () => Promise.reject(new ConfigurationError('is required')), io)
    expect(seen.failed).toEqual(['is required'])
  })

  it('writes no such summary when the step succeeds', async () => {
    const { io, seen } = recorder()
    await runAction('validate-model', async () => {}, io)
    expect(seen).toEqual({ failed: [], summary: '', info: [] })
  })
})
