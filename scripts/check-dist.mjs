// Fails when the committed dist/ differs from what the sources build to, so a change never ships without its
// bundle (or a bundle without its source).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const fresh = mkdtempSync(join(tmpdir(), 'modelgate-dist-'))
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), fresh], { cwd: root, stdio: 'inherit' })
  const list = dir =>
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter(p => statSync(join(dir, p)).isFile())
      .sort()
  const built = list(fresh)
  const committed = list(join(root, 'dist'))
  const problems = []
  for (const file of new Set([...built, ...committed])) {
    if (!built.includes(file)) problems.push(`dist/${file} is committed but the sources no longer build it`)
    else if (!committed.includes(file)) problems.push(`dist/${file} is built from the sources but not committed`)
    else if (!readFileSync(join(fresh, file)).equals(readFileSync(join(root, 'dist', file))))
      problems.push(`dist/${file} differs from what the sources build`)
  }
  if (problems.length) {
    console.error(`${problems.join('\n')}\nRun npm run bundle and commit dist/.`)
    process.exitCode = 1
  } else console.log(`dist/ matches the sources (${built.length} files, built in ${relative(root, fresh) || fresh})`)
} finally {
  rmSync(fresh, { recursive: true, force: true })
}
