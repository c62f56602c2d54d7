import { describe, expect, it } from '@jest/globals'
import { configurationErrorOf } from '../../../test/helpers/errors.js'
import { checkAlias, modelVersionUri, parseModelUri, splitAliases } from './uri.js'

const SOURCE = "input 'model-uri'"
const HEX = '0123456789abcdef0123456789abcdef'

describe('parseModelUri', () => {
  it('parses a version', () => {
    expect(parseModelUri('models:/churn/3', SOURCE)).toEqual({ kind: 'version', name: 'churn', version: '3' })
    expect(parseModelUri('models:/churn/120', SOURCE)).toEqual({ kind: 'version', name: 'churn', version: '120' })
  })

  it('parses a version of a Unity Catalog name with dots', () => {
    expect(parseModelUri('models:/main.ml.churn/7', SOURCE)).toEqual({
      kind: 'version',
      name: 'main.ml.churn',
      version: '7'
    })
  })

  it('tolerates extra slashes after the scheme', () => {
    expect(parseModelUri('models:///churn/3', SOURCE)).toEqual({ kind: 'version', name: 'churn', version: '3' })
  })

  it('parses an alias', () => {
    expect(parseModelUri('models:/churn@champion', SOURCE)).toEqual({ kind: 'alias', name: 'churn', alias: 'champion' })
  })

  it('parses an alias of a Unity Catalog name with dots', () => {
    expect(parseModelUri('models:/main.ml.churn@champion', SOURCE)).toEqual({
      kind: 'alias',
      name: 'main.ml.churn',
      alias: 'champion'
    })
  })

  it('splits at the last "@"', () => {
    expect(parseModelUri('models:/team@corp.churn@challenger', SOURCE)).toEqual({
      kind: 'alias',
      name: 'team@corp.churn',
      alias: 'challenger'
    })
  })

  it('parses an MLflow 3 logged model id', () => {
    expect(parseModelUri(`models:/m-${HEX}`, SOURCE)).toEqual({ kind: 'logged-model', modelId: `m-${HEX}` })
  })

  it('does not take a name that only looks like a logged model id for one', () => {
    // 31 hex digits, upper-case hex and a version after the id are registered model names, not logged models.
    expect(() => parseModelUri(`models:/m-${HEX.slice(1)}`, SOURCE)).toThrow(/lacks a version or alias/)
    expect(() => parseModelUri(`models:/m-${HEX.toUpperCase()}`, SOURCE)).toThrow(/lacks a version or alias/)
    expect(parseModelUri(`models:/m-${HEX}/2`, SOURCE)).toEqual({ kind: 'version', name: `m-${HEX}`, version: '2' })
  })

  it('parses runs:/ with a path', () => {
    expect(parseModelUri('runs:/0a1b2c3d/model', SOURCE)).toEqual({ kind: 'run', runId: '0a1b2c3d', path: 'model' })
    expect(parseModelUri('runs:/0a1b2c3d/artifacts/model/', SOURCE)).toEqual({
      kind: 'run',
      runId: '0a1b2c3d',
      path: 'artifacts/model'
    })
  })

  it('parses runs:/ without a path', () => {
    expect(parseModelUri('runs:/0a1b2c3d', SOURCE)).toEqual({ kind: 'run', runId: '0a1b2c3d', path: '' })
    expect(parseModelUri('runs:/0a1b2c3d/', SOURCE)).toEqual({ kind: 'run', runId: '0a1b2c3d', path: '' })
    expect(parseModelUri('runs://0a1b2c3d/model', SOURCE)).toEqual({ kind: 'run', runId: '0a1b2c3d', path: 'model' })
  })

  it('refuses runs:/ without a run id', () => {
    for (const uri of ['runs:/', 'runs://']) {
      const error = configurationErrorOf(() => parseModelUri(uri, SOURCE))
      expect(error.detail).toContain(`"${uri}" has no run id`)
      expect(error.place).toEqual({ source: SOURCE })
    }
  })

  it.each(['Production', 'production', 'Staging', 'Archived', 'None', 'latest', 'Latest', 'LATEST'])(
    'refuses the stage or "latest" in models:/churn/%s and points at aliases',
    stage => {
      const uri = `models:/churn/${stage}`
      const error = configurationErrorOf(() => parseModelUri(uri, SOURCE))
      expect(error.place).toEqual({ source: SOURCE })
      expect(error.detail).toContain(`"${uri}" names a stage or "latest"`)
      expect(error.detail).toContain('use an alias (models:/churn@champion) or a version number')
      expect(error.message).toBe(`${SOURCE}: ${error.detail}`)
    }
  )

  it('names the model in the alias suggestion for a dotted name', () => {
    const error = configurationErrorOf(() => parseModelUri('models:/main.ml.churn/Production', SOURCE))
    expect(error.detail).toContain('models:/main.ml.churn@champion')
  })

  it.each([
    ['models:/churn', 'lacks a version or alias'],
    ['models:/churn/', 'lacks a version or alias'],
    ['models:/', 'lacks a version or alias'],
    ['models:/churn//', 'lacks a version or alias'],
    ['models:/@champion', 'lacks a model name or alias'],
    ['models:/churn@', 'lacks a model name or alias'],
    ['models:/@', 'lacks a model name or alias']
  ])('refuses %s: %s', (uri, why) => {
    const error = configurationErrorOf(() => parseModelUri(uri, SOURCE))
    expect(error.detail).toBe(
      `"${uri}" ${why}; expected models:/<name>/<version>, models:/<name>@<alias> or runs:/<run-id>/<path>, as in models:/churn@champion`
    )
    expect(error.place).toEqual({ source: SOURCE })
  })

  it.each(['0', '01', '-1', '1.0', 'v3', 'three'])('refuses the version "%s"', version => {
    const uri = `models:/churn/${version}`
    const error = configurationErrorOf(() => parseModelUri(uri, SOURCE))
    expect(error.detail).toContain(`"${uri}" has the version "${version}"`)
    expect(error.detail).toContain('as in models:/churn@champion')
  })

  it.each(['churn@champion', 'churn/3', 'model:/churn/3', 'Models:/churn/3', 's3://bucket/model', ''])(
    'refuses "%s", which is not a model URI',
    uri => {
      const error = configurationErrorOf(() => parseModelUri(uri, SOURCE))
      expect(error.detail).toContain(`"${uri}" is not a model URI`)
      expect(error.place).toEqual({ source: SOURCE })
    }
  )

  it('names the source it was given', () => {
    const error = configurationErrorOf(() => parseModelUri('models:/churn', "input 'baseline'"))
    expect(error.place).toEqual({ source: "input 'baseline'" })
    expect(error.message.startsWith("input 'baseline': ")).toBe(true)
  })
})

describe('modelVersionUri', () => {
  it('round-trips through parseModelUri', () => {
    expect(modelVersionUri('main.ml.churn', '4')).toBe('models:/main.ml.churn/4')
    expect(parseModelUri(modelVersionUri('main.ml.churn', '4'), SOURCE)).toEqual({
      kind: 'version',
      name: 'main.ml.churn',
      version: '4'
    })
  })
})

describe('checkAlias', () => {
  const SOURCE_ALIASES = "input 'aliases'"

  it.each(['challenger', 'champion_2', 'a-b', 'Champion', 'v', 'v3a', 'version3', '3', '_', 'x'.repeat(255)])(
    'accepts %s and returns it',
    alias => {
      expect(checkAlias(alias, SOURCE_ALIASES)).toBe(alias)
    }
  )

  it.each(['latest', 'LATEST', 'Latest'])('refuses the reserved %s', alias => {
    const error = configurationErrorOf(() => checkAlias(alias, SOURCE_ALIASES))
    expect(error.place).toEqual({ source: SOURCE_ALIASES })
    expect(error.detail).toBe(
      `alias "${alias}" is reserved (MLflow reads "latest" and v<number> as versions); choose another name, as in challenger`
    )
  })

  it.each(['v3', 'V12', 'v0', 'v007'])('refuses %s, which reads as a version', alias => {
    const error = configurationErrorOf(() => checkAlias(alias, SOURCE_ALIASES))
    expect(error.detail).toContain(`alias "${alias}" is reserved`)
    expect(error.message).toBe(`${SOURCE_ALIASES}: ${error.detail}`)
  })

  it.each(['has space', 'a.b', 'a/b', 'a@b', 'champé', '', ' champion', 'champion\n'])(
    'refuses %j, which has characters aliases cannot have',
    alias => {
      const error = configurationErrorOf(() => checkAlias(alias, SOURCE_ALIASES))
      expect(error.place).toEqual({ source: SOURCE_ALIASES })
      expect(error.detail).toBe(
        `alias "${alias}" is not valid; expected letters, digits, "_" and "-" (at most 255), as in challenger`
      )
    }
  )

  it('refuses an alias of 256 characters', () => {
    const alias = 'a'.repeat(256)
    const error = configurationErrorOf(() => checkAlias(alias, SOURCE_ALIASES))
    expect(error.detail).toContain('is not valid')
    expect(error.detail).toContain('(at most 255)')
  })
})

describe('splitAliases', () => {
  it('reads a comma list or lines, without blanks', () => {
    expect(splitAliases(' challenger, staging ,,\nqa\n')).toEqual(['challenger', 'staging', 'qa'])
    expect(splitAliases(undefined)).toEqual([])
  })

  it('names an alias given twice once, so it is set once and listed once', () => {
    expect(splitAliases('challenger, challenger,\nchallenger, Challenger')).toEqual(['challenger', 'Challenger'])
  })
})
