import { describe, expect, it } from '@jest/globals'
import { createLocator, formatKeyPath } from './yaml-locate.js'

const doc = `model: churn
metrics:
  accuracy: { direction: higher, min: 0.8 }
  "per_class.*.recall":
    direction: higher
    min: 0.7
models:
  - model: a
  - model: b
    metrics:
      f1: { min: 0.5 }
`

describe('createLocator', () => {
  const locate = createLocator(doc)

  it('finds keys in block and flow mappings', () => {
    expect(locate(['model'])).toBe(1)
    expect(locate(['metrics', 'accuracy'])).toBe(3)
    expect(locate(['metrics', 'accuracy', 'min'])).toBe(3)
    expect(locate(['metrics', 'per_class.*.recall', 'min'])).toBe(6)
  })

  it('finds items of sequences and keys inside them', () => {
    expect(locate(['models', 0])).toBe(8)
    expect(locate(['models', 1, 'metrics', 'f1', 'min'])).toBe(11)
  })

  it('falls back to the nearest ancestor for a key that is absent', () => {
    expect(locate(['metrics', 'accuracy', 'severity'])).toBe(3)
    expect(locate(['nothing', 'here'])).toBe(1)
  })

  it('returns undefined positions quietly for unparsable text', () => {
    expect(createLocator('a: [')(['a'])).toBeUndefined()
  })
})

describe('formatKeyPath', () => {
  it('brackets keys that are not identifiers', () => {
    expect(formatKeyPath(['metrics', 'per_class.*.recall', 'min'])).toBe('metrics["per_class.*.recall"].min')
    expect(formatKeyPath(['models', 1, 'max-regression'])).toBe('models[1].max-regression')
  })
})
