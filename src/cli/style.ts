/**
 * Colours for a person at a terminal, and never for a pipe, a file or a log that keeps escape codes: on only when
 * the stream is a terminal, unless NO_COLOR (no-color.org) or FORCE_COLOR (Node's and chalk's convention) says
 * otherwise.
 */
import { EnvVar } from '../core/environment.js'

export interface Style {
  readonly enabled: boolean
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  yellow(text: string): string
  green(text: string): string
}

export function colourWanted(isTerminal: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env[EnvVar.NoColor]) return false
  const force = env[EnvVar.ForceColor]
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  return isTerminal
}

const code = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`
const plain = (text: string) => text

export function makeStyle(enabled: boolean): Style {
  return enabled
    ? { enabled, bold: code(1, 22), dim: code(2, 22), red: code(31, 39), yellow: code(33, 39), green: code(32, 39) }
    : { enabled, bold: plain, dim: plain, red: plain, yellow: plain, green: plain }
}

const STATUS = /^(FAIL|fail|WARN|warn|PASS|pass|ok)\b|: (PASS|FAIL|WARN)$/

/** The text report with its status words coloured: the first word of a row, or the verdict ending a headline. */
export function paintReport(text: string, style: Style): string {
  if (!style.enabled) return text
  const paint = (word: string) =>
    /fail/i.test(word) ? style.red(word) : /warn/i.test(word) ? style.yellow(word) : style.green(word)
  return text
    .split('\n')
    .map(line =>
      line.replace(STATUS, (match, first?: string, last?: string) =>
        first ? paint(first) : `: ${paint(last ?? match)}`
      )
    )
    .join('\n')
}
