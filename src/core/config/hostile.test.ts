// Hostile YAML (issue 9, finding 7): alias bombs end fast with a ConfigurationError wherever YAML is read, and a
// rule keyed `__proto__` is kept like any other.
import { describe, expect, it } from '@jest/globals'
import { configurationErrorOf } from '../../../test/helpers/errors.js'
import { compareMetrics } from '../compare/engine.js'
import { toRules } from '../compare/rules.js'
import { parseMetrics } from '../metrics/parse.js'
import { parseMLmodel } from '../model-dir/mlmodel.js'
import { parseTags } from '../gates/register.js'
import { numberValue } from '../metrics/types.js'
import { parseConfig, parseRulesInput, selectModel } from './load.js'

/** Nine lists, each holding the previous one nine times: 9^9 values once expanded. */
function bomb(prefix: string, suffix: string): string {
  const lines = [prefix, 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  let previous = 'a'
  for (const name of 'bcdefgh') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`)
    previous = name
  }
  lines.push(suffix.replace('LAST', previous))
  return `${lines.join('\n')}\n`
}

// The limit is proven by the message naming it; how fast the refusal comes is the bench's business, not a test's.
const refusal = (action: () => unknown): string => configurationErrorOf(action).message

describe('YAML alias bombs', () => {
  it('a 365-byte .modelgate.yml fails fast with a ConfigurationError instead of exhausting memory', () => {
    const text = bomb('model: churn-classifier', 'metrics: {accuracy: {min: *LAST}}')
    expect(text.length).toBeLessThanOrEqual(365)
    expect(refusal(() => parseConfig(text, '.modelgate.yml'))).toMatch(
      /^\.modelgate\.yml: expands, through YAML aliases \(\*name\), to more than 100,000 values/
    )
  })

  it('the rules input and a metrics file fail the same way', () => {
    expect(refusal(() => parseRulesInput(bomb('x: {min: 1}', 'y: *LAST'), "input 'rules'"))).toMatch(
      /^input 'rules': expands, through YAML aliases/
    )
    expect(refusal(() => parseMetrics(bomb('x: 1', 'y: *LAST'), 'yaml', 'metrics.yaml'))).toMatch(
      /^metrics\.yaml: expands, through YAML aliases \(\*name\), to more than 4,000,000/
    )
  })

  it('an MLmodel file and the register-model tags input fail the same way', () => {
    expect(refusal(() => parseMLmodel(bomb('flavors: {}', 'metadata: *LAST'), '.', 'model/MLmodel'))).toMatch(
      /^model\/MLmodel: expands, through YAML aliases/
    )
    expect(refusal(() => parseTags(bomb('team: fraud', 'x: *LAST'), "input 'tags'"))).toMatch(
      /^input 'tags': expands, through YAML aliases/
    )
  })

  it('an alias inside its own anchor is refused, not walked forever', () => {
    expect(configurationErrorOf(() => parseRulesInput('a: &a [1, *a]\n', 'rules')).message).toMatch(/never ends/)
  })

  it('still reads ordinary anchors and aliases', () => {
    const rules = parseRulesInput('accuracy: &strict {direction: higher, min: 0.8}\nf1: *strict\n', 'rules')
    expect(rules.f1).toEqual({ direction: 'higher', min: 0.8 })
  })
})

describe('a rule keyed __proto__', () => {
  it('is kept in the rules input, the config and a models: list, in the order written', () => {
    const rules = parseRulesInput('a: higher\n__proto__: {min: 0.5}\nb: lower\n', "input 'rules'")
    expect(Object.keys(rules)).toEqual(['a', '__proto__', 'b'])
    expect(Object.getPrototypeOf(rules)).toBe(Object.prototype)
    const config = parseConfig('model: m\nmetrics:\n  __proto__: {min: 0.5}\n', '.modelgate.yml')
    expect(Object.entries(config.metrics!)).toEqual([['__proto__', { min: 0.5 }]])
    const listed = parseConfig('models:\n  - model: m\n    metrics: {__proto__: higher}\n', '.modelgate.yml')
    expect(Object.keys(selectModel(listed, 'm', '.modelgate.yml')!.metrics!)).toEqual(['__proto__'])
  })

  it('is validated like any other, with its line', () => {
    const error = configurationErrorOf(() => parseRulesInput('a: higher\n__proto__: {min: high}\n', "input 'rules'"))
    expect(error.message).toMatch(/^input 'rules':2 \(__proto__\.min\): expected a number/)
  })

  it('gates the metric of that name', () => {
    const rules = toRules({ ...parseRulesInput('__proto__: {min: 0.5}', 'rules') })
    const candidate = {
      values: new Map([['__proto__', numberValue(0.4)]]),
      provenance: { kind: 'inline' as const, spec: 'c' }
    }
    expect(compareMetrics(candidate, undefined, rules).verdict).toBe('fail')
  })
})
