import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..')
const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')

/**
 * The command in its own process, its stdout (or stderr) a pipe whose reader has gone before anything was written,
 * as `modelgate ... | head -1` leaves it once head has its line.
 */
function runWithClosedReader(
  closed: 'stdout' | 'stderr',
  args: string[]
): Promise<{ code: number | null; other: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child[closed].destroy()
  let other = ''
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', chunk => (other += chunk))
  return new Promise(resolve => child.on('close', code => resolve({ code, other })))
}

describe('a reader that stops early', () => {
  const validate = ['validate', '--workspace', EXAMPLE, '--model-path', 'model', '--format', 'json']

  it("leaves the exit code the gate's: no crash, no stack trace", async () => {
    const passing = await runWithClosedReader('stdout', validate)
    expect(passing.other).not.toMatch(/EPIPE|Unhandled|at /)
    expect(passing.code).toBe(0)
    // The example's candidate metrics warn: under --fail-on warning the gate fails, and 1 still says so.
    const failing = await runWithClosedReader('stdout', [
      ...validate,
      '--fail-on',
      'warning',
      '--metrics',
      'metrics/candidate.json'
    ])
    expect(failing.other).not.toMatch(/EPIPE|Unhandled|at /)
    expect(failing.code).toBe(1)
  }, 60_000)

  it('on stderr too (progress piped away with 2>&1 | head)', async () => {
    const run = await runWithClosedReader('stderr', validate)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.other)).toMatchObject({ verdict: 'pass' })
  }, 60_000)
})
