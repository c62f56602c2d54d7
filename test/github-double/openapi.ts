/**
 * GitHub's published OpenAPI description as the referee of the GitHub double.
 *
 * The double is only worth trusting while it agrees with GitHub's own description of the API, so every request it
 * receives and every response it sends is checked here against `api.github.com.deref.json` from `@octokit/openapi`.
 * The dereferenced variant is used because it needs no `$ref` resolution and each operation compiles on its own.
 *
 * The description is OpenAPI 3.0, whose `nullable` ajv cannot take as is: ajv's `nullable` option rejects the ~140
 * schemas that say `nullable: true` next to `allOf`/`anyOf`/`oneOf` without a `type`, and it would not add `null`
 * to the ~280 nullable `enum`s. Schemas are therefore converted to plain JSON Schema before compiling.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

type Schema = Record<string, unknown>

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: Schema
  'x-multi-segment'?: boolean
}

interface MediaType {
  schema?: Schema
}

interface OperationSpec {
  operationId: string
  externalDocs?: { url: string }
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content: Record<string, MediaType> }
  responses: Record<string, { content?: Record<string, MediaType> }>
}

interface DescriptionDocument {
  info: { version: string }
  paths: Record<string, Record<string, OperationSpec>>
}

/** What a request check found: GitHub-style text for the client, and where. */
export interface Problem {
  readonly where: string
  readonly message: string
  /** GitHub serves the request anyway (an undeclared query parameter); it is still a violation of the description. */
  readonly ignoredByGitHub?: boolean
}

const DESCRIPTION_FILE = '@octokit/openapi/generated/api.github.com.deref.json'

/** One operation of the description (a method on a path template), with its validators compiled on first use. */
export class DescribedOperation {
  private readonly validators = new Map<string, ValidateFunction>()

  constructor(
    readonly method: string,
    readonly template: string,
    private readonly spec: OperationSpec
  ) {}

  get operationId(): string {
    return this.spec.operationId
  }

  /** The page GitHub names in `documentation_url` for errors of this operation. */
  get documentationUrl(): string {
    return this.spec.externalDocs?.url ?? 'https://docs.github.com/rest'
  }

  get acceptsBody(): boolean {
    return this.spec.requestBody !== undefined
  }

  get requiresBody(): boolean {
    return this.spec.requestBody?.required === true
  }

  /**
   * Path and query parameters arrive as text; they are converted to the schema's type first, as GitHub does, so that
   * `per_page=50` is an integer and `per_page=abc` is not. Query parameters the operation does not declare are
   * reported too: GitHub ignores them, which is exactly how a misspelt parameter goes unnoticed.
   */
  validateParameters(pathParams: Record<string, string>, query: URLSearchParams): Problem[] {
    const problems: Problem[] = []
    const declared = this.spec.parameters ?? []
    for (const parameter of declared) {
      if (parameter.in !== 'path' && parameter.in !== 'query') continue
      const schema = parameter.schema ?? {}
      let raw: string[]
      if (parameter.in === 'path') raw = pathParams[parameter.name] === undefined ? [] : [pathParams[parameter.name]]
      else raw = query.getAll(parameter.name)
      if (raw.length === 0) {
        if (parameter.required)
          problems.push({ where: parameter.name, message: `"${parameter.name}" wasn't supplied.` })
        continue
      }
      const value = schema.type === 'array' ? raw.map(item => coerce(item, itemSchema(schema))) : coerce(raw[0], schema)
      const validate = this.validator(`${parameter.in}:${parameter.name}`, () => schema)
      if (!validate(value)) problems.push(...describeErrors(validate.errors, parameter.name))
    }
    const known = new Set(declared.filter(p => p.in === 'query').map(p => p.name))
    for (const name of new Set(query.keys())) {
      if (!known.has(name)) {
        problems.push({
          where: name,
          message: `"${name}" is not a parameter of this operation.`,
          ignoredByGitHub: true
        })
      }
    }
    return problems
  }

  /** Problems with a parsed JSON request body, worded like GitHub's own 422 "Invalid request." messages. */
  validateBody(body: unknown): Problem[] {
    const schema = this.spec.requestBody?.content['application/json']?.schema
    if (!schema) return []
    const validate = this.validator('request-body', () => schema)
    return validate(body) ? [] : describeErrors(validate.errors)
  }

  /**
   * Problems with a response of the double. A status the operation does not document is only a problem below 400:
   * GitHub's description leaves out the 401s, rate-limit 403s and 5xx that any endpoint can return, so those cannot
   * be checked, but an undocumented success means the double invented behaviour. An error documented without a
   * body (create-a-deployment's 409) may still carry GitHub's error body, which GitHub always sends.
   */
  validateResponse(status: number, body: unknown): string[] {
    const response = this.spec.responses[String(status)] ?? this.spec.responses.default
    if (!response) return status < 400 ? [`status ${status} is not documented for this operation`] : []
    if (!response.content) {
      return body === undefined || status >= 400 ? [] : [`status ${status} is documented without a body`]
    }
    const schema = response.content['application/json']?.schema
    if (!schema) return []
    if (body === undefined) return [`status ${status} is documented with a JSON body but none was sent`]
    const validate = this.validator(`response:${status}`, () => schema)
    if (validate(body)) return []
    return (validate.errors ?? []).map(error => `${error.instancePath || '(root)'} ${error.message ?? error.keyword}`)
  }

  private validator(key: string, schema: () => Schema): ValidateFunction {
    let validate = this.validators.get(key)
    if (!validate) {
      validate = getAjv().compile(toJsonSchema(schema()) as Schema)
      this.validators.set(key, validate)
    }
    return validate
  }
}

/** The result of finding the operation behind a request. */
export type Lookup =
  | { readonly kind: 'operation'; readonly operation: DescribedOperation; readonly pathParams: Record<string, string> }
  /** The path is in the description but not with this method (GitHub answers 404). */
  | { readonly kind: 'method-not-described' }
  | { readonly kind: 'path-not-described' }

export interface ApiDescription {
  /** The `@octokit/openapi` version the description came from. */
  readonly version: string
  /** How long reading and parsing the description took, for the record. */
  readonly loadMilliseconds: number
  find(method: string, pathname: string): Lookup
}

interface Route {
  readonly template: string
  readonly pattern: RegExp
  readonly names: string[]
  readonly literals: number
  readonly operations: Record<string, OperationSpec>
}

let cached: ApiDescription | undefined

/**
 * The description, read once per process (once per test file under jest, whose module registry is per file).
 * `require('@octokit/openapi')` is deliberately avoided: its index eagerly loads all ten descriptions (~400 MB).
 */
export function loadApiDescription(): ApiDescription {
  if (cached) return cached
  const started = performance.now()
  const file = createRequire(import.meta.url).resolve(DESCRIPTION_FILE)
  const document = JSON.parse(readFileSync(file, 'utf8')) as DescriptionDocument
  const loadMilliseconds = Math.round(performance.now() - started)
  const routes = buildRoutes(document.paths)
  const operations = new Map<string, DescribedOperation>()

  cached = {
    version: document.info.version,
    loadMilliseconds,
    find(method, pathname) {
      const verb = method.toLowerCase()
      let pathDescribed = false
      for (const route of routes) {
        const match = route.pattern.exec(pathname)
        if (!match) continue
        pathDescribed = true
        const spec = route.operations[verb]
        if (!spec) continue
        const pathParams: Record<string, string> = {}
        route.names.forEach((name, index) => (pathParams[name] = safeDecode(match[index + 1])))
        const key = `${verb} ${route.template}`
        let operation = operations.get(key)
        if (!operation) {
          operation = new DescribedOperation(method.toUpperCase(), route.template, spec)
          operations.set(key, operation)
        }
        return { kind: 'operation', operation, pathParams }
      }
      return { kind: pathDescribed ? 'method-not-described' : 'path-not-described' }
    }
  }
  return cached
}

/**
 * Templates sorted so that the most literal one wins: `/repos/{owner}/{repo}/commits/{ref}/status` must be tried
 * before `/repos/{owner}/{repo}/commits/{ref}`, whose `ref` is multi-segment (`x-multi-segment`) and would swallow it.
 */
function buildRoutes(paths: DescriptionDocument['paths']): Route[] {
  const routes: Route[] = []
  for (const [template, operations] of Object.entries(paths)) {
    const multiSegment = new Set<string>()
    for (const spec of Object.values(operations)) {
      for (const parameter of spec.parameters ?? []) {
        if (parameter.in === 'path' && parameter['x-multi-segment']) multiSegment.add(parameter.name)
      }
    }
    const names: string[] = []
    const source = template
      .split(/(\{[^}]+\})/)
      .map(part => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1]
        if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        names.push(name)
        return multiSegment.has(name) ? '(.+)' : '([^/]+)'
      })
      .join('')
    const literals = template.split('/').filter(segment => segment !== '' && !segment.includes('{')).length
    routes.push({ template, pattern: new RegExp(`^${source}/?$`), names, literals, operations })
  }
  return routes.sort((a, b) => b.literals - a.literals || a.names.length - b.names.length)
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

function itemSchema(schema: Schema): Schema {
  const items = schema.items
  return typeof items === 'object' && items !== null ? (items as Schema) : {}
}

/** Text from a URL to the schema's type; text that does not convert is left as text so validation reports it. */
function coerce(text: string, schema: Schema): unknown {
  const type = schema.type
  if (type === 'integer' && /^-?\d+$/.test(text)) return Number(text)
  if (type === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text)
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true'
  return text
}

/** GitHub words body problems as `For 'properties/body', 5 is not a string.` and `"body" wasn't supplied.` */
function describeErrors(errors: ErrorObject[] | null | undefined, parameter?: string): Problem[] {
  return (errors ?? []).map(error => {
    const where = parameter ?? githubPointer(error.instancePath)
    if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty: string }).missingProperty)
      return { where: missing, message: `"${missing}" wasn't supplied.` }
    }
    const value = JSON.stringify(error.data)
    if (error.keyword === 'type') {
      const expected = String((error.params as { type: string }).type).split(',')
      const named = expected.map(type => `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`).join(' or ')
      return { where, message: `For '${where}', ${value} is not ${named}.` }
    }
    if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(v => JSON.stringify(v))
      return { where, message: `For '${where}', ${value} is not one of ${allowed.join(', ')}.` }
    }
    return { where, message: `For '${where}', ${value} ${error.message ?? `fails ${error.keyword}`}.` }
  })
}

/** `/labels/0/name` -> `properties/labels/items/properties/name`, the way GitHub points into a request body. */
function githubPointer(instancePath: string): string {
  const segments = instancePath.split('/').slice(1)
  if (segments.length === 0) return 'body'
  return segments.map(segment => (/^\d+$/.test(segment) ? 'items' : `properties/${segment}`)).join('/')
}

const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const
const SUBSCHEMA_MAPS = ['properties', 'patternProperties'] as const

/**
 * OpenAPI 3.0 schema -> JSON Schema. Only schema positions are walked; `enum`, `default` and `example` hold data and
 * are copied untouched. Annotations ajv would ignore anyway are dropped to keep compiled validators small.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema
  const source = schema as Schema
  const out: Schema = {}
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable' || key === 'example' || key === 'description' || key === 'title' || key.startsWith('x-')) {
      continue
    }
    if ((SUBSCHEMA_LISTS as readonly string[]).includes(key) && Array.isArray(value)) out[key] = value.map(toJsonSchema)
    else if ((SUBSCHEMA_MAPS as readonly string[]).includes(key) && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]))
    } else if (key === 'items' || key === 'not' || key === 'additionalProperties') out[key] = toJsonSchema(value)
    else out[key] = value
  }
  // A URL whose documented default is "" (a deployment status's `target_url` without a `log_url`) is "" in GitHub's
  // answers, which `format: uri` alone would refuse.
  if (out.format === 'uri' && out.default === '') out.format = 'uri-or-empty'
  if (source.nullable !== true) return out
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null']
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
    return out
  }
  return { anyOf: [{ type: 'null' }, out] }
}

let ajv: Ajv | undefined

/**
 * `strict: false` because the description uses keywords ajv does not know (`example`, `readOnly`, `x-github-*`).
 * `verbose` puts the offending value into errors, which GitHub's messages quote. Formats are defined here rather
 * than through ajv-formats: the description uses only a few, and the ones that describe storage (`int64`) or
 * conventions ajv cannot check (`uri-template`, `repo.nwo`) are accepted as is.
 */
function getAjv(): Ajv {
  if (ajv) return ajv
  ajv = new Ajv({ strict: false, verbose: true, allErrors: false })
  ajv.addFormat('date-time', {
    type: 'string',
    validate: text =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text) && !Number.isNaN(Date.parse(text))
  })
  ajv.addFormat('date', { type: 'string', validate: text => /^\d{4}-\d{2}-\d{2}$/.test(text) })
  const isUri = (text: string) => /^[a-z][a-z0-9+.-]*:/i.test(text) && URL.canParse(text)
  ajv.addFormat('uri', { type: 'string', validate: isUri })
  ajv.addFormat('uri-or-empty', { type: 'string', validate: text => text === '' || isUri(text) })
  ajv.addFormat('email', { type: 'string', validate: text => /^[^\s@]+@[^\s@]+$/.test(text) })
  for (const format of ['int32', 'int64', 'double', 'float', 'uri-template', 'timestamp', 'repo.nwo', 'binary']) {
    ajv.addFormat(format, true)
  }
  return ajv
}
