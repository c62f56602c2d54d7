import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
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

describe('vocabulary.ts', () => {
  it('imports nothing, so any layer can use it', () => {
    const source = readFileSync(new URL('./vocabulary.ts', import.meta.url), 'utf8')
    expect(source).not.toMatch(/^\s*(import|export .* from)\b/m)
  })
})
