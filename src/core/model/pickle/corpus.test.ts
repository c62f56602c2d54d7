/**
 * The scanner against a corpus written by Python itself (test/fixtures/pickles/make_corpus.py): malicious files,
 * one technique each, benign model files of every library the allowlist covers, and corrupt files. The manifest
 * records what Python's own unpickler imports for each file, which the scanner must see too.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeWithPython, REPO_ROOT, runPython } from '../../../../test/fixtures/models/real-models.js'
import { checkPickles } from './check.js'
import { scanModelFile, type FileScanReport } from './containers.js'
import { Op, OPCODES, type OpName } from './opcodes.js'
import { createPolicy } from './policy.js'

interface Case {
  file: string
  verdict: 'malicious' | 'benign' | 'corrupt'
  technique: string
  expect: string[]
  named: boolean
  loader: string
  python_imports: string[]
}

let dir: string
let cases: Case[] = []
const reports = new Map<string, FileScanReport>()

const imports = (r: FileScanReport, verdict?: string): string[] =>
  r.streams.flatMap(s =>
    s.result.imports.filter(i => !verdict || i.rating === verdict).map(i => `${i.module}.${i.name}`)
  )
const problems = (r: FileScanReport, severity: string): string[] => [
  ...r.problems.filter(p => p.severity === severity).map(p => p.message),
  ...r.streams.flatMap(s => s.result.problems.filter(p => p.severity === severity).map(p => p.message))
]

describeWithPython('the pickle corpus', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-pickle-corpus-'))
    await runPython([join(REPO_ROOT, 'test/fixtures/pickles/make_corpus.py'), dir])
    cases = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Case[] }).files
    const policy = createPolicy()
    for (const c of cases) {
      const absolute = join(dir, c.file)
      reports.set(c.file, await scanModelFile({ path: c.file, absolute, size: statSync(absolute).size }, { policy }))
    }
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('has every kind of case', () => {
    const count = (v: string) => cases.filter(c => c.verdict === v).length
    expect(count('malicious')).toBeGreaterThanOrEqual(70)
    expect(count('benign')).toBeGreaterThanOrEqual(20)
    expect(count('corrupt')).toBeGreaterThanOrEqual(5)
  })

  it('flags every malicious file, naming the import wherever it can be named', () => {
    for (const c of cases.filter(c => c.verdict === 'malicious')) {
      const r = reports.get(c.file)!
      // Dangerous, or outside the allowlist: deny by default fails both.
      const found = [...imports(r, 'dangerous'), ...imports(r, 'unknown')]
      expect({ file: c.file, flagged: found.length > 0 }).toEqual({ file: c.file, flagged: true })
      if (c.named) expect({ file: c.file, found: expect.arrayContaining(c.expect) }).toEqual({ file: c.file, found })
    }
  })

  it('passes every benign file with no dangerous or unknown import and no problem', () => {
    for (const c of cases.filter(c => c.verdict === 'benign')) {
      const r = reports.get(c.file)!
      const unsafe = r.streams.flatMap(s => s.result.imports.filter(i => i.rating !== 'safe'))
      expect({ file: c.file, unsafe }).toEqual({ file: c.file, unsafe: [] })
      expect({ file: c.file, errors: problems(r, 'error'), warnings: problems(r, 'warning') }).toEqual({
        file: c.file,
        errors: [],
        warnings: []
      })
    }
  })

  it('reports every corrupt file as an error, without throwing', () => {
    for (const c of cases.filter(c => c.verdict === 'corrupt')) {
      expect({ file: c.file, errors: problems(reports.get(c.file)!, 'error').length > 0 }).toEqual({
        file: c.file,
        errors: true
      })
    }
  })

  it('sees every import that Python’s own unpickler makes', () => {
    for (const c of cases.filter(c => c.named && c.verdict !== 'corrupt')) {
      const seen = imports(reports.get(c.file)!)
      const missing = c.python_imports.filter(name => !seen.includes(name))
      expect({ file: c.file, missing }).toEqual({ file: c.file, missing: [] })
    }
  })

  it('reads joblib files the way joblib does: arrays skipped, object arrays scanned as pickles', () => {
    const arrays = reports.get('joblib_arrays.joblib')!
    expect(arrays.format).toBe('joblib')
    expect(arrays.streams[0]!.result.joblibArrays).toBe(5)
    expect(reports.get('sklearn_forest_gzip.joblib')!.format).toBe('gzip')
    const hidden = reports.get('joblib_array_hides_payload.pkl')!.streams[0]!.result.imports
    expect(hidden.filter(i => i.rating === 'dangerous')).toEqual([
      expect.objectContaining({ module: 'posix', name: 'system', context: expect.stringContaining('pickle.load') })
    ])
  })

  it('turns the corpus into one failing check, with one line per dangerous import', async () => {
    const files = readdirSync(dir)
      .filter(name => name !== 'manifest.json')
      .map(name => ({ path: name, absolute: join(dir, name), size: statSync(join(dir, name)).size }))
    const result = await checkPickles(files)
    expect(result.status).toBe('fail')
    const flagged = new Set(result.findings.filter(f => f.severity === 'error').map(f => f.file!.split(':')[0]))
    for (const c of cases.filter(c => c.verdict !== 'benign')) expect(flagged).toContain(c.file)
    for (const c of cases.filter(c => c.verdict === 'benign')) expect(flagged).not.toContain(c.file)
  })

  it('has the opcode table of CPython’s pickletools', async () => {
    const listing = await runPython([
      '-c',
      'import json, pickletools; print(json.dumps([[ord(o.code), o.name, o.arg.name if o.arg else "none", o.proto] for o in pickletools.opcodes]))'
    ])
    const python = (JSON.parse(listing) as Array<[number, string, string, number]>).sort((a, b) => a[0] - b[0])
    const ours = OPCODES.map(o => [o.code, o.name, o.arg, o.proto]).sort((a, b) => (a[0] as number) - (b[0] as number))
    expect(ours).toEqual(python)
  })

  it('names every case of the interpreter’s dispatch after the opcode it is', () => {
    const source = readFileSync(join(REPO_ROOT, 'src/core/model/pickle/interpreter.ts'), 'utf8')
    const labels = [...source.matchAll(/case (0x[0-9a-f]{2}) \/\* ([A-Z0-9_]+) \*\/:/g)]
    expect(labels.length).toBeGreaterThan(OPCODES.length)
    for (const [, code, name] of labels) expect([name, Op[name as OpName]]).toEqual([name, Number(code)])
    expect(source).not.toMatch(/^\s*case (?!0x[0-9a-f]{2} \/\* [A-Z0-9_]+ \*\/:)/m)
    // Every opcode has its case in the main dispatch.
    const main = new Set(labels.map(l => l[2]))
    for (const o of OPCODES) expect(main).toContain(o.name)
  })
})
