/**
 * Progress of the long steps (hashing a large model, uploads, waiting on a server) as lines on stderr, so stdout
 * stays the report a script reads. Each line carries the time since the command started; a step that stays
 * silent longer than a heartbeat is said to be still running, so a slow upload never looks like a hang.
 */
import type { Output } from './output.js'
import type { Style } from './style.js'

export interface Progress {
  /** One progress line (the gates' `log`). */
  log(line: string): void
  /** A warning line, coloured as one. */
  warn(line: string): void
  stop(): void
}

export interface ProgressOptions {
  readonly now?: () => number
  /** Silence after which "still …" is printed; 0 turns the heartbeat off. */
  readonly heartbeatMs?: number
}

export const HEARTBEAT_MS = 15_000

export function startProgress(output: Output, style: Style, options: ProgressOptions = {}): Progress {
  const now = options.now ?? Date.now
  const started = now()
  let last = started
  let step: string | undefined
  const elapsed = () => `${((now() - started) / 1000).toFixed(1)}s`
  const write = (line: string) => {
    last = now()
    output.error(style.dim(`modelgate [${elapsed()}] `) + line)
  }
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS
  const timer =
    heartbeatMs > 0
      ? setInterval(() => {
          if (step !== undefined && now() - last >= heartbeatMs) write(style.dim(`still working (last: ${step})`))
        }, heartbeatMs)
      : undefined
  // The heartbeat never keeps a finished command alive.
  timer?.unref()
  return {
    log(line) {
      step = line
      write(line)
    },
    warn(line) {
      write(style.yellow(`warning: ${line}`))
    },
    stop() {
      if (timer) clearInterval(timer)
    }
  }
}
