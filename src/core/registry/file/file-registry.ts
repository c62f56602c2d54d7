/**
 * The file registry: a model registry kept in a folder, so a team can register, alias and gate models before it
 * runs any server. It speaks MLflow's vocabulary (names, numbered versions, aliases, tags, `models:/` URIs) so a
 * team that later moves to MLflow changes the registry input and nothing else.
 *
 * The folder and how names become folders are layout.ts's; the JSON records and their updates are records.ts's.
 *
 * Writers (two jobs sharing the folder, two processes, two promises) are serialised by one lock file for the
 * registry (lock.ts); readers take no lock, as every file is replaced whole by an atomic rename (atomic.ts).
 * Registering a version:
 *   1. outside the lock, since it can be slow: the files are copied into a fresh `staging/` directory, as
 *      `version/artifacts/…` with `version/metrics.json`;
 *   2. under the lock: if a version of the model has the digest by now (another writer got there first), the copy
 *      is discarded and that version returned as not created; otherwise the next number is one more than the highest
 *      numbered folder in `versions/`, version.json is written into the staged folder, and the folder is renamed to
 *      `versions/<n>`. That rename is the commit: a version exists whole or not at all.
 * What a crash leaves is never read: a staging directory (removed by a later registration once its owner is known
 * to be gone, or after a day), a `.*.tmp` file, or a numbered folder without version.json (a deleted version, or a
 * hand edit); such a folder's number is not reused, as MLflow never reuses a number either.
 *
 * Versions are READY when created. Runs do not exist here: metrics live with the version.
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import {
  DIGEST_TAG,
  type CreatedVersion,
  type ModelRegistry,
  type ModelVersion,
  type NewVersion,
  type RegistryMetrics,
  type VersionDraft
} from '../types.js'
import { checkAlias, parseModelUri } from '../uri.js'
import { copyTree, copyUploadFiles, syncDirectory, writeJsonAtomic } from './atomic.js'
import { RegistryLayout, VERSION_NUMBER, modelFolderName, readJsonObject } from './layout.js'
import { acquireLock, currentProcess, goneReason, type HeldLock } from './lock.js'
import {
  describeAliases,
  describeNumbers,
  metricsJson,
  newModel,
  newVersion,
  parseMetrics,
  parseModel,
  readVersionRecord,
  toModelVersion,
  withAlias,
  withDescription,
  withTags,
  withoutAliasesOf,
  type ModelRecord,
  type VersionRecord
} from './records.js'

export interface FileRegistryOptions {
  /** The registry folder; created on the first write if it does not exist. */
  readonly root: string
  /** The clock for `created` times. */
  readonly now?: () => number
  /** How long a writer waits for another's lock before failing. Default 2 minutes. */
  readonly lockTimeoutMs?: number
  /** A lock older than this is taken over whoever holds it. Default 10 minutes; holds last milliseconds. */
  readonly staleLockMs?: number
  /** How errors about the folder name where it came from, e.g. `input 'registry-path'`; the folder by default. */
  readonly source?: string
}

const DEFAULT_LOCK_TIMEOUT_MS = 120_000
const DEFAULT_STALE_LOCK_MS = 600_000
/** A staging directory whose owner cannot be checked (another host) is abandoned after this. */
const STAGING_ABANDONED_MS = 24 * 3600_000
/** A staging directory without owner.json died as it was made. */
const STAGING_ORPHAN_MS = 3600_000
/** Version files read at once: a model with thousands of versions must not open thousands of files at once. */
const READ_BATCH = 32

export class FileRegistry implements ModelRegistry {
  readonly kind = 'file'
  readonly location: string
  /** Nothing here is retried: the folder answers or it does not. */
  readonly retryBaseMs = 0
  private readonly root: string
  private readonly now: () => number
  private readonly lockTimeoutMs: number
  private readonly staleLockMs: number
  private readonly source: string
  private readonly layout: RegistryLayout

  constructor(options: FileRegistryOptions) {
    this.root = resolve(options.root)
    this.location = this.root
    this.now = options.now ?? Date.now
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
    this.staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS
    this.source = options.source ?? this.root
    this.layout = new RegistryLayout(this.root, this.source)
  }

  // --- ModelRegistry ----------------------------------------------------------------------------------------------

  async ensureRegisteredModel(name: string): Promise<void> {
    modelFolderName(name)
    if (await this.readModel(name)) return
    await this.withLock(`creating model ${name}`, async () => {
      if (await this.readModel(name)) return
      await mkdir(this.layout.versionsDir(name), { recursive: true })
      await writeJsonAtomic(this.layout.modelFile(name), newModel(name, this.now()))
    })
  }

  async findVersionByDigest(name: string, digest: string): Promise<ModelVersion | undefined> {
    modelFolderName(name)
    const model = await this.readModel(name)
    if (!model) return undefined
    const records = await this.readVersions(name)
    const found = records.find(record => record.tags[DIGEST_TAG] === digest)
    return found && toModelVersion(this.root, found, model)
  }

  async prepareVersion(request: NewVersion): Promise<VersionDraft> {
    const { name, digest } = request
    modelFolderName(name)
    if (!(await this.readModel(name))) throw missingModelBug(name, this.root)
    // The caller has just looked, but a concurrent writer may have finished since: a copy saved is worth a look.
    const early = await this.findVersionByDigest(name, digest)
    if (early) {
      const none = async () => {}
      return {
        create: async () => ({ version: early, created: false }),
        finish: async v => v,
        discard: none,
        release: none
      }
    }

    const staged = await this.stage(request)
    return {
      create: () => this.commitVersion(request, staged.version),
      // Versions are READY when their folder appears.
      finish: async version => version,
      // The staged copy became the version or is released; nothing else was made.
      discard: async () => {},
      release: async () => {
        await rm(staged.dir, { recursive: true, force: true })
        await this.cleanStaging()
      }
    }
  }

  /**
   * Under the lock, the staged folder becomes the next version unless a version holds the digest by now (another
   * writer got there first): then that version, not created.
   */
  private async commitVersion(request: NewVersion, staged: string): Promise<CreatedVersion> {
    const { name, digest } = request
    return this.withLock(`registering ${digest} as a version of ${name}`, async lock => {
      const model = await this.readModel(name)
      if (!model) throw missingModelBug(name, this.root)
      const theirs = await this.findVersionByDigest(name, digest)
      if (theirs) return { version: theirs, created: false }

      const numbers = await this.layout.versionNumbers(name)
      const version = String((numbers.at(-1) ?? 0) + 1)
      const raw = newVersion(request, version, this.layout.relativeArtifacts(name, version), this.now())
      await writeJsonAtomic(join(staged, 'version.json'), raw)
      await lock.verify()
      const versions = this.layout.versionsDir(name)
      await mkdir(versions, { recursive: true })
      await rename(staged, join(versions, version))
      await syncDirectory(versions)
      return {
        version: toModelVersion(
          this.root,
          readVersionRecord(raw, this.layout.versionFile(name, version), name, version),
          model
        ),
        created: true
      }
    })
  }

  /**
   * Removes the version's record, files and aliases. The empty numbered folder stays behind so that its number is
   * never given again, as MLflow never reuses a number.
   */
  async deleteVersion(name: string, version: string): Promise<void> {
    modelFolderName(name)
    if (!VERSION_NUMBER.test(version)) return
    await this.withLock(`deleting version ${version} of ${name}`, async () => {
      const model = await this.readModel(name)
      if (!model || !(await this.readVersion(name, version))) return
      const unaliased = withoutAliasesOf(model, version)
      if (unaliased) await writeJsonAtomic(this.layout.modelFile(name), unaliased)
      // version.json first: without it the folder is no version, whatever else is still in it.
      await rm(this.layout.versionFile(name, version), { force: true })
      await syncDirectory(this.layout.versionDir(name, version))
      const dir = this.layout.versionDir(name, version)
      for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true })
    })
  }

  async completeVersion(version: ModelVersion): Promise<ModelVersion> {
    return (await this.getVersion(version.name, version.version)) ?? version
  }

  async waitUntilReady(name: string, version: string): Promise<ModelVersion> {
    const found = await this.getVersion(name, version)
    if (found) return found
    throw new ConfigurationError(
      `version ${version} of model ${name} does not exist in the file registry at ${this.root}; ${await this.describeModel(name)}`
    )
  }

  async getVersion(name: string, version: string): Promise<ModelVersion | undefined> {
    modelFolderName(name)
    if (!VERSION_NUMBER.test(version)) return undefined
    const model = await this.readModel(name)
    const record = model && (await this.readVersion(name, version))
    return record && toModelVersion(this.root, record, model)
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    modelFolderName(name)
    const model = await this.readModel(name)
    const version = model && Object.hasOwn(model.aliases, alias) ? model.aliases[alias] : undefined
    return version === undefined ? undefined : this.getVersion(name, version)
  }

  async setVersionTags(name: string, version: string, tags: Readonly<Record<string, string>>): Promise<void> {
    modelFolderName(name)
    await this.withLock(`tagging version ${version} of ${name}`, async () => {
      const record = await this.requireVersion(name, version, `cannot set tags on version ${version}`)
      await writeJsonAtomic(this.layout.versionFile(name, version), withTags(record, tags))
    })
  }

  async setVersionDescription(name: string, version: string, description: string): Promise<void> {
    modelFolderName(name)
    await this.withLock(`describing version ${version} of ${name}`, async () => {
      const record = await this.requireVersion(name, version, 'its description cannot be set')
      await writeJsonAtomic(this.layout.versionFile(name, version), withDescription(record, description))
    })
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    checkAlias(alias, `models:/${name}@${alias}`)
    modelFolderName(name)
    await this.withLock(`pointing alias ${alias} of ${name} at version ${version}`, async () => {
      const model = await this.requireModel(name)
      await this.requireVersion(name, version, `alias ${alias} cannot point at version ${version}`)
      await writeJsonAtomic(this.layout.modelFile(name), withAlias(model, alias, version))
    })
  }

  async readVersionMetrics(version: ModelVersion): Promise<RegistryMetrics> {
    modelFolderName(version.name)
    const record = await this.requireVersion(version.name, version.version, 'its metrics cannot be read')
    const path = this.layout.metricsFile(version.name, version.version)
    const values = parseMetrics((await readJsonObject(path)) ?? {}, path)
    const runId = version.runId ?? record.runId
    return { values, ...(runId ? { runId } : {}) }
  }

  async readRunMetrics(runId: string): Promise<RegistryMetrics> {
    throw new ConfigurationError(
      `mlflow-run:${runId} names an MLflow run, and the file registry at ${this.root} has no runs: reading a run's metrics needs an MLflow tracking server (registry: mlflow with a tracking-uri). With the file registry, compare with a registered version instead, as in models:/<name>@champion`,
      { source: `mlflow-run:${runId}` }
    )
  }

  async downloadModel(uri: string, destination: string): Promise<void> {
    const record = await this.resolveUri(uri)
    await mkdir(destination, { recursive: true })
    await copyTree(this.layout.artifactsDir(record.name, record.version), destination)
  }

  private async readModel(name: string): Promise<ModelRecord | undefined> {
    if (!(await this.layout.checkFolder())) return undefined
    const path = this.layout.modelFile(name)
    const raw = await readJsonObject(path)
    if (!raw) return undefined
    return parseModel(raw, path, name, this.layout.modelDir(name))
  }

  private async readVersion(name: string, version: string): Promise<VersionRecord | undefined> {
    const path = this.layout.versionFile(name, version)
    const raw = await readJsonObject(path)
    if (!raw) return undefined
    return readVersionRecord(raw, path, name, version)
  }

  /** The versions that exist (a folder without version.json never counts), ascending. */
  private async readVersions(name: string): Promise<VersionRecord[]> {
    const numbers = await this.layout.versionNumbers(name)
    const records: VersionRecord[] = []
    // A few at a time: a model with thousands of versions must not open thousands of files at once.
    for (let i = 0; i < numbers.length; i += READ_BATCH) {
      const batch = numbers.slice(i, i + READ_BATCH).map(n => this.readVersion(name, String(n)))
      for (const record of await Promise.all(batch)) if (record) records.push(record)
    }
    return records
  }

  private async requireModel(name: string, source?: string): Promise<ModelRecord> {
    const model = await this.readModel(name)
    if (model) return model
    throw new ConfigurationError(await this.describeMissingModel(name), source ? { source } : undefined)
  }

  private async requireVersion(name: string, version: string, consequence: string): Promise<VersionRecord> {
    await this.requireModel(name)
    const record = VERSION_NUMBER.test(version) ? await this.readVersion(name, version) : undefined
    if (record) return record
    throw new ConfigurationError(
      `${await this.describeModel(name)}; version ${JSON.stringify(version)} does not exist, so ${consequence}`
    )
  }

  /** The version a `models:/` URI names, or a ConfigurationError that says what exists instead. */
  private async resolveUri(uri: string): Promise<VersionRecord> {
    const ref = uri.startsWith('runs:/') || uri.startsWith('models:/') ? parseModelUri(uri, uri) : undefined
    if (ref?.kind !== 'version' && ref?.kind !== 'alias') {
      throw new ConfigurationError(
        `the file registry at ${this.root} reads models:/<name>/<version> and models:/<name>@<alias>, as in models:/churn@champion; got ${JSON.stringify(uri)}${ref ? ' (runs and logged models need an MLflow tracking server)' : ''}`,
        { source: uri }
      )
    }
    modelFolderName(ref.name)
    const model = await this.requireModel(ref.name, uri)
    let version: string
    if (ref.kind === 'alias') {
      if (!Object.hasOwn(model.aliases, ref.alias)) {
        throw new ConfigurationError(
          `${await this.describeModel(ref.name)}; alias ${ref.alias} is not set (${describeAliases(model)})`,
          { source: uri }
        )
      }
      version = model.aliases[ref.alias]
    } else version = ref.version
    const record = await this.readVersion(ref.name, version)
    if (record) return record
    const what = ref.kind === 'alias' ? `alias ${ref.alias} points at version ${version}, which` : `version ${version}`
    throw new ConfigurationError(`${await this.describeModel(ref.name)}; ${what} does not exist`, { source: uri })
  }

  /** `model churn has versions 1-3, 5`, for messages about something that does not exist. */
  private async describeModel(name: string): Promise<string> {
    if (!(await this.readModel(name))) return await this.describeMissingModel(name)
    const numbers = (await this.readVersions(name)).map(record => Number(record.version))
    if (numbers.length === 0) return `model ${name} has no versions yet`
    return `model ${name} has version${numbers.length > 1 ? 's' : ''} ${describeNumbers(numbers)}`
  }

  private async describeMissingModel(name: string): Promise<string> {
    const missing = `model ${JSON.stringify(name)} does not exist in the file registry at ${this.root}`
    const names = await this.layout.modelNames()
    if (names.length === 0) return `${missing}, which holds no models yet`
    const shown = names.slice(0, 10).map(n => JSON.stringify(n))
    return `${missing}; it holds ${shown.join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`
  }

  // --- writing ----------------------------------------------------------------------------------------------------

  private async withLock<T>(purpose: string, work: (lock: HeldLock) => Promise<T>): Promise<T> {
    await this.prepareFolder()
    let lock: HeldLock
    try {
      lock = await acquireLock({
        path: this.layout.lockFile,
        what: `the file registry at ${this.root}`,
        timeoutMs: this.lockTimeoutMs,
        staleMs: this.staleLockMs,
        purpose
      })
    } catch (error) {
      throw this.writeError(error)
    }
    try {
      await this.layout.initialize()
      return await work(lock)
    } finally {
      await lock.release()
    }
  }

  /** Makes the folder if it is missing, after making sure it is a registry or nothing yet. */
  private async prepareFolder(): Promise<void> {
    if (await this.layout.checkFolder()) return
    try {
      await mkdir(this.root, { recursive: true })
    } catch (error) {
      throw this.writeError(error)
    }
  }

  private writeError(error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new ConfigurationError(
        `cannot write to the file registry at ${this.root} (${code}); the step needs a folder it can write`,
        { source: this.source }
      )
    }
    return error
  }

  /** Copies the version's files into a new staging directory; the caller removes it. */
  private async stage(request: NewVersion): Promise<{ dir: string; version: string }> {
    await this.prepareFolder()
    const staging = this.layout.stagingDir
    await mkdir(staging, { recursive: true }).catch(error => {
      throw this.writeError(error)
    })
    const dir = await mkdtemp(join(staging, `${process.pid}-`))
    try {
      const createdMs = Date.now()
      await writeJsonAtomic(join(dir, 'owner.json'), {
        ...currentProcess(),
        created: new Date(createdMs).toISOString(),
        createdMs,
        model: request.name,
        digest: request.digest
      })
      const version = join(dir, 'version')
      const artifacts = join(version, 'artifacts')
      await mkdir(artifacts, { recursive: true })
      const content = request.content
      if (content.kind === 'directory') await copyUploadFiles(content.files, artifacts, content.dir)
      else await copyTree(await this.sourceOf(content.uri), artifacts, { sync: true })
      await writeJsonAtomic(join(version, 'metrics.json'), metricsJson(request.metrics ?? {}))
      return { dir, version }
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  }

  /** The artifacts of the version of this registry that a `uri` content names. */
  private async sourceOf(uri: string): Promise<string> {
    const ref = uri.startsWith('runs:/') || uri.startsWith('models:/') ? parseModelUri(uri, uri) : undefined
    if (ref?.kind !== 'version' && ref?.kind !== 'alias') {
      throw new ConfigurationError(
        `the file registry can only take a local model directory or a version of itself (models:/<name>/<version> or models:/<name>@<alias>); got ${JSON.stringify(uri)}`,
        { source: uri }
      )
    }
    const record = await this.resolveUri(uri)
    return this.layout.artifactsDir(record.name, record.version)
  }

  /**
   * Removes staging directories whose writer is known to be gone (a crash): its pid no longer runs on this host,
   * or it is too old to be a copy still under way. Best effort: a directory that cannot be removed now is later.
   */
  private async cleanStaging(): Promise<void> {
    const staging = this.layout.stagingDir
    let entries: string[]
    try {
      entries = await readdir(staging)
    } catch {
      return
    }
    await Promise.all(
      entries.map(async entry => {
        const dir = join(staging, entry)
        try {
          const owner = await readJsonObject(join(dir, 'owner.json')).catch(() => undefined)
          const age = Date.now() - (typeof owner?.createdMs === 'number' ? owner.createdMs : (await stat(dir)).mtimeMs)
          const abandoned = owner
            ? goneReason(owner) !== undefined || age > STAGING_ABANDONED_MS
            : age > STAGING_ORPHAN_MS
          if (abandoned) await rm(dir, { recursive: true, force: true })
        } catch {
          // Removed by another writer meanwhile, or not ours to remove: either way, not this call's business.
        }
      })
    )
  }
}

export function createFileRegistry(options: FileRegistryOptions): FileRegistry {
  return new FileRegistry(options)
}

function missingModelBug(name: string, root: string): Error {
  return new Error(
    `model ${name} does not exist in the file registry at ${root}: ensureRegisteredModel must come before prepareVersion`
  )
}
