/**
 * The Unity Catalog registry against the Databricks double (test/databricks-double), with the committed example
 * model as the model directory: Databricks cannot be reached from here, so these tests hold the implementation to
 * the documented protocol the double reproduces.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dump, load } from 'js-yaml'
import { databricksDoublePerTest } from '../../../../test/databricks-double/per-test.js'
import {
  DOUBLE_CLIENT_ID,
  DOUBLE_OAUTH_ENV,
  DOUBLE_PAT_ENV,
  DOUBLE_READ_PAT,
  type DatabricksDouble,
  type DatabricksDoubleOptions
} from '../../../../test/databricks-double/server.js'
import { configurationRejection } from '../../../../test/helpers/errors.js'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { createManifest } from '../../model-dir/manifest.js'
import { walkModelDir } from '../../model-dir/walk.js'
import { createVersion, registerModel } from '../register.js'
import { DIGEST_TAG, type ModelRegistry, type ModelVersion, type NewVersion } from '../types.js'
import { normalizeHost } from '../../databricks/workspace.js'
import { createUnityCatalogRegistry, type UnityCatalogRegistry } from './uc-registry.js'

const EXAMPLE_MODEL = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../../examples/churn-classifier/model'
)
const NAME = 'main.default.churn_classifier'
const ROOT = '/Models/main/default/churn_classifier'

const startDouble = databricksDoublePerTest()
const scratch: string[] = []

afterEach(async () => {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function setup(
  options: DatabricksDoubleOptions = {},
  env: NodeJS.ProcessEnv = DOUBLE_PAT_ENV
): Promise<{ registry: UnityCatalogRegistry; double: DatabricksDouble; log: string[] }> {
  const double = await startDouble(options)
  const log: string[] = []
  const registry = createUnityCatalogRegistry({
    host: double.url,
    env,
    retryBaseMs: 5,
    pollIntervalMs: 5,
    log: line => log.push(line)
  })
  return { registry, double, log }
}

/** A copy of the example model with some files rewritten, or the MLmodel document changed. */
async function modelCopy(
  change: { files?: Record<string, string>; mlmodel?: (doc: Record<string, unknown>) => void } = {}
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modelgate-uc-model-'))
  scratch.push(dir)
  await cp(EXAMPLE_MODEL, dir, { recursive: true })
  for (const [path, text] of Object.entries(change.files ?? {})) await writeFile(join(dir, path), text)
  if (change.mlmodel) {
    const doc = load(await readFile(join(dir, 'MLmodel'), 'utf8')) as Record<string, unknown>
    change.mlmodel(doc)
    await writeFile(join(dir, 'MLmodel'), dump(doc))
  }
  return dir
}

/** A NewVersion for a model directory, as register.ts hands it over: the walk's files and the manifest digest. */
async function newVersion(dir = EXAMPLE_MODEL, extra: Partial<NewVersion> = {}): Promise<NewVersion> {
  const walk = await walkModelDir(dir)
  const { manifest } = await createManifest(walk.files)
  const digest = `sha256:${manifest!.digest}`
  return {
    name: NAME,
    digest,
    content: { kind: 'directory', dir, files: walk.files },
    tags: { [DIGEST_TAG]: digest, 'git.commit': 'abc123' },
    ...extra
  }
}

/** The registration flow of register.ts, reduced to the registry calls. */
async function register(
  registry: ModelRegistry,
  request: NewVersion
): Promise<{ version: ModelVersion; created: boolean }> {
  await registry.ensureRegisteredModel(request.name)
  const existing = await registry.findVersionByDigest(request.name, request.digest)
  if (existing) {
    const version = existing.status === 'READY' ? existing : await registry.completeVersion(existing, request)
    return { version, created: false }
  }
  return createVersion(registry, request)
}

const requestsTo = (d: DatabricksDouble, method: string, pattern: RegExp) =>
  d.requests.filter(r => r.method === method && pattern.test(r.path))

describe('names and signatures', () => {
  it('refuses a name that is not catalog.schema.model, naming the input and an example, before any request', async () => {
    const { registry, double } = await setup()
    for (const name of ['churn', 'default.churn', 'main..churn', 'a.b.c.d', 'main.default.churn model']) {
      const error = await configurationRejection(registry.ensureRegisteredModel(name))
      expect(error.place).toEqual({ source: "input 'name'" })
      expect(error.detail).toContain('catalog.schema.model')
      expect(error.detail).toContain('main.ml_models.churn_classifier')
    }
    await configurationRejection(registry.findVersionByDigest('churn', 'sha256:0'))
    await configurationRejection(registry.getVersionByAlias('main.churn', 'champion'))
    expect(double.requests).toEqual([])
  })

  it("refuses a model without a signature, or with inputs only, in MLflow's words and with the fix", async () => {
    const { registry, double } = await setup()
    await registry.ensureRegisteredModel(NAME)

    const unsigned = await modelCopy({ mlmodel: doc => delete doc.signature })
    const none = await configurationRejection(createVersion(registry, await newVersion(unsigned)))
    expect(none.detail).toMatch(/^Model passed for registration did not contain any signature metadata\. /)
    expect(none.detail).toContain('both input and output type specifications')
    expect(none.detail).toContain('signature=infer_signature(X, y)')
    expect(none.place?.source).toBe(join(unsigned, 'MLmodel'))

    const inputsOnly = await modelCopy({ mlmodel: doc => ((doc.signature as Record<string, unknown>).outputs = null) })
    const half = await configurationRejection(createVersion(registry, await newVersion(inputsOnly)))
    expect(half.detail).toMatch(/^Model passed for registration contained a signature that includes only inputs\./)
    expect(half.place).toMatchObject({ path: 'signature.outputs' })

    expect(requestsTo(double, 'POST', /model-versions\/create$/)).toEqual([])
    expect(double.versions(NAME)).toEqual([])
  })
})

describe('registration', () => {
  it('registers the example model: PENDING, every file uploaded, finalized, READY with its tags', async () => {
    const { registry, double } = await setup()
    const request = await newVersion(EXAMPLE_MODEL, { runId: 'run-7', description: 'churn v1' })
    const { version, created } = await register(registry, request)

    expect(created).toBe(true)
    expect(version).toMatchObject({
      name: NAME,
      version: '1',
      status: 'READY',
      runId: 'run-7',
      description: 'churn v1',
      source: EXAMPLE_MODEL,
      tags: { [DIGEST_TAG]: request.digest, 'git.commit': 'abc123' },
      aliases: []
    })
    const stored = double.version(NAME, '1')!
    expect(stored.files).toEqual(
      request.content.kind === 'directory' ? request.content.files.map(f => f.path).sort() : []
    )
    for (const path of stored.files) {
      expect(double.file(NAME, '1', path)).toEqual(await readFile(join(EXAMPLE_MODEL, path)))
    }
    const create = requestsTo(double, 'POST', /model-versions\/create$/)
    expect(create).toHaveLength(1)
    expect(create[0]!.body).not.toHaveProperty('run_link')
    const puts = requestsTo(double, 'PUT', /^\/api\/2\.0\/fs\/files\//)
    expect(
      puts.every(put => put.query.overwrite === 'true' && put.path.startsWith(`/api/2.0/fs/files${ROOT}/1/`))
    ).toBe(true)
    // Nothing is finalized before every file is there.
    const finalizeAt = double.requests.findIndex(r => r.path.endsWith('/model-versions/finalize'))
    expect(double.requests.slice(finalizeAt).some(r => r.method === 'PUT')).toBe(false)
  })

  it('finds the digest on a re-run and creates nothing; a changed model becomes version 2', async () => {
    const { registry, double } = await setup()
    const first = await newVersion()
    await register(registry, first)
    const again = await register(registry, await newVersion())
    expect(again).toMatchObject({ created: false, version: { version: '1', status: 'READY' } })
    expect(requestsTo(double, 'POST', /model-versions\/create$/)).toHaveLength(1)

    const changed = await modelCopy({ files: { 'requirements.txt': 'mlflow==3.17.2\nscikit-learn==1.9.1\n' } })
    const second = await register(registry, await newVersion(changed))
    expect(second).toMatchObject({ created: true, version: { version: '2', status: 'READY' } })
    expect(second.version.tags[DIGEST_TAG]).not.toBe(first.digest)
    expect(double.versions(NAME)).toEqual(['1', '2'])
  })

  it('takes a corrected description on a re-run, in one PATCH; without the input, or the same, nothing is written', async () => {
    const { registry, double, log } = await setup()
    const run = (description?: string) =>
      registerModel({
        registry,
        name: NAME,
        modelDir: EXAMPLE_MODEL,
        aliases: [],
        tags: {},
        lineage: {},
        ...(description !== undefined ? { description } : {}),
        describeInput: input => `input '${input}'`,
        log: line => log.push(line)
      })
    const updates = () => requestsTo(double, 'PATCH', /\/unity-catalog\/model-versions\/update$/)

    expect((await run('churn v1')).version.description).toBe('churn v1')
    const corrected = await run('churn, trained on March data')
    expect(corrected).toMatchObject({
      created: false,
      version: { version: '1', description: 'churn, trained on March data' }
    })
    expect(updates().map(r => r.body)).toEqual([
      { name: NAME, version: '1', description: 'churn, trained on March data' }
    ])
    expect(log).toContain(`description of ${NAME} version 1 updated`)

    expect((await run()).version.description).toBe('churn, trained on March data')
    expect((await run('churn, trained on March data')).version.description).toBe('churn, trained on March data')
    expect(updates()).toHaveLength(1)
    expect(double.version(NAME, '1')!.description).toBe('churn, trained on March data')
    expect(double.versions(NAME)).toEqual(['1'])
    expect(double.violations).toEqual([])
  })

  it('waits for a finalized version that Unity Catalog reports PENDING for a while', async () => {
    const { registry } = await setup({ readyAfterGets: 3 })
    const { version } = await register(registry, await newVersion())
    expect(version.status).toBe('READY')
  })

  it('finishes a version a failed upload left PENDING_REGISTRATION on the next run, without a second version', async () => {
    const { registry, double } = await setup()
    const request = await newVersion()
    // Every attempt at one file fails (the first try and the client's five retries): the run dies mid-upload.
    double.inject({ count: 6, status: 500, method: 'PUT', path: /\/model\.skops$/ })
    await register(registry, request).then(
      () => {
        throw new Error('expected the upload to fail')
      },
      (error: unknown) => expect(error).toBeInstanceOf(ServiceError)
    )
    expect(double.version(NAME, '1')!.status).toBe('PENDING_REGISTRATION')

    const rerun = await register(registry, await newVersion())
    expect(rerun).toMatchObject({ created: false, version: { version: '1', status: 'READY' } })
    expect(double.versions(NAME)).toEqual(['1'])
    expect(double.version(NAME, '1')!.files).toContain('model.skops')
  })

  it('says a FAILED_REGISTRATION version must be deleted, with the status message', async () => {
    const { registry, double } = await setup()
    const request = await newVersion()
    await registry.ensureRegisteredModel(NAME)
    await registry.client.createModelVersion({ name: NAME, source: '/tmp/m', tags: { [DIGEST_TAG]: request.digest } })
    double.failVersion(NAME, '1', 'storage write failed')

    const waiting = registry.waitUntilReady(NAME, '1')
    await expect(waiting).rejects.toBeInstanceOf(ServiceError)
    await expect(waiting).rejects.toThrow('storage write failed')

    const found = await registry.findVersionByDigest(NAME, request.digest)
    expect(found).toMatchObject({ version: '1', status: 'FAILED_REGISTRATION', statusMessage: 'storage write failed' })
    await expect(registry.completeVersion(found!, request)).rejects.toThrow(
      /registration failed \(storage write failed\).*delete it/
    )
  })

  it('converges two concurrent writers of one digest on the lower version and removes the other', async () => {
    const { registry, double } = await setup()
    await registry.ensureRegisteredModel(NAME)
    const request = await newVersion()
    const [a, b] = await Promise.all([createVersion(registry, request), createVersion(registry, request)])
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect(a.version.version).toBe('1')
    expect(b.version.version).toBe('1')
    expect(double.versions(NAME)).toEqual(['1'])
    // Both created; the writer of version 2 removed its own.
    expect(requestsTo(double, 'POST', /model-versions\/create$/)).toHaveLength(2)
    expect(requestsTo(double, 'DELETE', /model-versions\/delete$/)).toMatchObject([{ body: { version: '2' } }])
  })

  it('copies a registered version into another model from a models:/ source, and refuses other sources', async () => {
    const { registry, double } = await setup()
    await register(registry, await newVersion(EXAMPLE_MODEL, { runId: 'run-1' }))
    const digest = (await newVersion()).digest
    const copy = await register(registry, {
      name: 'main.ml.churn_prod',
      digest,
      content: { kind: 'uri', uri: `models:/${NAME}/1` },
      tags: { [DIGEST_TAG]: digest }
    })
    expect(copy.version).toMatchObject({
      name: 'main.ml.churn_prod',
      version: '1',
      status: 'READY',
      source: `models:/${NAME}/1`,
      runId: 'run-1'
    })
    expect(double.version('main.ml.churn_prod', '1')!.files).toEqual(double.version(NAME, '1')!.files)

    const elsewhere = `sha256:${'f'.repeat(64)}`
    const run = await configurationRejection(
      createVersion(registry, {
        name: NAME,
        digest: elsewhere,
        content: { kind: 'uri', uri: 'runs:/abc/model' },
        tags: {}
      })
    )
    expect(run.detail).toContain('model-path')
  })
})

describe('where files go', () => {
  it('refuses, before creating a version, a workspace that takes model files only through cloud credentials', async () => {
    const { registry, double } = await setup({ filesApiForModels: false })
    await registry.ensureRegisteredModel(NAME)
    const error = await configurationRejection(createVersion(registry, await newVersion()))
    expect(error.place).toEqual({ source: 'MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC' })
    expect(error.detail).toContain('temporary cloud credentials')
    expect(double.versions(NAME)).toEqual([])
  })

  it('refuses, before creating a version, a workspace that does not answer the question (404)', async () => {
    const { registry, double } = await setup({ filesApiForModels: undefined })
    await registry.ensureRegisteredModel(NAME)
    const error = await configurationRejection(createVersion(registry, await newVersion()))
    expect(error.place).toEqual({ source: 'MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC' })
    expect(error.detail).toContain('answered 404')
    expect(error.detail).toContain('MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC=true')
    expect(double.versions(NAME)).toEqual([])
    expect(double.requests.filter(r => r.path.startsWith('/api/2.0/fs/'))).toEqual([])
  })

  it("uploads through the Files API when MLflow's switch says so, whatever the workspace answers", async () => {
    const silent = await setup(
      { filesApiForModels: undefined },
      { ...DOUBLE_PAT_ENV, MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC: '1' }
    )
    expect((await register(silent.registry, await newVersion())).version.status).toBe('READY')

    const forced = await setup(
      { filesApiForModels: false },
      { ...DOUBLE_PAT_ENV, MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC: 'true' }
    )
    expect((await register(forced.registry, await newVersion())).version.status).toBe('READY')
    expect(forced.double.requests.some(r => r.path.includes(':is-databricks-sdk'))).toBe(false)
  })
})

describe('aliases', () => {
  it('sets, moves and reads an alias, without regard to case, and skips a write that changes nothing', async () => {
    const { registry, double } = await setup()
    await register(registry, await newVersion())
    await register(registry, await newVersion(await modelCopy({ files: { 'requirements.txt': 'changed\n' } })))

    await registry.setAlias(NAME, 'Champion', '1')
    expect(await registry.getVersionByAlias(NAME, 'champion')).toMatchObject({ version: '1', aliases: ['champion'] })
    const writes = requestsTo(double, 'POST', /registered-models\/alias$/).length
    await registry.setAlias(NAME, 'champion', '1')
    expect(requestsTo(double, 'POST', /registered-models\/alias$/)).toHaveLength(writes)

    await registry.setAlias(NAME, 'champion', '2')
    expect(await registry.getVersionByAlias(NAME, 'CHAMPION')).toMatchObject({ version: '2' })
    expect((await registry.getVersion(NAME, '1'))!.aliases).toEqual([])
  })

  it('answers undefined for a missing alias, model or version; a wrong catalog or schema is a ConfigurationError', async () => {
    const { registry } = await setup()
    await register(registry, await newVersion())
    expect(await registry.getVersionByAlias(NAME, 'champion')).toBeUndefined()
    expect(await registry.getVersionByAlias('main.default.nobody', 'champion')).toBeUndefined()
    expect(await registry.getVersionByAlias(NAME, 'latest')).toBeUndefined()
    expect(await registry.getVersion(NAME, '9')).toBeUndefined()
    expect(await registry.getVersion('main.default.nobody', '1')).toBeUndefined()
    expect(await registry.findVersionByDigest('main.default.nobody', 'sha256:0')).toBeUndefined()

    const schema = await configurationRejection(registry.getVersionByAlias('main.nope.churn', 'champion'))
    expect(schema.detail).toContain("Schema 'main.nope' does not exist")
    const catalog = await configurationRejection(registry.ensureRegisteredModel('nope.default.churn'))
    expect(catalog.place).toEqual({ source: "input 'name'" })
    expect(catalog.detail).toContain("Catalog 'nope' does not exist")
  })

  it('refuses an alias MLflow reserves, and a version that does not exist', async () => {
    const { registry } = await setup()
    await register(registry, await newVersion())
    await configurationRejection(registry.setAlias(NAME, 'v2', '1'))
    await configurationRejection(registry.setAlias(NAME, 'latest', '1'))
    await configurationRejection(registry.setAlias(NAME, 'has space', '1'))
    const missing = await configurationRejection(registry.setAlias(NAME, 'champion', '5'))
    expect(missing.detail).toContain('version 5')
  })
})

describe('retries and lost answers', () => {
  it('retries 5xx and 429 (honouring Retry-After) and registers once', async () => {
    const { registry, double, log } = await setup()
    double.inject({ count: 2, status: 503, path: /registered-models\/create$/ })
    double.inject({ count: 1, status: 429, retryAfterSeconds: 0, path: /model-versions\/search$/ })
    double.inject({ count: 1, status: 500, method: 'PUT', path: /\/MLmodel$/ })
    double.inject({ count: 1, status: 502, path: /model-versions\/finalize$/ })
    const { version } = await register(registry, await newVersion())
    expect(version).toMatchObject({ version: '1', status: 'READY' })
    expect(double.versions(NAME)).toEqual(['1'])
    expect(
      double.requests
        .filter(r => r.status >= 429)
        .map(r => r.status)
        .sort()
    ).toEqual([429, 500, 502, 503, 503])
    expect(log.filter(line => line.includes('retrying'))).toHaveLength(5)
  })

  it('does not create twice when the answer to a create was lost, and creates again when it was refused', async () => {
    const { registry, double } = await setup()
    double.inject({ count: 1, status: 500, after: true, path: /model-versions\/create$/ })
    const lost = await register(registry, await newVersion())
    expect(lost).toMatchObject({ created: true, version: { version: '1', status: 'READY' } })
    expect(double.versions(NAME)).toEqual(['1'])

    double.inject({ count: 1, status: 500, path: /model-versions\/create$/ })
    const refused = await register(registry, await newVersion(await modelCopy({ files: { 'conda.yaml': 'x: 1\n' } })))
    expect(refused).toMatchObject({ created: true, version: { version: '2', status: 'READY' } })
    expect(double.versions(NAME)).toEqual(['1', '2'])
    expect(requestsTo(double, 'POST', /model-versions\/create$/).map(r => r.status)).toEqual([500, 500, 200])
  })

  it('finds a digest across pages of search results, reading tags with get', async () => {
    const { registry, double } = await setup({ pageSize: 2 })
    const requests: NewVersion[] = []
    for (let i = 0; i < 5; i++) {
      const request = await newVersion(await modelCopy({ files: { 'requirements.txt': `variant ${i}\n` } }))
      await register(registry, request)
      requests.push(request)
    }
    double.requests.length = 0
    expect(await registry.findVersionByDigest(NAME, requests[4]!.digest)).toMatchObject({ version: '5' })
    const searches = requestsTo(double, 'GET', /model-versions\/search$/)
    expect(searches).toHaveLength(3)
    expect(searches.slice(1).every(r => r.query.page_token)).toBe(true)
    expect(await registry.findVersionByDigest(NAME, requests[0]!.digest)).toMatchObject({ version: '1' })
  })
})

describe('credentials', () => {
  it('gets one OAuth token for many requests and a new one before it expires', async () => {
    const { registry, double } = await setup({ tokenLifetimeSeconds: 2 }, DOUBLE_OAUTH_ENV)
    await register(registry, await newVersion())
    expect(double.tokensIssued).toBe(1)
    expect(double.requests.filter(r => r.path.startsWith('/api/')).length).toBeGreaterThan(10)
    await new Promise(done => setTimeout(done, 1600))
    expect(await registry.getVersion(NAME, '1')).toMatchObject({ status: 'READY' })
    expect(double.tokensIssued).toBe(2)
    expect(double.requests.filter(r => r.status === 401)).toEqual([])
    expect(double.requests.filter(r => r.path === '/oidc/v1/token')).toHaveLength(2)
  })

  it('turns refused client credentials into a ConfigurationError naming the variables', async () => {
    const { registry } = await setup({}, { DATABRICKS_CLIENT_ID: DOUBLE_CLIENT_ID, DATABRICKS_CLIENT_SECRET: 'wrong' })
    const error = await configurationRejection(registry.getVersion(NAME, '1'))
    expect(error.detail).toContain('DATABRICKS_CLIENT_ID')
    expect(error.detail).toContain('DATABRICKS_CLIENT_SECRET')
    expect(error.detail).toContain('invalid_client')
  })

  it('turns a wrong token into a ConfigurationError about DATABRICKS_TOKEN, and names the privilege a reader lacks', async () => {
    const wrong = await setup({}, { DATABRICKS_TOKEN: 'dapi-wrong' })
    const refused = await configurationRejection(wrong.registry.ensureRegisteredModel(NAME))
    expect(refused.place).toEqual({ source: 'DATABRICKS_TOKEN' })
    expect(refused.detail).toContain('HTTP 401')
    expect(refused.detail).toContain('personal access token')

    const reader = await setup({}, { DATABRICKS_TOKEN: DOUBLE_READ_PAT })
    const denied = await configurationRejection(reader.registry.ensureRegisteredModel(NAME))
    expect(denied.detail).toContain('HTTP 403 PERMISSION_DENIED')
    expect(denied.detail).toContain('CREATE_MODEL on the schema main.default')

    // A model that exists needs no CREATE_MODEL; writing a version does need ownership.
    const writer = createUnityCatalogRegistry({ host: reader.double.url, env: DOUBLE_PAT_ENV })
    await writer.ensureRegisteredModel(NAME)
    await expect(reader.registry.ensureRegisteredModel(NAME)).resolves.toBeUndefined()
    const owner = await configurationRejection(createVersion(reader.registry, await newVersion()))
    expect(owner.detail).toContain(`ownership of the registered model ${NAME}`)
  })

  it('names the variables to set when credentials are missing, incomplete or ambiguous', () => {
    const open = (env: NodeJS.ProcessEnv) => () =>
      createUnityCatalogRegistry({ host: 'https://dbc-1.cloud.databricks.com', env })
    expect(open({})).toThrow(ConfigurationError)
    expect(open({})).toThrow(/DATABRICKS_TOKEN.*DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET/)
    expect(open({ DATABRICKS_CLIENT_ID: 'sp' })).toThrow(/DATABRICKS_CLIENT_SECRET is not/)
    expect(open({ DATABRICKS_TOKEN: 'dapi', DATABRICKS_CLIENT_ID: 'sp', DATABRICKS_CLIENT_SECRET: 's' })).toThrow(
      /more than one/
    )
    expect(open({ DATABRICKS_TOKEN: 'dapi' })().location).toBe('https://dbc-1.cloud.databricks.com')
  })

  it('accepts a workspace host without a scheme or with a trailing slash, and refuses other schemes', () => {
    expect(normalizeHost('adb-123.4.azuredatabricks.net/', 'DATABRICKS_HOST')).toBe(
      'https://adb-123.4.azuredatabricks.net'
    )
    expect(normalizeHost('http://127.0.0.1:8080', 'DATABRICKS_HOST')).toBe('http://127.0.0.1:8080')
    expect(() => normalizeHost('databricks-uc://x', 'DATABRICKS_HOST')).toThrow(ConfigurationError)
  })
})

describe('metrics and downloads', () => {
  it("reads a version's run metrics from the workspace's tracking service, NaN as text; no run, no metrics", async () => {
    const { registry, double } = await setup()
    double.addRun('run-1', { accuracy: 0.91, loss: 'NaN', auc: 'Infinity' })
    const { version } = await register(registry, await newVersion(EXAMPLE_MODEL, { runId: 'run-1' }))
    const metrics = await registry.readVersionMetrics(version)
    expect(metrics.runId).toBe('run-1')
    expect([...metrics.values]).toEqual([
      ['accuracy', 0.91],
      ['loss', 'NaN'],
      ['auc', 'Infinity']
    ])
    const { runId: _runId, ...withoutRun } = version
    expect((await registry.readVersionMetrics(withoutRun)).values.size).toBe(0)
    expect((await registry.readRunMetrics('run-1')).values.get('accuracy')).toBe(0.91)
    const missing = await configurationRejection(registry.readRunMetrics('nope'))
    expect(missing.place).toEqual({ source: 'mlflow-run:nope' })
  })

  it('downloads a version by number and by alias, byte for byte, across listing pages', async () => {
    const { registry } = await setup({ pageSize: 2 })
    const request = await newVersion()
    await register(registry, request)
    await registry.setAlias(NAME, 'champion', '1')
    for (const uri of [`models:/${NAME}/1`, `models:/${NAME}@champion`]) {
      const into = await mkdtemp(join(tmpdir(), 'modelgate-uc-download-'))
      scratch.push(into)
      await registry.downloadModel(uri, into)
      const walk = await walkModelDir(into)
      const { manifest } = await createManifest(walk.files)
      expect(`sha256:${manifest!.digest}`).toBe(request.digest)
    }
  })

  it('refuses to download what is not a READY registered version', async () => {
    const { registry } = await setup()
    await register(registry, await newVersion())
    const into = await mkdtemp(join(tmpdir(), 'modelgate-uc-download-'))
    scratch.push(into)
    await configurationRejection(registry.downloadModel(`models:/${NAME}/4`, into))
    await configurationRejection(registry.downloadModel(`models:/${NAME}@champion`, into))
    const run = await configurationRejection(registry.downloadModel('runs:/abc/model', into))
    expect(run.detail).toContain('registered versions only')
    await registry.client.createModelVersion({ name: NAME, source: '/tmp/m', tags: {} })
    const pending = await configurationRejection(registry.downloadModel(`models:/${NAME}/2`, into))
    expect(pending.detail).toContain('PENDING_REGISTRATION')
  })
})
