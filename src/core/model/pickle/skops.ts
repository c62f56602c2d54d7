/**
 * skops files (MLflow 3's default for scikit-learn): a zip whose `schema.json` names, for every object, the type
 * skops.io.load will import and construct (`__module__` + `__class__`; a function's name for a FunctionNode; a
 * method's owner and name for a MethodNode). skops trusts what the loader's `trusted` list says, and MLflow takes that
 * list from the model's own MLmodel, so a model can vouch for anything: the types are judged here against the same
 * allowlist as pickle imports.
 */
import type { PicklePolicy } from './policy.js'
import type { ImportRecord, PickleScanResult } from './result.js'

const MAX_NODES = 1_000_000

/** The imports a skops schema makes, as a scan result (opcode `skops`), or why the schema cannot be read. */
export function scanSkopsSchema(text: string, policy: PicklePolicy): PickleScanResult | string {
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch (error) {
    return `schema.json is not JSON (${(error as Error).message})`
  }
  const records = new Map<string, ImportRecord>()
  const record = (module: string, name: string): void => {
    const key = `${module}\n${name}`
    const hit = records.get(key)
    if (hit) {
      hit.count++
      return
    }
    const j = policy.judge(module, name)
    records.set(key, {
      module,
      name,
      opcode: 'skops',
      offset: 0,
      rating: j.rating,
      reason: j.reason,
      ...(j.overriddenBy ? { overriddenBy: j.overriddenBy } : {}),
      ...(j.allowedBy ? { allowedBy: j.allowedBy } : {}),
      count: 1
    })
  }
  const stack: unknown[] = [schema]
  let nodes = 0
  while (stack.length) {
    const node = stack.pop()
    if (++nodes > MAX_NODES) return `schema.json has more than ${MAX_NODES} nodes`
    if (Array.isArray(node)) {
      for (const v of node) stack.push(v)
      continue
    }
    if (typeof node !== 'object' || node === null) continue
    const o = node as Record<string, unknown>
    if (typeof o.__module__ === 'string' && typeof o.__class__ === 'string') {
      record(o.__module__, o.__class__)
      const content = o.content as Record<string, unknown> | undefined
      if (o.__loader__ === 'MethodNode' && typeof content?.func === 'string') {
        record(o.__module__, `${o.__class__}.${content.func}`)
      }
    } else if ('__loader__' in o) {
      return 'schema.json has a node without __module__ and __class__'
    }
    for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) stack.push(v)
  }
  return {
    bytes: Buffer.byteLength(text),
    protocol: 0,
    pickles: 0,
    imports: [...records.values()],
    omittedImports: 0,
    problems: [],
    notes: [],
    joblibArrays: 0,
    layout: 'pickle'
  }
}
