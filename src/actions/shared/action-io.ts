/**
 * The runner seam: everything an action says to or hears from the GitHub runner goes through ActionIO, so action
 * logic never touches @actions/core directly and tests can hand in a recorder.
 */
import * as core from '@actions/core'

export interface ActionIO {
  /** The input's value, trimmed; '' when not set. */
  getInput(name: string): string
  setOutput(name: string, value: string | number | boolean): void
  /** Appends markdown to the job summary ($GITHUB_STEP_SUMMARY). */
  appendSummary(markdown: string): Promise<void>
  setSecret(value: string): void
  debug(message: string): void
  info(message: string): void
  warning(message: string): void
  /** Marks the step failed with one `::error::` line; the process exits non-zero. */
  setFailed(message: string): void
}

export function createActionIO(): ActionIO {
  return {
    getInput: name => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    appendSummary: async markdown => {
      if (!process.env.GITHUB_STEP_SUMMARY) {
        core.info('No GITHUB_STEP_SUMMARY file: the job summary is skipped.')
        return
      }
      await core.summary.addRaw(markdown, true).write()
    },
    setSecret: value => core.setSecret(value),
    debug: message => core.debug(message),
    info: message => core.info(message),
    warning: message => core.warning(message),
    setFailed: message => core.setFailed(message)
  }
}
