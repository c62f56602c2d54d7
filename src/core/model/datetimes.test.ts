import { describe, expect, it } from '@jest/globals'
import { numpyDatetimeProblem, pandasDatetimeColumnProblem } from './datetimes.js'

describe('numpyDatetimeProblem (np.datetime64 of one value)', () => {
  it('reads ISO 8601 with a T or a space, any precision, and offsets', () => {
    for (const text of [
      '2024',
      '2024-01',
      '2024-01-02',
      '2024-01-02 03:04',
      '2024-01-02T03:04:05.123456789',
      '2024-01-02T03:04:05Z',
      '2024-01-02T03:04:05+02:00',
      '',
      'NaT'
    ]) {
      expect(numpyDatetimeProblem(text)).toBeUndefined()
    }
    expect(numpyDatetimeProblem(null)).toBeUndefined()
    expect(numpyDatetimeProblem(1700000000)).toBeUndefined()
  })

  it('refuses other forms and impossible dates, and says what numpy makes of digits and booleans', () => {
    expect(numpyDatetimeProblem('01/02/2024')).toMatch(/not an ISO 8601 date/)
    expect(numpyDatetimeProblem('2024-02-30')).toMatch(/not an ISO 8601 date/)
    expect(numpyDatetimeProblem('2024-01-02T24:00')).toMatch(/not an ISO 8601 date/)
    expect(numpyDatetimeProblem('20240102')).toMatch(/as the year 20240102/)
    expect(numpyDatetimeProblem(true)).toMatch(/1 nanoseconds after 1970/)
    expect(numpyDatetimeProblem(1.5)).toMatch(/not a whole number/)
    expect(numpyDatetimeProblem(5, { numbers: false })).toMatch(/without a unit/)
  })
})

describe('pandasDatetimeColumnProblem (pd.to_datetime of a column)', () => {
  it('takes values written like the first one', () => {
    expect(pandasDatetimeColumnProblem(['2024-01-02', null, '', '2024-02-29'])).toBeUndefined()
    expect(pandasDatetimeColumnProblem(['01/02/2024', '12/31/2023'])).toBeUndefined()
    expect(pandasDatetimeColumnProblem(['2024-01-02 03:04:05', '2024-01-03 00:00:00'])).toBeUndefined()
    expect(pandasDatetimeColumnProblem([1700000000, 0])).toBeUndefined()
  })

  it('refuses a value written otherwise, timezones, and forms it cannot vouch for', () => {
    expect(pandasDatetimeColumnProblem(['2024-01-02', '2024-01-02T03:04:05'])).toMatch(/first date/)
    expect(pandasDatetimeColumnProblem(['2024-01-02T03:04:05+02:00'])).toMatch(/has a timezone/)
    expect(pandasDatetimeColumnProblem(['2024-01-02T03:04:05Z'])).toMatch(/has a timezone/)
    expect(pandasDatetimeColumnProblem(['someday'])).toMatch(/not a date modelgate can read/)
    expect(pandasDatetimeColumnProblem(['2024-01-02', 5])).toMatch(/the number 5 among date strings/)
    expect(pandasDatetimeColumnProblem([true])).toMatch(/cannot read as a datetime/)
  })
})

describe('NaN and infinities (json.dump writes a missing value NaN)', () => {
  it('pandas reads NaN as a missing date (NaT), and makes NaT of an infinity alone but refuses it beside dates', () => {
    expect(pandasDatetimeColumnProblem(['2024-01-02', NaN])).toBeUndefined()
    expect(pandasDatetimeColumnProblem([NaN, NaN])).toBeUndefined()
    expect(pandasDatetimeColumnProblem([Infinity])).toMatch(
      /Infinity in a datetime column, which pandas makes a missing date/
    )
    expect(pandasDatetimeColumnProblem(['2024-01-02', -Infinity])).toMatch(/-Infinity in a datetime column/)
  })

  it('numpy makes no datetime of NaN or an infinity', () => {
    expect(numpyDatetimeProblem(NaN)).toMatch(/numpy cannot make a datetime of NaN; write null/)
    expect(numpyDatetimeProblem(-Infinity, { numbers: false })).toMatch(/of -Infinity/)
  })
})
