import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { ConfigurationError } from './errors.js'
import * as environment from './environment.js'
import { EDGE_ONLY_VARIABLES, EnvVar, readTuningOptions } from './environment.js'

const CORE = dirname(fileURLToPath(import.meta.url))

interface EnvRead {
  readonly file: string
  readonly line: number
  /** The variable's name, or undefined when the code names it in a way this scan cannot settle. */
  readonly name: string | undefined
  readonly text: string
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** `process.env`, or anything else called `env` (`options.env`, `this.env`, a parameter): the environment. */
function isEnvironment(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return node.text === 'env'
  return ts.isPropertyAccessExpression(node) && node.name.text === 'env'
}

const VARIABLE_NAME = /^[A-Z][A-Z0-9_]*$/

/**
 * Every named read of the environment in a file: `env.X`, `env['X']`, `env[EnvVar.X]`, `env[NAME]` with
 * `const NAME = 'X'` in the file, `env[name]` in `for (const name of LIST)` over a list environment.ts exports, and
 * `const { X } = env`. Lower-case properties are skipped: objects that hold a
 * Python environment (`env.dependencies` of a conda.yaml) are not the process environment.
 */
function environmentReads(path: string): EnvRead[] {
  const text = readFileSync(path, 'utf8')
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true)
  const constants = new Map<string, readonly string[]>()
  const reads: EnvRead[] = []
  const file = relative(CORE, path).split('\\').join('/')
  const add = (node: ts.Node, names: readonly (string | undefined)[]) => {
    for (const name of names) {
      reads.push({
        file,
        line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
        name,
        text: node.getText()
      })
    }
  }
  const enumValues = new Map<string, string>(Object.entries(EnvVar))
  const resolve = (key: ts.Expression): readonly (string | undefined)[] => {
    if (ts.isStringLiteralLike(key)) return [key.text]
    if (ts.isIdentifier(key)) return constants.get(key.text) ?? [undefined]
    if (ts.isPropertyAccessExpression(key) && ts.isIdentifier(key.expression) && key.expression.text === 'EnvVar') {
      return [enumValues.get(key.name.text)]
    }
    return [undefined]
  }
  const lists = environment as unknown as Record<string, unknown>
  const collectConstants = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      if (ts.isStringLiteralLike(node.initializer)) constants.set(node.name.text, [node.initializer.text])
    }
    if (
      ts.isForOfStatement(node) &&
      ts.isVariableDeclarationList(node.initializer) &&
      node.initializer.declarations.length === 1 &&
      ts.isIdentifier(node.initializer.declarations[0]!.name) &&
      ts.isIdentifier(node.expression)
    ) {
      const list = lists[node.expression.text]
      if (Array.isArray(list)) constants.set(node.initializer.declarations[0]!.name.text, list as string[])
    }
    ts.forEachChild(node, collectConstants)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isEnvironment(node.expression) && VARIABLE_NAME.test(node.name.text)) {
      add(node, [node.name.text])
    } else if (ts.isElementAccessExpression(node) && isEnvironment(node.expression)) {
      add(
        node,
        resolve(node.argumentExpression).filter(name => name === undefined || VARIABLE_NAME.test(name))
      )
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer &&
      isEnvironment(node.initializer)
    ) {
      for (const element of node.name.elements) {
        const key = element.propertyName ?? element.name
        add(element, [ts.isIdentifier(key) || ts.isStringLiteralLike(key) ? key.text : undefined])
      }
    }
    ts.forEachChild(node, visit)
  }
  collectConstants(source)
  visit(source)
  return reads
}

describe('the environment src/core reads', () => {
  // environment.ts is the list itself and holds the edges' reader of the tuning knobs (readTuningOptions).
  const reads = sourceFiles(CORE)
    .filter(path => path !== join(CORE, 'environment.ts'))
    .flatMap(environmentReads)
  const documented = new Set<string>(Object.values(EnvVar))
  const where = (read: EnvRead) => `${read.file}:${read.line} ${read.text}`

  it('finds the reads it checks (the scan works)', () => {
    const names = new Set(reads.map(read => read.name))
    for (const name of [EnvVar.MlflowTrackingUri, EnvVar.DatabricksHost, EnvVar.GitHubRepository])
      expect(names).toContain(name)
  })

  it('names every variable plainly, so it can be checked', () => {
    expect(reads.filter(read => read.name === undefined).map(where)).toEqual([])
  })

  it('reads only variables documented in EnvVar', () => {
    expect(reads.filter(read => read.name !== undefined && !documented.has(read.name)).map(where)).toEqual([])
  })

  it('leaves the tuning knobs to the edges, which pass them down as options', () => {
    const edgeOnly = reads.filter(read => EDGE_ONLY_VARIABLES.has(read.name as EnvVar))
    expect(edgeOnly.map(where)).toEqual([])
  })
})

describe('the environment the edges read', () => {
  const SRC = join(CORE, '..')
  const reads = [...sourceFiles(join(SRC, 'actions')), ...sourceFiles(join(SRC, 'cli'))].flatMap(environmentReads)
  const documented = new Set<string>(Object.values(EnvVar))

  it('finds the reads it checks, the masked credentials among them', () => {
    const names = new Set(reads.map(read => read.name))
    for (const name of [EnvVar.GitHubWorkspace, EnvVar.DatabricksToken]) expect(names).toContain(name)
  })

  it('reads only variables documented in EnvVar, and INPUT_<NAME> in the runner seam', () => {
    const undocumented = reads.filter(read =>
      read.name === undefined
        ? !(read.file === '../actions/shared/action-io.ts' && read.text.includes('`INPUT_'))
        : !documented.has(read.name)
    )
    expect(undocumented.map(read => `${read.file}:${read.line} ${read.text}`)).toEqual([])
  })
})

describe('readTuningOptions', () => {
  it('reads the knobs that are set, as numbers', () => {
    expect(readTuningOptions({})).toEqual({})
    expect(readTuningOptions({ MODELGATE_RETRY_BASE_MS: ' 0 ', MODELGATE_HTTP_TIMEOUT_MS: '' })).toEqual({
      retryBaseMs: 0
    })
    expect(readTuningOptions({ MODELGATE_RETRY_BASE_MS: '20', MODELGATE_HTTP_TIMEOUT_MS: '1000' })).toEqual({
      retryBaseMs: 20,
      timeoutMs: 1000
    })
  })

  it('refuses a value that is not a number of milliseconds, naming the variable', () => {
    for (const env of [{ MODELGATE_RETRY_BASE_MS: 'fast' }, { MODELGATE_RETRY_BASE_MS: '-1' }]) {
      expect(() => readTuningOptions(env)).toThrow(ConfigurationError)
      expect(() => readTuningOptions(env)).toThrow(/^MODELGATE_RETRY_BASE_MS: expected a number of milliseconds/)
    }
    expect(() => readTuningOptions({ MODELGATE_HTTP_TIMEOUT_MS: '0' })).toThrow(
      'MODELGATE_HTTP_TIMEOUT_MS: expected a number of milliseconds, 1 or more, got "0"'
    )
  })
})
