import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXAMPLE_MODEL } from '../../../test/fixtures/models/real-models.js'
import { configurationErrorOf } from '../../../test/helpers/errors.js'
import { parseTags, runRegistration } from './register.js'

const SOURCE = "input 'tags'"

describe('parseTags', () => {
  it('reads a YAML map of text values', () => {
    expect(parseTags('team: fraud\nowner: "data-science@acme.example"\n', SOURCE)).toEqual({
      team: 'fraud',
      owner: 'data-science@acme.example'
    })
  })

  it('stringifies numbers and booleans, as registries store tags', () => {
    const tags = parseTags(
      'epochs: 20\nlearning_rate: 0.05\nnegative: -3\nproduction_ready: true\ncanary: false',
      SOURCE
    )
    expect(tags).toEqual({
      epochs: '20',
      learning_rate: '0.05',
      negative: '-3',
      production_ready: 'true',
      canary: 'false'
    })
    for (const value of Object.values(tags)) expect(typeof value).toBe('string')
  })

  it('keeps quoted text as written, and text YAML 1.1 would have read as booleans', () => {
    expect(parseTags('version: "1.10"\nflag: "true"\nanswer: yes\ncountry: NO\nempty: ""', SOURCE)).toEqual({
      version: '1.10',
      flag: 'true',
      answer: 'yes',
      country: 'NO',
      empty: ''
    })
  })

  it('reads a flow map, dotted and spaced keys, and keeps their order', () => {
    const tags = parseTags('{ team: fraud, "cost center": 42, mlflow.note.content: hello }', SOURCE)
    expect(tags).toEqual({ team: 'fraud', 'cost center': '42', 'mlflow.note.content': 'hello' })
    expect(Object.keys(tags)).toEqual(['team', 'cost center', 'mlflow.note.content'])
  })

  it('keeps multi-line text', () => {
    expect(parseTags('notes: |\n  line one\n  line two\n', SOURCE)).toEqual({ notes: 'line one\nline two\n' })
  })

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '   \n\t\n'],
    ['an empty flow map', '{}']
  ])('gives {} for %s', (_what, text) => {
    expect(parseTags(text, SOURCE)).toEqual({})
  })

  // Tags whose lines were commented out in the workflow: a valid, empty YAML stream (js-yaml's load refuses it).
  it('gives {} for text that holds only comments', () => {
    expect(parseTags('# team: fraud\n# owner: ana\n', SOURCE)).toEqual({})
  })

  it('refuses a list', () => {
    const error = configurationErrorOf(() => parseTags('- team\n- fraud\n', SOURCE))
    expect(error.place).toEqual({ source: SOURCE })
    expect(error.detail).toBe('expected a YAML map of tag names to values, such as "team: fraud", got ["team","fraud"]')
    expect(error.message).toBe(`${SOURCE}: ${error.detail}`)
  })

  it.each([
    ['text', 'team=fraud', '"team=fraud"'],
    ['a number', '42', '"42"'],
    ['a boolean', 'true', '"true"'],
    ['null', '~', '"~"']
  ])('refuses a scalar (%s)', (_what, text, shown) => {
    const error = configurationErrorOf(() => parseTags(text, SOURCE))
    expect(error.place).toEqual({ source: SOURCE })
    expect(error.detail).toBe(`expected a YAML map of tag names to values, such as "team: fraud", got ${shown}`)
  })

  it('refuses a nested map value, naming its key as the path', () => {
    const error = configurationErrorOf(() => parseTags('team: fraud\nowner:\n  name: ana\n  email: a@x\n', SOURCE))
    expect(error.place).toEqual({ source: SOURCE, path: 'owner' })
    expect(error.detail).toBe('expected a text, number or boolean value, got {"name":"ana","email":"a@x"}')
    expect(error.message).toBe(`${SOURCE} (owner): ${error.detail}`)
  })

  it('refuses a list value, naming its key', () => {
    const error = configurationErrorOf(() => parseTags('reviewers: [ana, bo]', SOURCE))
    expect(error.place).toEqual({ source: SOURCE, path: 'reviewers' })
    expect(error.detail).toBe('expected a text, number or boolean value, got ["ana","bo"]')
  })

  it('keeps an empty value as an empty tag (MLflow allows them)', () => {
    expect(parseTags('team: fraud\nowner:\n', SOURCE)).toEqual({ team: 'fraud', owner: '' })
  })

  it.each([
    ['an unclosed flow sequence', 'team: fraud\nreviewers: [ana, bo\n', 3],
    ['a duplicated key', 'team: fraud\nteam: risk\n', 2],
    ['an unterminated quoted string', 'team: fraud\nowner: "ana\n', 3],
    ['bad indentation', 'team: fraud\nowner: ana\n  email: a@x\n', 3],
    ['a tab in the indentation', 'team:\n\tname: fraud\n', 2]
  ])('refuses invalid YAML (%s) with its line number', (_what, text, line) => {
    const error = configurationErrorOf(() => parseTags(text, SOURCE))
    expect(error.place).toEqual({ source: SOURCE, line })
    expect(error.detail).toMatch(/^is not valid YAML: .+; expected a map such as "team: fraud"$/)
    expect(error.message.startsWith(`${SOURCE}:${line}: is not valid YAML: `)).toBe(true)
  })

  it('names the duplicated key problem', () => {
    const error = configurationErrorOf(() => parseTags('team: fraud\nteam: risk\n', SOURCE))
    expect(error.detail).toContain('duplicated mapping key')
  })

  it.each(['modelgate.digest', 'modelgate.git.commit', 'modelgate.anything'])('reserves %s for lineage', key => {
    const error = configurationErrorOf(() => parseTags(`team: fraud\n${key}: sha256:abc\n`, SOURCE))
    expect(error.place).toEqual({ source: SOURCE, path: key })
    expect(error.detail).toBe('tag names starting with "modelgate." are reserved for lineage; choose another')
  })

  it.each(['"": fraud', '? ""\n: fraud', '"  ": fraud'])(
    'refuses an empty tag name (%j), which no registry stores',
    text => {
      const error = configurationErrorOf(() => parseTags(text, SOURCE))
      expect(error.place?.source).toBe(SOURCE)
      expect(error.detail).toBe('a tag name must not be empty; expected a map such as "team: fraud"')
    }
  )

  it('allows names that only resemble the reserved prefix', () => {
    expect(parseTags('modelgate: yes\nmodelgate_owner: ana\nmy.modelgate.note: x', SOURCE)).toEqual({
      modelgate: 'yes',
      modelgate_owner: 'ana',
      'my.modelgate.note': 'x'
    })
  })

  it('names the source it is given', () => {
    const error = configurationErrorOf(() => parseTags('- a', '--tags'))
    expect(error.place).toEqual({ source: '--tags' })
  })

  // Tags are text: an unquoted scalar keeps the text the user wrote (parsed as a number, 1.10 would become 1.1).
  it('keeps the text of an unquoted number as written', () => {
    expect(parseTags('version: 1.10\ncommit: 0123456\nbuild: 0x1F\nticket: 12345678901234567890', SOURCE)).toEqual({
      version: '1.10',
      commit: '0123456',
      build: '0x1F',
      ticket: '12345678901234567890'
    })
  })
})

describe('registering a model whose gate reports say it failed', () => {
  let workspace: string

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'modelgate-register-gates-'))
    await cp(EXAMPLE_MODEL, join(workspace, 'model'), { recursive: true })
    const report = (name: string, value: object) => writeFile(join(workspace, name), JSON.stringify(value))
    await report('validation-fail.json', { tool: 'modelgate validate-model', verdict: 'fail', passed: true })
    await report('validation-pass.json', { tool: 'modelgate validate-model', verdict: 'pass', passed: true })
    await report('comparison-fail.json', {
      tool: 'modelgate',
      verdict: 'fail',
      passed: false,
      regressions: 2,
      metrics: []
    })
    await report('comparison-warn.json', {
      tool: 'modelgate',
      verdict: 'warn',
      passed: true,
      regressions: 1,
      metrics: []
    })
  })
  afterAll(() => rm(workspace, { recursive: true, force: true }))

  const register = (validationReport: string, comparisonReport: string) =>
    runRegistration({
      workspace,
      name: 'churn',
      modelPath: 'model',
      aliases: [],
      registryPath: 'registry',
      validationReport,
      comparisonReport,
      env: {}
    })

  it('registers it, with the verdicts in its tags, and warns of each failed gate (fail-on: never too)', async () => {
    const run = await register('validation-fail.json', 'comparison-fail.json')
    expect(run.version.tags).toMatchObject({
      'modelgate.validation.verdict': 'fail',
      'modelgate.comparison.verdict': 'fail'
    })
    expect(run.warnings).toEqual([
      "input 'validation-report' says the model did not pass validate-model (verdict fail); it is registered with that verdict in its tags",
      "input 'comparison-report' says the model did not pass compare-metrics (verdict fail, 2 regressions); it is registered with that verdict in its tags"
    ])
  })

  it('says nothing of gates that passed, with warnings or not', async () => {
    const run = await register('validation-pass.json', 'comparison-warn.json')
    expect(run.warnings).toEqual([])
  })
})
