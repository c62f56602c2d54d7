/**
 * Databricks doubles that live for one test: a double that outlived its test would carry its models, endpoints and
 * faults into the next, and a violation it saw would go unread.
 */
import { afterEach, expect } from '@jest/globals'
import { startDatabricksDouble, type DatabricksDouble, type DatabricksDoubleOptions } from './server.js'

/**
 * Call at the top level of a test file. Returns how its tests start a double (`defaults` under each start's own
 * options); after each test every double it started is closed and must have seen no violation.
 */
export function databricksDoublePerTest(
  defaults: DatabricksDoubleOptions = {}
): (options?: DatabricksDoubleOptions) => Promise<DatabricksDouble> {
  const started: DatabricksDouble[] = []
  afterEach(async () => {
    const doubles = started.splice(0)
    // Closed before the check, so a failing check leaves no server behind.
    await Promise.all(doubles.map(double => double.close()))
    for (const double of doubles) expect(double.violations).toEqual([])
  })
  return async (options = {}) => {
    const double = await startDatabricksDouble({ ...defaults, ...options })
    started.push(double)
    return double
  }
}
