import { describe, expect, it } from '@jest/globals'
import { codeSpan, escapeMarkdown, escapeTerminal, NAME_MAX_LENGTH, safeUrl, truncate } from './escape.js'

const Z = '\u200b'

describe('escapeMarkdown', () => {
  it.each<[string, string]>([
    ['accuracy', 'accuracy'],
    ['f1_macro', 'f1\\_macro'],
    ['a|b', 'a\\|b'],
    ['a\\|b', 'a\\\\\\|b'],
    ['line\nbreak\r\nand\ttab', 'line break and tab'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['<!-- modelgate:other -->', `&lt;!-- modelgate:${Z}other --&gt;`],
    ['</details>', '&lt;/details&gt;'],
    ['&lt;', '&amp;lt;'],
    ['@octocat', `@${Z}octocat`],
    ['@org/team', `@${Z}org/team`],
    ['#123', `#${Z}123`],
    ['acme/repo#7', `acme/repo#${Z}7`],
    ['[x](javascript:alert(1))', `\\[x\\](javascript:${Z}alert(1))`],
    ['![i](https://e.vil/p.png)', `!\\[i\\](https:${Z}//e.vil/p.png)`],
    [':white_check_mark:', `:${Z}white\\_check\\_mark:${Z}`],
    ['**bold** ~~gone~~ `code` $x$', '\\*\\*bold\\*\\* \\~\\~gone\\~\\~ \\`code\\` \\$x\\$'],
    ['rtl\u202eevil', 'rtl\ufffdevil'],
    ['bell\u0007', 'bell\ufffd'],
    ['lone\ud800', 'lone\ufffd']
  ])('%j → %j', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected)
  })

  it('cuts absurdly long names with an ellipsis', () => {
    const escaped = escapeMarkdown('x'.repeat(10_000))
    expect(escaped).toHaveLength(NAME_MAX_LENGTH)
    expect(escaped.endsWith('…')).toBe(true)
  })
})

describe('truncate', () => {
  it('leaves short text alone', () => {
    expect(truncate('abc', 3)).toBe('abc')
  })

  it('never splits a surrogate pair', () => {
    const cut = truncate('ab😀cd', 4)
    expect(cut).toBe('ab…')
    expect(truncate('', 0)).toBe('')
    expect(truncate('abc', 0)).toBe('')
  })
})

describe('escapeTerminal', () => {
  it('removes escape sequences and line breaks', () => {
    expect(escapeTerminal('\u001b[31mred\u001b[0m\nnext\u009b2J')).toBe('\ufffd[31mred\ufffd[0m next\ufffd2J')
  })

  it('keeps Markdown characters: a terminal does not interpret them', () => {
    expect(escapeTerminal('a|b_<c>@d')).toBe('a|b_<c>@d')
  })
})

describe('safeUrl', () => {
  it('accepts http(s) and encodes characters that would end a Markdown link', () => {
    expect(safeUrl('https://github.com/a/b/actions/runs/1#summary-2')).toBe(
      'https://github.com/a/b/actions/runs/1#summary-2'
    )
    expect(safeUrl('https://example.com/a)b(c d')).toBe('https://example.com/a%29b%28c%20d')
  })

  it('rejects other schemes and garbage', () => {
    expect(safeUrl('javascript:alert(1)')).toBeUndefined()
    expect(safeUrl('data:text/html,x')).toBeUndefined()
    expect(safeUrl('not a url')).toBeUndefined()
    expect(safeUrl(undefined)).toBeUndefined()
  })
})

describe('codeSpan', () => {
  it('copies the text exactly, inside a fence longer than any backtick run in it', () => {
    expect(codeSpan('sha256:ab')).toBe('`sha256:ab`')
    expect(codeSpan('a`b')).toBe('``a`b``')
    expect(codeSpan('a``b`')).toBe('``` a``b` ```')
    expect(codeSpan(' x')).toBe('`  x `')
    expect(codeSpan('  ')).toBe('`  `')
    expect(codeSpan('')).toBe('')
  })

  it('escapes pipes only in a table, and never leaves a line break or control character', () => {
    expect(codeSpan('a|b')).toBe('`a|b`')
    expect(codeSpan('a|b', { table: true })).toBe('`a\\|b`')
    expect(codeSpan('a\nb\u001b')).toBe('`a b\ufffd`')
    expect(codeSpan('abcdef', { max: 4 })).toBe('`abc…`')
  })
})
