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

const REPORT_FORMATS = ['text', 'markdown', 'json'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

/** `--format`, defaulting to text on a terminal and markdown when piped (into a file or a PR comment). */
export function formatFlag(value: string | undefined, isTerminal: boolean): ReportFormat {
  return choiceFlag('--format', value, REPORT_FORMATS) ?? (isTerminal ? 'text' : 'markdown')
}
