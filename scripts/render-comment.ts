// Renders the pull-request comment as a reviewer sees it: the example comparison (the test suite's fixtures in
// examples/churn-classifier) through the real renderer, as HTML with GitHub-like CSS at a pull request's width,
// photographed by headless Chromium (Debian's `chromium` package). Not shipped; run it after changing the comment:
//
//   npx tsx scripts/render-comment.ts [out.png]      (default docs/comment.png)
//
// The Markdown subset the comment uses (headings, lists, tables, <details>, <sub>, emphasis, links, block quotes,
// backslash escapes) is converted here by a small converter: the project has no Markdown renderer to reuse.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runComparison } from '../src/core/gates/compare.js'
import { renderMarkdown } from '../src/core/report/markdown.js'

const ROOT = resolve(import.meta.dirname, '..')
const WIDTH = 780

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Inline Markdown: escapes, code, bold, italic, links. Raw HTML the comment writes (<sub>) passes through. */
function inline(text: string): string {
  const held: string[] = []
  const hold = (html: string) => `\uE000${held.push(html) - 1}\uE001`
  let out = text.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, (_, c: string) => hold(escapeHtml(c)))
  out = out.replace(/`([^`]+)`/g, (_, code: string) => hold(`<code>${escapeHtml(code)}</code>`))
  out = out.replace(/<(\/?)(sub|summary|details|b|code)>/g, (_, slash: string, tag: string) => hold(`<${slash}${tag}>`))
  out = escapeHtml(out)
  out = out.replace(/\[([^\]]+)\]\(([^)]+)\)/g, '<a href="$2">$1</a>')
  out = out.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
  out = out.replace(/\*([^*]+)\*/g, '<em>$1</em>')
  return out.replace(/\uE000(\d+)\uE001/g, (_, i: string) => held[Number(i)]!)
}

function cells(line: string): string[] {
  const parts: string[] = []
  let cell = ''
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cell += '\\|'
      i++
    } else if (body[i] === '|') {
      parts.push(cell.trim())
      cell = ''
    } else cell += body[i]
  }
  parts.push(cell.trim())
  return parts
}

export function markdownToHtml(markdown: string): string {
  const lines = markdown.split('\n')
  const html: string[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim() === '') {
      i++
    } else if (/^#{1,6} /.test(line)) {
      const level = /^#+/.exec(line)![0].length
      html.push(`<h${level}>${inline(line.slice(level + 1))}</h${level}>`)
      i++
    } else if (line.startsWith('|')) {
      const head = cells(line)
      const align = cells(lines[i + 1]!).map(a => (a.endsWith(':') ? 'right' : 'left'))
      const rows: string[] = []
      for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
        rows.push(
          `<tr>${cells(lines[i]!)
            .map((c, k) => `<td align="${align[k]}">${inline(c)}</td>`)
            .join('')}</tr>`
        )
      }
      const th = head.map((c, k) => `<th align="${align[k]}">${inline(c)}</th>`).join('')
      html.push(`<table><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table>`)
    } else if (line.startsWith('- ')) {
      const items: string[] = []
      for (; i < lines.length && lines[i]!.startsWith('- '); i++) items.push(`<li>${inline(lines[i]!.slice(2))}</li>`)
      html.push(`<ul>${items.join('')}</ul>`)
    } else if (line.startsWith('>')) {
      const quoted: string[] = []
      for (; i < lines.length && lines[i]!.startsWith('>'); i++) quoted.push(lines[i]!.replace(/^> ?/, ''))
      html.push(`<blockquote>${markdownToHtml(quoted.join('\n'))}</blockquote>`)
    } else if (/^<\/?details>|^<details>/.test(line)) {
      html.push(line.replace(/<summary>(.*)<\/summary>/, (_, s: string) => `<summary>${inline(s)}</summary>`))
      i++
    } else {
      const paragraph: string[] = []
      for (; i < lines.length && lines[i]!.trim() !== '' && !/^(\||- |#|>|<details|<\/details)/.test(lines[i]!); i++)
        paragraph.push(lines[i]!)
      html.push(`<p>${inline(paragraph.join(' '))}</p>`)
    }
  }
  return html.join('\n')
}

const CSS = `
body { margin: 0; background: #ffffff; font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans",
  Helvetica, Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; font-size: 14px;
  line-height: 1.5; color: #1f2328; }
.comment { box-sizing: border-box; width: ${WIDTH}px; border: 1px solid #d0d7de; border-radius: 6px; margin: 0; }
.header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; color: #59636e;
  border-radius: 6px 6px 0 0; }
.body { padding: 16px; word-wrap: break-word; }
h3 { font-size: 1.25em; font-weight: 600; margin: 0 0 16px; line-height: 1.25; }
p, ul, table, details, blockquote { margin: 0 0 16px; }
ul { padding-left: 2em; }
blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d0d7de; }
blockquote p { margin: 0; }
table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content; max-width: 100%;
  overflow: auto; }
th, td { padding: 6px 13px; border: 1px solid #d0d7de; }
th { font-weight: 600; }
tbody tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; }
details[open] summary { margin-bottom: 16px; }
sub { font-size: 75%; color: #59636e; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 85%; background: #eff1f3;
  padding: .2em .4em; border-radius: 6px; }
a { color: #0969da; text-decoration: none; }
`

function page(markdown: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}</style></head><body>
<div class="comment"><div class="header"><strong>github-actions</strong> <span>bot</span> commented</div>
<div class="body">${markdownToHtml(markdown)}</div></div></body></html>`
}

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'comment.png'))
  const example = join(ROOT, 'examples', 'churn-classifier')
  const run = await runComparison({ workspace: example, candidate: 'metrics/candidate.json' })
  const markdown = renderMarkdown(run.comparison, {
    title: run.title,
    reportId: run.reportId,
    failOn: run.failOn,
    passed: run.passed,
    rules: run.rules,
    summaryUrl: 'https://github.com/acme/churn/actions/runs/1',
    ...(run.rulesSource ? { rulesSource: run.rulesSource } : {})
  })
  const profile = mkdtempSync(join(tmpdir(), 'modelgate-chromium-'))
  const htmlPath = join(profile, 'comment.html')
  writeFileSync(htmlPath, page(markdown))
  try {
    const shot = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${WIDTH},2400`,
        `--screenshot=${out}`,
        `file://${htmlPath}`
      ],
      { encoding: 'utf8' }
    )
    if (shot.status !== 0) throw new Error(`chromium exited ${shot.status}: ${shot.stderr}`)
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
  // The window is taller than the comment: crop the white below it (Pillow from the project's .venv).
  const crop = spawnSync(
    join(ROOT, '.venv', 'bin', 'python'),
    [
      '-c',
      'import sys; from PIL import Image, ImageChops; im = Image.open(sys.argv[1]).convert("RGB"); ' +
        'box = ImageChops.difference(im, Image.new("RGB", im.size, (255, 255, 255))).getbbox(); ' +
        'im.crop((0, 0, im.size[0], min(im.size[1], box[3] + 8))).save(sys.argv[1], optimize=True)',
      out
    ],
    { encoding: 'utf8' }
  )
  if (crop.status !== 0) throw new Error(`cropping failed: ${crop.stderr}`)
  console.log(`wrote ${out}`)
}

await main()
