// One comparison from user-level settings: the reproductions as a user runs them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configurationRejection } from '../../../test/helpers/errors.js'
import { runComparison } from './compare.js'

let workspace: string

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-run-'))
  writeFileSync(join(workspace, 'c.json'), '{"accuracy": 0.90, "per_class": {"cat": {"recall": 0.8}}}')
  writeFileSync(join(workspace, 'b.json'), '{"accuracy": 0.91, "per_class": {"cat": {"recall": 0.8}}}')
})

afterAll(() => rmSync(workspace, { recursive: true, force: true }))

describe('runComparison', () => {
  it("passes a threshold-only MLflow rule that holds, though the metric worsened (the issue's command)", async () => {
    const result = await runComparison({
      workspace,
      candidate: 'c.json',
      baseline: 'b.json',
      rules: 'accuracy: {threshold: 0.8, greater_is_better: true}'
    })
    expect(result.passed).toBe(true)
    expect(result.comparison.verdict).toBe('pass')
    expect(result.warnings).toEqual([])
  })

  it('says, in its warnings, when there are no rules and when a glob matches nothing', async () => {
    const none = await runComparison({ workspace, candidate: 'c.json', baseline: 'b.json' })
    expect(none.comparison.verdict).toBe('warn')
    expect(none.warnings).toEqual([expect.stringMatching(/No rules were given/)])
    const typo = await runComparison({
      workspace,
      candidate: 'c.json',
      baseline: 'b.json',
      rules: '"per_clas.*.recall": {min: 0.7}\naccuracy: {min: 0.8}'
    })
    expect(typo.warnings).toEqual([expect.stringMatching(/^per_clas\.\*\.recall: no metric matches this pattern/)])
  })

  // An evaluation never reports the metrics a gate measures itself, so their rules would read as missing metrics.
  it.each([
    [
      'deploy.* metrics',
      'deploy-endpoint',
      '  deploy.error_rate: {max: 0.01}\n  "deploy.*": {max: 500}\n',
      'deploy.error_rate'
    ],
    ["the smoke test's metrics", 'validate-model', '  smoke.latency_p95_ms: {max: 50}\n', 'smoke.latency_p95_ms']
  ])('leaves the rules on %s to %s: an evaluation never reports them', async (_what, _owner, rules, ruled) => {
    writeFileSync(join(workspace, 'own-rules.yml'), `metrics:\n  accuracy: {min: 0.8}\n${rules}`)
    const result = await runComparison({
      workspace,
      candidate: 'c.json',
      baseline: 'b.json',
      config: 'own-rules.yml'
    })
    expect(result.passed).toBe(true)
    expect(result.rules.map(rule => rule.pattern)).toEqual(['accuracy'])
    expect(result.comparison.metrics.map(metric => metric.name)).not.toContain(ruled)
  })

  it('says that the rules given all belong to other gates, not that none were given', async () => {
    const result = await runComparison({
      workspace,
      candidate: 'c.json',
      baseline: 'b.json',
      rules: 'deploy.error_rate: {max: 0.01}\nsmoke.latency_p95_ms: {max: 50}'
    })
    expect(result.comparison.verdict).toBe('warn')
    expect(result.warnings).toEqual([
      'The rules given (deploy.error_rate, smoke.latency_p95_ms) are all for metrics that another gate measures ' +
        '(deploy.* for deploy-endpoint, smoke.* for validate-model), so nothing was gated; the metrics are only shown.'
    ])
    expect(result.comparison.notices).toEqual(result.warnings)
  })

  it("names the config's compare.baseline when the baseline it gives cannot be read", async () => {
    writeFileSync(join(workspace, 'stale.yml'), 'metrics: {accuracy: {min: 0.8}}\ncompare: {baseline: old/eval.json}\n')
    const error = await configurationRejection(runComparison({ workspace, candidate: 'c.json', config: 'stale.yml' }))
    expect(error.message).toMatch(/^old\/eval\.json: baseline metrics file not found/)
    expect(error.message).toMatch(/\(the baseline comes from compare\.baseline in stale\.yml\)$/)
    // Given as an input, the baseline is the input's: the config is not mentioned.
    const input = await configurationRejection(
      runComparison({ workspace, candidate: 'c.json', baseline: 'old/eval.json', config: 'stale.yml' })
    )
    expect(input.message).not.toMatch(/compare\.baseline/)
  })

  // The pull request that adds the model adds its metrics file: the base branch has none yet.
  it('says "no baseline yet" when the file is not at the git ref yet, and still fails a candidate missing there', async () => {
    const repo = join(workspace, 'repo')
    mkdirSync(repo)
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' })
    git('init', '-q', '-b', 'main')
    writeFileSync(join(repo, 'README.md'), 'no metrics yet\n')
    git('add', '.')
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'first')
    writeFileSync(join(repo, 'eval.json'), '{"accuracy": 0.9}')
    const result = await runComparison({
      workspace: repo,
      candidate: 'eval.json',
      baseline: 'git:main:eval.json',
      rules: 'accuracy: {direction: higher, min: 0.8}'
    })
    expect(result.passed).toBe(true)
    expect(result.comparison.baseline).toBeUndefined()
    expect(result.comparison.baselineNote).toMatch(
      /^git:main:eval\.json: "eval\.json" does not exist at main \(commit [0-9a-f]{12}\) yet$/
    )
    expect(result.warnings).toEqual([
      expect.stringMatching(/^No baseline: git:main:eval\.json: "eval\.json" does not exist/)
    ])
    const candidate = await configurationRejection(
      runComparison({ workspace: repo, candidate: 'git:main:eval.json', rules: 'accuracy: {min: 0.8}' })
    )
    expect(candidate.message).toMatch(/"eval\.json" does not exist at main/)
    // A ref that does not exist is a mistake in the workflow, not a first model.
    await configurationRejection(
      runComparison({ workspace: repo, candidate: 'eval.json', baseline: 'git:mian:eval.json' })
    )
  })

  it('says when there is no baseline yet', async () => {
    mkdirSync(join(workspace, 'registry'))
    writeFileSync(join(workspace, 'gate.yml'), 'registry: {path: registry}\nmetrics: {accuracy: {min: 0.8}}\n')
    const result = await runComparison({
      workspace,
      candidate: 'c.json',
      baseline: 'models:/churn@champion',
      config: 'gate.yml'
    })
    expect(result.comparison.baselineNote).toMatch(/no version of churn has the alias champion yet/)
    expect(result.warnings).toEqual([expect.stringMatching(/^No baseline: models:\/churn@champion: no version/)])
  })

  it('refuses models:/…@champion with no tracking URI when the registry folder does not exist, naming tracking-uri', async () => {
    const error = await configurationRejection(
      runComparison({
        workspace,
        candidate: 'c.json',
        baseline: 'models:/churn@champion',
        rules: 'accuracy: {min: 0.8}'
      })
    )
    expect(error.message).toMatch(/input 'tracking-uri'/)
  })
})
