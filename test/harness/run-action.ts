/**
 * Runs a bundled action (dist/<name>/index.js) the way the GitHub runner does: inputs as INPUT_<NAME> variables
 * with hyphens kept, defaults taken from action.yml (with ${{ github.token }} filled in), GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, an event payload at GITHUB_EVENT_PATH. It returns what a workflow would see.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { load } from 'js-yaml'

export const ROOT = resolve(new URL('.', import.meta.url).pathname, '..', '..')

export interface ActionRunOptions {
  inputs?: Record<string, string>
  /** Extra environment (GITHUB_API_URL, GITHUB_EVENT_NAME, ...). */
  env?: Record<string, string>
  /** The event payload written to GITHUB_EVENT_PATH. */
  event?: unknown
  workspace?: string
  /** What ${{ github.token }} expands to in input defaults. */
  githubToken?: string
}

export interface ActionRun {
  exitCode: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Messages of ::error:: and ::warning:: workflow commands. */
  errors: string[]
  warnings: string[]
  durationMs: number
}

interface ActionMetadata {
  inputs?: Record<string, { default?: string; required?: boolean }>
  runs: { using: string; main: string }
}

export function readActionMetadata(action: string): ActionMetadata {
  return load(readFileSync(join(ROOT, 'actions', action, 'action.yml'), 'utf8')) as ActionMetadata
}

export async function runAction(action: string, options: ActionRunOptions = {}): Promise<ActionRun> {
  const metadata = readActionMetadata(action)
  const main = resolve(ROOT, 'actions', action, metadata.runs.main)
  const temp = mkdtempSync(join(tmpdir(), `modelgate-run-${action}-`))
  const outputFile = join(temp, 'output')
  const summaryFile = join(temp, 'summary')
  const eventFile = join(temp, 'event.json')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  writeFileSync(eventFile, JSON.stringify(options.event ?? {}))

  const inputEnv: Record<string, string> = {}
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    if (spec.default !== undefined) {
      inputEnv[inputVariable(name)] = String(spec.default).replace(
        /\$\{\{\s*github\.token\s*\}\}/g,
        options.githubToken ?? ''
      )
    }
  }
  for (const [name, value] of Object.entries(options.inputs ?? {})) inputEnv[inputVariable(name)] = value

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? temp,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: options.workspace ?? ROOT,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SHA: 'a'.repeat(40),
    RUNNER_TEMP: temp,
    ...inputEnv,
    ...options.env
  }

  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [main], { cwd: env.GITHUB_WORKSPACE, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const exitCode = await new Promise<number | null>(done => child.on('close', done))
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6

  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    errors: commands(stdout, 'error'),
    warnings: commands(stdout, 'warning'),
    durationMs
  }
}

/** The runner's rule (actions/toolkit core.getInput): spaces become underscores, upper-cased, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Parses `name<<DELIMITER\nvalue\nDELIMITER` records (and legacy `name=value` lines) as the runner does. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!)
      outputs[name!] = value.join('\n')
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

function commands(stdout: string, kind: 'error' | 'warning'): string[] {
  const unescape = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
  return stdout
    .split('\n')
    .map(line => new RegExp(`^::${kind}(?: [^:]*)?::(.*)$`).exec(line)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(unescape)
}
