import { describe, expect, it } from '@jest/globals'
import { ConfigurationError, describeValue, formatPlace } from './errors.js'

describe('ConfigurationError', () => {
  it('prefixes the message with the file, line and key path', () => {
    const error = new ConfigurationError('expected "higher" or "lower", got "up"', {
      source: '.modelgate.yml',
      line: 4,
      path: 'metrics.accuracy.direction'
    })
    expect(error.message).toBe('.modelgate.yml:4 (metrics.accuracy.direction): expected "higher" or "lower", got "up"')
    expect(error.detail).toBe('expected "higher" or "lower", got "up"')
  })

  it('formats a place without line or path', () => {
    expect(formatPlace({ source: "input 'rules'" })).toBe("input 'rules'")
  })

  it('shortens long values in messages', () => {
    expect(describeValue('x'.repeat(100), 10)).toHaveLength(10)
    expect(describeValue(undefined)).toBe('nothing')
  })

  it('shows NaN and infinities as themselves, not as the null JSON makes of them', () => {
    // YAML's .nan and .inf in a config or MLmodel: "expected a number, got null" would send the user looking for a
    // blank value.
    expect(describeValue(Number.NaN)).toBe('NaN')
    expect(describeValue(-Infinity)).toBe('-Infinity')
    expect(describeValue(null)).toBe('null')
    expect(describeValue(0.5)).toBe('0.5')
    // Inside a list or map too: an input example's missing values are NaN inside its rows.
    expect(describeValue([false, NaN, null, Infinity])).toBe('[false,NaN,null,Infinity]')
    expect(describeValue({ a: -Infinity, b: 'NaN' })).toBe('{"a":-Infinity,"b":"NaN"}')
  })
})
