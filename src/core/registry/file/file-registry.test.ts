import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configurationRejection } from '../../../../test/helpers/errors.js'
import { ConfigurationError, ServiceError } from '../../errors.js'
import { createManifest } from '../../model-dir/manifest.js'
import { walkModelDir } from '../../model-dir/walk.js'
import { createVersion } from '../register.js'
import { DIGEST_TAG, type NewVersion } from '../types.js'
import { createFileRegistry, FileRegistry } from './file-registry.js'
import { modelFolderName } from './layout.js'
import { currentProcess } from './lock.js'

const REPO = fileURLToPath(new URL('../../../../', import.meta.url))
const MODULE = fileURLToPath(new URL('./file-registry.ts', import.meta.url))
const REGISTER = fileURLToPath(new URL('../register.ts', import.meta.url))

let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelgate-file-registry-'))
})

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function freshRoot(): Promise<string> {
  return join(await mkdtemp(join(scratch, 'case-')), 'registry')
}

async function modelDir(files: Record<string, string | Buffer>) {
  const dir = await mkdtemp(join(scratch, 'model-'))
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), content)
  }
  const walk = await walkModelDir(dir)
  const { manifest } = await createManifest(walk.files)
  return { dir, files: walk.files, digest: `sha256:${manifest!.digest}` }
}

async function request(name: string, variant: string, extra: Partial<NewVersion> = {}): Promise<NewVersion> {
  const model = await modelDir({ MLmodel: `flavors: {}\nid: ${variant}\n`, 'data/model.pkl': `pickle ${variant}` })
  return {
    name,
    digest: model.digest,
    content: { kind: 'directory', dir: model.dir, files: model.files },
    tags: { [DIGEST_TAG]: model.digest },
    ...extra
  }
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'))
}

/** Runs a node process to completion and gives its output. */
function runNode(
  args: string[],
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr, pid: child.pid! }))
  })
}

/** The pid of a process that has exited (not reused within a test's lifetime). */
async function deadPid(): Promise<number> {
  const { pid } = await runNode(['-e', ''])
  return pid
}

function lockHolder(overrides: Record<string, unknown>): string {
  const createdMs = Date.now()
  return `${JSON.stringify({ ...currentProcess(), created: new Date(createdMs).toISOString(), createdMs, purpose: 'a test', token: 'x', ...overrides }, null, 2)}\n`
}

describe('FileRegistry: two writers at once', () => {
  it('ends with one version when four writers in one process register the same digest', async () => {
    const root = await freshRoot()
    const name = 'churn-classifier'
    await createFileRegistry({ root }).ensureRegisteredModel(name)
    const same = await request(name, 'same')
    // Separate instances, as separate steps would have: nothing shared but the folder.
    const results = await Promise.all(
      Array.from({ length: 4 }, () => createVersion(createFileRegistry({ root }), same))
    )
    expect(new Set(results.map(r => r.version.version))).toEqual(new Set(['1']))
    expect(results.filter(r => r.created)).toHaveLength(1)
    expect(await readdir(join(root, 'models', name, 'versions'))).toEqual(['1'])
    expect(await readdir(join(root, 'staging'))).toEqual([])
  })

  it('ends with one version when four processes register the same digest', async () => {
    const root = await freshRoot()
    const name = 'main.ml.churn'
    const same = await request(name, 'processes', { metrics: { accuracy: 0.5 } })
    const script = join(scratch, `writer-${randomBytes(4).toString('hex')}.mts`)
    await writeFile(
      script,
      [
        `import { createFileRegistry } from ${JSON.stringify(MODULE)}`,
        `import { createVersion } from ${JSON.stringify(REGISTER)}`,
        `const [root, requestJson, startAt] = process.argv.slice(2)`,
        `const registry = createFileRegistry({ root, lockTimeoutMs: 20000 })`,
        `await new Promise(resolve => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())))`,
        `const request = JSON.parse(requestJson)`,
        `await registry.ensureRegisteredModel(request.name)`,
        `const result = await createVersion(registry, request)`,
        `process.stdout.write(JSON.stringify({ version: result.version.version, created: result.created }))`
      ].join('\n')
    )
    // Every process waits for the same moment, after the slowest start-up, so that they race.
    const startAt = String(Date.now() + 4000)
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runNode(['--import', 'tsx', script, root, JSON.stringify(same), startAt]))
    )
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '' })
    const results = runs.map(run => JSON.parse(run.stdout) as { version: string; created: boolean })
    expect(new Set(results.map(r => r.version))).toEqual(new Set(['1']))
    expect(results.filter(r => r.created)).toHaveLength(1)
    const registry = createFileRegistry({ root })
    expect(await registry.getVersion(name, '2')).toBeUndefined()
    expect(await readdir(join(root, 'models', name, 'versions'))).toEqual(['1'])
    expect((await registry.readVersionMetrics((await registry.getVersion(name, '1'))!)).values.get('accuracy')).toBe(
      0.5
    )
  }, 60_000)

  it('gives concurrent different digests distinct consecutive numbers', async () => {
    const root = await freshRoot()
    const name = 'churn'
    await createFileRegistry({ root }).ensureRegisteredModel(name)
    const requests = await Promise.all(Array.from({ length: 6 }, (_, i) => request(name, `variant-${i}`)))
    const results = await Promise.all(requests.map(r => createVersion(createFileRegistry({ root }), r)))
    expect(results.every(r => r.created)).toBe(true)
    expect(results.map(r => Number(r.version.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    const registry = createFileRegistry({ root })
    for (const [i, r] of requests.entries()) {
      expect((await registry.findVersionByDigest(name, r.digest))?.version).toBe(results[i].version.version)
    }
  })
})

describe('FileRegistry: the lock', () => {
  it('takes over a lock whose holder process is dead on this host', async () => {
    const root = await freshRoot()
    await mkdir(root, { recursive: true })
    const lock = join(root, 'registry.lock')
    await writeFile(lock, lockHolder({ pid: await deadPid() }))
    const registry = createFileRegistry({ root, lockTimeoutMs: 5000 })
    await registry.ensureRegisteredModel('churn')
    expect(existsSync(lock)).toBe(false)
    expect(await readJson(join(root, 'models', 'churn', 'model.json'))).toMatchObject({ name: 'churn' })
  })

  it('times out on a lock a live process holds, naming the lock file and how to remove it', async () => {
    const root = await freshRoot()
    await mkdir(root, { recursive: true })
    const lock = join(root, 'registry.lock')
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      await writeFile(lock, lockHolder({ pid: holder.pid, purpose: 'registering a version of churn' }))
      const registry = createFileRegistry({ root, lockTimeoutMs: 300 })
      const started = Date.now()
      const error = await registry.ensureRegisteredModel('churn').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ServiceError)
      const message = (error as Error).message
      expect(message).toContain(`process ${holder.pid} on ${currentProcess().hostname}`)
      expect(message).toContain('registering a version of churn')
      expect(message).toContain(`delete ${lock}`)
      expect(Date.now() - started).toBeGreaterThanOrEqual(250)
      expect(existsSync(lock)).toBe(true)
    } finally {
      holder.kill()
    }
  })

  it('waits on a recent lock from another host, and takes it over once older than the stale limit', async () => {
    const root = await freshRoot()
    await mkdir(root, { recursive: true })
    const lock = join(root, 'registry.lock')
    await writeFile(lock, lockHolder({ hostname: 'another-runner', pid: 1 }))
    await expect(createFileRegistry({ root, lockTimeoutMs: 200 }).ensureRegisteredModel('a')).rejects.toThrow(
      /another-runner/
    )
    await writeFile(lock, lockHolder({ hostname: 'another-runner', pid: 1, createdMs: Date.now() - 5000 }))
    await createFileRegistry({ root, lockTimeoutMs: 2000, staleLockMs: 1000 }).ensureRegisteredModel('a')
    expect(existsSync(lock)).toBe(false)
  })

  it('waits on an empty lock file (a writer between creating and filling it) unless it is old', async () => {
    const root = await freshRoot()
    await mkdir(root, { recursive: true })
    const lock = join(root, 'registry.lock')
    await writeFile(lock, '')
    await expect(createFileRegistry({ root, lockTimeoutMs: 200 }).ensureRegisteredModel('a')).rejects.toThrow(
      /has not said who it is/
    )
    const old = new Date(Date.now() - 60_000)
    await utimes(lock, old, old)
    await createFileRegistry({ root, lockTimeoutMs: 2000 }).ensureRegisteredModel('a')
    expect(existsSync(lock)).toBe(false)
  })

  it('lets many waiters take over one stale lock without two of them holding it', async () => {
    const root = await freshRoot()
    await mkdir(root, { recursive: true })
    await writeFile(join(root, 'registry.lock'), lockHolder({ pid: await deadPid() }))
    await createFileRegistry({ root })
      .ensureRegisteredModel('churn')
      .catch(() => {})
    const requests = await Promise.all(Array.from({ length: 5 }, (_, i) => request('churn', `stale-${i}`)))
    await writeFile(join(root, 'registry.lock'), lockHolder({ pid: await deadPid() }))
    const results = await Promise.all(requests.map(r => createVersion(createFileRegistry({ root }), r)))
    expect(results.map(r => Number(r.version.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('FileRegistry: crash leftovers', () => {
  it('ignores a staging directory and a version folder without version.json, and cleans the staging one', async () => {
    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    const first = await createVersion(registry, await request('churn', 'one'))
    expect(first.version.version).toBe('1')

    // A writer that died while copying, and a version folder that never got its version.json.
    const crashed = join(root, 'staging', `${await deadPid()}-crashed`)
    await mkdir(join(crashed, 'version', 'artifacts'), { recursive: true })
    const leftover = await request('churn', 'leftover')
    await writeFile(
      join(crashed, 'owner.json'),
      JSON.stringify({ ...currentProcess(), pid: await deadPid(), createdMs: Date.now(), digest: leftover.digest })
    )
    const live = join(root, 'staging', `${process.pid}-copying`)
    await mkdir(live, { recursive: true })
    await writeFile(join(live, 'owner.json'), JSON.stringify({ ...currentProcess(), createdMs: Date.now() }))
    const incomplete = join(root, 'models', 'churn', 'versions', '2')
    await mkdir(join(incomplete, 'artifacts'), { recursive: true })
    await writeFile(join(incomplete, 'artifacts', 'MLmodel'), 'half')

    expect(await registry.getVersion('churn', '2')).toBeUndefined()
    expect(await registry.findVersionByDigest('churn', leftover.digest)).toBeUndefined()
    const into = await mkdtemp(join(scratch, 'download-'))
    const error = await configurationRejection(registry.downloadModel('models:/churn/2', into))
    expect(error.message).toContain('model churn has version 1; version 2 does not exist')

    // The number is not reused: something once stood there.
    const next = await createVersion(registry, leftover)
    expect(next).toMatchObject({ created: true, version: { version: '3' } })
    expect(existsSync(crashed)).toBe(false)
    expect(existsSync(live)).toBe(true)
    expect(existsSync(join(incomplete, 'artifacts', 'MLmodel'))).toBe(true)
  })

  it('leaves nothing behind when a copy fails', async () => {
    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    const req = await request('churn', 'vanishing')
    if (req.content.kind !== 'directory') throw new Error('unreachable')
    await rm(req.content.files[0].absolute)
    const error = await configurationRejection(createVersion(registry, req))
    expect(error.message).toContain('could not be read')
    expect(await readdir(join(root, 'staging'))).toEqual([])
    expect(existsSync(join(root, 'models', 'churn', 'versions', '1'))).toBe(false)
  })

  it('refuses a model file that changed size after it was hashed', async () => {
    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    const req = await request('churn', 'growing')
    if (req.content.kind !== 'directory') throw new Error('unreachable')
    await writeFile(req.content.files[0].absolute, 'much longer than it was when hashed')
    const error = await configurationRejection(createVersion(registry, req))
    expect(error.message).toContain('changed while it was being registered')
  })
})

describe('FileRegistry: the folder', () => {
  it('writes pretty JSON with a trailing newline in the documented layout', async () => {
    const root = await freshRoot()
    let clock = Date.UTC(2025, 0, 2, 3, 4, 5)
    const registry = createFileRegistry({ root, now: () => clock })
    await registry.ensureRegisteredModel('churn-classifier')
    clock += 1000
    const req = await request('churn-classifier', 'layout', {
      runId: 'abc123',
      description: 'the first one',
      tags: { team: 'growth' },
      metrics: { accuracy: 0.9, loss: Number.NaN, gain: Number.POSITIVE_INFINITY }
    })
    await createVersion(registry, req)
    await registry.setAlias('churn-classifier', 'champion', '1')

    const model = join(root, 'models', 'churn-classifier')
    const version = join(model, 'versions', '1')
    for (const file of [
      join(root, 'registry.json'),
      join(model, 'model.json'),
      join(version, 'version.json'),
      join(version, 'metrics.json')
    ]) {
      const text = await readFile(file, 'utf8')
      expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`)
    }
    expect(await readJson(join(root, 'registry.json'))).toEqual({ format: 'modelgate-file-registry', version: 1 })
    expect((await readdir(root)).sort()).toEqual(['.gitignore', 'models', 'registry.json', 'staging'])
    expect(await readFile(join(root, '.gitignore'), 'utf8')).toContain('registry.lock\nregistry.lock.break\nstaging/\n')
    expect(await readJson(join(model, 'model.json'))).toEqual({
      name: 'churn-classifier',
      created: '2025-01-02T03:04:05.000Z',
      aliases: { champion: '1' },
      tags: {}
    })
    expect(await readJson(join(version, 'version.json'))).toEqual({
      name: 'churn-classifier',
      version: '1',
      status: 'READY',
      source: 'models/churn-classifier/versions/1/artifacts',
      run_id: 'abc123',
      description: 'the first one',
      tags: { team: 'growth', [DIGEST_TAG]: req.digest },
      created: '2025-01-02T03:04:06.000Z'
    })
    expect(await readJson(join(version, 'metrics.json'))).toEqual({ accuracy: 0.9, loss: 'NaN', gain: 'Infinity' })
    expect(await readFile(join(version, 'artifacts', 'data', 'model.pkl'), 'utf8')).toBe('pickle layout')

    const read = (await registry.getVersion('churn-classifier', '1'))!
    expect(read).toMatchObject({
      source: join(version, 'artifacts'),
      runId: 'abc123',
      description: 'the first one',
      aliases: ['champion'],
      createdAt: Date.UTC(2025, 0, 2, 3, 4, 6)
    })
    const metrics = await registry.readVersionMetrics(read)
    expect(metrics.runId).toBe('abc123')
    expect([...metrics.values]).toEqual([
      ['accuracy', 0.9],
      ['loss', 'NaN'],
      ['gain', 'Infinity']
    ])
    expect(registry.location).toBe(root)
    expect(registry.kind).toBe('file')
  })

  it('keeps names with dots, spaces, slashes and other scripts in safe folder names', async () => {
    expect(modelFolderName('churn-classifier')).toBe('churn-classifier')
    expect(modelFolderName('main.ml.churn')).toBe('main.ml.churn')
    expect(modelFolderName('team/churn v2')).toBe('team%2Fchurn%20v2')
    expect(modelFolderName('.hidden')).toBe('%2Ehidden')
    expect(modelFolderName('modèle')).toBe('mod%C3%A8le')
    expect(modelFolderName('100%')).toBe('100%25')

    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    for (const name of ['team/churn v2', '.hidden', 'modèle', 'a..b']) {
      await registry.ensureRegisteredModel(name)
      await createVersion(registry, await request(name, name))
      await registry.setAlias(name, 'champion', '1')
      const into = await mkdtemp(join(scratch, 'download-'))
      await registry.downloadModel(`models:/${name}@champion`, into)
      expect(await readFile(join(into, 'data', 'model.pkl'), 'utf8')).toBe(`pickle ${name}`)
    }
    expect((await readdir(join(root, 'models'))).sort()).toEqual([
      '%2Ehidden',
      'a..b',
      'mod%C3%A8le',
      'team%2Fchurn%20v2'
    ])
  })

  it('refuses names that read as paths or hold control characters', async () => {
    const registry = createFileRegistry({ root: await freshRoot() })
    for (const name of ['', '  ', '..', '.', '../etc', 'a/../b', 'a/.', 'tab\there', 'x'.repeat(300)]) {
      await expect(registry.ensureRegisteredModel(name)).rejects.toBeInstanceOf(ConfigurationError)
    }
  })

  it('refuses a folder that is not a registry, and reads a missing one as empty without creating it', async () => {
    const root = await freshRoot()
    const missing = createFileRegistry({ root })
    expect(await missing.getVersionByAlias('churn', 'champion')).toBeUndefined()
    expect(await missing.findVersionByDigest('churn', 'sha256:00')).toBeUndefined()
    expect(existsSync(root)).toBe(false)

    await mkdir(root, { recursive: true })
    await writeFile(join(root, 'package.json'), '{}')
    const error = await configurationRejection(createFileRegistry({ root }).ensureRegisteredModel('churn'))
    expect(error.message).toContain('is not a modelgate file registry')
    expect(error.message).toContain('package.json')

    const other = await freshRoot()
    await mkdir(other, { recursive: true })
    await writeFile(join(other, 'registry.json'), '{"format": "something-else", "version": 1}\n')
    expect((await configurationRejection(createFileRegistry({ root: other }).getVersion('a', '1'))).message).toContain(
      'registry.json (format)'
    )
  })

  it('names a damaged JSON file', async () => {
    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    await writeFile(join(root, 'models', 'churn', 'model.json'), '{"name": "churn",')
    const error = await configurationRejection(registry.getVersionByAlias('churn', 'champion'))
    expect(error.message).toContain(join(root, 'models', 'churn', 'model.json'))
    expect(error.message).toContain('not valid JSON')
  })

  it('refuses a model whose folder holds another model (a case-insensitive file system)', async () => {
    const root = await freshRoot()
    const registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    // What `Churn` would find on macOS: the folder of `churn`.
    await mkdir(join(root, 'models', 'Churn'), { recursive: true })
    await writeFile(join(root, 'models', 'Churn', 'model.json'), '{"name": "churn", "aliases": {}}\n')
    const error = await configurationRejection(registry.ensureRegisteredModel('Churn'))
    expect(error.message).toContain('differs by more than letter case')
  })
})

describe('FileRegistry: aliases, URIs and messages', () => {
  let registry: FileRegistry
  let root: string

  beforeAll(async () => {
    root = await freshRoot()
    registry = createFileRegistry({ root })
    await registry.ensureRegisteredModel('churn')
    for (const variant of ['a', 'b', 'c']) await createVersion(registry, await request('churn', variant))
    await registry.setAlias('churn', 'challenger', '2')
  })

  it('refuses aliases MLflow refuses', async () => {
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'has space', 'dot.ted', '', 'x'.repeat(256)]) {
      const error = await configurationRejection(registry.setAlias('churn', alias, '1'))
      expect(error.message).toContain(JSON.stringify(alias))
    }
    await registry.setAlias('churn', 'v1-candidate', '1')
    await registry.setAlias('churn', 'x'.repeat(255), '1')
  })

  it('refuses an alias on a missing version or model, saying what exists', async () => {
    let error = await configurationRejection(registry.setAlias('churn', 'champion', '9'))
    expect(error.message).toBe(
      'model churn has versions 1-3; version "9" does not exist, so alias champion cannot point at version 9'
    )
    error = await configurationRejection(registry.setAlias('nope', 'champion', '1'))
    expect(error.message).toContain('model "nope" does not exist in the file registry at')
    expect(error.message).toContain('it holds "churn"')
    await configurationRejection(registry.setVersionTags('churn', '9', { a: 'b' }))
  })

  it('says which versions and aliases exist when a URI names something missing', async () => {
    const into = await mkdtemp(join(scratch, 'download-'))
    let error = await configurationRejection(registry.downloadModel('models:/churn@champion', into))
    expect(error.message).toContain(
      'models:/churn@champion: model churn has versions 1-3; alias champion is not set (set: challenger → 2'
    )
    error = await configurationRejection(registry.downloadModel('models:/churn/5', into))
    expect(error.message).toBe('models:/churn/5: model churn has versions 1-3; version 5 does not exist')
    error = await configurationRejection(registry.downloadModel('models:/other@champion', into))
    expect(error.message).toContain('model "other" does not exist')
    error = await configurationRejection(registry.downloadModel('runs:/abc/model', into))
    expect(error.message).toContain('runs and logged models need an MLflow tracking server')
  })

  it('takes a version of itself as content, and nothing else', async () => {
    await registry.ensureRegisteredModel('churn-copy')
    const digest = (await registry.getVersion('churn', '2'))!.tags[DIGEST_TAG]
    const created = await createVersion(registry, {
      name: 'churn-copy',
      digest,
      content: { kind: 'uri', uri: 'models:/churn@challenger' },
      tags: { [DIGEST_TAG]: digest }
    })
    expect(created).toMatchObject({ created: true, version: { name: 'churn-copy', version: '1' } })
    const into = await mkdtemp(join(scratch, 'download-'))
    await registry.downloadModel('models:/churn-copy/1', into)
    expect(await readFile(join(into, 'data', 'model.pkl'), 'utf8')).toBe('pickle b')

    for (const uri of ['runs:/abc/model', 's3://bucket/model', 'models:/m-0123456789abcdef0123456789abcdef']) {
      const error = await configurationRejection(
        createVersion(registry, { name: 'churn-copy', digest: 'sha256:other', content: { kind: 'uri', uri }, tags: {} })
      )
      expect(error.message).toContain('the file registry can only take a local model directory or a version of itself')
    }
    expect(await readdir(join(root, 'staging'))).toEqual([])
  })

  it('explains that runs need an MLflow tracking server', async () => {
    const error = await configurationRejection(registry.readRunMetrics('0123abcd'))
    expect(error.message).toContain('needs an MLflow tracking server (registry: mlflow with a tracking-uri)')
  })

  it('is READY at once: completeVersion and waitUntilReady return the version, or say it is missing', async () => {
    const version = (await registry.getVersion('churn', '1'))!
    expect(await registry.completeVersion(version)).toMatchObject({ version: '1', status: 'READY' })
    expect(await registry.waitUntilReady('churn', '3')).toMatchObject({ version: '3', status: 'READY' })
    const error = await configurationRejection(registry.waitUntilReady('churn', '4'))
    expect(error.message).toContain('version 4 of model churn does not exist')
  })
})
