import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/mlflow/server.js'
import { main } from './main.js'
import { COMMANDS } from './commands.js'
import type { Output } from './output.js'

const EXAMPLE = join(new URL('.', import.meta.url).pathname, '..', '..', 'examples', 'churn-classifier')

function recorder(isTerminal = false, isErrorTerminal = false): Output & { stdout: string; stderr: string } {
  const output = {
    stdout: '',
    stderr: '',
    isTerminal,
    isErrorTerminal,
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
      [
        ['validate', '--model-path', 'model', '--model-uri', 'models:/churn/1'],
        /--model-path and --model-uri are both set; expected one of them/
      ],
      [['help', 'frobnicate'], /unknown command "frobnicate"/],
      [
        ['validate', '--workspace', EXAMPLE, '--model-path', 'model', '--metrics', 'missing.json'],
        /^modelgate: missing\.json: metrics file not found/m
      ],
      [['demo', '--format', 'html'], /--format: expected "markdown", "text", "json", got "html"/],
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

  it('takes an empty value as no value, as the action takes an empty input', async () => {
    // As a script passes an unset variable: --config="$CONFIG".
    const output = recorder()
    expect(await main([...compare, '--config=', '--baseline=', '--fail-on=', '--format=', '--rules', ''], output)).toBe(
      0
    )
    expect(output.stderr).toBe('')
    expect(output.stdout).toMatch(/^### .* modelgate: churn-classifier passes/m)
    const json = recorder()
    expect(await main([...compare, '--config', '', '--format', 'json'], json)).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ rulesSource: '.modelgate.yml', failOn: 'regression' })
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

describe('modelgate help', () => {
  it('lists the commands with --help, -h and help, and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const output = recorder()
      expect(await main(argv, output)).toBe(0)
      for (const command of COMMANDS) expect(output.stdout).toMatch(new RegExp(`^  ${command.name} +\\S`, 'm'))
      // Each command once, and no line left over from before it existed.
      const listed = output.stdout.split('Commands:\n')[1]!.split('\n\n')[0]!.split('\n')
      expect(listed.map(line => line.trim().split(' ')[0])).toEqual(COMMANDS.map(c => c.name))
      expect(output.stdout).not.toMatch(/not in this version/)
      expect(output.stdout).toContain('modelgate <command> --help')
      expect(output.stderr).toBe('')
    }
  })

  it("prints a command's flags with their defaults for <command> --help, -h and help <command>", async () => {
    for (const command of COMMANDS) {
      const outputs = [recorder(), recorder(), recorder()]
      expect(await main([command.name, '--help'], outputs[0]!)).toBe(0)
      expect(await main([command.name, '-h'], outputs[1]!)).toBe(0)
      expect(await main(['help', command.name], outputs[2]!)).toBe(0)
      expect(outputs[1]!.stdout).toBe(outputs[0]!.stdout)
      expect(outputs[2]!.stdout).toBe(outputs[0]!.stdout)
      const help = outputs[0]!.stdout
      expect(help).toContain(`modelgate ${command.name}: ${command.summary}`)
      for (const flag of command.flags) {
        expect(help).toMatch(new RegExp(`^  --${flag.name}\\b`, 'm'))
        if (flag.default) expect(help.replace(/\s+/g, ' ')).toContain(`(default: ${flag.default})`)
      }
    }
    const validate = recorder()
    await main(['validate', '--help'], validate)
    expect(validate.stdout).toMatch(
      /--fail-on error\|warning\|never\n +when the command exits 1 \(default: the config's validation\.fail-on, else error\)/
    )
  })

  it('prints the help even beside flags that would fail, and points to it on a usage error', async () => {
    const output = recorder()
    expect(await main(['compare', '--format', 'html', '--help'], output)).toBe(0)
    expect(output.stdout).toContain('--candidate <source>')
    const wrong = recorder()
    expect(await main(['validate', '--bogus'], wrong)).toBe(2)
    expect(wrong.stdout).toBe('')
    expect(wrong.stderr).toBe(
      "modelgate: Unknown option '--bogus'\nRun `modelgate validate --help` for the flags and their defaults.\n"
    )
  })
})

describe('--format json', () => {
  it('prints only JSON on stdout for every command', async () => {
    const registry = mkdtempSync(join(tmpdir(), 'modelgate-cli-json-'))
    try {
      const runs: string[][] = [
        [...compare, '--format', 'json'],
        ['validate', '--workspace', EXAMPLE, '--model-path', 'model', '--format', 'json'],
        ['register', '--workspace', EXAMPLE, '--model-path', 'model', '--registry-path', registry, '--format', 'json'],
        ['demo', '--format', 'json']
      ]
      // deploy needs a router to read even for a dry run: __tests__/deploy-endpoint.action.test.ts runs its JSON
      // through the bundle against a real HAProxy.
      const elsewhere = new Set(['deploy'])
      expect(new Set(runs.map(argv => argv[0]))).toEqual(
        new Set(COMMANDS.map(command => command.name).filter(name => !elsewhere.has(name)))
      )
      for (const argv of runs) {
        // On a terminal too: JSON is never coloured.
        const output = recorder(true, true)
        expect(await main(argv, output, { FORCE_COLOR: '1' })).toBe(0)
        expect(() => JSON.parse(output.stdout)).not.toThrow()
        expect(output.stdout).not.toContain('\u001b[')
      }
    } finally {
      rmSync(registry, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('progress and colours', () => {
  const validate = ['validate', '--workspace', EXAMPLE, '--model-path', 'model', '--format', 'text']
  const ESC = '\u001b['

  it('says the long steps on stderr, timed, and keeps stdout for the report', async () => {
    const output = recorder()
    expect(await main(validate, output, {})).toBe(0)
    expect(output.stderr).toMatch(/^modelgate \[\d+\.\ds\] hashing and scanning 7 files \(0\.1 MB\)$/m)
    expect(output.stdout).not.toContain('hashing')
    expect(output.stdout).toMatch(/^examples\/churn-classifier\/model: PASS|^model: PASS/m)
  })

  it('says a silent step is still running', async () => {
    const output = recorder()
    let clock = 0
    // A clock that moves a minute each reading: the heartbeat sees the step silent for longer than its period.
    expect(await main(validate, output, {}, { now: () => (clock += 60_000), heartbeatMs: 5 })).toBe(0)
    expect(output.stderr).toMatch(/still working \(last: hashing and scanning 7 files/)
  })

  it('colours only a terminal, and never under NO_COLOR; FORCE_COLOR colours a pipe', async () => {
    const cases: Array<[boolean, NodeJS.ProcessEnv, boolean]> = [
      [false, {}, false],
      [true, {}, true],
      [true, { NO_COLOR: '1' }, false],
      [true, { NO_COLOR: '' }, true],
      [false, { FORCE_COLOR: '1' }, true],
      [true, { FORCE_COLOR: '0' }, false],
      [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, false]
    ]
    for (const [terminal, env, coloured] of cases) {
      const output = recorder(terminal, terminal)
      expect(await main(validate, output, env)).toBe(0)
      expect([env, output.stdout.includes(ESC), output.stderr.includes(ESC)]).toEqual([env, coloured, coloured])
    }
    const report = recorder(true)
    await main(validate, report, {})
    expect(report.stdout).toContain(`${ESC}32mPASS${ESC}39m`)
  })
})

describe('modelgate validate --report-dir', () => {
  it('creates the folder it is told to write the manifest in, and refuses a file in its place', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'modelgate-cli-report-dir-'))
    try {
      const reportDir = join(parent, 'reports', 'validate')
      const output = recorder()
      const args = ['validate', '--workspace', EXAMPLE, '--model-path', 'model', '--report-dir', reportDir]
      expect(await main([...args, '--format', 'json'], output)).toBe(0)
      expect(JSON.parse(readFileSync(join(reportDir, 'manifest.json'), 'utf8'))).toBeTruthy()
      // A file where the folder should be is the user's mistake, said in one line, not a crash.
      const file = recorder()
      expect(await main([...args.slice(0, -1), join(reportDir, 'manifest.json')], file)).toBe(2)
      expect(file.stderr).toMatch(/^modelgate: --report-dir: cannot be made a folder for the report: EEXIST/)
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  })
})

describe('modelgate validate --model', () => {
  it('picks the model of a models: list whose settings apply, and asks for one when the list holds two', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'modelgate-cli-models-'))
    try {
      cpSync(join(EXAMPLE, 'model'), join(workspace, 'model'), { recursive: true })
      // Two models; only churn-eu caps the size below the example's 94 KiB.
      writeFileSync(
        join(workspace, '.modelgate.yml'),
        [
          'models:',
          '  - model: churn-us',
          '    validation: { max-size-mb: 100 }',
          '  - model: churn-eu',
          '    validation: { max-size-mb: 0.01 }',
          ''
        ].join('\n')
      )
      const args = ['validate', '--workspace', workspace, '--model-path', 'model', '--format', 'json']
      const none = recorder()
      expect(await main(args, none)).toBe(2)
      expect(none.stderr).toBe(
        'modelgate: .modelgate.yml (models): lists 2 models (churn-us, churn-eu); say which one with --model\n'
      )
      const us = recorder()
      expect(await main([...args, '--model', 'churn-us'], us)).toBe(0)
      expect(JSON.parse(us.stdout).verdict).toBe('pass')
      const eu = recorder()
      expect(await main([...args, '--model', 'churn-eu'], eu)).toBe(1)
      const size = JSON.parse(eu.stdout).checks.find((check: { id: string }) => check.id === 'size')
      expect(size.status).toBe('fail')
      const unknown = recorder()
      expect(await main([...args, '--model', 'churn-apac'], unknown)).toBe(2)
      expect(unknown.stderr).toContain('has no model named "churn-apac"; expected one of: churn-us, churn-eu')
      expect(readFileSync(join(workspace, '.modelgate.yml'), 'utf8')).toContain('churn-eu')
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  })
})
