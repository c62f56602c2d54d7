/**
 * The import graph of src/, read with the TypeScript compiler's own import scanner (static imports, re-exports,
 * `import type` and `import('…')` alike), and the package graph of src/core derived from it. A package is a direct
 * subfolder of src/core or a top-level file of it (`errors.ts` is the package `errors`).
 *
 * `npx tsx test/architecture/import-graph.ts` prints the package graph that docs/architecture.md shows.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CORE = 'src/core/'

/**
 * The allowed direction, lowest tier first: a package may import only packages of lower tiers, never its own tier
 * or a higher one. Every package must be placed here, so a new one is placed on purpose. Some are not written yet
 * (serving, and the vocabulary, environment and databricks packages of the same change): they are placed where
 * docs/architecture.md says they go.
 */
export const TIERS: ReadonlyArray<readonly string[]> = [
  ['vocabulary'],
  ['errors', 'format', 'json', 'concurrency', 'paths'],
  ['environment', 'duration'],
  ['http', 'config'],
  ['databricks', 'github'],
  ['model-dir'],
  ['registry'],
  ['serving', 'metrics'],
  ['compare', 'model'],
  ['gates'],
  ['report']
]

export interface ImportGraph {
  /** Repository-relative paths (forward slashes) of every non-test source file under src/. */
  readonly files: readonly string[]
  /** File → the files of src/ it imports. */
  readonly edges: ReadonlyMap<string, readonly string[]>
  /** File → the bare module names it imports (`node:fs`, `@actions/core`). */
  readonly bare: ReadonlyMap<string, readonly string[]>
  /** File → relative imports that resolve to no file of src/ (e.g. into node_modules). */
  readonly outside: ReadonlyMap<string, readonly string[]>
}

export function buildImportGraph(root = ROOT): ImportGraph {
  const files = listSources(join(root, 'src')).map(path => toRepoPath(root, path))
  const edges = new Map<string, string[]>()
  const bare = new Map<string, string[]>()
  const outside = new Map<string, string[]>()
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    const targets = new Set<string>()
    for (const { fileName: spec } of importedFiles) {
      if (!spec.startsWith('.')) {
        push(bare, file, spec)
        continue
      }
      const target = resolveSource(join(root, dirname(file)), spec)
      if (target && toRepoPath(root, target).startsWith('src/')) targets.add(toRepoPath(root, target))
      else push(outside, file, spec)
    }
    edges.set(file, [...targets].sort())
  }
  return { files, edges, bare, outside }
}

/** The package of a file under src/core, or undefined for a file elsewhere. */
export function packageOf(file: string): string | undefined {
  if (!file.startsWith(CORE)) return undefined
  const [first, ...rest] = file.slice(CORE.length).split('/')
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first
}

/** Package → the other packages it imports, each with one file-level import that makes the edge (for messages). */
export function packageGraph(graph: ImportGraph): Map<string, Map<string, string>> {
  const packages = new Map<string, Map<string, string>>()
  for (const [file, targets] of graph.edges) {
    const from = packageOf(file)
    if (!from) continue
    const out = packages.get(from) ?? new Map<string, string>()
    packages.set(from, out)
    for (const target of targets) {
      const to = packageOf(target)
      if (to && to !== from && !out.has(to)) out.set(to, `${file} → ${target}`)
    }
  }
  return packages
}

/** Every cycle of the graph, one per strongly connected component, as a closed path (first node repeated last). */
export function findCycles(edges: ReadonlyMap<string, Iterable<string>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  let counter = 0
  const connect = (node: string): void => {
    index.set(node, counter)
    low.set(node, counter++)
    stack.push(node)
    onStack.add(node)
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!))
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    const selfLoop = [...(edges.get(node) ?? [])].includes(node)
    if (component.length > 1 || selfLoop) components.push(component)
  }
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) connect(node)
  return components.map(component => cycleWithin(new Set(component), edges))
}

/** One concrete cycle through the component's smallest member, found by breadth-first search back to it. */
function cycleWithin(component: ReadonlySet<string>, edges: ReadonlyMap<string, Iterable<string>>): string[] {
  const start = [...component].sort()[0]!
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const next of edges.get(node) ?? []) {
      if (!component.has(next)) continue
      if (next === start) {
        const path = [start]
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) {
          path.splice(1, 0, at)
        }
        return [...path, start]
      }
      if (!previous.has(next)) {
        previous.set(next, node)
        queue.push(next)
      }
    }
  }
  return [start, start]
}

export function tierOf(pkg: string): number {
  return TIERS.findIndex(tier => tier.includes(pkg))
}

/**
 * The package graph as the architecture page shows it: highest tier first, a blank line between tiers, each package
 * with what it imports. Packages of TIERS that do not exist yet are left out.
 */
export function renderPackageGraph(packages: ReadonlyMap<string, ReadonlyMap<string, string>>): string {
  const width = Math.max(...[...packages.keys()].map(name => name.length))
  const tiers: string[] = []
  for (let tier = TIERS.length - 1; tier >= 0; tier--) {
    const lines: string[] = []
    for (const name of TIERS[tier]!) {
      const imports = packages.get(name)
      if (!imports) continue
      const targets = [...imports.keys()].sort((a, b) => tierOf(b) - tierOf(a) || a.localeCompare(b))
      lines.push(`${name.padEnd(width)}  → ${targets.length ? targets.join(', ') : '(nothing)'}`)
    }
    if (lines.length) tiers.push(lines.join('\n'))
  }
  return tiers.join('\n\n')
}

function listSources(dir: string): string[] {
  const found: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) found.push(...listSources(path))
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) found.push(path)
  }
  return found
}

/** `./x.js` names `./x.ts` in this repository (ESM with TypeScript's .js suffixes); a folder names its index.ts. */
function resolveSource(fromDir: string, spec: string): string | undefined {
  const base = resolve(fromDir, spec)
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

function toRepoPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/')
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? []
  list.push(value)
  map.set(key, list)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(renderPackageGraph(packageGraph(buildImportGraph())))
}
