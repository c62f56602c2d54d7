/**
 * The last-resort wrapper every action entry goes through. A ConfigurationError is the user's to fix, a ServiceError
 * a remote service's failure (a re-run finishes the work): one clear error line each, no stack. Anything else is our
 * bug: say so, and print the stack so it can be reported.
 *
 * Every entry (the three actions and the CLI) ends the same way: the outcome is process.exitCode, and the process
 * exits when its event loop drains. process.exit() would end it at once, and on Linux and macOS a write to a piped
 * stdout (how the runner reads a step) is asynchronous: queued lines, the ::error:: among them, could be lost.
 * Nothing lingers to wait for: the GitHub client's throttling timers are unref'd, the hash workers are terminated,
 * the smoke test's server group is stopped and awaited, and idle fetch connections do not hold the process (the
 * bundle tests run every action to its exit, with and without a comment and a served model).
 */
import { isConfigurationError, isServiceError } from '../../core/errors.js'
import { codeSpan } from '../../core/report/escape.js'
import { createActionIO, type ActionIO } from './action-io.js'

/** Long enough for any error line we write; the cut only guards the summary against a runaway message. */
const SUMMARY_MESSAGE_MAX = 4000

export async function runAction(
  name: string,
  main: (io: ActionIO) => Promise<void>,
  io: ActionIO = createActionIO()
): Promise<void> {
  try {
    await main(io)
  } catch (error) {
    if (isConfigurationError(error)) {
      io.setFailed(error.message, error.annotation)
      await summarizeStop(io, name, error.message)
      return
    }
    if (isServiceError(error)) {
      io.setFailed(error.message)
      await summarizeStop(io, name, error.message)
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    if (error instanceof Error && error.stack) io.info(error.stack)
    const line = `${name} failed unexpectedly: ${message}. This is a modelgate bug; please report it with the log above.`
    io.setFailed(line)
    await summarizeStop(io, name, line)
  }
}

/**
 * A step stopped by an error still says why in the job summary, where a reader of the run looks first: without it
 * the summary would hold nothing of this step, or only what it wrote before it stopped. A code span, so the paths
 * and values the message quotes copy exactly.
 */
async function summarizeStop(io: ActionIO, name: string, message: string): Promise<void> {
  try {
    await io.appendSummary(`### ❌ modelgate ${name} stopped\n\n${codeSpan(message, { max: SUMMARY_MESSAGE_MAX })}\n`)
  } catch {
    // The error line above is the outcome; a summary file that cannot be written must not hide it.
  }
}
