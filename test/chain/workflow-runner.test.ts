import { describe, expect, it } from '@jest/globals'
import { evaluate, interpolate } from './workflow-runner.js'

describe('the workflow runner evaluates expressions as the runner does', () => {
  const contexts = {
    inputs: { 'model-path': 'models/{model}', 'runs-on': 'ubuntu-24.04', 'deploy-runs-on': '' },
    env: { FORK: 'true' },
    needs: { models: { result: 'success', outputs: { matrix: '[{"model":"churn"}]' } } },
    steps: { compare: { outcome: 'failure', outputs: { markdown: '/tmp/x.md' } } },
    github: { event_name: 'pull_request', repository: 'acme/churn', event: { pull_request: { number: 7 } } }
  }

  it("gives `a && 'x' || 'y'` its operand, not a boolean", () => {
    expect(evaluate("env.FORK == 'true' && 'never' || 'auto'", contexts)).toBe('never')
    expect(evaluate("env.FORK == 'false' && 'never' || 'auto'", contexts)).toBe('auto')
    expect(evaluate('inputs.deploy-runs-on || inputs.runs-on', contexts)).toBe('ubuntu-24.04')
  })

  it('reads hyphenated names, step outputs, needs and fromJSON', () => {
    expect(interpolate('${{ inputs.model-path }}:${{ github.event.pull_request.number }}', contexts)).toBe(
      'models/{model}:7'
    )
    expect(evaluate('fromJSON(needs.models.outputs.matrix)', contexts)).toEqual([{ model: 'churn' }])
    expect(evaluate("!cancelled() && steps.compare.outputs.markdown != ''", contexts)).toBe(true)
  })

  it('uses the status of the steps so far', () => {
    const failed = { success: () => false, failure: () => true }
    expect(evaluate('success()', contexts, failed)).toBe(false)
    expect(evaluate("always() && steps.compare.outcome != 'skipped'", contexts, failed)).toBe(true)
  })

  it('fails loudly on a context or function it was not given', () => {
    expect(() => evaluate('vars.MLFLOW_TRACKING_URI', contexts)).toThrow(/cannot evaluate .*vars/)
    expect(() => evaluate('hashFiles(inputs.model-path)', contexts)).toThrow(/cannot evaluate/)
  })
})
