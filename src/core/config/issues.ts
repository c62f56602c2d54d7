/**
 * Turns zod issues into ConfigurationErrors that name the file, line and key path and say what was expected, in
 * words a user can act on (zod's own messages say "Invalid input", which helps nobody).
 */
import type * as z from 'zod/mini'
import { ConfigurationError, describeValue } from '../errors.js'
import { formatKeyPath, type KeyPath } from './yaml-locate.js'

type Issue = z.core.$ZodIssue

/** Shown at most; the rest is counted so one bad file does not flood the log. */
const MAX_ISSUES = 5

export function issuesToError(
  issues: readonly Issue[],
  source: string,
  locate: (path: KeyPath) => number | undefined,
  schema: z.core.$ZodType,
  basePath: KeyPath = []
): ConfigurationError {
  const flat = issues.flatMap(issue => flatten(issue, basePath))
  const first = flat[0]!
  const line = locate(first.path)
  const details = flat.slice(0, MAX_ISSUES).map((issue, index) => {
    const where = formatKeyPath(issue.path)
    const issueLine = locate(issue.path)
    const prefix = index === 0 ? '' : `${issueLine !== undefined ? `line ${issueLine}, ` : ''}${where || 'top level'}: `
    return prefix + describeIssue(issue, schema, basePath.length)
  })
  const more = flat.length > MAX_ISSUES ? ` (and ${flat.length - MAX_ISSUES} more problems)` : ''
  return new ConfigurationError(details.join('; ') + more, {
    source,
    ...(line !== undefined ? { line } : {}),
    ...(first.path.length ? { path: formatKeyPath(first.path) } : {})
  })
}

interface FlatIssue {
  issue: Issue
  path: KeyPath
}

function flatten(issue: Issue, basePath: KeyPath): Array<FlatIssue & { path: KeyPath }> {
  const path = [...basePath, ...(issue.path as KeyPath)]
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A rule is `higher`/`lower` or a map: report against the branch that matches the input's shape.
    const input = (issue as { input?: unknown }).input
    const branches = issue.errors
    // The enum branch fails at the rule itself (empty path); the map branch fails inside it or with its own keys.
    const objectBranch = branches.find(b => b.every(i => i.path.length > 0 || i.code === 'unrecognized_keys'))
    if (input !== null && typeof input === 'object' && objectBranch) {
      return objectBranch.flatMap(i => flatten(i, path))
    }
    return [{ issue, path }]
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(key => ({ issue: { ...issue, keys: [key] }, path: [...path, key] }))
  }
  return [{ issue, path }]
}

function describeIssue({ issue, path }: FlatIssue, schema: z.core.$ZodType, baseDepth: number): string {
  const input = (issue as { input?: unknown }).input
  const got = input === undefined ? 'nothing' : describeValue(input)
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `is required: expected ${article(issue.expected)}`
      return `expected ${article(issue.expected)}, got ${got}`
    case 'invalid_value':
      return `expected ${issue.values.map(v => JSON.stringify(v)).join(' or ')}, got ${got}`
    case 'unrecognized_keys': {
      const key = issue.keys[0]!
      const known = keysAt(schema, path.slice(baseDepth, -1))
      const suggestion = key && known.length ? closest(key, known) : undefined
      return (
        `unknown key ${JSON.stringify(key)}` +
        (suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : '') +
        (known.length ? ` (expected one of: ${known.join(', ')})` : '')
      )
    }
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'string') return `must not be empty`
      return `expected a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${got}`
    case 'too_big':
      return `expected a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${got}`
    case 'invalid_key':
      // A record's key failed its own schema; every key schema here is a non-empty string.
      return issue.issues.some(inner => inner.code === 'too_small')
        ? 'an empty name is not allowed; expected a name'
        : `is not an accepted name: ${issue.issues.map(inner => inner.message).join('; ')}`
    case 'invalid_union':
      // The config has two unions: a metric rule, and validation.smoke-test.
      if (path.at(-1) === 'smoke-test') {
        const keys = keysAt(schema, path.slice(baseDepth))
        return `expected "none", "mlflow" or a map (${keys.join(', ')}), got ${got}`
      }
      return `expected "higher", "lower" or a rule map (direction, min, max, max-regression, ...), got ${got}`
    default:
      return issue.message
  }
}

/** The keys an object schema allows at `path`, found by walking the schema, since zod's issue does not list them. */
export function keysAt(schema: z.core.$ZodType, path: KeyPath): string[] {
  let node: z.core.$ZodType | undefined = schema
  const descend = (current: z.core.$ZodType, part: string | number | undefined): z.core.$ZodType | undefined => {
    const def = current._zod.def as unknown as Record<string, unknown> & { type: string }
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
        return descend(def.innerType as z.core.$ZodType, part)
      case 'pipe':
        return descend(def.in as z.core.$ZodType, part)
      case 'union':
        return (def.options as z.core.$ZodType[])
          .map(option => descend(option, part))
          .find((found): found is z.core.$ZodType => found !== undefined)
      case 'object':
        return part === undefined ? current : (def.shape as Record<string, z.core.$ZodType>)[String(part)]
      case 'record':
        return part === undefined ? undefined : (def.valueType as z.core.$ZodType)
      case 'array':
        return part === undefined ? undefined : (def.element as z.core.$ZodType)
      default:
        return undefined
    }
  }
  for (const part of path) {
    node = node && descend(node, part)
  }
  const object = node && descend(node, undefined)
  if (!object) return []
  return Object.keys((object._zod.def as unknown as { shape: Record<string, unknown> }).shape).filter(
    k => k !== '$schema'
  )
}

function article(type: string): string {
  if (type === 'object' || type === 'record' || type === 'map') return 'a map of keys to values'
  if (type === 'array') return 'a list'
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** The nearest known key by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
