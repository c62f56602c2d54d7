/**
 * The reusable workflows, their starter callers and every action.yml, checked by the tools GitHub users trust and by
 * the contract only we can check:
 * - GitHub's own parser (@actions/workflow-parser) accepts each file;
 * - the real actionlint (built by scripts/setup-tools.sh) finds nothing but the findings excused below;
 * - every input a workflow passes to one of our actions is declared by that action, the required ones are given, and
 *   every output read from a step, job or matrix is one it produces: neither linter sees into a local action
 *   checked out at run time;
 * - the shape the product promises: least-privilege permissions per job, a stable model-gate check, one promotion
 *   at a time, the actions pinned to the workflow's own commit, forks writing nothing.
 */
import { describe, expect, it } from '@jest/globals'
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser'
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index'
import { execFile } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { load } from 'js-yaml'
import { runWorkflow, type StandIn } from '../test/chain/workflow-runner.js'
import { ROOT } from '../test/harness/run-action.js'

const run = promisify(execFile)

/** Where the reusable workflows check out this repository at their own commit, so `uses:` runs those actions. */
const ACTIONS_CHECKOUT = '.modelgate-actions'
const REUSABLE = ['model-pr-gate.yml', 'model-promote.yml', 'model-pr-comment.yml']

const listYaml = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter(name => name.endsWith('.yml'))
    .map(name => `${dir}/${name}`)
const reusableFiles = REUSABLE.map(name => `.github/workflows/${name}`)
const exampleFiles = listYaml('examples/workflows')
const templateFiles = listYaml('workflow-templates')
const workflowFiles = [...listYaml('.github/workflows'), ...exampleFiles, ...templateFiles]
const actionNames = readdirSync(join(ROOT, 'actions')).filter(name =>
  existsSync(join(ROOT, 'actions', name, 'action.yml'))
)
const actionFiles = actionNames.map(name => `actions/${name}/action.yml`)

type Mapping = Record<string, unknown>
interface Step {
  id?: string
  uses?: string
  run?: string
  with?: Mapping
  env?: Mapping
  if?: string
}
interface Job {
  name?: string
  needs?: string | string[]
  if?: string
  uses?: string
  with?: Mapping
  secrets?: Mapping | string
  permissions?: Mapping | string
  outputs?: Record<string, string>
  environment?: string | Mapping
  concurrency?: string | Mapping
  strategy?: { matrix?: Mapping }
  steps?: Step[]
}
interface Workflow {
  name?: string
  on: Mapping
  permissions?: Mapping | string
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  jobs: Record<string, Job>
}
interface InputSpec {
  required?: boolean
  default?: unknown
  type?: string
}
interface ActionSpec {
  inputs?: Record<string, InputSpec>
  outputs?: Record<string, unknown>
}

const text = (file: string) => readFileSync(join(ROOT, file), 'utf8')
const readWorkflow = (file: string) => load(text(file)) as Workflow
const readAction = (name: string) => load(text(`actions/${name}/action.yml`)) as ActionSpec
const needsOf = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs])
/** Every string in a value, deeply: the places a `${{ }}` expression can sit. */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(strings)
      : value && typeof value === 'object'
        ? Object.values(value).flatMap(strings)
        : []
const ourAction = (uses: string | undefined) =>
  uses?.startsWith(`./${ACTIONS_CHECKOUT}/actions/`) ? uses.slice(`./${ACTIONS_CHECKOUT}/actions/`.length) : undefined

describe("GitHub's workflow parser", () => {
  it.each(workflowFiles)('accepts %s', async file => {
    const trace = new NoOperationTraceWriter()
    const parsed = parseWorkflow({ name: file, content: text(file) }, trace)
    expect(parsed.context.errors.getErrors().map(error => error.message)).toEqual([])
    const template = await convertWorkflowTemplate(parsed.context, parsed.value!)
    expect((template.errors ?? []).map(error => error.Message)).toEqual([])
  })

  it.each(actionFiles)('accepts %s', file => {
    const parsed = parseAction({ name: file, content: text(file) }, new NoOperationTraceWriter())
    expect(parsed.context.errors.getErrors().map(error => error.message)).toEqual([])
    const template = convertActionTemplate(parsed.context, parsed.value!)
    expect(template.runs).toMatchObject({ using: 'node24' })
  })

  it('reports a mistake in an action.yml, so a pass means something', () => {
    const broken = text('actions/deploy-endpoint/action.yml').replace("using: 'node24'", "using: 'node99'")
    const parsed = parseAction({ name: 'action.yml', content: broken }, new NoOperationTraceWriter())
    expect(
      parsed.context.errors
        .getErrors()
        .map(error => error.message)
        .join('\n')
    ).toMatch(/node99/)
  })

  it('reports a mistake, so a pass means something', async () => {
    const broken = text('.github/workflows/model-promote.yml').replace(
      '    environment:\n      name: ${{ inputs.production-environment }}',
      '    enviroment:\n      name: ${{ inputs.production-environment }}'
    )
    expect(broken).toContain('enviroment:')
    const parsed = parseWorkflow({ name: 'broken.yml', content: broken }, new NoOperationTraceWriter())
    expect(
      parsed.context.errors
        .getErrors()
        .map(error => error.message)
        .join('\n')
    ).toMatch(/enviroment/)
  })
})

/**
 * The only actionlint findings allowed, each with the reason it is wrong. actionlint 1.7.12 types the job context
 * without the properties GitHub documents for a reusable workflow to check out its own commit
 * (docs: actions/reference/workflows-and-actions/contexts.md, "job context"); the workflows use them for exactly
 * that (conventions §4.1, "Pinning the actions to the workflow's own version").
 */
const EXCUSED: { pattern: RegExp; reason: string }[] = [
  {
    pattern: /^property "workflow_repository" is not defined in object type \{check_run_id: number;/,
    reason: 'job.workflow_repository: documented job context property, unknown to actionlint 1.7.12'
  },
  {
    pattern: /^property "workflow_sha" is not defined in object type \{check_run_id: number;/,
    reason: 'job.workflow_sha: documented job context property, unknown to actionlint 1.7.12'
  },
  {
    pattern: /^property "job_workflow_sha" is not defined in object type \{/,
    reason: 'github.job_workflow_sha: the github context property of the same commit, unknown to actionlint 1.7.12'
  }
]

interface Finding {
  message: string
  filepath: string
  line: number
  column: number
  kind: string
}

describe('actionlint', () => {
  const actionlint = join(ROOT, '.tools', 'bin', 'actionlint')

  it('is built by the test setup (npm test runs scripts/setup-tools.sh first)', () => {
    expect({ actionlint, exists: existsSync(actionlint) }).toEqual({ actionlint, exists: true })
  })

  /**
   * In a scratch project where `./.modelgate-actions` is this repository, as it is on a runner after the checkout
   * step, so actionlint also reads our action.yml files and checks each `with:` against them.
   */
  async function lint(files: string[]): Promise<Finding[]> {
    const scratch = mkdtempSync(join(tmpdir(), 'modelgate-actionlint-'))
    try {
      mkdirSync(join(scratch, '.git'))
      mkdirSync(join(scratch, '.github', 'workflows'), { recursive: true })
      symlinkSync(ROOT, join(scratch, ACTIONS_CHECKOUT))
      const copies = new Map<string, string>()
      for (const [index, file] of files.entries()) {
        // Starter callers share names across folders; a prefix keeps them apart.
        const copy = join('.github', 'workflows', `${index}-${basename(file)}`)
        copyFileSync(join(ROOT, file), join(scratch, copy))
        copies.set(copy, file)
      }
      const result = await run(actionlint, ['-format', '{{json .}}', ...copies.keys()], { cwd: scratch }).catch(
        (error: { code?: number; stdout?: string; stderr?: string }) => {
          if (error.code !== 1) throw new Error(`actionlint failed: ${error.stderr ?? String(error)}`)
          return { stdout: error.stdout ?? '[]' }
        }
      )
      const findings = JSON.parse(result.stdout || '[]') as Finding[]
      return findings.map(f => ({
        ...f,
        filepath: copies.get(relative(scratch, join(scratch, f.filepath))) ?? f.filepath
      }))
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  }

  it('finds nothing in the workflows, the starter callers and our action.yml files but the excused', async () => {
    const findings = await lint(workflowFiles)
    const unexcused = findings.filter(f => !EXCUSED.some(excuse => excuse.pattern.test(f.message)))
    expect(unexcused.map(f => `${f.filepath}:${f.line}:${f.column}: ${f.message} [${f.kind}]`)).toEqual([])
    // Each excuse is still needed: when actionlint learns these properties, its excuse goes.
    const used = EXCUSED.filter(excuse => findings.some(f => excuse.pattern.test(f.message)))
    expect(used.map(e => e.reason)).toEqual(
      EXCUSED.filter(e => !e.reason.startsWith('github.job_workflow_sha')).map(e => e.reason)
    )
  }, 60_000)

  it('reports a mistake, so a pass means something', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'modelgate-actionlint-'))
    try {
      mkdirSync(join(scratch, '.git'))
      mkdirSync(join(scratch, '.github', 'workflows'), { recursive: true })
      symlinkSync(ROOT, join(scratch, ACTIONS_CHECKOUT))
      const broken = text('.github/workflows/model-promote.yml').replace(
        'aliases: challenger',
        'aliases: challenger\n          alias: champion'
      )
      writeFileSync(join(scratch, '.github', 'workflows', 'broken.yml'), broken)
      const output = await run(actionlint, ['-format', '{{json .}}'], { cwd: scratch }).then(
        () => '[]',
        (error: { stdout?: string }) => error.stdout ?? '[]'
      )
      const messages = (JSON.parse(output) as Finding[]).map(f => f.message)
      expect(messages.join('\n')).toMatch(/input "alias" is not defined/)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  }, 60_000)
})

/** What each workflow passes to our actions and did not declare, or leaves out though required. */
function inputProblems(workflow: Workflow, actions: Map<string, ActionSpec>): string[] {
  const problems: string[] = []
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      const name = ourAction(step.uses)
      if (!name) continue
      const spec = actions.get(name)
      if (!spec) {
        problems.push(`${jobId}.${step.id}: uses ${step.uses}, which is not one of actions/*`)
        continue
      }
      const given = Object.keys(step.with ?? {})
      for (const input of given) {
        if (!spec.inputs?.[input]) problems.push(`${jobId}.${step.id}: ${name} has no input ${input}`)
      }
      for (const [input, declared] of Object.entries(spec.inputs ?? {})) {
        if (declared.required && declared.default === undefined && !given.includes(input)) {
          problems.push(`${jobId}.${step.id}: ${name} requires ${input}`)
        }
      }
    }
  }
  return problems
}

/** Every steps.<id>.outputs.<name> a job reads that its step does not produce. */
function outputProblems(workflow: Workflow, actions: Map<string, ActionSpec>): string[] {
  const problems: string[] = []
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    const steps = new Map((job.steps ?? []).filter(s => s.id).map(s => [s.id!, s]))
    const reads = strings(job).flatMap(s => [...s.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)])
    for (const [, id, output] of reads) {
      const step = steps.get(id!)
      if (!step) {
        problems.push(`${jobId}: reads steps.${id}.outputs.${output}, and no step has the id ${id}`)
        continue
      }
      const name = ourAction(step.uses)
      if (name) {
        if (!actions.get(name)?.outputs?.[output!]) problems.push(`${jobId}: ${name} has no output ${output}`)
      } else if (step.run) {
        // A run step's outputs are what it appends to $GITHUB_OUTPUT.
        if (!step.run.includes(`echo "${output}=`) || !step.run.includes('$GITHUB_OUTPUT')) {
          problems.push(`${jobId}: the run step ${id} never writes the output ${output}`)
        }
      } else if (!step.uses?.startsWith('actions/')) {
        problems.push(`${jobId}: reads ${output} from ${id}, whose outputs this test does not know`)
      }
    }
  }
  return problems
}

describe('the input contract with our actions', () => {
  const actions = new Map(actionNames.map(name => [name, readAction(name)]))

  it.each(reusableFiles)('%s: every with: names an input of the action, and every required one is given', file => {
    expect(inputProblems(readWorkflow(file), actions)).toEqual([])
  })

  it.each(reusableFiles)('%s: every steps.<id>.outputs.<name> read is an output of that step', file => {
    expect(outputProblems(readWorkflow(file), actions)).toEqual([])
  })

  it('catches an undeclared input, a missing required one and an output no step produces', () => {
    const workflow = readWorkflow('.github/workflows/model-promote.yml')
    const register = workflow.jobs.register!.steps!.find(s => s.id === 'register')!
    register.with = { ...register.with, alias: 'champion' }
    const deploy = workflow.jobs.production!.steps!.find(s => s.id === 'deploy')!
    delete deploy.with!['model-uri']
    workflow.jobs.production!.steps!.push({ id: 'read', run: 'echo "${{ steps.deploy.outputs.version }}"' })
    expect(inputProblems(workflow, actions)).toEqual([
      'register.register: register-model has no input alias',
      'production.deploy: deploy-endpoint requires model-uri'
    ])
    expect(outputProblems(workflow, actions)).toEqual(['production: deploy-endpoint has no output version'])
  })

  it.each(reusableFiles)('%s: every needs.<job>.outputs, jobs.<job>.outputs and matrix.<key> read exists', file => {
    const workflow = readWorkflow(file)
    const problems: string[] = []
    const call = (workflow.on.workflow_call ?? {}) as { outputs?: Record<string, { value: string }> }
    for (const [, output] of Object.entries(call.outputs ?? {})) {
      for (const [, job, name] of output.value.matchAll(/jobs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (!workflow.jobs[job!]?.outputs?.[name!])
          problems.push(`workflow_call output reads jobs.${job}.outputs.${name}`)
      }
    }
    // The matrix entries are the objects the models job's jq program builds.
    const matrixProgram = workflow.jobs.models?.steps?.find(s => s.id === 'models')?.run ?? ''
    for (const [jobId, job] of Object.entries(workflow.jobs)) {
      for (const s of strings(job)) {
        for (const [, needed, name] of s.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (!needsOf(job).includes(needed!)) problems.push(`${jobId}: reads needs.${needed} without needing it`)
          if (!workflow.jobs[needed!]?.outputs?.[name!]) problems.push(`${jobId}: ${needed} has no output ${name}`)
        }
        for (const [, key] of s.matchAll(/matrix\.([\w-]+)/g)) {
          if (!new RegExp(`(^|[{,\\s])("${key}"|${key}):`).test(matrixProgram)) {
            problems.push(`${jobId}: reads matrix.${key}, which the models job does not emit`)
          }
        }
      }
    }
    expect(problems).toEqual([])
  })

  it.each(exampleFiles.concat(templateFiles))(
    '%s: passes the called workflow only inputs it declares, all it requires, and the permissions its jobs ask',
    file => {
      const problems: string[] = []
      const caller = readWorkflow(file)
      for (const [jobId, job] of Object.entries(caller.jobs)) {
        const called = /^modelgate\/modelgate\/\.github\/workflows\/([\w-]+\.yml)@/.exec(job.uses ?? '')?.[1]
        if (!called) continue
        const workflow = readWorkflow(`.github/workflows/${called}`)
        const inputs = ((workflow.on.workflow_call as Mapping | null)?.inputs ?? {}) as Record<string, InputSpec>
        for (const input of Object.keys(job.with ?? {})) {
          if (!inputs[input]) problems.push(`${jobId}: ${called} has no input ${input}`)
        }
        for (const [input, spec] of Object.entries(inputs)) {
          if (spec.required && !(input in (job.with ?? {}))) problems.push(`${jobId}: ${called} requires ${input}`)
        }
        // A called workflow's jobs get at most what the caller grants.
        const granted = (job.permissions ?? caller.permissions ?? {}) as Record<string, string>
        for (const [calledJob, spec] of Object.entries(workflow.jobs)) {
          for (const [scope, level] of Object.entries((spec.permissions ?? {}) as Record<string, string>)) {
            if (granted[scope] !== level && granted[scope] !== 'write') {
              problems.push(
                `${jobId}: ${called}'s ${calledJob} needs ${scope}: ${level}, the caller grants ${granted[scope] ?? 'none'}`
              )
            }
          }
        }
      }
      expect(problems).toEqual([])
    }
  )
})

describe('the promises the workflows keep', () => {
  const gate = readWorkflow('.github/workflows/model-pr-gate.yml')
  const promote = readWorkflow('.github/workflows/model-promote.yml')
  const comment = readWorkflow('.github/workflows/model-pr-comment.yml')

  it.each(REUSABLE)('%s is reusable only, grants nothing by default, and every job asks its own permissions', file => {
    const workflow = readWorkflow(`.github/workflows/${file}`)
    expect(Object.keys(workflow.on)).toEqual(['workflow_call'])
    expect(workflow.permissions).toEqual({})
    const asked = Object.fromEntries(
      Object.entries(workflow.jobs).map(([id, job]) => [id, job.permissions !== undefined])
    )
    expect(Object.values(asked).every(Boolean)).toBe(true)
    for (const job of Object.values(workflow.jobs)) {
      expect(job.permissions).not.toBe('write-all')
      for (const level of Object.values((job.permissions ?? {}) as Mapping)) expect(['read', 'write']).toContain(level)
    }
  })

  it.each(REUSABLE)('%s runs our actions from its own commit, checked out before they are used', file => {
    const workflow = readWorkflow(`.github/workflows/${file}`)
    for (const [jobId, job] of Object.entries(workflow.jobs)) {
      const steps = job.steps ?? []
      const first = steps.findIndex(s => s.uses?.startsWith('./'))
      if (first < 0) continue
      expect({ jobId, local: steps.filter(s => s.uses?.startsWith('./')).every(s => ourAction(s.uses)) }).toEqual({
        jobId,
        local: true
      })
      const checkout = steps.findIndex(
        s =>
          s.uses?.startsWith('actions/checkout@') &&
          s.with?.path === ACTIONS_CHECKOUT &&
          s.with?.repository === '${{ job.workflow_repository }}' &&
          s.with?.ref === '${{ job.workflow_sha }}'
      )
      expect({ jobId, checkedOutFirst: checkout >= 0 && checkout < first }).toEqual({ jobId, checkedOutFirst: true })
    }
  })

  it('the pull-request gate ends in model-gate, which needs every job and fails when any did', () => {
    const final = gate.jobs['model-gate']!
    expect(final.name).toBe('model-gate')
    expect(final.if).toBe('${{ always() }}')
    expect(needsOf(final).sort()).toEqual(
      Object.keys(gate.jobs)
        .filter(id => id !== 'model-gate')
        .sort()
    )
    expect(final.permissions).toEqual({})
  })

  it('the pull-request gate runs one gate per model, each with its own comment', () => {
    const job = gate.jobs.gate!
    expect(job.strategy?.matrix).toEqual({ include: '${{ fromJSON(needs.models.outputs.matrix) }}' })
    expect(job.name).toContain('${{ matrix.model }}')
    const compare = job.steps!.find(s => ourAction(s.uses) === 'compare-metrics')!
    expect(compare.with?.['report-id']).toBe('${{ matrix.model }}')
    // Validation reads the same model's settings of a models: list; without the input a list of two is an error.
    for (const workflow of [gate, promote]) {
      const validate = Object.values(workflow.jobs)
        .flatMap(j => j.steps ?? [])
        .find(s => ourAction(s.uses) === 'validate-model')!
      expect(validate.with?.model).toBe('${{ matrix.model }}')
    }
  })

  it('on a fork the gate posts nothing and leaves the comment as an artifact for model-pr-comment.yml', () => {
    const job = gate.jobs.gate!
    const compare = job.steps!.find(s => ourAction(s.uses) === 'compare-metrics')!
    expect(compare.with?.comment).toBe("${{ env.FORK == 'true' && 'never' || 'auto' }}")
    const upload = job.steps!.find(s => s.uses?.startsWith('actions/upload-artifact@'))!
    expect(upload.with?.name).toMatch(/^modelgate-comment-/)
    // A re-run (say, after champion moved) uploads again in the same workflow run, where upload-artifact v4 and later
    // refuse a name already there (409 Conflict) and would fail the gate; the newest comment replaces the older.
    expect(upload.with?.overwrite).toBe(true)
    const download = comment.jobs.comment!.steps!.find(s => s.uses?.startsWith('actions/download-artifact@'))!
    expect(download.with).toMatchObject({
      pattern: 'modelgate-comment-*',
      'run-id': '${{ github.event.workflow_run.id }}'
    })
    // The privileged half never checks out or runs anything of the fork's.
    expect(comment.jobs.comment!.steps!.filter(s => s.uses?.startsWith('actions/checkout@') || s.run)).toEqual([])
    expect(comment.jobs.comment!.permissions).toEqual({ actions: 'read', 'pull-requests': 'write' })
  })

  it('two merges never promote at once, and none cancels another mid-rollout', () => {
    expect(promote.concurrency?.['cancel-in-progress']).toBe(false)
    // github.workflow would be the caller's name here, and a caller using the same group would deadlock.
    expect(promote.concurrency?.group).toMatch(/^modelgate-promote-/)
    expect(promote.concurrency?.group).not.toMatch(/github\.workflow|github\.ref|matrix/)
  })

  it('the promotion registers a challenger, stages it, waits on production, and only then moves champion', () => {
    const { register, staging, production } = promote.jobs
    const step = (job: Job | undefined, action: string) => job!.steps!.find(s => ourAction(s.uses) === action)!
    expect(step(register, 'register-model').with?.aliases).toBe('challenger')
    expect(needsOf(staging!)).toContain('register')
    expect(step(staging, 'deploy-endpoint').with).toMatchObject({ traffic: 100, rollback: 'on-failure' })
    expect(step(staging, 'deploy-endpoint').with?.['promote-alias']).toBeUndefined()
    expect(needsOf(production!)).toContain('staging')
    expect(production!.environment).toMatchObject({ name: '${{ inputs.production-environment }}' })
    expect(step(production, 'deploy-endpoint').with).toMatchObject({
      traffic: '${{ inputs.canary-traffic }}',
      rollback: 'on-failure',
      'promote-alias': 'champion',
      environment: '${{ inputs.production-environment }}'
    })
    const inputs = (promote.on.workflow_call as Mapping).inputs as Record<string, InputSpec>
    expect(inputs['production-environment']?.default).toBe('production')
    expect(Number(inputs['canary-traffic']?.default)).toBeLessThan(100)
  })

  it('every step that reaches the registry is given the same registry settings', () => {
    // register-model takes registry and registry-path; compare-metrics and deploy-endpoint find the registry from
    // tracking-uri and the config alone. A setting given to one step only would register the challenger where the
    // staging rollout does not look for it.
    const registrySettings = ['registry', 'registry-path', 'tracking-uri', 'config'] as const
    const reaching = Object.entries(promote.jobs).flatMap(([jobId, job]) =>
      (job.steps ?? [])
        .filter(s => ['register-model', 'compare-metrics', 'deploy-endpoint'].includes(ourAction(s.uses) ?? ''))
        .map(s => ({ at: `${jobId}/${ourAction(s.uses)}`, with: s.with ?? {} }))
    )
    expect(reaching.map(r => r.at)).toEqual(
      expect.arrayContaining(['register/register-model', 'staging/deploy-endpoint', 'production/deploy-endpoint'])
    )
    for (const key of registrySettings) {
      const given = reaching.map(r => ({ at: r.at, [key]: r.with[key] }))
      expect(given).toEqual(reaching.map(r => ({ at: r.at, [key]: reaching[0]!.with[key] })))
    }
  })
})

describe('the starter callers', () => {
  it.each(exampleFiles)('%s stays short enough to quote whole (under 25 lines)', file => {
    expect(text(file).trimEnd().split('\n').length).toBeLessThan(25)
  })

  it.each(templateFiles)(
    '%s has its .properties.json with a name, a description and the config file it needs',
    file => {
      const properties = JSON.parse(text(file.replace(/\.yml$/, '.properties.json'))) as Mapping
      expect(typeof properties.name).toBe('string')
      expect(typeof properties.description).toBe('string')
      // Suggested only where the workflows find a config: the actions read .modelgate.yml, never .modelgate.yaml.
      const patterns = (properties.filePatterns as string[]).map(pattern => new RegExp(pattern))
      expect(['.modelgate.yml', '.modelgate.yaml'].filter(name => patterns.some(p => p.test(name)))).toEqual([
        '.modelgate.yml'
      ])
    }
  )

  it('the fork comment caller listens to the gate caller by its name', () => {
    const gate = readWorkflow('examples/workflows/model-gate.yml')
    const comment = readWorkflow('examples/workflows/model-gate-comment.yml')
    expect((comment.on.workflow_run as { workflows: string[] }).workflows).toEqual([gate.name])
  })
})

describe('the models job', () => {
  /**
   * Runs the models step of a workflow as the runner would: bash, its env with `${{ inputs.* }}` filled from the
   * given inputs over the workflow_call defaults, in a checkout holding the config; returns the matrix it emits.
   */
  async function matrixOf(file: string, config: string | undefined, given: Record<string, string>) {
    const workflow = readWorkflow(file)
    const declared = ((workflow.on.workflow_call as Mapping).inputs ?? {}) as Record<string, InputSpec>
    const inputs = {
      ...Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, String(v.default ?? '')])),
      ...given
    }
    const step = workflow.jobs.models!.steps!.find(s => s.id === 'models')!
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([name, value]) => [
        name,
        String(value).replace(/\$\{\{ inputs\.([\w-]+) \}\}/g, (_, input: string) => inputs[input] ?? '')
      ])
    )
    const workspace = mkdtempSync(join(tmpdir(), 'modelgate-models-'))
    try {
      if (config !== undefined) writeFileSync(join(workspace, '.modelgate.yml'), config)
      const output = join(workspace, 'github-output')
      writeFileSync(output, '')
      const result = await run('bash', ['-e', '-c', step.run!], {
        cwd: workspace,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_OUTPUT: output, ...env }
      }).then(
        r => ({ ok: true, stdout: r.stdout }),
        (e: { stdout?: string }) => ({ ok: false, stdout: e.stdout ?? '' })
      )
      const line = readFileSync(output, 'utf8')
        .split('\n')
        .find(l => l.startsWith('matrix='))
      return { ...result, matrix: line ? (JSON.parse(line.slice('matrix='.length)) as Mapping[]) : undefined }
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  }

  it('emits one entry per model of a models: list, with {model} filled in', async () => {
    const config = 'models:\n  - model: churn\n  - model: fraud\n'
    const { matrix } = await matrixOf('.github/workflows/model-promote.yml', config, {
      'model-path': 'models/{model}',
      metrics: 'metrics/{model}.json',
      baseline: 'models:/{model}@champion'
    })
    expect(matrix).toEqual(
      ['churn', 'fraud'].map(m => ({
        model: m,
        'model-path': `models/${m}`,
        metrics: `metrics/${m}.json`,
        baseline: `models:/${m}@champion`,
        'staging-endpoint': `${m}-staging`,
        'production-endpoint': m
      }))
    )
  }, 60_000)

  it("leaves an endpoint to the config when it names the environment's, and falls back to {model} only when not", async () => {
    const config = [
      'models:',
      '  - model: churn',
      '    deploy:',
      '      endpoint: churn-any',
      '      environments:',
      '        Staging: { endpoint: churn-stg }', // GitHub environment names match without case
      '        production: { url: http://127.0.0.1:8080 }', // no endpoint of its own: deploy.endpoint applies
      '  - model: fraud',
      '    deploy:',
      '      environments:',
      '        staging: { endpoint: fraud-stg }',
      '  - model: spam'
    ].join('\n')
    const endpoints = async (given: Record<string, string>) =>
      (
        await matrixOf('.github/workflows/model-promote.yml', `${config}\n`, { metrics: 'm.json', ...given })
      ).matrix?.map(e => [e.model, e['staging-endpoint'], e['production-endpoint']])
    // Empty: deploy-endpoint reads the config's; the {model} defaults only where the config names none.
    expect(await endpoints({})).toEqual([
      ['churn', '', ''],
      ['fraud', '', 'fraud'],
      ['spam', 'spam-staging', 'spam']
    ])
    // An input still wins over the config.
    expect(await endpoints({ 'staging-endpoint': '{model}-blue' })).toEqual([
      ['churn', 'churn-blue', ''],
      ['fraud', 'fraud-blue', 'fraud'],
      ['spam', 'spam-blue', 'spam']
    ])
    // The environment inputs pick the entries looked at.
    expect(await endpoints({ 'staging-environment': 'qa', 'production-environment': 'PRODUCTION' })).toEqual([
      ['churn', '', ''],
      ['fraud', 'fraud-staging', 'fraud'],
      ['spam', 'spam-staging', 'spam']
    ])
  }, 60_000)

  it.each(['.github/workflows/model-pr-gate.yml', '.github/workflows/model-promote.yml'])(
    '%s: leaves malformed entries to the actions, which name the line, instead of failing inside jq',
    async file => {
      const mixed = await matrixOf(
        file,
        'models:\n  - just a string\n  - model: 7\n  - model: churn\n    deploy: [not, a, map]\n',
        { 'model-path': 'model', metrics: 'm.json' }
      )
      expect(mixed.matrix?.map(e => e.model)).toEqual(['churn'])
      const list = await matrixOf(file, '- model: churn\n', { 'model-path': 'model', metrics: 'm.json' })
      expect(list).toMatchObject({ ok: false, matrix: undefined })
      expect(list.stdout).toMatch(/::error file=\.modelgate\.yml::no model to (gate|promote)/)
    },
    60_000
  )

  it('emits the one model of a single-model config, or the one the model input picks', async () => {
    const single = await matrixOf('.github/workflows/model-pr-gate.yml', 'model: churn\n', {
      'model-path': 'model',
      metrics: 'metrics.json'
    })
    expect(single.matrix).toEqual([{ model: 'churn', 'model-path': 'model', metrics: 'metrics.json', baseline: '' }])
    const picked = await matrixOf('.github/workflows/model-pr-gate.yml', 'models:\n  - model: a\n  - model: b\n', {
      model: 'b',
      'model-path': '{model}',
      metrics: 'm.json'
    })
    expect(picked.matrix?.map(e => e.model)).toEqual(['b'])
    const none = await matrixOf('.github/workflows/model-pr-gate.yml', undefined, {
      'model-path': 'model',
      metrics: 'm'
    })
    expect(none).toMatchObject({ ok: false, matrix: undefined })
    expect(none.stdout).toMatch(/::error file=\.modelgate\.yml::no model to gate/)
    // A config the input names must be there, as the actions require of a config input.
    const named = await matrixOf('.github/workflows/model-pr-gate.yml', undefined, {
      config: 'ml/modelgate.yml',
      model: 'churn',
      'model-path': 'model',
      metrics: 'm'
    })
    expect(named).toMatchObject({ ok: false, matrix: undefined })
    expect(named.stdout).toMatch(/::error file=ml\/modelgate\.yml::config file not found/)
  }, 60_000)
})

describe('a repository without .modelgate.yml', () => {
  /**
   * The workflow's jobs run as the runner runs them (test/chain/workflow-runner.ts), our actions as their bundles, on
   * the example without its config: the model input names the model, and each action's config input is left to its
   * own default (.modelgate.yml when present), as the models job reads it.
   */
  async function runWithoutConfig(file: string, inputs: Record<string, string>) {
    const root = mkdtempSync(join(tmpdir(), 'modelgate-no-config-'))
    const checkout: StandIn = ({ with: given, workspace }) => {
      if (given.path === ACTIONS_CHECKOUT) {
        mkdirSync(join(workspace, ACTIONS_CHECKOUT), { recursive: true })
        for (const dir of ['actions', 'dist']) symlinkSync(join(ROOT, dir), join(workspace, ACTIONS_CHECKOUT, dir))
      } else {
        cpSync(join(ROOT, 'examples', 'churn-classifier'), workspace, { recursive: true })
        rmSync(join(workspace, '.modelgate.yml'))
      }
      return Promise.resolve()
    }
    const logs: string[] = []
    try {
      const jobs = await runWorkflow(file, {
        inputs: {
          model: 'churn-classifier',
          'model-path': 'model',
          metrics: 'metrics/candidate.json',
          baseline: 'metrics/baseline.json',
          ...inputs
        },
        github: { event_name: 'push', repository: 'acme/churn', sha: 'b'.repeat(40), token: '', event: {} },
        standIns: { 'actions/checkout': checkout },
        tempRoot: root,
        onStep: (jobId, step) => logs.push(`--- ${jobId}/${step.id}: ${step.outcome}\n${step.log}`)
      })
      return { jobs, log: logs.join('\n'), root }
    } catch (error) {
      rmSync(root, { recursive: true, force: true })
      throw error
    }
  }

  it('the pull-request gate validates and compares the model the model input names', async () => {
    const { jobs, log, root } = await runWithoutConfig('.github/workflows/model-pr-gate.yml', {})
    rmSync(root, { recursive: true, force: true })
    expect({ log, result: jobs['model-gate']!.result }).toEqual({ log, result: 'success' })
    expect(jobs['model-gate']!.outputs.passed).toBe('true')
  }, 120_000)

  it('the promotion registers it', async () => {
    const { jobs, log, root } = await runWithoutConfig('.github/workflows/model-promote.yml', {})
    rmSync(root, { recursive: true, force: true })
    expect({ log, result: jobs.register!.result }).toEqual({ log, result: 'success' })
    expect(jobs.register!.runs[0]!.steps.find(step => step.id === 'register')!.outputs['model-uri']).toBe(
      'models:/churn-classifier/1'
    )
  }, 120_000)
})
