/**
 * What every gate action does at its end: where its report files go, and the one error line that says why the
 * step failed.
 */
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** How many reasons the error line names; the rest are counted, the summary holds them all. */
const REASONS_IN_ERROR_LINE = 3

/**
 * A directory for an action's report files. RUNNER_TEMP is per job and emptied after it, so parallel jobs never
 * share these files; outside a runner the OS temp directory serves.
 */
export async function reportDirectory(env: NodeJS.ProcessEnv, ...segments: string[]): Promise<string> {
  const dir = join(env.RUNNER_TEMP || tmpdir(), 'modelgate', ...segments)
  await mkdir(dir, { recursive: true })
  return dir
}

/** `<headline>: <first reason>; <second>; <third>; and N more`. */
export function failureLine(headline: string, reasons: readonly string[]): string {
  const shown = reasons.slice(0, REASONS_IN_ERROR_LINE).join('; ')
  const more = reasons.length - REASONS_IN_ERROR_LINE
  return `${headline}: ${shown}${more > 0 ? `; and ${more} more` : ''}`
}
