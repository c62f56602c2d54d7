import { describe, expect, it } from '@jest/globals'
import { failureLine } from './outcome.js'

describe('failureLine', () => {
  it('names up to three reasons and counts the rest', () => {
    expect(failureLine('m fails', ['a', 'b'])).toBe('m fails: a; b')
    expect(failureLine('m fails', ['a', 'b', 'c'])).toBe('m fails: a; b; c')
    expect(failureLine('m fails', ['a', 'b', 'c', 'd', 'e'])).toBe('m fails: a; b; c; and 2 more')
  })
})
