import { describe, expect, it } from '@jest/globals'
import type { RegisterRun } from '../gates/register.js'
import { renderRegistrationMarkdown } from './registration.js'

const DIGEST = 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
const RUN_URL = 'https://github.com/acme/churn/actions/runs/9001'

function run(tags: Record<string, string>): RegisterRun {
  return {
    name: 'churn',
    registry: { kind: 'mlflow', location: 'http://127.0.0.1:5000' },
    reports: {},
    warnings: [],
    created: true,
    digest: DIGEST,
    modelUri: 'models:/churn/1',
    aliases: ['champion'],
    version: {
      name: 'churn',
      version: '1',
      status: 'READY',
      source: 'models:/m-1',
      runId: 'abc',
      tags,
      aliases: ['champion', 'candidate']
    }
  }
}

/** The cell text of the tag table's row for `key`, as GFM splits it (an unescaped `|` ends a cell). */
function tagCell(markdown: string, key: string): string {
  const row = markdown.split('\n').find(line => line.startsWith(`| \`${key}\` |`))!
  const cells = row.slice(1, -1).split(/(?<!\\)\|/)
  expect(cells).toHaveLength(2)
  return cells[1]!.trim()
}

describe('the job summary of a registration', () => {
  it('shows digests and URLs as code spans, with nothing invisible to copy along', () => {
    const markdown = renderRegistrationMarkdown(run({ 'modelgate.digest': DIGEST, 'modelgate.run-url': RUN_URL }))
    expect(markdown).not.toContain('\u200b')
    expect(tagCell(markdown, 'modelgate.digest')).toBe(`\`${DIGEST}\``)
    expect(tagCell(markdown, 'modelgate.run-url')).toBe(`\`${RUN_URL}\``)
    expect(markdown).toContain(`| digest | \`${DIGEST}\` |`)
    expect(markdown).toContain('| aliases | `champion`, `candidate` |')
  })

  it('fences a value holding backticks with a longer run instead of changing it', () => {
    const markdown = renderRegistrationMarkdown(run({ note: 'a `b` ``c``', tick: '`x' }))
    expect(tagCell(markdown, 'note')).toBe('``` a `b` ``c`` ```')
    // A value that starts with a backtick is padded with a space on each side; CommonMark strips them.
    expect(tagCell(markdown, 'tick')).toBe('`` `x ``')
  })

  it('keeps a pipe from splitting the table row, and line breaks from ending it', () => {
    const markdown = renderRegistrationMarkdown(run({ expr: 'a|b\nc' }))
    expect(tagCell(markdown, 'expr')).toBe('`a\\|b c`')
  })

  it('writes mentions, issue links and HTML inside code spans, where GitHub renders them as text', () => {
    const markdown = renderRegistrationMarkdown(run({ who: '@acme/ml #12 <img src=x> :x:' }))
    expect(tagCell(markdown, 'who')).toBe('`@acme/ml #12 <img src=x> :x:`')
  })
})
