import { describe, expect, it } from '@jest/globals'
import { formatCount, formatDelta, formatNumber, formatNumberDistinct, formatPercent, MINUS } from './format.js'

const m = MINUS

describe('formatNumber', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-3, `${m}3`],
    [0.5, '0.5'],
    [0.1 + 0.2, '0.3'],
    [0.91234, '0.9123'],
    [-0.004, `${m}0.004`],
    [0.00012345678, '0.0001235'],
    [1234.5678, '1235'],
    // The integer part is never rounded away into an exponent.
    [12345.6, '12346'],
    [9.99996, '10'],
    [12345, '12345'],
    [123456789, '123456789'],
    [-123456789, `${m}123456789`],
    [1e-9, '1e−9'],
    [-2.5e-7, `${m}2.5e${m}7`],
    [0.000099996, `1e${m}4`],
    [1e15, '1e15'],
    [999999999999999.9, '1e15'],
    [1e21, '1e21'],
    [Number.MAX_VALUE, '1.798e308'],
    [Infinity, '∞'],
    [-Infinity, `${m}∞`],
    [NaN, 'NaN']
  ])('%p → %p', (n, expected) => {
    expect(formatNumber(n)).toBe(expected)
  })

  it('takes a number of significant digits', () => {
    expect(formatNumber(Math.PI, 2)).toBe('3.1')
    expect(formatNumber(Math.PI, 8)).toBe('3.1415927')
    expect(formatNumber(0.80004, 10)).toBe('0.80004')
  })
})

describe('formatDelta', () => {
  it.each<[number, string]>([
    [0, '±0'],
    [-0, '±0'],
    [0.0123, '+0.0123'],
    [-0.004, `${m}0.004`],
    [0.1 + 0.2, '+0.3'],
    [1e-9, '+1e−9'],
    [-123456789, `${m}123456789`],
    [5000, '+5000'],
    [Infinity, '+∞'],
    [-Infinity, `${m}∞`],
    [NaN, 'NaN']
  ])('%p → %p', (n, expected) => {
    expect(formatDelta(n)).toBe(expected)
  })
})

describe('formatPercent', () => {
  it.each<[number, string]>([
    [0, '±0%'],
    [-0, '±0%'],
    [1.2, '+1.2%'],
    [-0.35, `${m}0.35%`],
    [12.345, '+12%'],
    [99.96, '+100%'],
    [250, '+250%'],
    [12345.6, '+12346%'],
    // A change this large means the baseline was nearly zero: an exponent says so.
    [123456789, '+1.2e8%'],
    [999999.6, '+1e6%'],
    [-0.0012, `${m}0.0012%`],
    [1e-7, '+1e−7%'],
    [Infinity, '+∞%'],
    [-Infinity, `${m}∞%`],
    [NaN, 'NaN%']
  ])('%p → %p', (pct, expected) => {
    expect(formatPercent(pct)).toBe(expected)
  })
})

describe('formatCount', () => {
  it.each<[number, string]>([
    [0, '0'],
    [999, '999'],
    [99874, '99,874'],
    [1234567, '1,234,567'],
    [-1000, `${m}1,000`]
  ])('%p → %p', (n, expected) => {
    expect(formatCount(n)).toBe(expected)
  })
})

describe('formatNumberDistinct', () => {
  it('adds digits until different numbers read differently', () => {
    expect(formatNumberDistinct(0.79996, [0.8])).toBe('0.79996')
    expect(formatNumberDistinct(0.912341, [0.912344])).toBe('0.912341')
    expect(formatNumberDistinct(0.30000000000000004, [0.3])).toBe('0.30000000000000004')
  })

  it('keeps the default digits when nothing collides', () => {
    expect(formatNumberDistinct(0.8, [0.8, 0.5, NaN])).toBe('0.8')
    expect(formatNumberDistinct(0.91234, [])).toBe('0.9123')
  })
})
