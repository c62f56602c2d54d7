import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { FileResolver, MAX_METRICS, MAX_METRICS_FILE_BYTES, defaultResolvers, loadMetrics } from './source.js'
import { AbsentSource, RegistryResolver } from './registry-source.js'
import type { MetricSourceResolver, SourceContext } from './resolver.js'
import { invalidValue, numberValue, type MetricSet } from './types.js'
import { configurationRejection } from '../../../test/helpers/errors.js'

let workspace: string
let outside: string
const context = (): SourceContext => ({ workspace, role: 'candidate' })

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'modelgate-source-'))
  outside = mkdtempSync(join(tmpdir(), 'modelgate-outside-'))
  mkdirSync(join(workspace, 'metrics'))
  writeFileSync(join(workspace, 'metrics/eval.json'), '{"accuracy": 0.93, "per_class": {"cat": {"recall": 0.9}}}')
  writeFileSync(join(workspace, 'metrics/eval.yaml'), 'accuracy: 0.93\nloss: .nan\n')
  writeFileSync(join(workspace, 'metrics/eval.yml'), '- name: accuracy\n  value: 0.93\n')
  writeFileSync(join(workspace, 'metrics/eval.csv'), '\ufeffmetric,value\r\naccuracy,0.93\r\n')
  writeFileSync(join(outside, 'other.json'), '{"accuracy": 0.5}')
})

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
})

describe('file sources', () => {
  it("names validate-model's metrics input once: not 'metrics metrics file'", async () => {
    writeFileSync(join(workspace, 'empty.json'), '')
    const validate = { workspace, role: 'metrics' }
    for (const spec of ['empty.json', 'missing.json', 'run:x']) {
      const error = await configurationRejection(loadMetrics(spec, validate))
      expect(error.message).toMatch(/\bmetrics (file|source)\b/)
      expect(error.message).not.toMatch(/metrics metrics/)
    }
    expect((await configurationRejection(loadMetrics('empty.json', context()))).message).toMatch(
      /candidate metrics file is empty/
    )
  })

  it('reads each format by extension, with workspace-relative provenance', async () => {
    const json = await loadMetrics('metrics/eval.json', context())
    expect([...json.values]).toEqual([
      ['accuracy', numberValue(0.93)],
      ['per_class.cat.recall', numberValue(0.9)]
    ])
    expect(json.provenance).toEqual({ kind: 'file', spec: 'metrics/eval.json', path: 'metrics/eval.json' })
    expect([...(await loadMetrics('metrics/eval.yaml', context())).values]).toEqual([
      ['accuracy', numberValue(0.93)],
      ['loss', invalidValue('nan', '.nan')]
    ])
    expect([...(await loadMetrics('./metrics/eval.yml', context())).values]).toEqual([['accuracy', numberValue(0.93)]])
    expect([...(await loadMetrics('metrics/eval.csv', context())).values]).toEqual([['accuracy', numberValue(0.93)]])
  })

  it('trims the spec, and accepts absolute paths inside the workspace', async () => {
    expect((await loadMetrics(' metrics/eval.json\n', context())).provenance.spec).toBe('metrics/eval.json')
    const inside = await loadMetrics(join(workspace, 'metrics/eval.json'), context())
    expect(inside.provenance.path).toBe('metrics/eval.json')
  })

  it('refuses a path or a symlink that leads out of the workspace, without reading it', async () => {
    writeFileSync(join(outside, 'secret.json'), '{"token": "ghp_secret_text_that_must_not_be_shown"}')
    symlinkSync(join(outside, 'secret.json'), join(workspace, 'metrics', 'linked.json'))
    for (const spec of [
      join(outside, 'other.json'),
      '../' + basename(outside) + '/other.json',
      'metrics/linked.json'
    ]) {
      const error = await configurationRejection(loadMetrics(spec, context()))
      expect(error.message).toMatch(/(is|leads) outside the workspace .*it was not read/)
      expect(error.message).not.toContain('ghp_secret')
    }
    // A link that stays inside is followed.
    symlinkSync('eval.json', join(workspace, 'metrics', 'alias.json'))
    expect((await loadMetrics('metrics/alias.json', context())).values.get('accuracy')).toEqual(numberValue(0.93))
  })

  it('says where it looked for a missing file', async () => {
    const error = await configurationRejection(loadMetrics('metrics/candidate.json', context()))
    expect(error.message).toBe(
      `metrics/candidate.json: candidate metrics file not found (looked for ${join(workspace, 'metrics/candidate.json')}); expected a path relative to the workspace, or git:<ref>:<path> for a file at a git ref`
    )
  })

  it('refuses a directory and an unknown extension', async () => {
    expect((await configurationRejection(loadMetrics('metrics', context()))).detail).toBe(
      `candidate metrics path is a directory (${join(workspace, 'metrics')}); expected a metrics file`
    )
    writeFileSync(join(workspace, 'metrics.txt'), 'accuracy 0.9')
    expect((await configurationRejection(loadMetrics('metrics.txt', context()))).detail).toBe(
      'candidate metrics file has the unsupported extension ".txt"; expected one of .json, .yaml, .yml, .csv (the extension chooses the format)'
    )
  })

  it('refuses a file over the size limit without reading it', async () => {
    const huge = join(workspace, 'huge.json')
    writeFileSync(huge, '')
    // Sparse: the size is what stat reports, so no 64 MiB is written to disk.
    truncateSync(huge, MAX_METRICS_FILE_BYTES + 1)
    const error = await configurationRejection(loadMetrics('huge.json', context()))
    expect(error.detail).toBe(
      `candidate metrics file is ${MAX_METRICS_FILE_BYTES + 1} bytes; a metrics file over 67108864 bytes (64 MiB) is refused (is it predictions or logs rather than metrics?)`
    )
    rmSync(huge)
  })

  it(`refuses a file with more than ${MAX_METRICS.toLocaleString('en-US')} metrics`, async () => {
    const parts: string[] = []
    for (let i = 0; i <= MAX_METRICS; i++) parts.push(`m${i.toString(36)},${i & 7}`)
    writeFileSync(join(workspace, 'many.csv'), `metric,value\n${parts.join('\n')}\n`)
    parts.length = 0
    const error = await configurationRejection(loadMetrics('many.csv', context()))
    expect(error.detail).toContain('candidate metrics hold more than 2,000,000 metrics')
    rmSync(join(workspace, 'many.csv'))
  })

  it('reports a file it may not read', async () => {
    if (process.getuid?.() === 0) return // root reads anything
    const locked = join(workspace, 'locked.json')
    writeFileSync(locked, '{"a": 1}')
    chmodSync(locked, 0o000)
    expect((await configurationRejection(loadMetrics('locked.json', context()))).detail).toContain('permission denied')
    chmodSync(locked, 0o644)
  })

  it('loads 100,000 metrics end to end (timing printed, not asserted)', async () => {
    const metrics: Record<string, Record<string, number>> = {}
    for (let i = 0; i < 25_000; i++) metrics[`class_${i}`] = { precision: 0.5, recall: 0.25, f1: 0.125, support: i }
    writeFileSync(join(workspace, 'big.json'), JSON.stringify({ per_class: metrics }))
    const start = performance.now()
    const set = await loadMetrics('big.json', context())
    const elapsed = performance.now() - start
    expect(set.values.size).toBe(100_000)
    console.log(`loadMetrics, 100,000 metrics from a file: ${elapsed.toFixed(0)} ms`)
  })
})

describe('registry sources', () => {
  // The behaviour against a real MLflow server is tested in __tests__/register-model.action.test.ts; these run on
  // the file registry, which is what a workspace with no tracking URI and no config uses.
  it('refuses models:/ when nothing names a server and the default registry folder does not exist', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'modelgate-no-registry-'))
    try {
      const error = await configurationRejection(
        loadMetrics('models:/churn@champion', { workspace: bare, role: 'baseline' })
      )
      expect(error.place).toEqual({ source: "input 'baseline'" })
      expect(error.detail).toMatch(/no tracking URI is set.*does not exist; set input 'tracking-uri'/)
    } finally {
      rmSync(bare, { recursive: true, force: true })
    }
  })

  it('reads models:/ against the file registry when nothing names a server, and says what is missing', async () => {
    mkdirSync(join(workspace, '.modelgate', 'registry'), { recursive: true })
    const missingVersion = await configurationRejection(
      loadMetrics('models:/churn/3', { ...context(), role: 'baseline' })
    )
    expect(missingVersion.place).toEqual({ source: 'models:/churn/3' })
    expect(missingVersion.detail).toMatch(/^version 3 of churn does not exist in .*\.modelgate\/registry$/)
    const absent = await loadMetrics('models:/churn@champion', { ...context(), role: 'baseline' }).catch(e => e)
    expect(absent).toBeInstanceOf(AbsentSource)
    expect(absent.reason).toBe('no version of churn has the alias champion yet')
  })

  it('lists only the model URIs a metrics source takes when one is malformed (runs:/ is not one of them)', async () => {
    mkdirSync(join(workspace, '.modelgate', 'registry'), { recursive: true })
    for (const spec of ['models:/churn', 'models:/churn@', 'models:/churn/abc']) {
      const error = await configurationRejection(loadMetrics(spec, { ...context(), role: 'baseline' }))
      expect(error.detail).not.toContain('runs:/')
      expect(error.detail).toMatch(/expected models:\/<name>\/<version> or models:\/<name>@<alias>, as in/)
    }
  })

  it('opens the registry once for a comparison whose candidate and baseline both come from it', async () => {
    const { openChosenRegistry } = await import('../registry/open.js')
    let opened = 0
    const registry = new RegistryResolver(async context => {
      opened++
      return (await openChosenRegistry({ workspace: context.workspace, describeInput: name => name })).registry
    })
    const resolvers = [registry, new FileResolver()]
    const loads = ['models:/churn@champion', 'models:/churn@challenger'].map(spec =>
      loadMetrics(spec, { ...context(), role: 'baseline' }, resolvers).catch((error: unknown) => error)
    )
    expect(await Promise.all(loads)).toEqual([expect.any(AbsentSource), expect.any(AbsentSource)])
    expect(opened).toBe(1)
  })

  it('refuses mlflow-run: without a tracking server, saying what would work', async () => {
    mkdirSync(join(workspace, '.modelgate', 'registry'), { recursive: true })
    const error = await configurationRejection(loadMetrics('mlflow-run:0a1b2c3d', { ...context(), role: 'baseline' }))
    expect(error.detail).toContain('needs an MLflow tracking server')
  })

  it('refuses a tracking URI that is not http(s), naming where it came from', async () => {
    const error = await configurationRejection(
      loadMetrics('models:/churn@champion', { ...context(), trackingUri: 'sqlite:///mlflow.db' })
    )
    expect(error.place).toEqual({ source: "input 'tracking-uri'" })
    expect(error.detail).toContain('a local store has no REST API')
  })

  it('lets another resolver take registry specs without changing the caller', async () => {
    const fake: MetricSourceResolver = {
      scheme: 'registry',
      canResolve: spec => spec.startsWith('models:'),
      load: async (spec): Promise<MetricSet> => ({
        values: new Map([['accuracy', numberValue(0.9)]]),
        provenance: { kind: 'model-version', spec, model: 'churn', alias: 'champion' }
      })
    }
    const resolvers = defaultResolvers().map(resolver => (resolver.scheme === 'registry' ? fake : resolver))
    const set = await loadMetrics('models:/churn@champion', context(), resolvers)
    expect(set.provenance.kind).toBe('model-version')
  })

  it('tries git and the registries before taking a spec for a file path', () => {
    expect(defaultResolvers().map(resolver => resolver.scheme)).toEqual(['git', 'registry', 'file'])
    const file = new FileResolver()
    expect(file.canResolve('C:\\runs\\metrics.json')).toBe(true)
    expect(file.canResolve('./run:3.json')).toBe(true)
    expect(file.canResolve('s3://bucket/metrics.json')).toBe(false)
  })
})

describe('spec errors', () => {
  it('refuses an empty spec, naming the input', async () => {
    const error = await configurationRejection(loadMetrics(' \n', context()))
    expect(error.message).toMatch(/^input 'candidate': no candidate metrics source given; expected a metrics file path/)
  })

  it('refuses an unknown scheme, listing the supported sources', async () => {
    const s3 = await configurationRejection(loadMetrics('s3://bucket/metrics.json', context()))
    expect(s3.detail).toContain('unknown scheme "s3:"; expected a metrics file path (.json, .yaml, .yml or .csv), git:')
    expect(s3.detail).not.toContain('write ./')
    const colon = await configurationRejection(loadMetrics('run:3.json', context()))
    expect(colon.detail).toContain('(write ./run:3.json for a file whose name contains a colon)')
  })
})
