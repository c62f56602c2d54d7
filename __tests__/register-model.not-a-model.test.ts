/**
 * The shipped register-model bundle refuses a folder that is not an MLflow model before it touches the registry:
 * such a version would be one MLflow's client cannot load, kept for good.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from '../test/harness/run-action.js'

let workspace: string

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-not-a-model-'))
  cpSync(join(ROOT, 'examples', 'churn-classifier', 'model'), join(workspace, 'model'), { recursive: true })
  mkdirSync(join(workspace, 'docs'))
  writeFileSync(join(workspace, 'docs', 'README.md'), '# churn model\n')
  mkdirSync(join(workspace, 'broken'))
  writeFileSync(join(workspace, 'broken', 'MLmodel'), 'flavors: [python_function\n')
})
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('register-model on the file registry', () => {
  it.each([
    ['a folder holding only a readme', 'docs', 'has no MLmodel file, so it is not an MLflow model directory'],
    ['a folder whose MLmodel is not YAML', 'broken', 'MLmodel line 2: is not valid YAML']
  ])(
    'refuses %s in one line, registering nothing',
    async (_what, modelPath, expected) => {
      const run = await runAction('register-model', { workspace, inputs: { name: 'churn', 'model-path': modelPath } })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain("input 'model-path': is not an MLflow model that can be registered")
      expect(run.errors[0]).toContain(expected)
      expect(run.stdout).not.toContain('modelgate bug')
      expect(existsSync(join(workspace, '.modelgate', 'registry', 'models', 'churn'))).toBe(false)
    },
    60_000
  )

  it('registers the real model next to them', async () => {
    const run = await runAction('register-model', { workspace, inputs: { name: 'churn', 'model-path': 'model' } })
    expect(run.errors).toEqual([])
    expect(run.outputs).toMatchObject({ created: 'true', version: '1' })
    expect(existsSync(join(workspace, '.modelgate', 'registry', 'models', 'churn', 'versions', '1'))).toBe(true)
  }, 60_000)
})
