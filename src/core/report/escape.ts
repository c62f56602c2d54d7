/**
 * Making untrusted text safe to show. Metric names, raw values, reasons and provenance strings come from files in a
 * pull request, so anyone who can open one controls them. In the PR comment and job summary they must not:
 * - break a table row (`|`, line breaks) or end the document's structure early;
 * - inject HTML (`<img>`, `<details>`), or write `<!--` / `-->` anywhere in the raw body: the sticky comment is found
 *   by a hidden `<!-- … -->` marker in the raw text, so a metric name must never be able to fake or close one;
 * - notify people (`@user`, `@org/team`), create issue links (`#123`) or render emoji shortcodes (`:x:` could fake a
 *   status icon): GitHub applies those to the rendered text, after Markdown escapes are gone, so a backslash does not
 *   stop them and a zero-width space after the trigger character does;
 * - form emphasis, code, math, links or images (`[x](javascript:…)`).
 * In a terminal they must not carry escape sequences. Nothing here rejects input: it is shown, defused.
 */

/** Names longer than this are cut with an ellipsis; nothing useful is lost and a row stays readable. */
export const NAME_MAX_LENGTH = 200

const ZWSP = '\u200b'
const REPLACEMENT = '\ufffd'

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
// Line and paragraph separators included: GitHub and terminals both treat them as line breaks.
const LINE_BREAK = /\r\n|[\n\r\t\v\f\u0085\u2028\u2029]/g
// C0, DEL and C1 controls (ESC and CSI start terminal escape sequences), and the bidi controls used to make text read
// differently from what it is ("Trojan Source").
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const MARKDOWN_SPECIAL = /[\\`*_~$[\]|<>&@#:]/g
const MARKDOWN_REPLACEMENT: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '@': `@${ZWSP}`,
  '#': `#${ZWSP}`,
  ':': `:${ZWSP}`
}

/**
 * `text` for a Markdown inline context, including a GFM table cell: cut to `max` UTF-16 units, on one line, with every
 * construct listed in the module comment defused. The result contains no raw `<`, `>`, unescaped `|`, `@` or `#`
 * followed by a word character, or line break.
 */
export function escapeMarkdown(text: string, max: number = NAME_MAX_LENGTH): string {
  return clean(text, max).replace(MARKDOWN_SPECIAL, c => MARKDOWN_REPLACEMENT[c] ?? `\\${c}`)
}

/**
 * `text` as a Markdown code span, for values meant to be copied (digests, URIs, tag values): inside a code span
 * nothing is a mention, a link, an emoji or HTML, so the text needs none of escapeMarkdown's invisible guards and is
 * copied exactly as it is. The fence is one backtick longer than the longest run of backticks in the text, as
 * CommonMark allows, and a space pads a text that starts or ends with a backtick or a space (CommonMark strips one on
 * each side). With `table`, pipes are written `\|`: GFM splits table cells before it reads code spans and turns `\|`
 * back into `|`. Line breaks become spaces, controls become U+FFFD, and the text is cut to `max`.
 */
export function codeSpan(text: string, { max = NAME_MAX_LENGTH, table = false } = {}): string {
  let content = clean(text, max)
  if (content === '') return ''
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(longest + 1)
  if (/^[` ]|[` ]$/.test(content) && !/^ +$/.test(content)) content = ` ${content} `
  if (table) content = content.replace(/\|/g, '\\|')
  return `${fence}${content}${fence}`
}

/** `text` for a terminal: cut to `max`, on one line, with no control or bidi characters. */
export function escapeTerminal(text: string, max: number = NAME_MAX_LENGTH): string {
  return clean(text, max)
}

/** Cut `text` to at most `max` UTF-16 units, ending in `…` when cut, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  if (max <= 0) return ''
  let end = max - 1
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${text.slice(0, end)}…`
}

/**
 * An http(s) URL safe to put inside `[text](…)`, or undefined. Only our own caller supplies URLs, but a URL built from
 * a repository or branch name could still carry `)` or spaces that would end the link early.
 */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined
  return parsed.href.replace(
    /[()<>|\\[\]`'" ]/g,
    c => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
  )
}

function clean(text: string, max: number): string {
  // Cut first so the work below is bounded by `max`, whatever the input's size.
  return truncate(String(text), max)
    .replace(LONE_SURROGATE, REPLACEMENT)
    .replace(LINE_BREAK, ' ')
    .replace(CONTROL, REPLACEMENT)
}
