/**
 * `modelgate demo`: the pull-request gate on the bundled example, with no server and no token. It prints the
 * comment the action would post and the verdict, and exits 0 whatever the verdict: it shows, it does not gate.
 */
import { existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runComparison } from '../core/gates/compare.js'
import { render } from './compare.js'
import { choiceFlag } from './flags.js'
import { plainUi, type CommandUi, type Output } from './output.js'
import { paintReport } from './style.js'

const DEMO_FORMATS = ['markdown', 'text', 'json'] as const

/** The example lives in the package, found from this file whether it runs from src/ (tests) or dist/cli/. */
function findExampleDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from, i = 0; i < 5; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'examples', 'churn-classifier')
    if (existsSync(join(candidate, '.modelgate.yml'))) return candidate
  }
  throw new Error(`the bundled example (examples/churn-classifier) was not found above ${from}`)
}

export async function runDemoCommand(
  flags: Record<string, string | undefined>,
  output: Output,
  ui: CommandUi = plainUi(output)
): Promise<number> {
  const format = choiceFlag('--format', flags.format, DEMO_FORMATS) ?? 'markdown'
  const example = findExampleDir()
  const result = await runComparison({
    workspace: example,
    candidate: 'metrics/candidate.json',
    baseline: 'metrics/baseline.json',
    describeInput: name => `--${name}`
  })
  // JSON is for scripts: only the report on stdout.
  if (format === 'json') {
    output.out(render(result, format))
    return 0
  }
  const where = relative(process.cwd(), example) || '.'
  output.out(`modelgate demo: the pull-request gate on ${where}\n`)
  output.out(
    `candidate: ${where}/metrics/candidate.json   baseline: ${where}/metrics/baseline.json   rules: ${where}/.modelgate.yml\n`
  )
  output.out(format === 'markdown' ? '--- the comment modelgate would post on the pull request ---\n' : '')
  output.out(format === 'text' ? paintReport(render(result, format), ui.style) : render(result, format))
  output.out(
    `\nverdict: ${result.comparison.verdict} — the gate ${result.passed ? 'passes: the merge may go ahead' : 'fails: the required check would block the merge'}`
  )
  return 0
}
