/** Where the CLI writes; a seam so tests capture output without spawning a process. */
import { makeStyle, type Style } from './style.js'

export interface Output {
  out(text: string): void
  error(text: string): void
  /** Whether stdout is a terminal (then the default format is text, else markdown, and the report is coloured). */
  readonly isTerminal: boolean
  /** Whether stderr is a terminal (then progress and errors are coloured); absent means no. */
  readonly isErrorTerminal?: boolean
}

export const processOutput: Output = {
  out: text => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  error: text => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTerminal: Boolean(process.stdout.isTTY),
  isErrorTerminal: Boolean(process.stderr.isTTY)
}

/** A mistake in how the command was called: exit 2 with a pointer to the help. */
export class UsageError extends Error {}

/** What a command needs besides its flags: where to say progress, and how to colour its report. */
export interface CommandUi {
  /** A progress line on stderr (the gates' `log`). */
  readonly log: (line: string) => void
  readonly warn: (line: string) => void
  /** Colours for stdout's text report (none unless stdout is a terminal). */
  readonly style: Style
}

/** Bare lines on stderr and no colours: for a command called without main's setup. */
export function plainUi(output: Output): CommandUi {
  return { log: line => output.error(line), warn: line => output.error(`warning: ${line}`), style: makeStyle(false) }
}
