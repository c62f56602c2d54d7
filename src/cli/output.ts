/** Where the CLI writes; a seam so tests capture output without spawning a process. */
export interface Output {
  out(text: string): void
  error(text: string): void
  /** Whether stdout is a terminal (then the default format is text, else markdown). */
  readonly isTerminal: boolean
}

export const processOutput: Output = {
  out: text => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  error: text => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTerminal: Boolean(process.stdout.isTTY)
}

/** A mistake in how the command was called: exit 2 with the usage. */
export class UsageError extends Error {}
