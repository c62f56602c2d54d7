/**
 * The runner seam: everything an action says to or hears from the GitHub runner goes through ActionIO, so action
 * logic never touches the toolkit directly and tests can hand in a recorder.
 *
 * Why the toolkit is imported by file: `@actions/core`'s entry point statically loads its OIDC client and with it
 * undici, which alone costs a gate step about 55 ms of start-up (more than twice `node -e 0`) on every run, for a
 * feature no modelgate action uses. The modules imported here are the toolkit's own implementations of what we
 * do use (workflow commands, GITHUB_OUTPUT file commands, the job summary), so the wire format stays exactly the
 * toolkit's; only `getInput` and `setFailed`, a few lines in core.js, are restated below, to the letter.
 * @actions/core is pinned to ~3.0 because this reaches past its exports map; the bundled-action tests break if
 * a release moves these files.
 */
import { EOL } from 'node:os'
import { issueCommand } from '../../../node_modules/@actions/core/lib/command.js'
import { issueFileCommand, prepareKeyValueMessage } from '../../../node_modules/@actions/core/lib/file-command.js'
import { summary } from '../../../node_modules/@actions/core/lib/summary.js'
import { toCommandProperties, toCommandValue } from '../../../node_modules/@actions/core/lib/utils.js'
import type { Annotation } from '../../core/errors.js'

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
  /**
   * Marks the step failed with one `::error::` line; the process exits non-zero. With an annotation, the line carries
   * `file=` and `line=`, so GitHub marks that line of the file in the pull request's diff.
   */
  setFailed(message: string, annotation?: Annotation): void
}

export function createActionIO(env: NodeJS.ProcessEnv = process.env): ActionIO {
  return {
    // core.getInput: spaces become underscores, upper-cased, hyphens kept; trimmed.
    getInput: name => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim(),
    // core.setOutput: the GITHUB_OUTPUT file command, or the legacy stdout command without one.
    setOutput: (name, value) => {
      if (env.GITHUB_OUTPUT) return issueFileCommand('OUTPUT', prepareKeyValueMessage(name, value))
      process.stdout.write(EOL)
      issueCommand('set-output', { name }, toCommandValue(value))
    },
    appendSummary: async markdown => {
      if (!env.GITHUB_STEP_SUMMARY) {
        process.stdout.write(`No GITHUB_STEP_SUMMARY file: the job summary is skipped.${EOL}`)
        return
      }
      await summary.addRaw(markdown, true).write()
    },
    setSecret: value => issueCommand('add-mask', {}, value),
    debug: message => issueCommand('debug', {}, message),
    info: message => void process.stdout.write(message + EOL),
    warning: message => issueCommand('warning', {}, message),
    // core.setFailed: exit code 1 and an error command.
    setFailed: (message, annotation) => {
      process.exitCode = 1
      issueCommand('error', annotation ? toCommandProperties(annotation) : {}, message)
    }
  }
}
