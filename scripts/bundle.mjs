// Builds one ncc bundle per action (src/actions/<name>/index.ts → dist/<name>/) and one for the CLI (dist/cli/).
// Usage: node scripts/bundle.mjs [outDir]   (check-dist builds into a temporary outDir and compares)
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { minify } from 'terser'
import { eagerFactories } from './eager-factories.mjs'

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
  execFileSync(process.execPath, [ncc, 'build', entry, '-o', out, '--license', 'licenses.txt', '--quiet'], {
    cwd: root,
    stdio: 'inherit'
  })
  for (const file of readdirSync(out).filter(f => f.endsWith('.js'))) {
    const path = join(out, file)
    const code = readFileSync(path, 'utf8')
    // ncc turns a module it cannot resolve into a runtime require that crashes an ESM bundle (vercel/ncc#791).
    if (code.includes('@@notfound')) throw new Error(`${path} has an unresolved module (@@notfound)`)
    // Every run of a gate step compiles these files, so their size is start-up time. ncc's --minify leaves the
    // lazily loaded chunks untouched (zod's chunk stayed at 276 KB); terser in module mode also drops the code
    // webpack did not shake out (that chunk becomes 25 KB).
    const minified = await minify(code, { module: true, ecma: 2022, compress: { passes: 2 }, mangle: true })
    const shebang = name === 'cli' && file === 'index.js' ? '#!/usr/bin/env node\n' : ''
    writeFileSync(path, shebang + eagerFactories(minified.code.replace(/^#!.*\n/, '')))
    if (shebang) chmodSync(path, 0o755)
  }
  console.log(`bundled ${entry} → ${join(out, 'index.js')}`)
}
