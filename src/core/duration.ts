/**
 * Durations as users write them in `timeout` inputs and flags: `15m`, `90s`, `1h30m`, `500ms`, or a bare number of
 * seconds. One parser, so register-model and deploy-endpoint read the same text the same way.
 */
import { ConfigurationError } from './errors.js'

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** setTimeout holds at most 2^31-1 ms (about 24.8 days): a longer timer fires at once, so it is refused. */
export const MAX_DURATION_MS = 2 ** 31 - 1

/** Milliseconds; `example` leads the error message (each input's own default, e.g. `10m`). */
export function parseDuration(text: string, source: string, example: string): number {
  const trimmed = text.trim()
  const expected = `expected a duration such as ${example}, 90s or 1h30m, got "${text}"`
  let ms: number
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    ms = Number(trimmed) * 1000
  } else {
    const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h)/gi)]
    if (parts.length === 0 || parts.map(part => part[0]).join('') !== trimmed) {
      throw new ConfigurationError(expected, { source })
    }
    ms = parts.reduce((sum, part) => sum + Number(part[1]) * UNITS_MS[part[2]!.toLowerCase()]!, 0)
  }
  if (!(ms > 0)) throw new ConfigurationError(expected, { source })
  if (ms > MAX_DURATION_MS) {
    throw new ConfigurationError(`expected a duration of at most 24 days, got "${text}"`, { source })
  }
  return ms
}
