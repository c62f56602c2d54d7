/**
 * HAProxy for tests: Debian's package, started on loopback in a temporary folder and stopped by the test. A
 * machine without it fails the tests that need it, saying how to install it (never a silent skip).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/core/serving/ports.js'
import { HAPROXY_INSTALL_HINT, startHaproxy, type RunningHaproxy } from '../../src/core/serving/haproxy/process.js'

export function requireHaproxy(): void {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'pipe' })
  } catch {
    throw new Error(`these tests need HAProxy (Debian's package, 2.6): ${HAPROXY_INSTALL_HINT} (.ci/run does it)`)
  }
}

export interface TestHaproxy extends RunningHaproxy {
  /** `http://127.0.0.1:<port>`, the frontend. */
  readonly url: string
  readonly dir: string
  /** Stops HAProxy and removes its folder. */
  close(): Promise<void>
}

export async function startTestHaproxy(backend: string): Promise<TestHaproxy> {
  requireHaproxy()
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-haproxy-'))
  const port = await freePort()
  const running = await startHaproxy({ dir, backend, bind: `127.0.0.1:${port}` })
  return {
    ...running,
    url: `http://127.0.0.1:${port}`,
    dir,
    close: async () => {
      await running.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
