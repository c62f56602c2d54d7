/**
 * The shipped compare-metrics bundle (dist/compare-metrics/index.js), run as the Actions runner runs it, against
 * the local GitHub double. These tests see what a workflow sees: exit code, outputs, job summary, annotations and
 * the comments left on the pull request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { markerFor } from '../src/core/github/sticky-comment.js'
import { startGitHubDouble, type GitHubDouble } from '../test/github-double/server.js'
import { ROOT, runAction, type ActionRunOptions } from '../test/harness/run-action.js'

const EXAMPLE = join(ROOT, 'examples', 'churn-classifier')
const WRITE_TOKEN = 'ghs_write_token'
const READ_TOKEN = 'ghs_read_token'

const exampleInputs = {
  candidate: 'metrics/candidate.json',
  baseline: 'metrics/baseline.json'
}

function pullRequestRun(double: GitHubDouble, number: number, extra: ActionRunOptions = {}): ActionRunOptions {
  return {
    workspace: EXAMPLE,
    githubToken: WRITE_TOKEN,
    event: {
      action: 'synchronize',
      number,
      pull_request: { number, head: { repo: { full_name: 'acme/churn' } }, base: { ref: 'main' } }
    },
    ...extra,
    inputs: { ...exampleInputs, ...extra.inputs },
    env: {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_API_URL: double.url,
      MODELGATE_RETRY_BASE_MS: '10',
      ...extra.env
    }
  }
}

function markerComments(double: GitHubDouble, number: number, reportId = 'churn-classifier') {
  return double.comments('acme', 'churn', number).filter(c => c.body.startsWith(markerFor(reportId)))
}

describe('compare-metrics, bundled, outside a pull request', () => {
  it('compares the example, writes outputs, summary and report, and passes with warnings', async () => {
    const run = await runAction('compare-metrics', { workspace: EXAMPLE, inputs: exampleInputs })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ passed: 'true', verdict: 'warn', regressions: '1', 'comment-url': '' })
    expect(run.errors).toEqual([])

    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8'))
    expect(report.verdict).toBe('warn')
    expect(report.metrics.find((m: { name: string }) => m.name === 'model_size_mb').status).toBe('regressed')

    const markdown = readFileSync(run.outputs.markdown!, 'utf8')
    expect(markdown).toMatch(/churn-classifier/)
    expect(run.summary).toContain('model\\_size\\_mb | 3.2 | 4.3')
    expect(run.summary).toContain('per\\_class.churned.recall')
  })

  it('fails the step with one error line naming the metric when a rule with severity fail breaks', async () => {
    const run = await runAction('compare-metrics', {
      workspace: EXAMPLE,
      inputs: { ...exampleInputs, rules: 'latency_p95_ms: { direction: lower, max-regression-pct: 5 }' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ passed: 'false', verdict: 'fail' })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(
      /^churn-classifier fails the metric gate \(fail-on: regression\): latency_p95_ms: worsened by/
    )
  })

  it('counts as compared only the metrics the candidate reports, and names the rules that found none', async () => {
    const run = await runAction('compare-metrics', {
      workspace: EXAMPLE,
      inputs: { ...exampleInputs, rules: 'no_such_metric: { direction: higher, required: false }' }
    })
    expect(run.exitCode).toBe(0)
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as { metrics: { candidate: unknown }[] }
    const reported = report.metrics.filter(m => m.candidate !== null).length
    expect(reported).toBe(report.metrics.length - 1)
    expect(run.stdout).toContain(`${reported} metrics compared, 1 rule with no metric)`)
  })

  it('fails on warnings with fail-on: warning, and never with fail-on: never', async () => {
    const strict = await runAction('compare-metrics', {
      workspace: EXAMPLE,
      inputs: { ...exampleInputs, 'fail-on': 'warning' }
    })
    expect(strict.exitCode).toBe(1)
    expect(strict.outputs.passed).toBe('false')
    const lenient = await runAction('compare-metrics', {
      workspace: EXAMPLE,
      inputs: { ...exampleInputs, rules: 'accuracy: { min: 0.99 }', 'fail-on': 'never' }
    })
    expect(lenient.exitCode).toBe(0)
    expect(lenient.outputs).toMatchObject({ passed: 'true', verdict: 'fail' })
  })

  it('names the notice that failed the gate under fail-on: warning when no metric did', async () => {
    // No config and no rules input: nothing is gated, which warns, and fail-on: warning turns that into a failure.
    const workspace = mkdtempSync(join(tmpdir(), 'modelgate-compare-'))
    writeFileSync(join(workspace, 'eval.json'), '{"accuracy": 0.9}')
    const run = await runAction('compare-metrics', {
      workspace,
      inputs: { candidate: 'eval.json', 'fail-on': 'warning' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.outputs).toMatchObject({ passed: 'false', verdict: 'warn' })
    expect(run.errors).toEqual([
      'metrics fails the metric gate (fail-on: warning): No rules were given (no metrics in the config, no rules ' +
        'input), so nothing was gated; the metrics are only shown.'
    ])
  })

  const badInputs: Array<[string, Record<string, string>, RegExp]> = [
    ['a missing candidate file', { candidate: 'metrics/nope.json' }, /metrics\/nope\.json/],
    [
      'an unknown fail-on value',
      { 'fail-on': 'sometimes' },
      /^input 'fail-on': expected "regression", "warning", "never", got "sometimes"$/
    ],
    [
      'an unknown comment value',
      { comment: 'yes' },
      /^input 'comment': expected "auto", "always", "never", got "yes"$/
    ],
    [
      'a malformed rules input',
      { rules: 'accuracy: { direction: up }' },
      /^input 'rules':1 \(accuracy\.direction\): expected "higher" or "lower", got "up"$/
    ],
    ['a missing config file', { config: 'nope.yml' }, /^nope\.yml: config file not found/],
    ['a missing candidate input', { candidate: '' }, /^input 'candidate': is required/]
  ]
  it.each(badInputs)('reports %s as one clear error line without a stack trace', async (_, inputs, expected) => {
    const run = await runAction('compare-metrics', { workspace: EXAMPLE, inputs: { ...exampleInputs, ...inputs } })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(expected)
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m)
  })

  it('reports a tuning variable that is not a number of milliseconds as one error line naming it', async () => {
    const run = await runAction('compare-metrics', {
      workspace: EXAMPLE,
      inputs: exampleInputs,
      env: { MODELGATE_RETRY_BASE_MS: 'fast' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual(['MODELGATE_RETRY_BASE_MS: expected a number of milliseconds, 0 or more, got "fast"'])
    // The job summary says why the step stopped, as the error line does.
    expect(run.summary).toMatch(
      /^### ❌ modelgate compare-metrics stopped\n\n`MODELGATE_RETRY_BASE_MS: expected a number/
    )
  })
})

describe('compare-metrics, bundled, on a pull request (GitHub double)', () => {
  let double: GitHubDouble

  beforeAll(async () => {
    double = await startGitHubDouble()
  })
  afterAll(async () => {
    expect(double.violations).toEqual([])
    await double.close()
  })

  it('finds its comment on the third page of 250 and updates it in place, twice, never adding one', async () => {
    const pr = 17
    const others = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ body: `review note ${from + i}`, login: 'octocat' }))
    double.seedComments('acme', 'churn', pr, others(0, 230))
    const [sticky] = double.seedComments('acme', 'churn', pr, [
      { body: `${markerFor('churn-classifier')}\nold report` }
    ])
    double.seedComments('acme', 'churn', pr, others(230, 19))
    expect(double.comments('acme', 'churn', pr)).toHaveLength(250)

    const first = await runAction('compare-metrics', pullRequestRun(double, pr))
    expect(first.exitCode).toBe(0)
    expect(first.outputs['comment-url']).toBe(sticky!.html_url)
    const listed = double.requests.filter(r => r.method === 'GET' && r.path.endsWith(`/issues/${pr}/comments`))
    expect(listed.map(r => r.query.page ?? '1')).toEqual(['1', '2', '3'])

    const second = await runAction('compare-metrics', pullRequestRun(double, pr))
    expect(second.exitCode).toBe(0)
    expect(double.comments('acme', 'churn', pr)).toHaveLength(250)
    const mine = markerComments(double, pr)
    expect(mine).toHaveLength(1)
    expect(mine[0]!.id).toBe(sticky!.id)
    expect(mine[0]!.body).toMatch(/churn-classifier/)
    expect(mine[0]!.body).not.toMatch(/old report/)
  })

  it('comments with comment: always on a comment on the pull request (issue_comment), and not with auto', async () => {
    const pr = 31
    const onComment = (comment: string): ActionRunOptions => ({
      ...pullRequestRun(double, pr, { inputs: { comment }, env: { GITHUB_EVENT_NAME: 'issue_comment' } }),
      event: { action: 'created', issue: { number: pr, pull_request: { url: 'https://api.github.com/pulls/31' } } }
    })
    const auto = await runAction('compare-metrics', onComment('auto'))
    expect(auto.exitCode).toBe(0)
    expect(markerComments(double, pr)).toHaveLength(0)
    const always = await runAction('compare-metrics', onComment('always'))
    expect(always.exitCode).toBe(0)
    expect(always.warnings).not.toContainEqual(expect.stringMatching(/no pull request/))
    expect(markerComments(double, pr)).toHaveLength(1)
    expect(always.outputs['comment-url']).toBe(markerComments(double, pr)[0]!.html_url)
  })

  it('creates the comment on the first run and updates it on the second', async () => {
    const pr = 18
    const first = await runAction('compare-metrics', pullRequestRun(double, pr))
    expect(first.exitCode).toBe(0)
    expect(markerComments(double, pr)).toHaveLength(1)
    const url = first.outputs['comment-url']
    expect(url).toMatch(/#issuecomment-\d+$/)
    const second = await runAction(
      'compare-metrics',
      pullRequestRun(double, pr, { inputs: { rules: 'f1: { min: 0.5 }' } })
    )
    expect(second.outputs['comment-url']).toBe(url)
    expect(markerComments(double, pr)).toHaveLength(1)
  })

  it('keeps one comment per report id on the same pull request', async () => {
    const pr = 19
    await runAction('compare-metrics', pullRequestRun(double, pr))
    await runAction('compare-metrics', pullRequestRun(double, pr, { inputs: { 'report-id': 'churn-classifier-eu' } }))
    await runAction('compare-metrics', pullRequestRun(double, pr, { inputs: { 'report-id': 'churn-classifier-eu' } }))
    expect(markerComments(double, pr)).toHaveLength(1)
    expect(markerComments(double, pr, 'churn-classifier-eu')).toHaveLength(1)
  })

  it('leaves exactly one comment when two runs race on the same pull request', async () => {
    const pr = 20
    const runs = await Promise.all([
      runAction('compare-metrics', pullRequestRun(double, pr)),
      runAction('compare-metrics', pullRequestRun(double, pr))
    ])
    expect(runs.map(r => r.exitCode)).toEqual([0, 0])
    expect(markerComments(double, pr)).toHaveLength(1)
    expect(double.comments('acme', 'churn', pr)).toHaveLength(1)
  })

  it('degrades to a warning and the job summary with a read-only token, without failing the gate', async () => {
    const pr = 21
    const run = await runAction('compare-metrics', pullRequestRun(double, pr, { githubToken: READ_TOKEN }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs['comment-url']).toBe('')
    expect(run.warnings.join('\n')).toMatch(/cannot write to this pull request/)
    expect(run.summary).toMatch(/churn-classifier/)
    expect(double.comments('acme', 'churn', pr)).toHaveLength(0)
  })

  it('retries through a secondary rate limit and a 502, then posts', async () => {
    const pr = 22
    double.injectFault({ method: 'GET', path: /\/issues\/22\/comments$/, count: 1, kind: 'server-error', status: 502 })
    double.injectFault({ method: 'POST', path: /\/issues\/22\/comments$/, count: 1, kind: 'secondary-rate-limit' })
    const run = await runAction('compare-metrics', pullRequestRun(double, pr))
    expect(run.exitCode).toBe(0)
    expect(run.outputs['comment-url']).not.toBe('')
    expect(markerComments(double, pr)).toHaveLength(1)
    const statuses = double.requests.filter(r => r.path.endsWith('/issues/22/comments')).map(r => r.status)
    expect(statuses).toEqual(expect.arrayContaining([502, 403, 201]))
  })

  it('keeps a 100,000-metric comparison within the comment limit and points to the job summary', async () => {
    const pr = 23
    const workspace = mkdtempSync(join(tmpdir(), 'modelgate-huge-'))
    const candidate: Record<string, number> = {}
    const baseline: Record<string, number> = {}
    for (let i = 0; i < 100_000; i++) {
      baseline[`feature_${i}.auc`] = 0.9
      candidate[`feature_${i}.auc`] = i % 3 === 0 ? 0.8 : 0.91
    }
    writeFileSync(join(workspace, 'candidate.json'), JSON.stringify(candidate))
    writeFileSync(join(workspace, 'baseline.json'), JSON.stringify(baseline))
    const run = await runAction(
      'compare-metrics',
      pullRequestRun(double, pr, {
        workspace,
        inputs: {
          candidate: 'candidate.json',
          baseline: 'baseline.json',
          rules: '"feature_*.auc": higher',
          'report-id': 'wide'
        }
      })
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.regressions).toBe('33334')
    const [comment] = markerComments(double, pr, 'wide')
    expect([...comment!.body].length).toBeLessThanOrEqual(65_536)
    expect(comment!.body).toMatch(/job summary/)
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024)
  })
})
