import { describe, expect, it } from '@jest/globals'
import { checkResult, type ValidationReport } from '../model/types.js'
import { renderValidationMarkdown, renderValidationText } from './validation.js'

const failing = checkResult('signature', 'Signature', 'none', [
  { severity: 'error', message: 'the model has no signature' }
])

function report(passed: boolean, failOn: ValidationReport['failOn']): ValidationReport {
  return { model: 'model', checks: [failing], verdict: 'fail', failOn, passed }
}

describe('the verdict line', () => {
  it('says whether the step fails or passes, so a failed verdict on a green step is not a contradiction', () => {
    expect(renderValidationMarkdown(report(false, 'error')).split('\n')[0]).toBe(
      '### ❌ modelgate: model is not fit to ship (fails the step: fail-on error)'
    )
    expect(renderValidationMarkdown(report(true, 'never')).split('\n')[0]).toBe(
      '### ❌ modelgate: model is not fit to ship (the step passes: fail-on never)'
    )
    expect(renderValidationText(report(true, 'never')).split('\n')[0]).toBe('model: FAIL (passes: fail-on never)')
  })
})
