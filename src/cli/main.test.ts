import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/mlflow/server.js'
import { main } from './main.js'
import type { Output } from './output.js'

const EXAMPLE = join(new URL('.', import.meta.url).pathname, '..', '..', 'examples', 'churn-classifier')

function recorder(isTerminal = false): Output & { stdout: string; stderr: string } {
  const output = {
    stdout: '',
    stderr: '',
    isTerminal,
    out: (text: string) => void (output.stdout += `${text}\n`),
    error: (text: string) => void (output.stderr += `${text}\n`)
  }
  return output
}

const compare = ['compare', '--workspace', EXAMPLE, '--candidate', 'metrics/candidate.json']

describe('modelgate compare', () => {
  it('exits 0 when the gate passes and prints a text table on a terminal', async () => {
    const output = recorder(true)
    expect(await main(compare, output)).toBe(0)
    expect(output.stdout).toMatch(/model_size_mb/)
    expect(output.stderr).toBe('')
  })

  it('prints the JSON report with --format json', async () => {
    const output = recorder()
    expect(await main([...compare, '--format', 'json'], output)).toBe(0)
    const report = JSON.parse(output.stdout)
    expect(report.verdict).toBe('warn')
    expect(report.metrics.length).toBeGreaterThan(10)
  })

  it('exits 1 when the gate fails', async () => {
    const output = recorder()
    expect(await main([...compare, '--fail-on', 'warning', '--format', 'markdown'], output)).toBe(1)
    expect(output.stdout).toMatch(/churn-classifier/)
  })

  it('exits 2 with a clear message for usage and configuration errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['compare'], /--candidate is required/],
      [[...compare, '--bogus'], /Unknown option '--bogus'/],
      [[...compare, '--format', 'html'], /--format: expected "text", "markdown", "json", got "html"/],
      [
        [...compare, '--rules', 'accuracy: { mni: 1 }'],
        /--rules:1 \(accuracy\.mni\): unknown key "mni"; did you mean "min"\?/
      ],
      [['compare', '--workspace', EXAMPLE, '--candidate', 'missing.csv'], /missing\.csv/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['register'], /--model-path \(or --source\) is required/],
      [['deploy'], /--model-uri is required/],
      [['deploy', '--model-uri', 'models:/churn/1', '--traffic', '150'], /--traffic: expected a whole percentage/],
      [['deploy', '--model-uri', 'models:/churn/1', '--timeout', 'soon'], /--timeout: expected a duration/]
    ]
    for (const [argv, expected] of cases) {
      const output = recorder()
      expect(await main(argv, output)).toBe(2)
      expect(output.stderr).toMatch(expected)
    }
  })

  it('exits 2 naming a tuning variable that is not a number of milliseconds', async () => {
    const output = recorder()
    expect(await main(compare, output, { MODELGATE_HTTP_TIMEOUT_MS: 'soon' })).toBe(2)
    expect(output.stderr).toBe(
      'modelgate: MODELGATE_HTTP_TIMEOUT_MS: expected a number of milliseconds, 1 or more, got "soon"\n'
    )
  })
})

describe('modelgate demo', () => {
  it('prints the comment it would post and the verdict, and exits 0', async () => {
    const output = recorder()
    expect(await main(['demo'], output)).toBe(0)
    expect(output.stdout).toMatch(/the comment modelgate would post/)
    expect(output.stdout).toMatch(/churn-classifier/)
    expect(output.stdout).toMatch(/verdict: warn — the gate passes/)
  })
})

describe('modelgate register', () => {
  it('registers into a folder registry, once, and exits 1 with one line when the registry is down', async () => {
    const registry = mkdtempSync(join(tmpdir(), 'modelgate-cli-register-'))
    try {
      const args = ['register', '--workspace', EXAMPLE, '--model-path', 'model', '--registry-path', registry]
      const first = recorder()
      expect(await main([...args, '--aliases', 'challenger', '--format', 'json'], first)).toBe(0)
      const report = JSON.parse(first.stdout)
      expect(report).toMatchObject({ name: 'churn-classifier', version: '1', created: true, aliases: ['challenger'] })
      const again = recorder(true)
      expect(await main(args, again)).toBe(0)
      expect(again.stdout).toContain('churn-classifier version 1: already registered (same digest)')

      const down = recorder()
      const closed = await freePort()
      process.env.MODELGATE_RETRY_BASE_MS = '1'
      const code = await main(
        ['register', '--workspace', EXAMPLE, '--model-path', 'model', '--tracking-uri', `http://127.0.0.1:${closed}`],
        down
      ).finally(() => delete process.env.MODELGATE_RETRY_BASE_MS)
      expect(code).toBe(1)
      expect(down.stderr).toContain(
        `modelgate: create registered model failed: could not get an answer from the MLflow server at http://127.0.0.1:${closed} (connection refused`
      )
    } finally {
      rmSync(registry, { recursive: true, force: true })
    }
  }, 120_000)
})
