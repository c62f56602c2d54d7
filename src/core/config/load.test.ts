import { describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigFile, parseConfig, parseRulesInput, selectModel } from './load.js'
import { configurationErrorOf } from '../../../test/helpers/errors.js'

const good = `model: churn-classifier
metrics:
  accuracy: { direction: higher, min: 0.8, max-regression: 0.01, required: true }
  latency_p95_ms: { direction: lower, max: 50, max-regression-pct: 10 }
  "per_class.*.recall": { direction: higher, min: 0.7 }
  auc: { threshold: 0.7, min_relative_change: 0.05, greater_is_better: true }
  loss: lower
compare:
  baseline: git:origin/main:metrics.json
  fail-on: warning
`

describe('parseConfig', () => {
  it('accepts the documented example', () => {
    const config = parseConfig(good, '.modelgate.yml')
    expect(config.model).toBe('churn-classifier')
    expect(Object.keys(config.metrics!)).toHaveLength(5)
    expect(config.compare).toEqual({ baseline: 'git:origin/main:metrics.json', 'fail-on': 'warning' })
  })

  it('names file, line and key path of a bad value and what was expected', () => {
    const error = configurationErrorOf(() =>
      parseConfig(good.replace('direction: lower, max: 50', 'direction: down, max: 50'), '.modelgate.yml')
    )
    expect(error.message).toBe(
      '.modelgate.yml:4 (metrics.latency_p95_ms.direction): expected "higher" or "lower", got "down"'
    )
  })

  it('suggests the key meant by a typo and lists the valid keys', () => {
    const error = configurationErrorOf(() =>
      parseConfig('metrics:\n  accuracy:\n    direction: higher\n    max_regression: 0.01\n', 'cfg.yml')
    )
    expect(error.message).toMatch(
      /^cfg\.yml:4 \(metrics\.accuracy\.max_regression\): unknown key "max_regression"; did you mean "max-regression"\?/
    )
    expect(error.message).toMatch(/expected one of: direction, min, max, max-regression/)
  })

  it('reports a wrong type with the value received', () => {
    const error = configurationErrorOf(() => parseConfig('metrics:\n  accuracy: { min: "high" }\n', 'cfg.yml'))
    expect(error.message).toBe('cfg.yml:2 (metrics.accuracy.min): expected a number, got "high"')
  })

  it('names a NaN or infinite bound as what it is, not as null', () => {
    const cases: Array<[string, string]> = [
      ['.nan', 'NaN'],
      ['.inf', 'Infinity'],
      ['-.inf', '-Infinity']
    ]
    for (const [yaml, shown] of cases) {
      const error = configurationErrorOf(() => parseConfig(`metrics:\n  accuracy: { min: ${yaml} }\n`, 'cfg.yml'))
      expect(error.message).toBe(`cfg.yml:2 (metrics.accuracy.min): expected a number, got ${shown}`)
    }
  })

  it('refuses contradictory rules with the line of the offending key', () => {
    const cases: Array<[string, RegExp]> = [
      ['metrics:\n  a:\n    max-regression: 0.1\n', /:3 \(metrics\.a\.max-regression\): needs a direction/],
      ['metrics:\n  a: { min: 2, max: 1 }\n', /:2 \(metrics\.a\.min\): is greater than max/],
      ['metrics:\n  a: { direction: lower, greater_is_better: true }\n', /contradicts greater_is_better/],
      ['metrics:\n  a: { direction: higher, threshold: 1, min: 2 }\n', /threshold\): means min/],
      [
        'metrics:\n  a: { direction: higher, max-regression: 1, min-improvement: 1 }\n',
        /allows a worsening while another key demands/
      ],
      ['metrics:\n  a: { min_relative_change: 2, greater_is_better: true }\n', /expected a number <= 1, got 2/],
      ['metrics:\n  a: { min_absolute_change: 0, greater_is_better: true }\n', /expected a number > 0, got 0/],
      ['metrics:\n  a: { max-regression: -1, direction: higher }\n', /expected a number >= 0, got -1/]
    ]
    for (const [text, expected] of cases)
      expect(configurationErrorOf(() => parseConfig(text, 'c.yml')).message).toMatch(expected)
  })

  it('rejects a rule that is neither a direction nor a map', () => {
    expect(configurationErrorOf(() => parseConfig('metrics:\n  a: up\n', 'c.yml')).message).toMatch(
      /c\.yml:2 \(metrics\.a\): expected "higher", "lower" or a rule map/
    )
  })

  it("describes validation.smoke-test's own forms, not a metric rule's", () => {
    const message = configurationErrorOf(() => parseConfig('validation:\n  smoke-test: yes\n', 'c.yml')).message
    expect(message).toBe(
      'c.yml:2 (validation.smoke-test): expected "none", "mlflow" or a map (server, python, requests, timeout-seconds), got "yes"'
    )
  })

  it('reports YAML syntax errors with their line', () => {
    const error = configurationErrorOf(() => parseConfig('model: x\nmetrics:\n  a: { min: 1\n', 'c.yml'))
    expect(error.message).toMatch(/^c\.yml:\d+: is not valid YAML/)
    expect(error.place?.line).toBeGreaterThanOrEqual(3)
  })

  it('rejects a document that is not a map, and accepts an empty one', () => {
    expect(configurationErrorOf(() => parseConfig('- a\n- b\n', 'c.yml')).message).toMatch(
      /expected a map .* got a list/
    )
    expect(parseConfig('# nothing yet\n', 'c.yml')).toEqual({})
  })

  it('counts the problems it does not spell out', () => {
    const text = 'metrics:\n' + Array.from({ length: 8 }, (_, i) => `  m${i}: { min: "x" }\n`).join('')
    expect(configurationErrorOf(() => parseConfig(text, 'c.yml')).message).toMatch(/\(and 3 more problems\)$/)
  })
})

describe('parseRulesInput', () => {
  it('takes the metrics map with or without the metrics key', () => {
    expect(parseRulesInput('accuracy: higher', "input 'rules'")).toEqual({ accuracy: 'higher' })
    expect(parseRulesInput('metrics:\n  accuracy: higher\n', "input 'rules'")).toEqual({ accuracy: 'higher' })
  })

  it('points into the input on errors', () => {
    expect(configurationErrorOf(() => parseRulesInput('a: higher\nb: { mni: 1 }', "input 'rules'")).message).toMatch(
      /^input 'rules':2 \(b\.mni\): unknown key "mni"; did you mean "min"\?/
    )
  })
})

describe('selectModel', () => {
  const multi = parseConfig('models:\n  - model: a\n    metrics: { x: higher }\n  - model: b\n', 'c.yml')

  it('picks a model of a list by name and explains a wrong or missing name', () => {
    expect(selectModel(multi, 'b', 'c.yml')?.model).toBe('b')
    expect(configurationErrorOf(() => selectModel(multi, 'zz', 'c.yml')).message).toMatch(
      /has no model named "zz"; expected one of: a, b/
    )
    expect(configurationErrorOf(() => selectModel(multi, undefined, 'c.yml')).message).toMatch(/lists 2 models/)
  })

  it('returns the top-level model, or nothing for an empty config', () => {
    expect(selectModel(parseConfig(good, 'c.yml'), undefined, 'c.yml')?.model).toBe('churn-classifier')
    expect(selectModel({}, undefined, 'c.yml')).toBeUndefined()
  })
})

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-config-'))

  it('treats a missing default file as no config, and a missing named file as an error', async () => {
    await expect(loadConfigFile('.modelgate.yml', dir, false)).resolves.toBeUndefined()
    await expect(loadConfigFile('missing.yml', dir, true)).rejects.toThrow(/missing\.yml: config file not found/)
  })

  it('refuses a config the job may not read, by name, whether named or the default', async () => {
    const locked = mkdtempSync(join(tmpdir(), 'modelgate-config-locked-'))
    chmodSync(locked, 0o755)
    writeFileSync(join(locked, '.modelgate.yml'), good, { mode: 0 })
    // Root reads anything: read as nobody, so the refusal is the kernel's own.
    const asRoot = process.getuid?.() === 0
    if (asRoot) process.seteuid!(65534)
    try {
      for (const explicit of [true, false]) {
        await expect(loadConfigFile('.modelgate.yml', locked, explicit)).rejects.toThrow(
          /^\.modelgate\.yml: config file cannot be read \(EACCES\)/
        )
      }
    } finally {
      if (asRoot) process.seteuid!(0)
    }
  })

  it('reads a file relative to the workspace', async () => {
    writeFileSync(join(dir, 'gate.yml'), good)
    const loaded = await loadConfigFile('gate.yml', dir, true)
    expect(loaded?.config.model).toBe('churn-classifier')
  })
})
