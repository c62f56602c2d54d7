import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readmeWithCurrentReference } from '../scripts/readme-config.js'

const ROOT = new URL('..', import.meta.url)
const README = readFileSync(new URL('README.md', ROOT), 'utf8')

/** Every fenced block the README says is a file: `<!-- file: path -->`, a blank line, then the block. */
function quotedFiles(text: string): Array<{ path: string; body: string }> {
  const quoted = /<!-- file: (\S+) -->\n\n```[a-z]*\n([\s\S]*?)```\n/g
  return [...text.matchAll(quoted)].map(match => ({ path: match[1]!, body: match[2]! }))
}

describe('README.md', () => {
  it('quotes the two caller workflows whole, exactly as the files are', () => {
    const quoted = quotedFiles(README)
    expect(quoted.map(q => q.path)).toEqual([
      'examples/workflows/model-gate.yml',
      'examples/workflows/model-promote.yml'
    ])
    for (const { path, body } of quoted) expect(body).toBe(readFileSync(new URL(path, ROOT), 'utf8'))
    // Every file marker is followed by its block: none is left dangling where the test would not look.
    expect(README.match(/<!-- file: /g)).toHaveLength(quoted.length)
  })

  it('names the required check as the example workflow reports it', () => {
    const gate = readFileSync(new URL('examples/workflows/model-gate.yml', ROOT), 'utf8')
    const caller = /^ {2}([\w-]+):\n {4}name: ([\w-]+)\n {4}uses: [^\n]*model-pr-gate\.yml/m.exec(gate)
    expect(caller?.[2]).toBe(caller?.[1])
    expect(README).toContain(`**\`${caller![2]} / model-gate\`**`)
    expect(gate).toContain(`Require the check "${caller![2]} / model-gate"`)
  })

  it('shows the config reference as schema/modelgate.schema.json gives it (npm run schema renders it)', async () => {
    const { current, expected } = await readmeWithCurrentReference(ROOT)
    expect(current).toBe(expected)
    expect(current).toContain('| `validation.max-size-mb`')
    expect(current).toContain('| `max-regression-pct`')
  })

  it('links only files that exist', () => {
    const links = [...README.matchAll(/\]\(((?!https?:|#)[^)\s]+)\)/g)].map(match => match[1]!.split('#')[0]!)
    expect(links.length).toBeGreaterThan(5)
    expect(links.filter(link => !existsSync(join(new URL('.', ROOT).pathname, link)))).toEqual([])
  })
})
