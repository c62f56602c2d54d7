/**
 * MLflow's own verdicts (mlflow.utils.validation in the .venv's MLflow 3) on tag keys and model names, so the
 * checks made before an upload refuse exactly what the server would.
 */
import { describe, expect, it } from '@jest/globals'
import { configurationErrorOf } from '../../../../test/helpers/errors.js'
import { checkMlflowModelName, checkMlflowTag } from './names.js'

const PLACE = { source: "input 'tags'" }

describe('checkMlflowTag', () => {
  it.each(['team', 'a b', 'a:b', 'a/b', 'ünïcødé', '数据', 'x.y-z_1', '.a', 'a..b'])('accepts %j', key => {
    expect(() => checkMlflowTag(key, 'x', PLACE)).not.toThrow()
  })

  it.each(['', 'a*b', '..a', 'a/', '/a', 'a//b', './a', 'a/./b', 'a/..', 'e\u0301'])('refuses %j, naming it', key => {
    const error = configurationErrorOf(() => checkMlflowTag(key, 'x', PLACE))
    expect(error.place).toEqual({ ...PLACE, path: key })
  })

  it('refuses a key or value longer than MLflow stores', () => {
    expect(configurationErrorOf(() => checkMlflowTag('k'.repeat(251), 'x', PLACE)).detail).toContain('250')
    expect(() => checkMlflowTag('k'.repeat(250), 'v'.repeat(100_000), PLACE)).not.toThrow()
    expect(configurationErrorOf(() => checkMlflowTag('k', 'v'.repeat(100_001), PLACE)).detail).toContain('100000')
  })
})

describe('checkMlflowModelName', () => {
  it.each(['churn', 'my model', 'a.b', '.a', 'a..b'])('accepts %j', name => {
    expect(() => checkMlflowModelName(name, { source: "input 'name'" })).not.toThrow()
  })

  it.each([' ', 'a/b', 'a:b', '..a'])('refuses %j', name => {
    expect(configurationErrorOf(() => checkMlflowModelName(name, { source: "input 'name'" })).place).toEqual({
      source: "input 'name'"
    })
  })
})
