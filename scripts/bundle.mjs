// Builds one ncc bundle per action (src/actions/<name>/index.ts → dist/<name>/) and one for the CLI (dist/cli/).
// Usage: node scripts/bundle.mjs [outDir]   (check-dist builds into a temporary outDir and compares)
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')
const outRoot = resolve(process.argv[2] ?? join(root, 'dist'))
const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')

const entries = readdirSync(join(root, 'src', 'actions'))
  .filter(name => existsSync(join(root, 'src', 'actions', name, 'index.ts')))
  .map(name => ({ name, entry: join('src', 'actions', name, 'index.ts') }))
entries.push({ name: 'cli', entry: join('src', 'cli', 'index.ts') })

for (const { name, entry } of entries) {
  const out = join(outRoot, name)
  rmSync(out, { recursive: true, force: true })
  // --minify: a smaller bundle parses faster, and start-up time is what a gate step pays on every run.
  execFileSync(process.execPath, [ncc, 'build', entry, '-o', out, '--minify', '--license', 'licenses.txt', '--quiet'], {
    cwd: root,
    stdio: 'inherit'
  })
  const index = join(out, 'index.js')
  const code = readFileSync(index, 'utf8')
  // ncc turns a module it cannot resolve into a runtime require that crashes an ESM bundle (vercel/ncc#791).
  if (code.includes('@@notfound')) throw new Error(`${index} has an unresolved module (@@notfound)`)
  if (name === 'cli') {
    if (!code.startsWith('#!')) writeFileSync(index, `#!/usr/bin/env node\n${code}`)
    chmodSync(index, 0o755)
  }
  console.log(`bundled ${entry} → ${join(out, 'index.js')}`)
}
