import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { configurationRejection } from '../../../../test/helpers/errors.js'
import type { ModelFile } from '../types.js'
import { checkPickles, mlmodelReferences } from './check.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const sbu = (s: string): Buffer => Buffer.concat([Buffer.from([0x8c, s.length]), b(s)])

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-pickle-check-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function files(prefix: string, contents: Record<string, Buffer>): ModelFile[] {
  return Object.entries(contents).map(([path, data]) => {
    const absolute = join(dir, prefix, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, data)
    return { path, absolute, size: statSync(absolute).size }
  })
}

/** A protocol 4 pickle importing n classes of a package of the user's (module.ClassN), each instantiated. */
function manyClasses(n: number): Buffer {
  const parts = [b('\x80\x04(')]
  for (let i = 0; i < n; i++) parts.push(sbu('mypkg.models'), sbu(`Class${i}`), b('\x93)\x81'))
  parts.push(b('l.'))
  return Buffer.concat(parts)
}

describe('checkPickles', () => {
  it('fails on a dangerous import, with the import, opcode, offset, file and fix', async () => {
    const result = await checkPickles(
      files('evil', {
        'model/model.pkl': b("cos\nsystem\n(S'id'\ntR."),
        MLmodel: b('flavors: {}\n'),
        'notes.txt': b('hello')
      })
    )
    expect(result).toMatchObject({ id: 'pickle', title: 'Unsafe deserialization', status: 'fail' })
    expect(result.findings).toEqual([
      {
        severity: 'error',
        file: 'model/model.pkl',
        message: 'imports os.system (GLOBAL at offset 0): operating-system access (commands, files, environment)',
        fix: 'Rebuild the model from trusted code and re-export it; do not load this file.'
      }
    ])
    expect(result.summary).toBe('1 pickle stream in 1 file: 1 dangerous import')
    expect(result.data).toMatchObject({
      files: [
        {
          file: 'model/model.pkl',
          format: 'pickle',
          streams: [{ protocol: 0, pickles: 1, imports: { safe: 0, unknown: 0, dangerous: 1 } }]
        }
      ]
    })
  })

  it('fails on imports the allowlist does not name (deny by default), one error per file listing a few', async () => {
    const result = await checkPickles(files('unknown', { 'custom.pkl': manyClasses(500) }))
    expect(result.status).toBe('fail')
    expect(result.findings).toHaveLength(1)
    expect(result.findings[0]!.severity).toBe('error')
    expect(result.findings[0]!.message).toMatch(
      /^imports 500 things the allowlist does not name \(mypkg\.models\.Class0, .*mypkg\.models\.Class9, and 490 more\)/
    )
    expect(result.summary).toBe('1 pickle stream in 1 file: imports outside the allowlist in 1 stream')
    expect(result.findings[0]!.fix).toContain('allow-imports')
  })

  it('passes those classes once allow-imports names them, and says which entry made the difference', async () => {
    const result = await checkPickles(files('allowed', { 'custom.pkl': manyClasses(20) }), { allow: ['mypkg.*'] })
    expect(result.status).toBe('pass')
    expect(result.summary).toBe(
      '1 pickle stream in 1 file: only allowlisted imports (some by allow-imports, in 1 stream)'
    )
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: 'info',
        message: expect.stringMatching(
          /^imports mypkg\.models\.Class0, .*and 10 more, allowed by the allow-imports entry 'mypkg\.\*'/
        )
      })
    ])
  })

  it('reports an allowed dangerous import as a warning that says so', async () => {
    const data = Buffer.concat([b('\x80\x04'), sbu('cloudpickle.cloudpickle'), sbu('_make_function'), b('\x93.')])
    const strict = await checkPickles(files('cp', { 'python_model.pkl': data }))
    expect(strict.status).toBe('fail')
    expect(strict.findings[0]!.fix).toContain("python_model='model.py'")
    const allowed = await checkPickles(files('cp2', { 'python_model.pkl': data }), { allow: ['cloudpickle.*'] })
    expect(allowed.status).toBe('warn')
    expect(allowed.findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining("allow-imports lists 'cloudpickle.*'")
      })
    ])
  })

  it('fails a corrupt pickle and says where it broke', async () => {
    const result = await checkPickles(files('corrupt', { 'm.joblib': b('\x80\x04\x8c\x05ab') }))
    expect(result.status).toBe('fail')
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'm.joblib',
        message: 'is not a valid pickle: stream ends inside SHORT_BINUNICODE (truncated) (offset 2)'
      })
    ])
    expect(result.summary).toBe('1 pickle stream in 1 file: 1 unreadable')
  })

  it('skips a model without pickles', async () => {
    const result = await checkPickles(
      files('none', { MLmodel: b('flavors: {}\n'), 'model.skops': b('PK\x05\x06' + '\0'.repeat(18)) })
    )
    expect(result).toMatchObject({ status: 'skip', summary: 'no pickle files in the model' })
  })

  it('refuses a malformed allow entry as a configuration error', async () => {
    const error = await configurationRejection(
      checkPickles([], {
        allow: ['ok.*', 'mypkg'],
        allowSource: '.modelgate.yml',
        allowPath: 'validation.allow-imports'
      })
    )
    expect(error.message).toContain('write "mypkg.*"')
    expect(error.place).toEqual({ source: '.modelgate.yml', path: 'validation.allow-imports[1]' })
  })
})

describe('files the MLmodel names', () => {
  it('scans a pickle whatever its name when MLmodel says its flavor unpickles it', async () => {
    const p0 = b("cposix\nsystem\n(S'id'\ntR.")
    const odd = b('\x01\x02 not a pickle at all')
    const refs = mlmodelReferences({
      sklearn: { pickled_model: 'model.weights', serialization_format: 'cloudpickle' },
      python_function: { loader_module: 'mlflow.sklearn', model_path: 'model.weights', data: 'extra' }
    })
    // Every string is a candidate path; only those naming a file of the model matter.
    expect([refs.get('model.weights'), refs.get('extra')]).toEqual(['pickle', 'any'])
    const hidden = await checkPickles(files('ref', { 'model.weights': Buffer.concat([b('\x80\x02'), p0]) }), {
      referenced: refs
    })
    expect(hidden.status).toBe('fail')
    const broken = await checkPickles(files('ref2', { 'model.weights': odd }), { referenced: refs })
    expect(broken.findings).toEqual([expect.objectContaining({ severity: 'error' })])
    expect(broken.summary).not.toContain('only allowlisted imports')
    // A native model file MLmodel names (xgboost's model.ubj) is read, found not to be a pickle, and not counted.
    const native = mlmodelReferences({ xgboost: { data: 'model.ubj' } })
    const ubj = await checkPickles(files('ref3', { 'model.ubj': b('{\x00\x00binary json') }), { referenced: native })
    expect(ubj).toMatchObject({ status: 'skip', summary: 'no pickle files in the model' })
    const skops = mlmodelReferences({ sklearn: { pickled_model: 'model.skops', serialization_format: 'skops' } })
    expect(skops.get('model.skops')).toBe('any')
  })
})
