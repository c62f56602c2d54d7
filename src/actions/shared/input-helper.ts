/**
 * Typed readers for action inputs (the codeql-action convention): empty means absent, and every bad value is a
 * ConfigurationError that names the input and what it accepts.
 */
import { ConfigurationError } from '../../core/errors.js'
import type { ActionIO } from './action-io.js'

export function describeInput(name: string): string {
  return `input '${name}'`
}

export function getOptionalInput(io: ActionIO, name: string): string | undefined {
  const value = io.getInput(name)
  return value === '' ? undefined : value
}

export function getRequiredInput(io: ActionIO, name: string, expected: string): string {
  const value = getOptionalInput(io, name)
  if (value === undefined)
    throw new ConfigurationError(`is required: expected ${expected}`, { source: describeInput(name) })
  return value
}

export function getChoiceInput<T extends string>(io: ActionIO, name: string, choices: readonly T[], fallback: T): T
export function getChoiceInput<T extends string>(io: ActionIO, name: string, choices: readonly T[]): T | undefined
export function getChoiceInput<T extends string>(
  io: ActionIO,
  name: string,
  choices: readonly T[],
  fallback?: T
): T | undefined {
  const raw = getOptionalInput(io, name)
  if (raw === undefined) return fallback
  const value = raw.toLowerCase() as T
  if (choices.includes(value)) return value
  throw new ConfigurationError(`expected ${choices.map(c => `"${c}"`).join(', ')}, got "${raw}"`, {
    source: describeInput(name)
  })
}
