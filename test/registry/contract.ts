/**
 * The behaviour every ModelRegistry must have, as one suite run against each implementation (the file registry, a
 * real MLflow server, …). It uses the interface only: each test registers its own model under a fresh random name,
 * so the suite can run against a server that already holds other models, and twice in a row.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ConfigurationError } from '../../src/core/errors.js'
import { createManifest } from '../../src/core/model-dir/manifest.js'
import { walkModelDir } from '../../src/core/model-dir/walk.js'
import { createVersion } from '../../src/core/registry/register.js'
import { DIGEST_TAG, type ModelRegistry, type NewVersion } from '../../src/core/registry/types.js'

export interface RegistryUnderTest {
  readonly registry: ModelRegistry
  cleanup(): Promise<void>
}

/** A small MLflow model: MLmodel, a couple of files, one nested, one binary. */
function modelFiles(variant: string): Record<string, string | Buffer> {
  return {
    MLmodel: `artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\nmodel_uuid: ${variant}\n`,
    'requirements.txt': 'scikit-learn==1.9.1\n',
    'model.pkl': Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + variant.length) % 256)),
    'data/nested/weights.bin': Buffer.concat([Buffer.from(variant), randomBytes(64)])
  }
}

export function describeRegistryContract(label: string, setup: () => Promise<RegistryUnderTest>): void {
  describe(`ModelRegistry contract: ${label}`, () => {
    let registry: ModelRegistry
    let cleanup: (() => Promise<void>) | undefined
    let scratch: string

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'modelgate-contract-'))
      const under = await setup()
      registry = under.registry
      cleanup = () => under.cleanup()
    }, 180_000)

    afterAll(async () => {
      await cleanup?.()
      if (scratch) await rm(scratch, { recursive: true, force: true })
    }, 60_000)

    const uniqueName = () => `modelgate-contract-${randomBytes(5).toString('hex')}`

    /** A model directory on disk, as register.ts hands it over: the walk's files and the manifest digest. */
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

    async function newVersion(
      name: string,
      files: Record<string, string | Buffer>,
      extra: Partial<NewVersion> = {}
    ): Promise<NewVersion> {
      const model = await modelDir(files)
      return {
        name,
        digest: model.digest,
        content: { kind: 'directory', dir: model.dir, files: model.files },
        tags: { [DIGEST_TAG]: model.digest },
        ...extra
      }
    }

    /** A registered model holding one version of `files`. */
    async function registered(files = modelFiles('one'), extra: Partial<NewVersion> = {}) {
      const name = uniqueName()
      await registry.ensureRegisteredModel(name)
      const request = await newVersion(name, files, extra)
      const { version, created } = await createVersion(registry, request)
      return { name, request, version, created }
    }

    async function readTree(dir: string, files: Record<string, string | Buffer>): Promise<Record<string, Buffer>> {
      const out: Record<string, Buffer> = {}
      for (const path of Object.keys(files)) out[path] = await readFile(join(dir, path))
      return out
    }

    function bytesOf(files: Record<string, string | Buffer>): Record<string, Buffer> {
      return Object.fromEntries(Object.entries(files).map(([path, content]) => [path, Buffer.from(content)]))
    }

    async function listed(dir: string): Promise<string[]> {
      const walk = await walkModelDir(dir)
      return walk.files.map(file => file.path)
    }

    it('creates a registered model, and creating it again is fine', async () => {
      const name = uniqueName()
      await registry.ensureRegisteredModel(name)
      await expect(registry.ensureRegisteredModel(name)).resolves.toBeUndefined()
    })

    it('creates version 1 from a model directory, READY, with its tags readable', async () => {
      const { name, request, version, created } = await registered(modelFiles('one'), {
        tags: { team: 'growth', 'git.commit': 'abc123' },
        description: 'first churn model'
      })
      expect(created).toBe(true)
      expect(version).toMatchObject({ name, version: '1', status: 'READY' })
      expect(version.tags).toMatchObject({ team: 'growth', 'git.commit': 'abc123', [DIGEST_TAG]: request.digest })
      expect(version.aliases).toEqual([])

      const read = await registry.getVersion(name, '1')
      expect(read).toMatchObject({ name, version: '1', status: 'READY' })
      expect(read!.tags).toMatchObject({ team: 'growth', 'git.commit': 'abc123', [DIGEST_TAG]: request.digest })
      expect(await registry.waitUntilReady(name, '1')).toMatchObject({ version: '1', status: 'READY' })
      expect(await registry.completeVersion(read!, request)).toMatchObject({ version: '1', status: 'READY' })
    })

    it('finds a version by its digest, and nothing for another digest', async () => {
      const { name, request } = await registered()
      expect(await registry.findVersionByDigest(name, request.digest)).toMatchObject({ name, version: '1' })
      expect(await registry.findVersionByDigest(name, `sha256:${'0'.repeat(64)}`)).toBeUndefined()
    })

    it('numbers a second digest 2, and converges on the existing version when a digest is created again', async () => {
      const { name, request } = await registered(modelFiles('one'))
      const second = await createVersion(registry, await newVersion(name, modelFiles('two')))
      expect(second).toMatchObject({ created: true, version: { version: '2' } })
      expect((await registry.findVersionByDigest(name, second.version.tags[DIGEST_TAG]))?.version).toBe('2')

      // A writer that looked before another one created the same digest must end on that version.
      const again = await createVersion(registry, request)
      expect(again).toMatchObject({ created: false, version: { version: '1' } })
      expect((await registry.findVersionByDigest(name, request.digest))?.version).toBe('1')
    })

    it('deletes a version: gone by number, digest and alias, and its number is not given again', async () => {
      const { name } = await registered(modelFiles('one'))
      const second = await createVersion(registry, await newVersion(name, modelFiles('two')))
      await registry.setAlias(name, 'challenger', '2')
      await registry.deleteVersion(name, '2')
      expect(await registry.getVersion(name, '2')).toBeUndefined()
      expect(await registry.findVersionByDigest(name, second.version.tags[DIGEST_TAG]!)).toBeUndefined()
      expect(await registry.getVersionByAlias(name, 'challenger')).toBeUndefined()
      expect(await registry.getVersion(name, '1')).toMatchObject({ version: '1', status: 'READY' })
      // Deleting what is not there is fine.
      await registry.deleteVersion(name, '2')

      const third = await createVersion(registry, await newVersion(name, modelFiles('three')))
      expect(third).toMatchObject({ created: true, version: { version: '3' } })
    })

    it('points an alias at a version, moves it, and lists aliases on versions', async () => {
      const { name } = await registered(modelFiles('one'))
      await createVersion(registry, await newVersion(name, modelFiles('two')))

      await registry.setAlias(name, 'champion', '1')
      await registry.setAlias(name, 'challenger', '2')
      expect(await registry.getVersionByAlias(name, 'champion')).toMatchObject({ version: '1' })
      expect((await registry.getVersion(name, '1'))!.aliases).toEqual(['champion'])
      expect((await registry.getVersion(name, '2'))!.aliases).toEqual(['challenger'])

      await registry.setAlias(name, 'champion', '2')
      expect(await registry.getVersionByAlias(name, 'champion')).toMatchObject({ version: '2' })
      expect((await registry.getVersion(name, '1'))!.aliases).toEqual([])
      expect([...(await registry.getVersion(name, '2'))!.aliases].sort()).toEqual(['challenger', 'champion'])

      // Setting it where it already points is fine.
      await registry.setAlias(name, 'champion', '2')
      expect(await registry.getVersionByAlias(name, 'champion')).toMatchObject({ version: '2' })
    })

    it('answers undefined for a missing alias, version or model', async () => {
      const { name } = await registered()
      expect(await registry.getVersionByAlias(name, 'champion')).toBeUndefined()
      expect(await registry.getVersionByAlias(uniqueName(), 'champion')).toBeUndefined()
      expect(await registry.getVersion(name, '2')).toBeUndefined()
      expect(await registry.getVersion(uniqueName(), '1')).toBeUndefined()
      expect(await registry.findVersionByDigest(uniqueName(), `sha256:${'1'.repeat(64)}`)).toBeUndefined()
    })

    it('adds and overwrites version tags, keeping the others', async () => {
      const { name, request } = await registered(modelFiles('one'), { tags: { team: 'growth', stage: 'candidate' } })
      await registry.setVersionTags(name, '1', { stage: 'approved', reviewer: 'ana' })
      const tags = (await registry.getVersion(name, '1'))!.tags
      expect(tags).toMatchObject({
        team: 'growth',
        stage: 'approved',
        reviewer: 'ana',
        [DIGEST_TAG]: request.digest
      })
    })

    it("replaces a version's description, keeping its tags; an unknown version is an error", async () => {
      const { name, request } = await registered(modelFiles('one'), {
        tags: { team: 'growth' },
        description: 'first churn model'
      })
      expect((await registry.getVersion(name, '1'))!.description).toBe('first churn model')

      await registry.setVersionDescription(name, '1', 'churn model trained on March data')
      const read = await registry.getVersion(name, '1')
      expect(read!.description).toBe('churn model trained on March data')
      expect(read!.tags).toMatchObject({ team: 'growth', [DIGEST_TAG]: request.digest })
      expect((await registry.findVersionByDigest(name, request.digest))!.description).toBe(
        'churn model trained on March data'
      )
      await expect(registry.setVersionDescription(name, '7', 'no such version')).rejects.toThrow(/7/)
    })

    it('reads back the metrics recorded with a version, as numbers', async () => {
      const { version } = await registered(modelFiles('one'), { metrics: { accuracy: 0.875, f1: 0.75, rows: 1200 } })
      const metrics = await registry.readVersionMetrics(version)
      expect(metrics.values.get('accuracy')).toBe(0.875)
      expect(metrics.values.get('f1')).toBe(0.75)
      expect(metrics.values.get('rows')).toBe(1200)
    })

    it('downloads a version by number and by alias, byte for byte', async () => {
      const files = modelFiles('download')
      const { name } = await registered(files)
      await registry.setAlias(name, 'champion', '1')
      const expected = bytesOf(files)

      const byNumber = await mkdtemp(join(scratch, 'download-'))
      await registry.downloadModel(`models:/${name}/1`, byNumber)
      expect(await readTree(byNumber, files)).toEqual(expected)
      expect((await listed(byNumber)).sort()).toEqual(Object.keys(files).sort())

      const byAlias = await mkdtemp(join(scratch, 'download-'))
      await registry.downloadModel(`models:/${name}@champion`, byAlias)
      expect(await readTree(byAlias, files)).toEqual(expected)
      expect((await listed(byAlias)).sort()).toEqual(Object.keys(files).sort())
    })

    it('rejects downloading a missing alias or version with a ConfigurationError', async () => {
      const { name } = await registered()
      const into = await mkdtemp(join(scratch, 'download-'))
      await expect(registry.downloadModel(`models:/${name}@champion`, into)).rejects.toBeInstanceOf(ConfigurationError)
      await expect(registry.downloadModel(`models:/${name}/7`, into)).rejects.toBeInstanceOf(ConfigurationError)
      await expect(registry.downloadModel(`models:/${uniqueName()}/1`, into)).rejects.toBeInstanceOf(ConfigurationError)
    })

    it('keeps each version to itself: version 1 still downloads as it was after version 2', async () => {
      const first = modelFiles('first')
      const { name } = await registered(first)
      await createVersion(registry, await newVersion(name, modelFiles('second')))
      const into = await mkdtemp(join(scratch, 'download-'))
      await registry.downloadModel(`models:/${name}/1`, into)
      expect(await readTree(into, first)).toEqual(bytesOf(first))
    })
  })
}
