import { describe, expect, it } from '@jest/globals'
import { MAX_DURATION_MS, parseDuration } from './duration.js'
import { ConfigurationError } from './errors.js'

describe('parseDuration', () => {
  it('reads units, compounds and bare seconds', () => {
    expect(parseDuration('10m', 'input', '10m')).toBe(600_000)
    expect(parseDuration(' 1h30m ', 'input', '10m')).toBe(5_400_000)
    expect(parseDuration('1.5h', 'input', '10m')).toBe(5_400_000)
    expect(parseDuration('500ms', 'input', '10m')).toBe(500)
    expect(parseDuration('10 M', 'input', '10m')).toBe(600_000)
    expect(parseDuration('90', 'input', '10m')).toBe(90_000)
  })

  it('refuses what is not a duration, naming the input and an example', () => {
    for (const text of ['', 'soon', '15 minutes', 'm15', '0s', '0', '-5m', '1e3', '1h 30m', '10d']) {
      let error: unknown
      try {
        parseDuration(text, "input 'timeout'", '10m')
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as Error).message).toContain(`input 'timeout'`)
      expect((error as Error).message).toContain('expected a duration such as 10m, 90s or 1h30m')
    }
  })

  it('refuses a duration a timer cannot hold (it would fire at once)', () => {
    expect(parseDuration(`${MAX_DURATION_MS}ms`, 'input', '10m')).toBe(MAX_DURATION_MS)
    expect(() => parseDuration('600h', 'input', '10m')).toThrow('expected a duration of at most 24 days, got "600h"')
  })
})
