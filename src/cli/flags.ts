/** Reading typed values from parsed command-line flags. */
import { ConfigurationError } from '../core/errors.js'

/** A flag restricted to a few values; anything else is the user's mistake, named with the values accepted. */
export function choiceFlag<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[]
): T | undefined {
  if (value === undefined) return undefined
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new ConfigurationError(`expected ${choices.map(c => `"${c}"`).join(', ')}, got "${value}"`, { source: flag })
}
