/**
 * Runs the jobs of our reusable workflows the way the Actions runner does, closely enough for the chain test: jobs in
 * the order their `needs:` allow, a matrix job once per `include` entry, each step's `if:` (default `success()`),
 * its `with:` and `env:` evaluated by GitHub's own expression library (@actions/expressions, the one the workflow
 * parser uses), our actions run as bundles by the runner harness, `run:` steps by bash as the runner runs them, and
 * third-party actions by stand-ins the test names. An expression naming a context or function it was not given fails
 * the run, never a guess.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { load } from 'js-yaml'
import { parseOutputFile, ROOT, runAction } from '../harness/run-action.js'

type Mapping = Record<string, unknown>
export interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  with?: Mapping
  env?: Mapping
  if?: string
}
export interface Job {
  needs?: string | string[]
  if?: string
  env?: Mapping
  outputs?: Record<string, string>
  strategy?: { matrix?: { include?: string } }
  steps?: Step[]
}
export interface Workflow {
  on: { workflow_call?: { inputs?: Record<string, { default?: unknown }> } }
  jobs: Record<string, Job>
}

export type Result = 'success' | 'failure' | 'skipped'
export interface StepRecord {
  id: string
  outcome: Result
  outputs: Record<string, string>
  log: string
}
export interface JobRun {
  result: Result
  outputs: Record<string, string>
  /** One entry per matrix entry (one for a job without a matrix), each with its steps. */
  runs: Array<{ matrix: Mapping; result: Result; steps: StepRecord[] }>
}

/** What a stand-in for a third-party action gets: the evaluated inputs and environment, and the job's folders. */
export interface StandInCall {
  with: Record<string, string>
  env: Record<string, string>
  workspace: string
  runnerTemp: string
}
export type StandIn = (call: StandInCall) => Promise<Record<string, string> | void>

export interface WorkflowRunOptions {
  /** The inputs the caller passes; the workflow's declared defaults fill the rest. */
  inputs: Record<string, string>
  secrets?: Record<string, string>
  /** The `github` context (event_name, event, repository, token, ...). */
  github: Mapping
  /** Environment every action and run step sees besides the runner's own (GITHUB_API_URL, retry tuning, ...). */
  runnerEnv?: Record<string, string>
  /** Third-party actions by `owner/name` (the ref after @ is ignored). */
  standIns: Record<string, StandIn>
  /** The runner's workspace for a job: a fresh folder per job, as a fresh runner has. */
  workspaceFor?: (jobId: string, matrix: Mapping) => string
  /** Where our actions are checked out in the workspace. */
  actionsCheckout?: string
  /** Where the runner's temporary folders go (the test removes it). Default: the system's. */
  tempRoot?: string
  /** Called after each step, for the test's log on failure. */
  onStep?: (jobId: string, step: StepRecord) => void
}

export const readWorkflow = (file: string): Workflow => load(readFileSync(join(ROOT, file), 'utf8')) as Workflow

interface StatusFunctions {
  success: () => boolean
  failure: () => boolean
}

/** Evaluates one expression (without `${{ }}`) over `contexts`, with the status functions of where it sits. */
export function evaluate(expression: string, contexts: Mapping, status?: StatusFunctions): unknown {
  const lexed = new Lexer(expression).lex()
  const statusFunctions = [
    ['success', () => status?.success() ?? true],
    ['failure', () => status?.failure() ?? false],
    ['always', () => true],
    ['cancelled', () => false]
  ] as const
  const functions = new Map(
    statusFunctions.map(([name, value]) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) }
    ])
  )
  let tree
  try {
    tree = new Parser(lexed.tokens, Object.keys(contexts), [...functions.values()]).parse()
  } catch (error) {
    throw new Error(`cannot evaluate \${{ ${expression} }}: ${(error as Error).message}`, { cause: error })
  }
  const dictionary = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary
  const result = new Evaluator(tree, dictionary, functions).evaluate()
  return JSON.parse(JSON.stringify(result, data.replacer) ?? 'null') as unknown
}

const asString = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)
const truthy = (value: unknown) =>
  !(value === null || value === false || value === 0 || value === '' || value === undefined)

/** A `with:`/`env:` value with each `${{ }}` replaced by its value as a string, as the runner does. */
export function interpolate(value: unknown, contexts: Mapping, status?: StatusFunctions): string {
  return String(value).replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) =>
    asString(evaluate(expression, contexts, status))
  )
}

/** An `if:` holds an expression with or without the `${{ }}` around it. */
function condition(text: string | undefined, contexts: Mapping, status: StatusFunctions): boolean {
  if (text === undefined) return status.success()
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(text)
  return truthy(evaluate(whole ? whole[1]! : text, contexts, status))
}

const mapValues = (mapping: Mapping | undefined, contexts: Mapping, status?: StatusFunctions) =>
  Object.fromEntries(Object.entries(mapping ?? {}).map(([k, v]) => [k, interpolate(v, contexts, status)]))

export async function runWorkflow(file: string, options: WorkflowRunOptions): Promise<Record<string, JobRun>> {
  const workflow = readWorkflow(file)
  const declared = workflow.on.workflow_call?.inputs ?? {}
  const inputs: Mapping = Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, v.default ?? '']))
  for (const [name, value] of Object.entries(options.inputs)) {
    if (!(name in declared)) throw new Error(`${file} declares no input ${name}`)
    inputs[name] = value
  }
  const done: Record<string, JobRun> = {}
  const pending = Object.keys(workflow.jobs)
  for (let round = 0; pending.length > 0; round++) {
    if (round > 100) throw new Error(`${file}: jobs ${pending.join(', ')} never became ready`)
    const ready = pending.find(id => needsOf(workflow.jobs[id]!).every(need => need in done))
    if (ready === undefined) throw new Error(`${file}: a cycle among ${pending.join(', ')}`)
    pending.splice(pending.indexOf(ready), 1)
    done[ready] = await runJob(ready, workflow.jobs[ready]!, inputs, done, options)
  }
  return done
}

/** The step keys this runner honours; any other (continue-on-error, shell, ...) fails the run rather than be ignored. */
const STEP_KEYS = new Set(['id', 'name', 'uses', 'run', 'with', 'env', 'if'])

const needsOf = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs])

async function runJob(
  jobId: string,
  job: Job,
  inputs: Mapping,
  done: Record<string, JobRun>,
  options: WorkflowRunOptions
): Promise<JobRun> {
  const needs = Object.fromEntries(
    needsOf(job).map(id => [id, { result: done[id]!.result, outputs: done[id]!.outputs }])
  )
  const base: Mapping = { inputs, github: options.github, secrets: options.secrets ?? {}, needs, vars: {} }
  const needsStatus: StatusFunctions = {
    success: () => Object.values(needs).every(n => n.result === 'success'),
    failure: () => Object.values(needs).some(n => n.result === 'failure')
  }
  if (!condition(job.if, base, needsStatus)) return { result: 'skipped', outputs: {}, runs: [] }
  const include = job.strategy?.matrix?.include
  const entries = include === undefined ? [{}] : (evaluate(unwrap(include), base) as Mapping[])
  if (!Array.isArray(entries)) throw new Error(`${jobId}: the matrix is not a list: ${JSON.stringify(entries)}`)
  const runs: JobRun['runs'] = []
  let outputs: Record<string, string> = {}
  for (const [index, matrix] of entries.entries()) {
    const run = await runSteps(jobId, job, { ...base, matrix, strategy: { 'job-index': index } }, options)
    runs.push({ matrix, result: run.result, steps: run.steps })
    outputs = { ...outputs, ...run.outputs }
  }
  const result: Result = runs.some(r => r.result === 'failure') ? 'failure' : 'success'
  return { result, outputs, runs }
}

const unwrap = (text: string) => {
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(text)
  if (!whole) throw new Error(`expected one \${{ }} expression, got ${text}`)
  return whole[1]!
}

async function runSteps(
  jobId: string,
  job: Job,
  contexts: Mapping,
  options: WorkflowRunOptions
): Promise<{ result: Result; outputs: Record<string, string>; steps: StepRecord[] }> {
  const temp = options.tempRoot ?? tmpdir()
  const workspace = options.workspaceFor?.(jobId, contexts.matrix as Mapping) ?? mkdtempSync(join(temp, 'job-'))
  const runnerTemp = mkdtempSync(join(temp, 'runner-temp-'))
  const jobContexts: Mapping = {
    ...contexts,
    runner: { temp: runnerTemp, os: 'Linux' },
    // The job context's ids of the workflow's own repository and commit (where the actions are checked out from).
    job: { workflow_repository: 'modelgate/modelgate', workflow_sha: 'c'.repeat(40), status: 'success' }
  }
  const jobEnv = mapValues(job.env, jobContexts)
  const steps: Record<string, { outcome: Result; conclusion: Result; outputs: Record<string, string> }> = {}
  const records: StepRecord[] = []
  let failed = false
  const status: StatusFunctions = { success: () => !failed, failure: () => failed }
  const checkout = options.actionsCheckout ?? '.modelgate-actions'
  for (const [index, step] of (job.steps ?? []).entries()) {
    const unknown = Object.keys(step).filter(key => !STEP_KEYS.has(key))
    if (unknown.length > 0)
      throw new Error(`${jobId}: step ${step.id ?? index} has ${unknown.join(', ')}, not run here`)
    const id = step.id ?? `__${index}`
    const stepContexts = { ...jobContexts, steps, env: jobEnv }
    let record: StepRecord
    if (!condition(step.if, stepContexts, status)) {
      record = { id, outcome: 'skipped', outputs: {}, log: '' }
    } else {
      const env = { ...jobEnv, ...mapValues(step.env, stepContexts, status) }
      const inputs = mapValues(step.with, { ...stepContexts, env }, status)
      const runnerEnv: Record<string, string> = {
        ...options.runnerEnv,
        GITHUB_WORKSPACE: workspace,
        RUNNER_TEMP: runnerTemp,
        GITHUB_EVENT_NAME: asString((options.github as { event_name?: string }).event_name),
        GITHUB_REPOSITORY: asString((options.github as { repository?: string }).repository),
        GITHUB_SHA: asString((options.github as { sha?: string }).sha)
      }
      if (step.run !== undefined) {
        record = { id, ...(await runBash(step.run, workspace, temp, { ...runnerEnv, ...env })) }
      } else if (step.uses?.startsWith(`./${checkout}/actions/`)) {
        const action = step.uses.slice(`./${checkout}/actions/`.length)
        const run = await runAction(action, {
          workspace,
          inputs,
          env: { ...runnerEnv, ...env },
          event: (options.github as { event?: unknown }).event ?? {},
          githubToken: asString((options.github as { token?: string }).token)
        })
        record = {
          id,
          outcome: run.exitCode === 0 ? 'success' : 'failure',
          outputs: run.outputs,
          log: run.stdout + run.stderr
        }
      } else {
        const name = step.uses?.replace(/@.*$/, '') ?? ''
        const standIn = options.standIns[name]
        if (!standIn) throw new Error(`${jobId}: no stand-in for ${step.uses} (step ${id})`)
        try {
          const outputs = (await standIn({ with: inputs, env, workspace, runnerTemp })) ?? {}
          record = { id, outcome: 'success', outputs, log: '' }
        } catch (error) {
          record = { id, outcome: 'failure', outputs: {}, log: String((error as Error).stack ?? error) }
        }
      }
    }
    steps[id] = { outcome: record.outcome, conclusion: record.outcome, outputs: record.outputs }
    if (record.outcome === 'failure') failed = true
    records.push(record)
    options.onStep?.(jobId, record)
  }
  const outputs = mapValues(job.outputs, { ...jobContexts, steps, env: jobEnv })
  return { result: failed ? 'failure' : 'success', outputs, steps: records }
}

/** The runner's `shell: bash`: `bash --noprofile --norc -eo pipefail {0}` with the script in a file. */
async function runBash(
  script: string,
  cwd: string,
  temp: string,
  env: Record<string, string>
): Promise<{ outcome: Result; outputs: Record<string, string>; log: string }> {
  const dir = mkdtempSync(join(temp, 'run-step-'))
  const file = join(dir, 'step.sh')
  const output = join(dir, 'output')
  writeFileSync(file, script)
  writeFileSync(output, '')
  const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, GITHUB_OUTPUT: output, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  child.stdout.on('data', chunk => (log += chunk))
  child.stderr.on('data', chunk => (log += chunk))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  return {
    outcome: code === 0 ? 'success' : 'failure',
    outputs: parseOutputFile(readFileSync(output, 'utf8')),
    log
  }
}
