/**
 * A bound on YAML alias expansion, for every YAML modelgate reads.
 *
 * js-yaml resolves an alias (`*name`) to the very object its anchor made, so loading is cheap: a 340-byte file of
 * nine lists, each holding the previous one nine times, loads in microseconds. Everything after loading is not: a
 * schema check, a copy or a walk visits each shared node once per path to it, 9^9 (387 million) times, and the step
 * ran past 2 GB of memory. js-yaml's `maxAliases` counts alias nodes, which does not bound this (81 aliases do it).
 * So the loaded document is measured as it would be expanded, each shared node's size computed once (linear in the
 * document), and refused past a limit before anything walks it.
 */
import { ConfigurationError, type ErrorPlace } from '../errors.js'

/** Far more values than any config, rules input, MLmodel or conda.yaml holds. */
export const MAX_YAML_VALUES = 100_000

/** The children a node has when expanded; the default knows arrays, Maps and objects. */
export type Children = (node: object) => Iterable<unknown>

const defaultChildren: Children = node =>
  Array.isArray(node) ? node : node instanceof Map ? node.values() : Object.values(node)

/**
 * How many values `document` holds with every alias expanded (a shared node counts once per place it appears),
 * or `Infinity` for a node that contains itself. Counting stops just past `limit`.
 */
export function expandedSize(document: unknown, limit: number, children: Children = defaultChildren): number {
  const sizes = new Map<object, number>()
  const open = new Set<object>()
  const measure = (node: unknown): number => {
    if (node === null || typeof node !== 'object') return 1
    const known = sizes.get(node)
    if (known !== undefined) return known
    if (open.has(node)) return Infinity
    open.add(node)
    let size = 1
    for (const child of children(node)) {
      size += measure(child)
      if (size > limit) break
    }
    open.delete(node)
    sizes.set(node, size)
    return size
  }
  return measure(document)
}

/** Throws a ConfigurationError naming `place` when `document` expands past `limit` values. */
export function checkYamlExpansion(
  document: unknown,
  place: ErrorPlace,
  options: { limit?: number; children?: Children; expected?: string } = {}
): void {
  const limit = options.limit ?? MAX_YAML_VALUES
  const size = expandedSize(document, limit, options.children)
  if (size <= limit) return
  const what =
    size === Infinity
      ? 'holds a YAML alias (*name) inside the node its anchor (&name) names, so it never ends'
      : `expands, through YAML aliases (*name), to more than ${limit.toLocaleString('en-US')} values`
  throw new ConfigurationError(`${what}; expected ${options.expected ?? 'YAML of ordinary size'}`, place)
}
