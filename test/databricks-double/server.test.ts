/**
 * The Databricks double's own rules, spoken to with plain fetch: if these drift, the registry's tests against it
 * prove nothing about Databricks.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { databricksDoublePerTest } from './per-test.js'
import {
  DOUBLE_CLIENT_ID,
  DOUBLE_CLIENT_SECRET,
  DOUBLE_PAT,
  DOUBLE_READ_PAT,
  type DatabricksDouble,
  type DatabricksDoubleOptions
} from './server.js'

const UC = '/api/2.0/mlflow/unity-catalog'
const MODEL = 'main.default.churn'

interface Answer {
  status: number
  json: Record<string, unknown> | undefined
  text: string
  headers: Headers
}

const startDouble = databricksDoublePerTest()
let double: DatabricksDouble

async function start(options: DatabricksDoubleOptions = {}): Promise<void> {
  double = await startDouble(options)
}

async function call(
  method: string,
  path: string,
  options: { token?: string | null; query?: Record<string, string>; json?: unknown; bytes?: Buffer } = {}
): Promise<Answer> {
  const url = new URL(path, double.url)
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value)
  const headers: Record<string, string> = {}
  const token = options.token === undefined ? DOUBLE_PAT : options.token
  if (token) headers.authorization = `Bearer ${token}`
  let body: string | Buffer | undefined
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  } else if (options.bytes) {
    headers['content-type'] = 'application/octet-stream'
    body = options.bytes
  }
  const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) })
  const text = await response.text()
  let json: Record<string, unknown> | undefined
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
  } catch {
    json = undefined
  }
  return { status: response.status, json, text, headers: response.headers }
}

const createModel = (name = MODEL, token?: string) =>
  call('POST', `${UC}/registered-models/create`, { json: { name }, ...(token ? { token } : {}) })

async function createVersion(tags: Record<string, string> = {}, name = MODEL): Promise<string> {
  const answer = await call('POST', `${UC}/model-versions/create`, {
    json: { name, source: '/tmp/model', tags: Object.entries(tags).map(([key, value]) => ({ key, value })) }
  })
  expect(answer.status).toBe(200)
  return (answer.json!.model_version as { version: string }).version
}

const upload = (version: string, path: string, bytes = Buffer.from('bytes'), query: Record<string, string> = {}) =>
  call('PUT', `/api/2.0/fs/files/Models/main/default/churn/${version}/${path}`, {
    bytes,
    query: { overwrite: 'true', ...query }
  })

const finalize = (version: string) => call('POST', `${UC}/model-versions/finalize`, { json: { name: MODEL, version } })

const getVersion = (version: string) => call('GET', `${UC}/model-versions/get`, { query: { name: MODEL, version } })

describe('authentication', () => {
  beforeEach(() => start({ tokenLifetimeSeconds: 60 }))

  it('refuses a request without a token, or with one it does not know, as UNAUTHENTICATED 401', async () => {
    const none = await call('GET', `${UC}/registered-models/get`, { token: null, query: { name: MODEL } })
    expect(none.status).toBe(401)
    expect(none.json).toMatchObject({ error_code: 'UNAUTHENTICATED' })
    const unknown = await call('GET', `${UC}/registered-models/get`, { token: 'dapi-nope', query: { name: MODEL } })
    expect(unknown.status).toBe(401)
    expect(unknown.json).toMatchObject({ error_code: 'UNAUTHENTICATED', message: 'Invalid access token.' })
  })

  it('issues OAuth tokens to a known client for client_credentials and all-apis, and they expire', async () => {
    const basic = `Basic ${Buffer.from(`${DOUBLE_CLIENT_ID}:${DOUBLE_CLIENT_SECRET}`).toString('base64')}`
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }
    const response = await fetch(`${double.url}/oidc/v1/token`, {
      method: 'POST',
      headers: form,
      body: 'grant_type=client_credentials&scope=all-apis'
    })
    expect(response.status).toBe(200)
    const token = (await response.json()) as Record<string, unknown>
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 60, scope: 'all-apis' })
    expect(double.tokensIssued).toBe(1)

    expect((await createModel(MODEL, token.access_token as string)).status).toBe(200)
    double.expireTokens()
    const expired = await createModel('main.default.other', token.access_token as string)
    expect(expired.status).toBe(401)
    expect(expired.json).toMatchObject({ error_code: 'UNAUTHENTICATED' })

    const wrongSecret = await fetch(`${double.url}/oidc/v1/token`, {
      method: 'POST',
      headers: { ...form, authorization: `Basic ${Buffer.from(`${DOUBLE_CLIENT_ID}:nope`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=all-apis'
    })
    expect(wrongSecret.status).toBe(401)
    expect(await wrongSecret.json()).toMatchObject({ error: 'invalid_client' })
    const wrongGrant = await fetch(`${double.url}/oidc/v1/token`, {
      method: 'POST',
      headers: form,
      body: 'grant_type=password&scope=all-apis'
    })
    expect(wrongGrant.status).toBe(400)
    expect(double.tokensIssued).toBe(1)
  })
})

describe('registered models', () => {
  beforeEach(() => start())

  it('creates a model once: the second create is ALREADY_EXISTS 409, and names compare without case', async () => {
    const first = await createModel('Main.Default.Churn')
    expect(first.status).toBe(200)
    expect(first.json).toMatchObject({ registered_model: { name: MODEL } })
    const again = await createModel(MODEL)
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ error_code: 'ALREADY_EXISTS' })
    expect((await call('GET', `${UC}/registered-models/get`, { query: { name: MODEL } })).status).toBe(200)
  })

  it('answers a wrong name, catalog or schema, a reader and a missing model in Databricks error shapes', async () => {
    expect((await createModel('churn')).json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    const catalog = await createModel('nope.default.churn')
    expect(catalog.status).toBe(404)
    expect(catalog.json).toMatchObject({
      error_code: 'CATALOG_DOES_NOT_EXIST',
      message: "Catalog 'nope' does not exist."
    })
    const schema = await createModel('main.nope.churn')
    expect(schema.json).toMatchObject({ error_code: 'SCHEMA_DOES_NOT_EXIST' })
    const reader = await createModel(MODEL, DOUBLE_READ_PAT)
    expect(reader.status).toBe(403)
    expect(reader.json).toMatchObject({ error_code: 'PERMISSION_DENIED' })
    expect(String(reader.json!.message)).toContain('CREATE MODEL')
    const missing = await call('GET', `${UC}/registered-models/get`, { query: { name: MODEL } })
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' })
  })
})

describe('the model version state machine', () => {
  beforeEach(async () => {
    await start()
    await createModel()
  })

  it('creates PENDING_REGISTRATION with a storage location, and finalizes only after files were uploaded', async () => {
    const created = await call('POST', `${UC}/model-versions/create`, {
      json: { name: MODEL, source: '/tmp/model', run_id: 'r1', tags: [{ key: 'modelgate.digest', value: 'sha256:x' }] }
    })
    expect(created.json!.model_version).toMatchObject({
      name: MODEL,
      version: '1',
      status: 'PENDING_REGISTRATION',
      run_id: 'r1',
      tags: [{ key: 'modelgate.digest', value: 'sha256:x' }]
    })
    expect((created.json!.model_version as { storage_location: string }).storage_location).toMatch(/^s3:\/\//)

    const early = await finalize('1')
    expect(early.status).toBe(400)
    expect(early.json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    expect(double.version(MODEL, '1')!.status).toBe('PENDING_REGISTRATION')

    expect((await upload('1', 'MLmodel')).status).toBe(204)
    expect((await upload('1', 'data/model.pkl')).status).toBe(204)
    const done = await finalize('1')
    expect(done.json!.model_version).toMatchObject({ status: 'READY' })
    expect((await finalize('1')).json!.model_version).toMatchObject({ status: 'READY' })
    expect(double.version(MODEL, '1')).toMatchObject({ status: 'READY', files: ['MLmodel', 'data/model.pkl'] })

    // Files are written at creation time only.
    const late = await upload('1', 'MLmodel')
    expect(late.status).toBe(403)
    expect(late.json).toMatchObject({ error_code: 'PERMISSION_DENIED' })
  })

  it('numbers versions from 1 and never reuses a number, and refuses run_link and a missing source', async () => {
    expect(await createVersion()).toBe('1')
    await call('DELETE', `${UC}/model-versions/delete`, { json: { name: MODEL, version: '1' } })
    expect(await createVersion()).toBe('2')
    const link = await call('POST', `${UC}/model-versions/create`, {
      json: { name: MODEL, source: '/tmp/model', run_link: 'https://x' }
    })
    expect(link.status).toBe(400)
    const noSource = await call('POST', `${UC}/model-versions/create`, { json: { name: MODEL } })
    expect(noSource.json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    const noModel = await call('POST', `${UC}/model-versions/create`, {
      json: { name: 'main.default.other', source: '/tmp/model' }
    })
    expect(noModel.status).toBe(404)
    expect(noModel.json).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' })
  })

  it('keeps a version a test failed in FAILED_REGISTRATION, which finalize refuses', async () => {
    const version = await createVersion()
    await upload(version, 'MLmodel')
    double.failVersion(MODEL, version, 'the upload was corrupted')
    expect((await getVersion(version)).json!.model_version).toMatchObject({
      status: 'FAILED_REGISTRATION',
      status_message: 'the upload was corrupted'
    })
    expect((await finalize(version)).status).toBe(400)
  })

  it('refuses to overwrite a file when overwrite=false', async () => {
    const version = await createVersion()
    expect((await upload(version, 'MLmodel', Buffer.from('a'), { overwrite: 'false' })).status).toBe(204)
    const again = await upload(version, 'MLmodel', Buffer.from('b'), { overwrite: 'false' })
    expect(again.status).toBe(409)
    expect(double.file(MODEL, version, 'MLmodel')!.toString()).toBe('a')
  })
})

describe('asynchronous registration', () => {
  it('shows PENDING_REGISTRATION for readyAfterGets reads after finalize, then READY', async () => {
    await start({ readyAfterGets: 2 })
    await createModel()
    const version = await createVersion()
    await upload(version, 'MLmodel')
    expect((await finalize(version)).json!.model_version).toMatchObject({ status: 'PENDING_REGISTRATION' })
    expect((await upload(version, 'MLmodel')).status).toBe(403)
    expect((await getVersion(version)).json!.model_version).toMatchObject({ status: 'PENDING_REGISTRATION' })
    expect((await getVersion(version)).json!.model_version).toMatchObject({ status: 'PENDING_REGISTRATION' })
    expect((await getVersion(version)).json!.model_version).toMatchObject({ status: 'READY' })
  })
})

describe('search, tags and aliases', () => {
  beforeEach(async () => {
    await start({ pageSize: 2 })
    await createModel()
  })

  it('lists versions newest first, a page at a time, without tags or aliases; get has both', async () => {
    for (let i = 0; i < 5; i++) await createVersion({ n: String(i) })
    await call('POST', `${UC}/registered-models/alias`, { json: { name: MODEL, alias: 'champion', version: '2' } })
    const seen: string[] = []
    let pageToken: string | undefined
    let pages = 0
    do {
      const page = await call('GET', `${UC}/model-versions/search`, {
        query: { filter: `name='${MODEL}'`, max_results: '1000', ...(pageToken ? { page_token: pageToken } : {}) }
      })
      expect(page.status).toBe(200)
      for (const version of page.json!.model_versions as Record<string, unknown>[]) {
        expect(version.tags).toBeUndefined()
        expect(version.aliases).toBeUndefined()
        seen.push(version.version as string)
      }
      pageToken = page.json!.next_page_token as string | undefined
      pages++
    } while (pageToken)
    expect(seen).toEqual(['5', '4', '3', '2', '1'])
    expect(pages).toBe(3)
    expect((await getVersion('2')).json!.model_version).toMatchObject({
      tags: [{ key: 'n', value: '1' }],
      aliases: [{ alias: 'champion', version: '2' }]
    })
  })

  it('refuses a page token from another query, a filter it cannot read and too many results', async () => {
    for (let i = 0; i < 3; i++) await createVersion()
    const first = await call('GET', `${UC}/model-versions/search`, { query: { filter: `name='${MODEL}'` } })
    const token = first.json!.next_page_token as string
    const other = await call('GET', `${UC}/model-versions/search`, {
      query: { filter: `run_id='x'`, page_token: token }
    })
    expect(other.status).toBe(400)
    const tagFilter = await call('GET', `${UC}/model-versions/search`, {
      query: { filter: `name='${MODEL}' AND tags.x='y'` }
    })
    expect(tagFilter.json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    const tooMany = await call('GET', `${UC}/model-versions/search`, {
      query: { filter: `name='${MODEL}'`, max_results: '10001' }
    })
    expect(tooMany.status).toBe(400)
    const missing = await call('GET', `${UC}/model-versions/search`, { query: { filter: `name='main.default.nope'` } })
    expect(missing.json).toEqual({ model_versions: [] })
  })

  it('sets, moves and reads aliases without regard to case; a missing one is RESOURCE_DOES_NOT_EXIST 404', async () => {
    await createVersion()
    await createVersion()
    const set = await call('POST', `${UC}/registered-models/alias`, {
      json: { name: MODEL, alias: 'Champion', version: '1' }
    })
    expect(set.status).toBe(200)
    const read = await call('GET', `${UC}/registered-models/alias`, { query: { name: MODEL, alias: 'CHAMPION' } })
    expect(read.json!.model_version).toMatchObject({ version: '1', aliases: [{ alias: 'champion', version: '1' }] })
    await call('POST', `${UC}/registered-models/alias`, { json: { name: MODEL, alias: 'champion', version: '2' } })
    expect(double.version(MODEL, '1')!.aliases).toEqual([])
    expect(double.version(MODEL, '2')!.aliases).toEqual(['champion'])

    const missing = await call('GET', `${UC}/registered-models/alias`, { query: { name: MODEL, alias: 'challenger' } })
    expect(missing.status).toBe(404)
    expect(missing.json).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Alias challenger not found' })
    const reserved = await call('POST', `${UC}/registered-models/alias`, {
      json: { name: MODEL, alias: 'v3', version: '1' }
    })
    expect(reserved.status).toBe(400)
    const reader = await call('POST', `${UC}/registered-models/alias`, {
      token: DOUBLE_READ_PAT,
      json: { name: MODEL, alias: 'x', version: '1' }
    })
    expect(reader.status).toBe(403)

    await call('DELETE', `${UC}/model-versions/delete`, { json: { name: MODEL, version: '2' } })
    expect(
      (await call('GET', `${UC}/registered-models/alias`, { query: { name: MODEL, alias: 'champion' } })).status
    ).toBe(404)
  })

  it('sets and overwrites version tags', async () => {
    const version = await createVersion({ stage: 'candidate' })
    await call('POST', `${UC}/model-versions/set-tag`, { json: { name: MODEL, version, key: 'stage', value: 'ok' } })
    await call('POST', `${UC}/model-versions/set-tag`, { json: { name: MODEL, version, key: 'by', value: 'ana' } })
    expect(double.version(MODEL, version)!.tags).toEqual({ stage: 'ok', by: 'ana' })
  })

  it("updates a version's description with PATCH, answering the version; no description leaves it, empty clears it", async () => {
    const version = await createVersion({ stage: 'candidate' })
    const update = (json: Record<string, unknown>, token?: string) =>
      call('PATCH', `${UC}/model-versions/update`, {
        json: { name: MODEL, version, ...json },
        ...(token ? { token } : {})
      })

    const updated = await update({ description: 'churn, March data' })
    expect(updated.status).toBe(200)
    expect(updated.json!.model_version).toMatchObject({
      name: MODEL,
      version,
      description: 'churn, March data',
      tags: [{ key: 'stage', value: 'candidate' }]
    })
    expect((await getVersion(version)).json!.model_version).toMatchObject({ description: 'churn, March data' })

    expect((await update({})).json!.model_version).toMatchObject({ description: 'churn, March data' })
    expect((await update({ description: '' })).json!.model_version).not.toHaveProperty('description')
    expect(double.version(MODEL, version)!.description).toBeUndefined()

    expect((await update({ description: 7 })).json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    expect((await update({ description: 'x' }, DOUBLE_READ_PAT)).json).toMatchObject({
      error_code: 'PERMISSION_DENIED'
    })
    const missing = await call('PATCH', `${UC}/model-versions/update`, {
      json: { name: MODEL, version: '99', description: 'x' }
    })
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' })
    // The update is a PATCH only: a POST to it is no endpoint.
    expect((await call('POST', `${UC}/model-versions/update`, { json: { name: MODEL, version } })).status).toBe(404)
    expect(double.violations).toEqual([`POST ${UC}/model-versions/update: not an endpoint the double implements`])
    double.violations.length = 0
  })
})

describe('what real clients need', () => {
  beforeEach(() => start())

  it('answers the discovery documents without credentials, pointing at its own OAuth endpoints', async () => {
    const metadata = await call('GET', '/.well-known/databricks-config', { token: null })
    expect(metadata.status).toBe(200)
    expect(metadata.json).toEqual({
      oidc_endpoint: `${double.url}/oidc`,
      workspace_id: '1234567890123456',
      cloud: 'AWS'
    })
    const oauth = await call('GET', '/oidc/.well-known/oauth-authorization-server', { token: null })
    expect(oauth.status).toBe(200)
    expect(oauth.json).toMatchObject({ token_endpoint: `${double.url}/oidc/v1/token` })
  })

  it("reads a DELETE's parameters from the query string as from a JSON body, and takes emit-lineage", async () => {
    await createModel()
    const version = await createVersion()
    await upload(version, 'MLmodel')
    await finalize(version)
    for (const alias of ['a', 'b'])
      await call('POST', `${UC}/registered-models/alias`, { json: { name: MODEL, alias, version } })
    expect((await call('DELETE', `${UC}/registered-models/alias`, { query: { name: MODEL, alias: 'a' } })).status).toBe(
      200
    )
    expect((await call('DELETE', `${UC}/registered-models/alias`, { json: { name: MODEL, alias: 'b' } })).status).toBe(
      200
    )
    expect(double.version(MODEL, version)!.aliases).toEqual([])
    const lineage = await call('POST', `${UC}/model-versions/emit-lineage`, {
      json: { name: MODEL, version, securable_list: [], direction: 'DOWNSTREAM' }
    })
    expect(lineage.status).toBe(200)
    expect(
      (await call('POST', `${UC}/model-versions/emit-lineage`, { json: { name: MODEL, version: '9' } })).status
    ).toBe(404)
  })
})

/** The parts of a serving endpoint object these tests read. */
interface EndpointAnswer {
  state: { ready: string; config_update: string }
  config: { config_version: number; served_entities: Record<string, unknown>[] }
  pending_config?: unknown
}

describe('Model Serving', () => {
  const SERVING = '/api/2.0/serving-endpoints'
  const SERVED = 'main.ml.churn'
  let versions: string[]
  const entity = (version: string, name = `churn-${version}`) => ({
    name,
    entity_name: SERVED,
    entity_version: version,
    workload_size: 'Small',
    scale_to_zero_enabled: false
  })
  const traffic = (...pairs: [string, number][]) => ({
    routes: pairs.map(([name, traffic_percentage]) => ({ served_entity_name: name, traffic_percentage }))
  })
  const create = (config: unknown, name = 'churn', token?: string) =>
    call('POST', SERVING, { json: { name, config }, ...(token ? { token } : {}) })
  const invoke = (name = 'churn', json: unknown = { dataframe_split: { columns: ['x'], data: [[1], [2], [3]] } }) =>
    call('POST', `/serving-endpoints/${name}/invocations`, { json })
  const read = async (name = 'churn') => (await call('GET', `${SERVING}/${name}`)).json as unknown as EndpointAnswer
  const settle = () => new Promise(resolve => setTimeout(resolve, 80))

  beforeEach(async () => {
    await start({ serving: { deployMs: 50, updateLimit: { count: 6, windowMs: 60_000 } } })
    versions = [double.addVersion(SERVED), double.addVersion(SERVED), double.addVersion(SERVED)]
  })

  it('creates an endpoint whose first config is pending until deployed, then serves it', async () => {
    const created = await create({ served_entities: [entity('1')], traffic_config: traffic(['churn-1', 100]) })
    expect(created.status).toBe(200)
    expect(created.json).toMatchObject({
      name: 'churn',
      state: { ready: 'NOT_READY', config_update: 'IN_PROGRESS' },
      pending_config: {
        config_version: 1,
        served_entities: [{ name: 'churn-1', state: { deployment: 'DEPLOYMENT_CREATING' } }]
      }
    })
    expect(created.json!.config).toBeUndefined()
    expect((await invoke()).status).toBe(503)
    await settle()
    const ready = await read()
    expect(ready.state).toEqual({ ready: 'READY', config_update: 'NOT_UPDATING' })
    expect(ready.pending_config).toBeUndefined()
    expect(ready.config.served_entities[0]).toMatchObject({
      name: 'churn-1',
      entity_name: SERVED,
      entity_version: '1',
      state: { deployment: 'DEPLOYMENT_READY' }
    })
    const answer = await invoke()
    expect(answer.status).toBe(200)
    expect(answer.json).toEqual({ predictions: [0, 0, 0] })
    expect(answer.headers.get('served-model-name')).toBe('churn-1')
    expect((await create({ served_entities: [entity('1')] })).json).toMatchObject({
      error_code: 'RESOURCE_ALREADY_EXISTS'
    })
  })

  it('keeps serving the active config while an update is in progress, refuses a second update 409, then switches', async () => {
    await create({ served_entities: [entity('1')] })
    await settle()
    const put = await call('PUT', `${SERVING}/churn/config`, {
      json: { served_entities: [entity('1'), entity('2')], traffic_config: traffic(['churn-1', 75], ['churn-2', 25]) }
    })
    expect(put.status).toBe(200)
    expect(put.json).toMatchObject({
      state: { ready: 'READY', config_update: 'IN_PROGRESS' },
      config: { config_version: 1 },
      pending_config: { config_version: 2 }
    })
    const conflict = await call('PUT', `${SERVING}/churn/config`, { json: { served_entities: [entity('1')] } })
    expect(conflict.status).toBe(409)
    expect(conflict.json).toMatchObject({ error_code: 'RESOURCE_CONFLICT' })
    expect((await invoke()).headers.get('served-model-name')).toBe('churn-1')
    await settle()
    const names: string[] = []
    for (let i = 0; i < 8; i++) names.push((await invoke()).headers.get('served-model-name')!)
    expect(names.filter(n => n === 'churn-2')).toHaveLength(2)
    expect(double.serving.answeredBy('churn')).toEqual({ 'churn-1': 7, 'churn-2': 2 })
  })

  it('leaves the active config in place when an update fails, and reports UPDATE_FAILED', async () => {
    await create({ served_entities: [entity('1')] })
    await settle()
    double.serving.failDeployment(SERVED, versions[2]!, 'boom')
    await call('PUT', `${SERVING}/churn/config`, { json: { served_entities: [entity('3')] } })
    await settle()
    const after = await read()
    expect(after.state).toEqual({ ready: 'READY', config_update: 'UPDATE_FAILED' })
    expect(after.config.config_version).toBe(1)
    expect(after.pending_config).toBeUndefined()
    expect((await invoke()).headers.get('served-model-name')).toBe('churn-1')
  })

  it('validates configs as the workspace does', async () => {
    const refused = async (config: unknown, name = 'churn') => {
      const answer = await create(config, name)
      expect(answer.status).toBeGreaterThanOrEqual(400)
      return `${answer.status} ${(answer.json as { message: string }).message}`
    }
    expect(await refused({ served_entities: [entity('1')] }, 'no spaces')).toContain('400 Invalid endpoint name')
    expect(await refused({ served_entities: [] })).toContain('at least one served entity')
    expect(await refused({ served_entities: [entity('1'), entity('2')] })).toContain('traffic_config is required')
    expect(
      await refused({ served_entities: [entity('1'), entity('2')], traffic_config: traffic(['churn-1', 100]) })
    ).toContain("'churn-2' has 0")
    expect(
      await refused({
        served_entities: [entity('1'), entity('2')],
        traffic_config: traffic(['churn-1', 60], ['churn-2', 30])
      })
    ).toContain('sum to 100, not 90')
    expect(
      await refused({
        served_entities: [entity('1'), entity('2', 'churn-1')],
        traffic_config: traffic(['churn-1', 100])
      })
    ).toContain('unique')
    expect(await refused({ served_entities: [entity('1')], traffic_config: traffic(['other', 100]) })).toContain(
      'not a served entity'
    )
    expect(await refused({ served_entities: [entity('9')] })).toContain(
      `404 served_entities[0]: model version '${SERVED}/9'`
    )
    expect(await refused({ served_entities: [{ ...entity('1'), workload_size: 'Huge' }] })).toContain('workload_size')
    expect(await refused({ served_entities: [{ ...entity('1'), entity_version: 1 }] })).toContain('entity_version')
    const reader = await create({ served_entities: [entity('1')] }, 'churn', DOUBLE_READ_PAT)
    expect(reader.status).toBe(403)
    expect((await invoke('nope')).status).toBe(404)
  })

  it('refuses an invocation without exactly one input field, and answers test-made errors and slowness', async () => {
    await create({ served_entities: [entity('1')] })
    await settle()
    expect((await invoke('churn', { rows: [] })).status).toBe(400)
    expect((await invoke('churn', { inputs: [1], instances: [1] })).status).toBe(400)
    double.serving.failPredictions(SERVED, versions[0]!, 500)
    const failed = await invoke()
    expect(failed.status).toBe(500)
    expect(failed.headers.get('served-model-name')).toBe('churn-1')
    double.serving.failPredictions(SERVED, versions[0]!, 400)
    double.serving.slowPredictions(SERVED, versions[0]!, 120)
    const started = performance.now()
    expect((await invoke()).status).toBe(400)
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
  })

  it('answers the update limit 429 with Retry-After, and deletes', async () => {
    await create({ served_entities: [entity('1')] })
    for (let i = 0; i < 5; i++) {
      await settle()
      const answer = await call('PUT', `${SERVING}/churn/config`, {
        json: { served_entities: [entity(i % 2 ? '1' : '2')] }
      })
      expect(answer.status).toBe(200)
    }
    await settle()
    const limited = await call('PUT', `${SERVING}/churn/config`, { json: { served_entities: [entity('1')] } })
    expect(limited.status).toBe(429)
    expect(limited.json).toMatchObject({ error_code: 'REQUEST_LIMIT_EXCEEDED' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50)
    expect((await call('DELETE', `${SERVING}/churn`)).status).toBe(200)
    expect((await call('GET', `${SERVING}/churn`)).status).toBe(404)
    expect((await call('GET', SERVING)).json).toEqual({ endpoints: [] })
  })
})

describe('the Files API', () => {
  beforeEach(async () => {
    await start({ pageSize: 2 })
    await createModel()
  })

  it('serves the bytes back and lists directories a page at a time, 404 for one that does not exist', async () => {
    const version = await createVersion()
    const bytes = Buffer.from([0, 1, 2, 255])
    for (const path of ['MLmodel', 'a.txt', 'b.txt', 'data/x.bin', 'data/deep/y.bin'])
      await upload(version, path, path === 'data/x.bin' ? bytes : Buffer.from(path))
    const file = await fetch(`${double.url}/api/2.0/fs/files/Models/main/default/churn/1/data/x.bin`, {
      headers: { authorization: `Bearer ${DOUBLE_PAT}` }
    })
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes)

    const names: string[] = []
    let pageToken: string | undefined
    do {
      const page = await call('GET', '/api/2.0/fs/directories/Models/main/default/churn/1', {
        query: pageToken ? { page_token: pageToken } : {}
      })
      for (const entry of page.json!.contents as Record<string, unknown>[]) {
        expect(entry.path).toBe(`/Models/main/default/churn/1/${entry.name}`)
        names.push(`${entry.name}${entry.is_directory ? '/' : `:${entry.file_size}`}`)
      }
      pageToken = page.json!.next_page_token as string | undefined
    } while (pageToken)
    expect(names).toEqual(['MLmodel:7', 'a.txt:5', 'b.txt:5', 'data/'])

    const missingDir = await call('GET', '/api/2.0/fs/directories/Models/main/default/churn/2')
    expect(missingDir.status).toBe(404)
    expect(missingDir.json).toMatchObject({ error_code: 'NOT_FOUND' })
    const missingFile = await call('GET', '/api/2.0/fs/files/Models/main/default/churn/1/nope')
    expect(missingFile.status).toBe(404)
  })

  it("answers HEAD with a file's length and a directory's existence, and says the length of a download", async () => {
    const version = await createVersion()
    await upload(version, 'MLmodel', Buffer.from('flavors: {}\n'))
    const head = await call('HEAD', '/api/2.0/fs/files/Models/main/default/churn/1/MLmodel')
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('12')
    expect(head.text).toBe('')
    const get = await call('GET', '/api/2.0/fs/files/Models/main/default/churn/1/MLmodel')
    expect(get.headers.get('content-length')).toBe('12')
    expect(get.headers.get('transfer-encoding')).toBeNull()
    expect((await call('HEAD', '/api/2.0/fs/directories/Models/main/default/churn/1')).status).toBe(200)
    expect((await call('HEAD', '/api/2.0/fs/directories/Models/main/default/churn/2')).status).toBe(404)
    expect((await call('HEAD', '/api/2.0/fs/files/Models/main/default/churn/1/nope')).status).toBe(404)
  })

  it("answers the SDK's probes for faster transfers 404, as a workspace without them, without a violation", async () => {
    expect((await call('GET', '/api/2.0/fs/endpoints')).status).toBe(404)
    expect((await call('POST', '/api/2.0/fs/create-download-url', { query: { path: '/Models/x' } })).status).toBe(404)
    expect(double.violations).toEqual([])
  })

  it('decodes percent-encoded path segments', async () => {
    const version = await createVersion()
    expect((await upload(version, 'with%20space%23.txt')).status).toBe(204)
    expect(double.version(MODEL, version)!.files).toEqual(['with space#.txt'])
  })
})

describe('faults, runs and the request log', () => {
  beforeEach(() => start())

  it('fails the next matching requests with the status asked for, 429 with Retry-After, then recovers', async () => {
    double.inject({ count: 2, status: 503, path: /registered-models\/create$/ })
    double.inject({ count: 1, status: 429, retryAfterSeconds: 2, method: 'GET' })
    expect((await createModel()).status).toBe(503)
    const limited = await call('GET', `${UC}/registered-models/get`, { query: { name: MODEL } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect(limited.json).toMatchObject({ error_code: 'REQUEST_LIMIT_EXCEEDED' })
    expect((await createModel()).status).toBe(503)
    expect((await createModel()).status).toBe(200)
    expect(double.requests.map(r => r.status)).toEqual([503, 429, 503, 200])
    expect(double.requests[3]).toMatchObject({ method: 'POST', identity: 'ci@example.com', body: { name: MODEL } })
  })

  it('with after: true does the work and loses the answer', async () => {
    await createModel()
    double.inject({ count: 1, status: 500, after: true, path: /model-versions\/create$/ })
    const lost = await call('POST', `${UC}/model-versions/create`, { json: { name: MODEL, source: '/tmp/m' } })
    expect(lost.status).toBe(500)
    expect(double.versions(MODEL)).toEqual(['1'])
  })

  it('serves runs with their metrics, NaN as text, and 404 for a missing run', async () => {
    double.addRun('run-1', { accuracy: 0.9, loss: 'NaN' })
    const run = await call('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: 'run-1' } })
    expect(run.json).toMatchObject({
      run: {
        info: { run_id: 'run-1' },
        data: {
          metrics: [expect.objectContaining({ key: 'accuracy', value: 0.9 }), expect.objectContaining({ value: 'NaN' })]
        }
      }
    })
    const missing = await call('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: 'nope' } })
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' })
  })

  it('answers whether model files go through the Files API: true, false (left out), or no such route', async () => {
    const flag = `${UC}/registered-models:is-databricks-sdk-models-artifact-repository-enabled`
    expect((await call('GET', flag)).json).toEqual({ is_databricks_sdk_models_artifact_repository_enabled: true })
    await double.close()
    await start({ filesApiForModels: false })
    expect((await call('GET', flag)).json).toEqual({})
    await double.close()
    await start({ filesApiForModels: undefined })
    expect((await call('GET', flag)).json).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' })
  })

  it('answers an endpoint it does not implement with ENDPOINT_NOT_FOUND and records it', async () => {
    const answer = await call('GET', '/api/2.1/unity-catalog/models/main.default.churn')
    expect(answer.status).toBe(404)
    expect(answer.json).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' })
    expect(double.violations).toHaveLength(1)
    double.violations.length = 0
  })
})
