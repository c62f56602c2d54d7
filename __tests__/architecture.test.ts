/**
 * The shape docs/architecture.md describes, checked: no import cycle between files or between src/core packages,
 * packages import only downwards (test/architecture/import-graph.ts has the tiers), src/core knows nothing of the
 * actions or the CLI, and the page shows the package graph as it is.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ROOT,
  TIERS,
  buildImportGraph,
  findCycles,
  packageGraph,
  packageOf,
  renderPackageGraph,
  tierOf
} from '../test/architecture/import-graph.js'

const graph = buildImportGraph()
const packages = packageGraph(graph)
const coreFiles = graph.files.filter(file => packageOf(file) !== undefined)

describe('the import graph of src/', () => {
  it('reads the graph (a sanity check that the scanner sees imports)', () => {
    expect(coreFiles.length).toBeGreaterThan(50)
    expect(graph.edges.get('src/core/gates/compare.ts')).toContain('src/core/compare/engine.ts')
  })

  it('has no cycle between files', () => {
    const cycles = findCycles(graph.edges).map(cycle => cycle.join('\n  → '))
    expect(cycles).toEqual([])
  })

  it('has no cycle between src/core packages', () => {
    const edges = new Map([...packages].map(([name, imports]) => [name, [...imports.keys()]]))
    const cycles = findCycles(edges).map(cycle =>
      cycle
        .slice(1)
        .map((to, i) => `${cycle[i]} → ${to} (${packages.get(cycle[i]!)!.get(to)})`)
        .join('\n  ')
    )
    expect(cycles).toEqual([])
  })

  it('places every src/core package in a tier', () => {
    const unplaced = [...packages.keys()].filter(name => tierOf(name) === -1)
    expect({ unplaced, hint: 'add them to TIERS in test/architecture/import-graph.ts' }).toEqual({
      unplaced: [],
      hint: expect.any(String)
    })
  })

  it('imports only downwards between src/core packages', () => {
    const upwards: string[] = []
    for (const [from, imports] of packages) {
      for (const [to, via] of imports) {
        if (tierOf(from) !== -1 && tierOf(to) >= tierOf(from)) upwards.push(`${from} → ${to} (${via})`)
      }
    }
    expect(upwards).toEqual([])
  })

  it('keeps src/core free of the actions, the CLI and (outside core/github) the Actions toolkit', () => {
    const wrong: string[] = []
    for (const file of coreFiles) {
      for (const target of graph.edges.get(file) ?? []) {
        if (!target.startsWith('src/core/')) wrong.push(`${file} → ${target}`)
      }
      const toolkit = [...(graph.bare.get(file) ?? []), ...(graph.outside.get(file) ?? [])].filter(spec =>
        spec.includes('@actions/')
      )
      if (packageOf(file) !== 'github') wrong.push(...toolkit.map(spec => `${file} → ${spec}`))
    }
    expect(wrong).toEqual([])
  })

  it('is shown as it is on the architecture page', () => {
    const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8')
    const shown = /<!-- package-graph -->\s*```\n([\s\S]*?)\n```/.exec(page)?.[1]
    const actual = renderPackageGraph(packages)
    // On failure, the expected value is the block to paste between the fences after `<!-- package-graph -->`.
    expect(shown).toBe(actual)
  })

  it('lists tiers that name each package once', () => {
    const names = TIERS.flat()
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([])
  })
})
