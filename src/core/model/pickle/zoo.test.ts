/**
 * The allowlist against real models: make_zoo.py trains small models with every library in the project's Python
 * environment (scikit-learn, numpy, scipy, pandas, xgboost, lightgbm, catboost, statsmodels) and saves each every way
 * MLflow and joblib save them. Deny by default must not cost a single one of them.
 */
import { beforeAll, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeWithPython, modelZoo } from '../../../../test/fixtures/models/real-models.js'
import { walkModelDir } from '../../model-dir/walk.js'
import { checkPickles } from './check.js'

interface Manifest {
  readonly files: ReadonlyArray<{ file: string; model: string; library: string; how: string }>
  readonly mlflow: readonly string[]
}

describeWithPython('real models of every library in the environment', () => {
  let root: string
  let manifest: Manifest

  beforeAll(async () => {
    root = await modelZoo()
    manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest
  }, 300_000)

  it('passes every model saved with pickle, cloudpickle, joblib (each compressor) and skops', async () => {
    const entries = manifest.files
    expect(entries.length).toBeGreaterThan(200)
    const walk = await walkModelDir(join(root, 'files'))
    const byName = new Map(walk.files.map(w => [`files/${w.path}`, w]))
    const files = entries.flatMap(f => {
      const found = byName.get(f.file)
      return found ? [{ ...found, path: f.file }] : []
    })
    expect(files).toHaveLength(entries.length)
    const result = await checkPickles(files)
    const notes = result.findings.filter(f => f.severity !== 'info').map(f => `${f.file}: ${f.message}`)
    expect(notes).toEqual([])
    expect(result.status).toBe('pass')
  })

  it('passes every model MLflow saves (sklearn as pickle, cloudpickle and skops; xgboost, lightgbm, catboost, statsmodels)', async () => {
    for (const dir of manifest.mlflow) {
      const walk = await walkModelDir(join(root, dir))
      const result = await checkPickles(walk.files)
      const notes = result.findings.filter(f => f.severity !== 'info').map(f => `${dir}/${f.file}: ${f.message}`)
      expect(notes).toEqual([])
      expect(result.status).not.toBe('fail')
    }
  })
})
