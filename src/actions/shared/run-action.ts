/**
 * The last-resort wrapper every action entry goes through. A ConfigurationError is the user's to fix, a ServiceError
 * a remote service's failure (a re-run finishes the work): one clear error line each, no stack. Anything else is our bug: say so, and print the stack so it can be reported.
 */
import { isConfigurationError, isServiceError } from '../../core/errors.js'
import { createActionIO, type ActionIO } from './action-io.js'

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
      return
    }
    if (isServiceError(error)) {
      io.setFailed(error.message)
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    if (error instanceof Error && error.stack) io.info(error.stack)
    io.setFailed(
      `${name} failed unexpectedly: ${message}. This is a modelgate bug; please report it with the log above.`
    )
  }
}
