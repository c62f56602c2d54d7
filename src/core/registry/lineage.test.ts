import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configurationRejection } from '../../../test/helpers/errors.js'
import { readRunContext } from '../github/event.js'
import { gateTags, LINEAGE_TAGS, lineageTags, readGateReports, runSourceTags } from './lineage.js'

const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8'
const DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const describeInput = (name: string) => `input '${name}'`

let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelgate-lineage-'))
})

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function writeJson(name: string, value: unknown): Promise<string> {
  const path = join(scratch, name)
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2))
  return path
}

/** The runner's environment for a pull_request event, with the payload in a real event file. */
async function pullRequestEnv(overrides: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const eventPath = await writeJson(`event-${Math.random().toString(36).slice(2)}.json`, {
    action: 'synchronize',
    number: 42,
    pull_request: {
      number: 42,
      head: {
        sha: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        ref: 'feature/better-churn',
        repo: { full_name: 'acme/churn' }
      },
      base: { ref: 'main', repo: { full_name: 'acme/churn' } }
    },
    repository: { full_name: 'acme/churn' }
  })
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_REF: 'refs/pull/42/merge',
    GITHUB_REF_NAME: '42/merge',
    GITHUB_RUN_ID: '1658821493',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_WORKFLOW: 'Model gate',
    ...overrides
  }
}

describe('lineageTags', () => {
  it('records commit, repository, ref, pull request, run URL and workflow of a pull_request run', async () => {
    const env = await pullRequestEnv()
    expect(lineageTags(readRunContext(env), env)).toEqual({
      'modelgate.git.commit': SHA,
      'modelgate.git.repository': 'acme/churn',
      'modelgate.git.ref': 'refs/pull/42/merge',
      'modelgate.github.pull-request': '42',
      'modelgate.github.run-url': 'https://github.com/acme/churn/actions/runs/1658821493',
      'modelgate.github.workflow': 'Model gate'
    })
  })

  it('uses the keys LINEAGE_TAGS names', async () => {
    const env = await pullRequestEnv()
    const tags = lineageTags(readRunContext(env), env)
    expect(Object.keys(tags).sort()).toEqual(
      [
        LINEAGE_TAGS.commit,
        LINEAGE_TAGS.repository,
        LINEAGE_TAGS.ref,
        LINEAGE_TAGS.pullRequest,
        LINEAGE_TAGS.runUrl,
        LINEAGE_TAGS.workflow
      ].sort()
    )
    for (const key of Object.keys(tags)) expect(key.startsWith('modelgate.')).toBe(true)
  })

  it('links a re-run attempt and a GitHub Enterprise server', async () => {
    const env = await pullRequestEnv({ GITHUB_RUN_ATTEMPT: '3', GITHUB_SERVER_URL: 'https://github.acme.example' })
    const tags = lineageTags(readRunContext(env), env)
    expect(tags['modelgate.github.run-url']).toBe(
      'https://github.acme.example/acme/churn/actions/runs/1658821493/attempts/3'
    )
  })

  it('has no pull request for a push', async () => {
    const eventPath = await writeJson('push.json', { ref: 'refs/heads/main', after: SHA, head_commit: { id: SHA } })
    const env = await pullRequestEnv({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main'
    })
    const tags = lineageTags(readRunContext(env), env)
    expect(tags).not.toHaveProperty('modelgate.github.pull-request')
    expect(tags['modelgate.git.ref']).toBe('refs/heads/main')
    expect(tags['modelgate.git.commit']).toBe(SHA)
  })

  it('is empty outside a workflow run', () => {
    expect(lineageTags(readRunContext({}), {})).toEqual({})
  })

  it('leaves out what the environment lacks', async () => {
    const env = await pullRequestEnv({ GITHUB_RUN_ID: undefined, GITHUB_WORKFLOW: undefined, GITHUB_REF: undefined })
    const tags = lineageTags(readRunContext(env), env)
    expect(tags).toEqual({
      'modelgate.git.commit': SHA,
      'modelgate.git.repository': 'acme/churn',
      'modelgate.github.pull-request': '42'
    })
  })

  it('records every value as a string', async () => {
    const env = await pullRequestEnv()
    for (const value of Object.values(lineageTags(readRunContext(env), env))) expect(typeof value).toBe('string')
  })
})

describe('runSourceTags', () => {
  it("gives MLflow's source tags for the run: JOB, commit, repository URL, run URL as the name, branch", async () => {
    const env = await pullRequestEnv({ GITHUB_REF_NAME: 'main' })
    expect(runSourceTags(readRunContext(env), env)).toEqual({
      'mlflow.source.type': 'JOB',
      'mlflow.source.git.commit': SHA,
      'mlflow.source.git.repoURL': 'https://github.com/acme/churn',
      'mlflow.source.name': 'https://github.com/acme/churn/actions/runs/1658821493',
      'mlflow.source.git.branch': 'main'
    })
  })

  it('names the repository when there is no run URL, on the runner’s server', async () => {
    const env = await pullRequestEnv({
      GITHUB_RUN_ID: undefined,
      GITHUB_REF_NAME: undefined,
      GITHUB_SERVER_URL: 'https://github.acme.example'
    })
    expect(runSourceTags(readRunContext(env), env)).toEqual({
      'mlflow.source.type': 'JOB',
      'mlflow.source.git.commit': SHA,
      'mlflow.source.git.repoURL': 'https://github.acme.example/acme/churn',
      'mlflow.source.name': 'https://github.acme.example/acme/churn'
    })
  })

  it('defaults the server to github.com', async () => {
    const env = await pullRequestEnv({ GITHUB_SERVER_URL: undefined })
    const tags = runSourceTags(readRunContext(env), env)
    expect(tags['mlflow.source.git.repoURL']).toBe('https://github.com/acme/churn')
    expect(tags['mlflow.source.name']).toBe('https://github.com/acme/churn/actions/runs/1658821493')
  })

  it('is only the source type outside a workflow run', () => {
    expect(runSourceTags(readRunContext({}), {})).toEqual({ 'mlflow.source.type': 'JOB' })
  })
})

describe('gateTags', () => {
  it('records both verdicts, the digest, regressions and baseline', () => {
    expect(
      gateTags({
        validation: { verdict: 'pass', passed: true, digest: `sha256:${DIGEST}` },
        comparison: {
          verdict: 'warn',
          passed: true,
          regressions: 1,
          baseline: 'models:/churn@champion',
          metrics: { accuracy: 0.91 }
        }
      })
    ).toEqual({
      'modelgate.validation.verdict': 'pass',
      'modelgate.validation.digest': `sha256:${DIGEST}`,
      'modelgate.comparison.verdict': 'warn',
      'modelgate.comparison.regressions': '1',
      'modelgate.comparison.baseline': 'models:/churn@champion'
    })
  })

  it('records zero regressions as "0" and leaves out an absent digest and baseline', () => {
    expect(
      gateTags({
        validation: { verdict: 'warn', passed: true },
        comparison: { verdict: 'pass', passed: true, regressions: 0, metrics: {} }
      })
    ).toEqual({
      'modelgate.validation.verdict': 'warn',
      'modelgate.comparison.verdict': 'pass',
      'modelgate.comparison.regressions': '0'
    })
  })

  it('is empty without reports, and has only the report given', () => {
    expect(gateTags({})).toEqual({})
    expect(gateTags({ validation: { verdict: 'fail', passed: false } })).toEqual({
      'modelgate.validation.verdict': 'fail'
    })
  })

  it('does not record the candidate metrics as tags', () => {
    const tags = gateTags({
      comparison: { verdict: 'pass', passed: true, regressions: 0, metrics: { accuracy: 0.9, f1: 0.8 } }
    })
    expect(Object.keys(tags)).toEqual(['modelgate.comparison.verdict', 'modelgate.comparison.regressions'])
  })
})

const validationReport = {
  schemaVersion: 1,
  tool: 'modelgate validate-model',
  model: 'examples/churn-classifier/model',
  verdict: 'pass',
  passed: true,
  failOn: 'error',
  digest: DIGEST,
  sizeBytes: 10240,
  flavors: ['python_function', 'sklearn'],
  manifest: null,
  checks: [{ id: 'mlmodel', title: 'MLmodel', severity: 'pass', message: 'MLmodel parsed' }]
}

const comparisonReport = {
  schemaVersion: 1,
  tool: 'modelgate',
  title: 'Model metrics',
  reportId: 'default',
  verdict: 'warn',
  passed: true,
  failOn: 'fail',
  regressions: 1,
  failures: 0,
  warnings: 1,
  candidate: { kind: 'file', spec: 'metrics/candidate.json' },
  baseline: { kind: 'registry', spec: 'models:/churn@champion', model: 'churn', alias: 'champion', version: '4' },
  metrics: [
    { name: 'accuracy', candidate: 0.91, baseline: 0.92, status: 'within-tolerance' },
    { name: 'f1', candidate: 0, baseline: 0.1, status: 'regressed' },
    { name: 'latency_ms', candidate: -12.5, baseline: null, status: 'new' },
    { name: 'bad', candidate: { invalid: 'nan', raw: 'NaN' }, baseline: 0.5, status: 'invalid' },
    { name: 'gone', candidate: null, baseline: 0.7, status: 'missing' }
  ]
}

describe('readGateReports', () => {
  it('reads a validate-model report: verdict, passed, digest with the sha256: prefix', async () => {
    const path = await writeJson('validation.json', validationReport)
    const reports = await readGateReports({ workspace: scratch, validation: path, describeInput })
    expect(reports).toEqual({ validation: { verdict: 'pass', passed: true, digest: `sha256:${DIGEST}` } })
  })

  it('reads a compare-metrics report: numeric candidates recorded, invalid and missing ones skipped', async () => {
    const path = await writeJson('comparison.json', comparisonReport)
    const reports = await readGateReports({ workspace: scratch, comparison: path, describeInput })
    expect(reports).toEqual({
      comparison: {
        verdict: 'warn',
        passed: true,
        regressions: 1,
        baseline: 'models:/churn@champion',
        metrics: { accuracy: 0.91, f1: 0, latency_ms: -12.5 }
      }
    })
    expect(reports.comparison?.metrics).not.toHaveProperty('bad')
    expect(reports.comparison?.metrics).not.toHaveProperty('gone')
  })

  it('reads both, with paths relative to the workspace', async () => {
    await mkdir(join(scratch, 'reports'), { recursive: true })
    await writeJson('reports/v.json', validationReport)
    await writeJson('reports/c.json', comparisonReport)
    const reports = await readGateReports({
      workspace: scratch,
      validation: 'reports/v.json',
      comparison: './reports/c.json',
      describeInput
    })
    expect(reports.validation?.digest).toBe(`sha256:${DIGEST}`)
    expect(reports.comparison?.metrics.accuracy).toBe(0.91)
    expect(gateTags(reports)).toEqual({
      'modelgate.validation.verdict': 'pass',
      'modelgate.validation.digest': `sha256:${DIGEST}`,
      'modelgate.comparison.verdict': 'warn',
      'modelgate.comparison.regressions': '1',
      'modelgate.comparison.baseline': 'models:/churn@champion'
    })
  })

  it('reads nothing when no report is given', async () => {
    expect(await readGateReports({ workspace: scratch, describeInput })).toEqual({})
  })

  it('has no digest when validation had none (null), and passed false unless it is true', async () => {
    const path = await writeJson('validation-no-digest.json', {
      ...validationReport,
      verdict: 'fail',
      passed: 'yes',
      digest: null
    })
    const reports = await readGateReports({ workspace: scratch, validation: path, describeInput })
    expect(reports).toEqual({ validation: { verdict: 'fail', passed: false } })
  })

  it('has no baseline when the comparison had none, and 0 regressions when the count is absent', async () => {
    const path = await writeJson('comparison-no-baseline.json', {
      ...comparisonReport,
      verdict: 'pass',
      baseline: null,
      regressions: undefined
    })
    const reports = await readGateReports({ workspace: scratch, comparison: path, describeInput })
    expect(reports.comparison).toEqual({
      verdict: 'pass',
      passed: true,
      regressions: 0,
      metrics: { accuracy: 0.91, f1: 0, latency_ms: -12.5 }
    })
  })

  it('refuses a missing validation report, naming the input', async () => {
    const error = await configurationRejection(
      readGateReports({ workspace: scratch, validation: 'nope/validation.json', describeInput })
    )
    expect(error.place).toEqual({ source: "input 'validation-report'" })
    expect(error.detail).toBe(
      'nope/validation.json does not exist; expected the JSON report file the earlier step wrote (its report output)'
    )
    expect(error.message.startsWith("input 'validation-report': ")).toBe(true)
  })

  it('refuses a missing comparison report, naming its input', async () => {
    const error = await configurationRejection(
      readGateReports({ workspace: scratch, comparison: 'missing.json', describeInput })
    )
    expect(error.place).toEqual({ source: "input 'comparison-report'" })
    expect(error.detail).toContain('missing.json does not exist')
  })

  it('refuses a report that cannot be read (a directory)', async () => {
    await mkdir(join(scratch, 'a-directory'), { recursive: true })
    const error = await configurationRejection(
      readGateReports({ workspace: scratch, validation: 'a-directory', describeInput })
    )
    expect(error.place).toEqual({ source: "input 'validation-report'" })
    expect(error.detail).toContain('a-directory cannot be read (EISDIR)')
  })

  it.each([
    ['not JSON', 'verdict: pass\n'],
    ['truncated JSON', '{"schemaVersion":1,"tool":"modelgate validate-model"'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"pass"'],
    ['empty', '']
  ])('refuses a report that is %s', async (_what, text) => {
    const path = await writeJson(`bad-${Math.random().toString(36).slice(2)}.json`, text)
    const error = await configurationRejection(readGateReports({ workspace: scratch, validation: path, describeInput }))
    expect(error.place).toEqual({ source: "input 'validation-report'" })
    expect(error.detail).toBe(`${path} is not a JSON report object`)
  })

  it("refuses compare-metrics' report given as the validation report", async () => {
    const path = await writeJson('swapped-comparison.json', comparisonReport)
    const error = await configurationRejection(readGateReports({ workspace: scratch, validation: path, describeInput }))
    expect(error.place).toEqual({ source: "input 'validation-report'" })
    expect(error.detail).toBe(
      `${path} is not a validate-model report (no "tool": "modelgate validate-model"); pass validate-model's report output`
    )
  })

  it("refuses validate-model's report given as the comparison report", async () => {
    const path = await writeJson('swapped-validation.json', validationReport)
    const error = await configurationRejection(readGateReports({ workspace: scratch, comparison: path, describeInput }))
    expect(error.place).toEqual({ source: "input 'comparison-report'" })
    expect(error.detail).toBe(
      `${path} is not a compare-metrics report (no "tool": "modelgate" with metrics); pass compare-metrics' report output`
    )
  })

  it('refuses a register-model report and a report without a verdict or metrics', async () => {
    const registration = await writeJson('registration.json', {
      schemaVersion: 1,
      tool: 'modelgate register-model',
      verdict: 'pass'
    })
    await expect(
      configurationRejection(readGateReports({ workspace: scratch, validation: registration, describeInput }))
    ).resolves.toHaveProperty('detail', expect.stringContaining('is not a validate-model report'))

    const noVerdict = await writeJson('no-verdict.json', { ...validationReport, verdict: undefined })
    await expect(
      configurationRejection(readGateReports({ workspace: scratch, validation: noVerdict, describeInput }))
    ).resolves.toHaveProperty('detail', expect.stringContaining('is not a validate-model report'))

    const noMetrics = await writeJson('no-metrics.json', { ...comparisonReport, metrics: undefined })
    await expect(
      configurationRejection(readGateReports({ workspace: scratch, comparison: noMetrics, describeInput }))
    ).resolves.toHaveProperty('detail', expect.stringContaining('is not a compare-metrics report'))
  })

  it('names the input the way the caller describes it (the CLI names flags)', async () => {
    const error = await configurationRejection(
      readGateReports({
        workspace: scratch,
        validation: 'missing.json',
        describeInput: name => `--${name}`
      })
    )
    expect(error.place).toEqual({ source: '--validation-report' })
  })
})
