import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

  it('ships as a package of the bundles, the actions and the example, and its demo runs from the package alone', () => {
    // `files` in package.json keeps sources, tests and benches out of the tarball; the demo must still find its
    // bundled example and need nothing from node_modules (the bundles carry their dependencies).
    const scratch = mkdtempSync(join(tmpdir(), 'modelgate-pack-'))
    try {
      const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000
      })
      expect(pack.status).toBe(0)
      const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }]
      const paths = files.map(f => f.path)
      expect(paths).toEqual(
        expect.arrayContaining([
          'dist/cli/index.js',
          'dist/validate-model/index.js',
          'actions/deploy-endpoint/action.yml',
          'schema/modelgate.schema.json',
          'examples/churn-classifier/.modelgate.yml',
          'examples/churn-classifier/model/MLmodel',
          'LICENSE',
          'README.md'
        ])
      )
      expect(paths.filter(p => /^(src|test|__tests__|bench|scripts)\//.test(p) || p.endsWith('.test.ts'))).toEqual([])
      const unpacked = join(scratch, 'unpacked')
      mkdirSync(unpacked)
      expect(spawnSync('tar', ['-xzf', join(scratch, filename), '-C', unpacked]).status).toBe(0)
      const demo = spawnSync(process.execPath, [join(unpacked, 'package', 'dist', 'cli', 'index.js'), 'demo'], {
        cwd: scratch,
        encoding: 'utf8',
        timeout: 60_000
      })
      expect({ status: demo.status, stderr: demo.stderr }).toEqual({ status: 0, stderr: expect.any(String) })
      expect(demo.stdout).toContain('churn-classifier')
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  }, 180_000)
})
