// Errors about .modelgate.yml carry file= and line=, so GitHub marks the line in the pull request's diff.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runComparison } from '../../core/gates/compare.js'
import { createActionIO } from './action-io.js'
import { runAction } from './run-action.js'

let workspace: string

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-annotation-'))
  writeFileSync(join(workspace, 'c.json'), '{"accuracy": 0.9}')
  writeFileSync(join(workspace, '.modelgate.yml'), 'model: churn\nmetrics:\n  accuracy:\n    direction: up\n')
})

afterAll(() => rmSync(workspace, { recursive: true, force: true }))

async function stdoutOf(action: () => Promise<void>): Promise<string> {
  let written = ''
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    written += String(chunk)
    return true
  })
  try {
    await action()
  } finally {
    spy.mockRestore()
    process.exitCode = undefined
  }
  return written
}

describe('annotations of configuration errors', () => {
  it('an error in .modelgate.yml becomes ::error file=…,line=…::', async () => {
    const io = createActionIO({})
    const out = await stdoutOf(() =>
      runAction(
        'compare-metrics',
        async () => {
          await runComparison({ workspace, candidate: 'c.json' })
        },
        io
      )
    )
    expect(out).toMatch(
      /^::error file=\.modelgate\.yml,line=4::\.modelgate\.yml:4 \(metrics\.accuracy\.direction\): expected "higher" or "lower", got "up"/m
    )
  })

  it('an error in an input carries no file', async () => {
    const io = createActionIO({})
    const out = await stdoutOf(() =>
      runAction(
        'compare-metrics',
        async () => {
          await runComparison({ workspace, candidate: 'c.json', config: 'none.yml', rules: 'a: {min: x}' })
        },
        io
      )
    )
    expect(out).toMatch(/^::error::none\.yml: config file not found/m)
  })
})
