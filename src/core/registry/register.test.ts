/**
 * The registration protocol of register.ts (createVersion) against a real MLflow server behind the fault proxy:
 * a create whose answer is lost is found by digest rather than made twice, a create that failed is asked again,
 * and two writers that raced end on one version. The file registry's own race is file-registry.test.ts's.
 * Then what a registration refuses or names before anything is uploaded: names and tag keys the registry would
 * refuse, and a source it cannot find; and a source that is another registered version. Last, a re-run with the
 * model already registered takes a corrected description input, as MLflow's own client reads it back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFaultProxy, type FaultProxy } from '../../../test/mlflow/fault-proxy.js'
import { readVersionWithPythonClient, runPythonClient } from '../../../test/mlflow/python-client.js'
import { startMlflowServer, type MlflowServer } from '../../../test/mlflow/server.js'
import { ConfigurationError, ServiceError } from '../errors.js'
import { createManifest } from '../model-dir/manifest.js'
import { walkModelDir } from '../model-dir/walk.js'
import { createMlflowRegistry, type MlflowRegistry } from './mlflow/registry.js'
import { createVersion } from './register.js'
import { runRegistration } from '../gates/register.js'
import { DIGEST_TAG, type NewVersion } from './types.js'

const EXAMPLE_MODEL = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../examples/churn-classifier/model')
const CREATE_VERSION = { method: 'POST', path: '/api/2.0/mlflow/model-versions/create' }

let mlflow: MlflowServer
let proxy: FaultProxy
let scratch: string

beforeAll(async () => {
  mlflow = await startMlflowServer()
  proxy = await startFaultProxy(mlflow.url)
  scratch = await mkdtemp(join(tmpdir(), 'modelgate-register-'))
}, 180_000)

afterAll(async () => {
  await proxy?.close()
  await mlflow?.stop()
  if (scratch) await rm(scratch, { recursive: true, force: true })
}, 60_000)

beforeEach(() => proxy.reset())

function registry(log: string[], timeoutMs?: number): MlflowRegistry {
  return createMlflowRegistry({
    trackingUri: proxy.url,
    retryBaseMs: 5,
    log: line => log.push(line),
    ...(timeoutMs !== undefined ? { timeoutMs } : {})
  })
}

/** A registered model and a request for a model directory of its own digest. */
async function fresh(target: MlflowRegistry): Promise<NewVersion> {
  const name = `register-${randomBytes(4).toString('hex')}`
  const dir = await mkdtemp(join(scratch, 'model-'))
  await cp(EXAMPLE_MODEL, dir, { recursive: true })
  await writeFile(join(dir, 'variant.txt'), `${name}\n`)
  const walk = await walkModelDir(dir)
  const { manifest } = await createManifest(walk.files)
  const digest = `sha256:${manifest!.digest}`
  await target.ensureRegisteredModel(name)
  return { name, digest, content: { kind: 'directory', dir, files: walk.files }, tags: { [DIGEST_TAG]: digest } }
}

/** The runs and logged models that hold a digest and are not deleted, as MLflow's own client lists them. */
function staged(digest: string): Promise<{ runs: string[]; models: string[] }> {
  return runPythonClient(
    mlflow.url,
    `def main():
    experiment = client.get_experiment_by_name("modelgate")
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.\`modelgate.digest\` = '{ARGS['digest']}'")
    models = client.search_logged_models(experiment_ids=[experiment.experiment_id])
    return {
        "runs": sorted(r.info.run_id for r in runs),
        "models": sorted(m.model_id for m in models if m.tags.get("modelgate.digest") == ARGS["digest"]),
    }`,
    { digest }
  )
}

describe('createVersion', () => {
  it('finds the version a create made when its answer never arrived, instead of making a second', async () => {
    const log: string[] = []
    const target = registry(log, 1000)
    const request = await fresh(target)
    proxy.delay(2500, CREATE_VERSION)
    const result = await createVersion(target, request, line => log.push(line))
    expect(result).toMatchObject({ created: true, version: { version: '1', status: 'READY' } })
    expect(proxy.count(CREATE_VERSION)).toBe(1)
    expect(log.join('\n')).toContain('version 1 holds the digest: the create happened')
    proxy.reset()
    expect(await target.getVersion(request.name, '2')).toBeUndefined()
  }, 60_000)

  it('asks again when a create failed and no version holds the digest', async () => {
    const log: string[] = []
    const target = registry(log)
    const request = await fresh(target)
    proxy.failNext(2, 500, { when: CREATE_VERSION })
    const result = await createVersion(target, request, line => log.push(line))
    expect(result).toMatchObject({ created: true, version: { version: '1' } })
    expect(proxy.count(CREATE_VERSION)).toBe(3)
    expect(log.filter(line => line.includes('trying again'))).toHaveLength(2)
  }, 60_000)

  it('gives up after four creates that failed, leaving no version', async () => {
    const target = registry([])
    const request = await fresh(target)
    proxy.failNext(10, 500, { when: CREATE_VERSION })
    await expect(createVersion(target, request)).rejects.toBeInstanceOf(ServiceError)
    expect(proxy.count(CREATE_VERSION)).toBe(4)
    proxy.reset()
    expect(await target.findVersionByDigest(request.name, request.digest)).toBeUndefined()
  }, 60_000)

  it('converges two writers that both created on the lower version, and the other is deleted', async () => {
    const log: string[] = []
    const [a, b] = [registry(log), registry(log)]
    const request = await fresh(a)
    const results = await Promise.all([
      createVersion(a, request, line => log.push(line)),
      createVersion(b, request, line => log.push(line))
    ])
    expect(results.map(r => r.created).sort()).toEqual([false, true])
    expect(results.map(r => r.version.version)).toEqual(['1', '1'])
    expect(proxy.count(CREATE_VERSION)).toBe(2)
    expect(await a.getVersion(request.name, '2')).toBeUndefined()
    expect(log.join('\n')).toContain(`already holds ${request.digest}; removing 2`)

    // What the loser staged goes with its version: one run and one logged model hold the digest, version 1's.
    const left = await staged(request.digest)
    const winner = await a.getVersion(request.name, '1')
    expect(left).toEqual({ runs: [winner!.runId], models: [winner!.modelId] })
  }, 60_000)
})

describe('the timeout of a registration', () => {
  async function workspace(): Promise<string> {
    const dir = await mkdtemp(join(scratch, 'workspace-'))
    await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
    await writeFile(join(dir, 'model', 'variant.txt'), `${dir}\n`)
    return dir
  }

  it('stops a registration whose server never answers at the deadline, and says which limit it was', async () => {
    proxy.delay(20_000)
    const started = Date.now()
    const error = await runRegistration({
      workspace: await workspace(),
      registry: 'mlflow',
      trackingUri: proxy.url,
      name: `timeout-${randomBytes(4).toString('hex')}`,
      modelPath: 'model',
      aliases: [],
      env: {},
      retryBaseMs: 5,
      timeout: '2s'
    }).then(
      () => new Error('expected the registration to fail'),
      (e: unknown) => e as Error
    )
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(error).toBeInstanceOf(ServiceError)
    expect(error.message).toContain("did not finish within 2s (input 'timeout')")
    expect(error.message).toContain(`the registry at ${proxy.url}`)
  }, 60_000)

  it('refuses a timeout that is not a duration, naming the input', async () => {
    const error = await runRegistration({
      workspace: await workspace(),
      registry: 'file',
      name: 'churn',
      modelPath: 'model',
      aliases: [],
      env: {},
      timeout: 'ten minutes'
    }).then(
      () => new Error('expected the registration to fail'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).place).toEqual({ source: "input 'timeout'" })
    expect(error.message).toContain('expected a duration such as 10m')
  })
})

describe('registering an existing registered version by its URI', () => {
  it('registers models:/<name>@<alias> of a version held by a logged model under another name', async () => {
    const dir = await mkdtemp(join(scratch, 'workspace-'))
    await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
    await writeFile(join(dir, 'model', 'variant.txt'), `${dir}\n`)
    const suffix = randomBytes(4).toString('hex')
    const common = { workspace: dir, registry: 'mlflow' as const, trackingUri: mlflow.url, env: {}, retryBaseMs: 5 }
    const first = await runRegistration({ ...common, name: `dev-${suffix}`, modelPath: 'model', aliases: ['champion'] })
    expect(first.version.modelId).toMatch(/^m-/)

    const copy = await runRegistration({
      ...common,
      name: `prod-${suffix}`,
      source: `models:/dev-${suffix}@champion`,
      aliases: []
    })
    expect(copy).toMatchObject({ created: true, digest: first.digest, version: { version: '1', status: 'READY' } })
    expect(copy.version.modelId).toBe(first.version.modelId)
    const again = await runRegistration({
      ...common,
      name: `prod-${suffix}`,
      source: `models:/dev-${suffix}/1`,
      aliases: []
    })
    expect(again).toMatchObject({ created: false, version: { version: '1' } })
  }, 60_000)
})

describe('names and tag keys the MLflow server refuses', () => {
  async function refusal(options: { name: string; tags?: string }): Promise<ConfigurationError> {
    const dir = await mkdtemp(join(scratch, 'workspace-'))
    await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
    await writeFile(join(dir, 'model', 'variant.txt'), `${dir}\n`)
    const error = await runRegistration({
      workspace: dir,
      registry: 'mlflow',
      trackingUri: proxy.url,
      modelPath: 'model',
      aliases: [],
      env: {},
      retryBaseMs: 5,
      ...options
    }).then(
      () => new Error('expected the registration to fail'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }

  it.each([
    ['a key with a character MLflow refuses', 'owner*: me', 'owner*', 'alphanumerics'],
    ['a key that reads as a path', '"../x": y', '../x', 'path'],
    ['an empty key', '"": y', '', 'empty']
  ])(
    'refuses %s, naming the input and the key, before anything is uploaded',
    async (_, tags, key, words) => {
      const error = await refusal({ name: `tags-${randomBytes(4).toString('hex')}`, tags })
      expect(error.place).toEqual({ source: "input 'tags'", path: key })
      expect(error.message).toContain(words)
      expect(proxy.count({ method: 'POST', path: '/api/2.0/mlflow/runs/create' })).toBe(0)
    },
    60_000
  )

  it.each(['team/churn', 'churn:v2', '../churn'])(
    'refuses the model name %s, naming the input',
    async name => {
      const error = await refusal({ name })
      expect(error.place).toEqual({ source: "input 'name'" })
      expect(error.message).toContain(`"${name}"`)
    },
    60_000
  )
})

describe('a source the registry cannot find', () => {
  it.each([
    ['file', 'models:/absent/1'],
    ['file', 'runs:/0123456789abcdef0123456789abcdef/model'],
    ['mlflow', 'runs:/0123456789abcdef0123456789abcdef/model'],
    ['mlflow', 'models:/absent-model@champion']
  ] as const)(
    'is named as input source (%s registry, %s)',
    async (kind, source) => {
      const dir = await mkdtemp(join(scratch, 'workspace-'))
      const error = await runRegistration({
        workspace: dir,
        registry: kind,
        ...(kind === 'mlflow' ? { trackingUri: mlflow.url } : {}),
        name: `source-${randomBytes(4).toString('hex')}`,
        source,
        aliases: [],
        env: {},
        retryBaseMs: 5
      }).then(
        () => new Error('expected the registration to fail'),
        (e: unknown) => e as Error
      )
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).place).toEqual({ source: "input 'source'" })
      expect(error.message).toContain(source.includes('@') ? 'absent-model' : source.split('/')[1]!)
    },
    60_000
  )
})

describe('a model name the file registry cannot hold', () => {
  it.each([
    ['a path', '..'],
    ['a path', 'a/./b'],
    ['a control character', 'tab\there'],
    ['300 characters', 'x'.repeat(300)]
  ])('is refused naming input name (%s)', async (_, name) => {
    const dir = await mkdtemp(join(scratch, 'workspace-'))
    await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
    const error = await runRegistration({
      workspace: dir,
      registry: 'file',
      name,
      modelPath: 'model',
      aliases: [],
      env: {}
    }).then(
      () => new Error('expected the registration to fail'),
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).place).toEqual({ source: "input 'name'" })
  })
})

describe('the description input on a re-run', () => {
  const UPDATE_VERSION = { method: 'PATCH', path: '/api/2.0/mlflow/model-versions/update' }

  it.each(['file', 'mlflow'] as const)(
    'replaces a description that changed, leaves it when the input is left out or the same (%s registry)',
    async kind => {
      const dir = await mkdtemp(join(scratch, 'workspace-'))
      await cp(EXAMPLE_MODEL, join(dir, 'model'), { recursive: true })
      await writeFile(join(dir, 'model', 'variant.txt'), `${dir}\n`)
      const name = `description-${randomBytes(4).toString('hex')}`
      const log: string[] = []
      const common = {
        workspace: dir,
        registry: kind,
        ...(kind === 'mlflow' ? { trackingUri: proxy.url } : {}),
        name,
        modelPath: 'model',
        aliases: [],
        env: {},
        retryBaseMs: 5,
        log: (line: string) => log.push(line)
      }
      const descriptionLines = () => log.splice(0).filter(line => line.startsWith('description of'))

      const first = await runRegistration({ ...common, description: 'churn model, first cut' })
      expect(first).toMatchObject({ created: true, version: { version: '1', description: 'churn model, first cut' } })
      descriptionLines()

      const corrected = await runRegistration({ ...common, description: 'churn model trained on March data' })
      expect(corrected).toMatchObject({
        created: false,
        version: { version: '1', description: 'churn model trained on March data' }
      })
      expect(descriptionLines()).toEqual([`description of ${name} version 1 updated`])

      const withoutInput = await runRegistration(common)
      expect(withoutInput).toMatchObject({
        created: false,
        version: { version: '1', description: 'churn model trained on March data' }
      })
      const same = await runRegistration({ ...common, description: 'churn model trained on March data' })
      expect(same.version.description).toBe('churn model trained on March data')
      expect(descriptionLines()).toEqual([])

      if (kind === 'mlflow') {
        // One update in four runs: a description already in place is not written again.
        expect(proxy.count(UPDATE_VERSION)).toBe(1)
        const read = await readVersionWithPythonClient(mlflow.url, name, '1')
        expect(read.description).toBe('churn model trained on March data')
      }
    },
    90_000
  )
})
