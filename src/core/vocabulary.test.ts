import { describe, expect, it } from '@jest/globals'
import { COMPARE_FAIL_ON, gatePasses, VALIDATE_FAIL_ON, VERDICTS } from './vocabulary.js'

describe('gatePasses', () => {
  it('follows fail-on', () => {
    expect(gatePasses('fail', 'regression')).toBe(false)
    expect(gatePasses('warn', 'regression')).toBe(true)
    expect(gatePasses('warn', 'warning')).toBe(false)
    expect(gatePasses('fail', 'never')).toBe(true)
  })

  it("reads validate-model's error as compare-metrics' regression: only a failing verdict fails", () => {
    for (const verdict of VERDICTS) expect(gatePasses(verdict, 'error')).toBe(gatePasses(verdict, 'regression'))
  })

  it('gives both gates the same warning and never', () => {
    const shared = COMPARE_FAIL_ON.filter(value => (VALIDATE_FAIL_ON as readonly string[]).includes(value))
    expect(shared).toEqual(['warning', 'never'])
  })
})
