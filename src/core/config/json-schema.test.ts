import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { readFileSync } from 'node:fs'
import { load } from 'js-yaml'
import { configJsonSchema, configJsonSchemaText } from './json-schema.js'

const committedPath = new URL('../../../schema/modelgate.schema.json', import.meta.url)

describe('the published JSON Schema', () => {
  it('is the one generated from the zod schema (run npm run schema after changing it)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(configJsonSchemaText())
  })

  it('accepts the example config and rejects what the zod schema rejects', () => {
    const ajv = new Ajv({ strict: false })
    const validate = ajv.compile(configJsonSchema())
    const example = load(
      readFileSync(new URL('../../../examples/churn-classifier/.modelgate.yml', import.meta.url), 'utf8')
    )
    expect(validate(example)).toBe(true)
    expect(validate({ metrics: { accuracy: { direction: 'up' } } })).toBe(false)
    expect(validate({ metrics: { accuracy: { max_regression: 0.1 } } })).toBe(false)
    expect(validate({ model: 'm', unknown: 1 })).toBe(false)
    expect(validate({ model: 'm', deploy: { environments: { staging: { url: 'http://s:8080' } } } })).toBe(true)
    expect(validate({ model: 'm', deploy: { environments: { staging: { environments: {} } } } })).toBe(false)
    expect(validate({ model: 'm', deploy: { environments: { '': {} } } })).toBe(false)
  })
})
