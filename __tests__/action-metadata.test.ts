/**
 * action.yml and the code must name the same inputs and outputs: an input the code reads but action.yml does not
 * declare is always empty on a real runner, and a declared output the code never sets is always empty too.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ROOT, readActionMetadata } from '../test/harness/run-action.js'

const actions = readdirSync(join(ROOT, 'actions')).filter(name => existsSync(join(ROOT, 'actions', name, 'action.yml')))

describe.each(actions)('actions/%s/action.yml', action => {
  it('declares exactly the inputs and outputs its constants name', async () => {
    const metadata = readActionMetadata(action) as {
      inputs?: Record<string, { description?: string }>
      outputs?: Record<string, { description?: string }>
    }
    const constants = (await import(`../src/actions/${action}/constants.js`)) as {
      Inputs: Record<string, string>
      Outputs: Record<string, string>
    }
    expect(Object.keys(metadata.inputs ?? {}).sort()).toEqual(Object.values(constants.Inputs).sort())
    expect(Object.keys(metadata.outputs ?? {}).sort()).toEqual(Object.values(constants.Outputs).sort())
    for (const [name, spec] of [...Object.entries(metadata.inputs ?? {}), ...Object.entries(metadata.outputs ?? {})]) {
      expect({ name, described: Boolean(spec.description?.trim()) }).toEqual({ name, described: true })
    }
  })

  it('runs on node24 from its committed bundle', () => {
    const metadata = readActionMetadata(action)
    expect(metadata.runs.using).toBe('node24')
    expect(metadata.runs.main).toBe(`../../dist/${action}/index.js`)
    expect(existsSync(resolve(ROOT, 'actions', action, metadata.runs.main))).toBe(true)
  })

  it('is documented in a README that names every input and output', () => {
    const readme = readFileSync(join(ROOT, 'actions', action, 'README.md'), 'utf8')
    const metadata = readActionMetadata(action) as { inputs?: object; outputs?: object }
    const undocumented = [...Object.keys(metadata.inputs ?? {}), ...Object.keys(metadata.outputs ?? {})].filter(
      name => !readme.includes(`\`${name}\``)
    )
    expect(undocumented).toEqual([])
  })
})
