/** Assertions for the user-mistake path: the code under test must throw a ConfigurationError, and we get it back. */
import { expect } from '@jest/globals'
import { ConfigurationError } from '../../src/core/errors.js'

export function configurationErrorOf(action: () => unknown): ConfigurationError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}

export async function configurationRejection(promise: Promise<unknown>): Promise<ConfigurationError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}
