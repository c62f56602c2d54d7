import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

// The shipped command, as `npx modelgate` runs it: the bundle, in its own process, stdout piped.
const ROOT = join(new URL('.', import.meta.url).pathname, '..')
const CLI = join(ROOT, 'dist', 'cli', 'index.js')
const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')

function modelgate(...args: string[]) {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...env } = process.env
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 })
}

describe('the bundled modelgate command', () => {
  it("prints a command's help with its flags and defaults, and exits 0", () => {
    const help = modelgate('validate', '--help')
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^ {2}--model <name> +which model of the config's models: list/m)
    expect(help.stdout).toContain('(default: .modelgate.yml when present)')
    expect(help.stderr).toBe('')
  })

  it('keeps stdout for the JSON report and says progress on stderr, uncoloured in a pipe', () => {
    const run = modelgate('validate', '--workspace', EXAMPLE, '--model-path', 'model', '--format', 'json')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'pass' })
    expect(run.stderr).toMatch(/^modelgate \[\d+\.\ds\] hashing and scanning 7 files/m)
    expect(run.stderr).not.toContain('\u001b[')
  })
})
