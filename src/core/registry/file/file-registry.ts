/**
 * The file registry: a model registry kept in a folder, so a team can register, alias and gate models before it
 * runs any server. It speaks MLflow's vocabulary (names, numbered versions, aliases, tags, `models:/` URIs) so a
 * team that later moves to MLflow changes the registry input and nothing else.
 *
 * The folder, meant to be read (and diffed, and backed up) by people; every JSON file is pretty-printed with a
 * trailing newline:
 *
 *     <root>/
 *       registry.json                   {"format": "modelgate-file-registry", "version": 1}
 *       .gitignore                      the lock, staging and temporary files, for a registry kept in a repository
 *       registry.lock                   only while a writer holds it: who, since when, doing what (lock.ts)
 *       models/<folder>/
 *         model.json                    {"name", "created", "aliases": {"champion": "3"}, "tags": {}}
 *         versions/<n>/                 n = 1, 2, 3, … in decimal
 *           version.json                {"name", "version", "status": "READY", "source", "run_id"?, "description",
 *                                        "tags": {"modelgate.digest": "sha256:…", …}, "created"}
 *           metrics.json                the metrics recorded with the version: {"accuracy": 0.91, …}; NaN and
 *                                       infinities as the strings "NaN", "Infinity", "-Infinity"
 *           artifacts/…                 the model's files, in the model directory's layout
 *       staging/<pid>-<random>/         versions being copied in; owner.json says by whom
 *
 * `created` is ISO 8601. `source` is the artifacts folder relative to the root (the registry folder can move);
 * ModelVersion.source is it resolved against the root.
 *
 * A model's folder is its name with every UTF-8 byte outside `A-Z a-z 0-9 _ - .` written as `%XX`, and a leading `.`
 * as `%2E`: `churn-classifier` and `main.ml.churn` stay as they are, `team/churn v2` is `team%2Fchurn%20v2`, and no
 * name becomes `.`, `..`, a hidden folder or a path. Names that are empty, hold control characters, or have `.` or
 * `..` as a `/`-segment are refused. model.json holds the real name; a folder whose model.json names another model
 * (a case-insensitive file system folds `Churn` into `churn`) is refused rather than shared.
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
 * to be gone, or after a day), a `.*.tmp` file, or a numbered folder without version.json (which only hand edits
 * make); such a folder's number is not reused, as MLflow never reuses a number either.
 *
 * Versions are READY when created. Runs do not exist here: metrics live with the version.
 */
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import {
  DIGEST_TAG,
  type CreatedVersion,
  type ModelRegistry,
  type ModelVersion,
  type NewVersion,
  type RegistryMetrics,
  type VersionDraft,
  type VersionStatus
} from '../types.js'
import { checkAlias, parseModelUri } from '../uri.js'
import { copyTree, copyUploadFiles, syncDirectory, writeJsonAtomic } from './atomic.js'
import { acquireLock, currentProcess, goneReason, type HeldLock } from './lock.js'

export const FILE_REGISTRY_FORMAT = 'modelgate-file-registry'
export const FILE_REGISTRY_VERSION = 1

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

const REGISTRY_FILE = 'registry.json'
const LOCK_FILE = 'registry.lock'
const MODELS = 'models'
const STAGING = 'staging'
const GITIGNORE = '.gitignore'
/** What a registry folder may hold before registry.json is written (a first writer that died early). */
const OWN_ENTRIES = new Set([REGISTRY_FILE, GITIGNORE, LOCK_FILE, `${LOCK_FILE}.break`, MODELS, STAGING, '.DS_Store'])
/** For a registry kept in a repository: what exists only while a step writes is never committed. */
const GITIGNORE_TEXT = `# Written by modelgate: these exist only while a step writes to the registry.\n${LOCK_FILE}\n${LOCK_FILE}.break\n${STAGING}/\n.*.tmp\n`

const READ_BATCH = 32
const VERSION_NUMBER = /^[1-9]\d*$/
const STATUSES: readonly VersionStatus[] = ['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION']

type JsonObject = Record<string, unknown>

interface ModelRecord {
  /** The file as read, so that a rewrite keeps keys someone added by hand. */
  readonly raw: JsonObject
  readonly name: string
  readonly aliases: Readonly<Record<string, string>>
}

interface VersionRecord {
  readonly raw: JsonObject
  readonly name: string
  readonly version: string
  readonly status: VersionStatus
  readonly statusMessage?: string
  readonly source: string
  readonly runId?: string
  readonly description?: string
  readonly tags: Readonly<Record<string, string>>
  readonly createdAt?: number
}

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
  /** Set once registry.json has been seen (or written), so that only the first call checks the folder. */
  private known = false

  constructor(options: FileRegistryOptions) {
    this.root = resolve(options.root)
    this.location = this.root
    this.now = options.now ?? Date.now
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
    this.staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS
    this.source = options.source ?? this.root
  }

  // --- ModelRegistry ----------------------------------------------------------------------------------------------

  async ensureRegisteredModel(name: string): Promise<void> {
    modelFolderName(name)
    if (await this.readModel(name)) return
    await this.withLock(`creating model ${name}`, async () => {
      if (await this.readModel(name)) return
      await mkdir(this.versionsDir(name), { recursive: true })
      await writeJsonAtomic(this.modelFile(name), {
        name,
        created: new Date(this.now()).toISOString(),
        aliases: {},
        tags: {}
      })
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
    if (early)
      return { create: async () => ({ version: early, created: false }), finish: async v => v, release: async () => {} }

    const staged = await this.stage(request)
    return {
      create: () => this.commitVersion(request, staged.version),
      // Versions are READY when their folder appears.
      finish: async version => version,
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

      const numbers = await this.versionNumbers(name)
      const version = String((numbers.at(-1) ?? 0) + 1)
      const raw: JsonObject = {
        name,
        version,
        status: 'READY',
        source: [MODELS, modelFolderName(name), 'versions', version, 'artifacts'].join('/'),
        ...(request.runId ? { run_id: request.runId } : {}),
        description: request.description ?? '',
        tags: { ...request.tags, [DIGEST_TAG]: digest },
        created: new Date(this.now()).toISOString()
      }
      await writeJsonAtomic(join(staged, 'version.json'), raw)
      await lock.verify()
      const versions = this.versionsDir(name)
      await mkdir(versions, { recursive: true })
      await rename(staged, join(versions, version))
      await syncDirectory(versions)
      return {
        version: toModelVersion(this.root, parseVersion(raw, this.versionFile(name, version)), model),
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
      const aliases = Object.fromEntries(Object.entries(model.aliases).filter(([, target]) => target !== version))
      if (Object.keys(aliases).length !== Object.keys(model.aliases).length)
        await writeJsonAtomic(this.modelFile(name), { ...model.raw, aliases })
      // version.json first: without it the folder is no version, whatever else is still in it.
      await rm(this.versionFile(name, version), { force: true })
      await syncDirectory(this.versionDir(name, version))
      const dir = this.versionDir(name, version)
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
      const merged = { ...record.tags, ...stringMap(tags, 'tags') }
      await writeJsonAtomic(this.versionFile(name, version), { ...record.raw, tags: merged })
    })
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    checkAlias(alias, `models:/${name}@${alias}`)
    modelFolderName(name)
    await this.withLock(`pointing alias ${alias} of ${name} at version ${version}`, async () => {
      const model = await this.requireModel(name)
      await this.requireVersion(name, version, `alias ${alias} cannot point at version ${version}`)
      const aliases = sortedKeys({ ...model.aliases, [alias]: version })
      await writeJsonAtomic(this.modelFile(name), { ...model.raw, aliases })
    })
  }

  async readVersionMetrics(version: ModelVersion): Promise<RegistryMetrics> {
    modelFolderName(version.name)
    const record = await this.requireVersion(version.name, version.version, 'its metrics cannot be read')
    const path = join(this.versionDir(version.name, version.version), 'metrics.json')
    const raw = (await readJsonObject(path)) ?? {}
    const values = new Map<string, number | string>()
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value !== 'number' && typeof value !== 'string') {
        throw new ConfigurationError(`expected a number, got ${JSON.stringify(value)}`, { source: path, path: key })
      }
      values.set(key, value)
    }
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
    await copyTree(this.artifactsDir(record.name, record.version), destination)
  }

  // --- paths ------------------------------------------------------------------------------------------------------

  private modelDir(name: string): string {
    return join(this.root, MODELS, modelFolderName(name))
  }

  private modelFile(name: string): string {
    return join(this.modelDir(name), 'model.json')
  }

  private versionsDir(name: string): string {
    return join(this.modelDir(name), 'versions')
  }

  private versionDir(name: string, version: string): string {
    return join(this.versionsDir(name), version)
  }

  private versionFile(name: string, version: string): string {
    return join(this.versionDir(name, version), 'version.json')
  }

  private artifactsDir(name: string, version: string): string {
    return join(this.versionDir(name, version), 'artifacts')
  }

  // --- reading ----------------------------------------------------------------------------------------------------

  /**
   * Whether the folder is a registry (true) or nothing yet (false: missing, or empty but for what a first writer
   * left). Any other folder is refused: pointed at a checkout by mistake, the registry would write into it.
   */
  private async checkFolder(): Promise<boolean> {
    if (this.known) return true
    const info = await readJsonObject(join(this.root, REGISTRY_FILE))
    if (info) {
      const file = join(this.root, REGISTRY_FILE)
      if (info.format !== FILE_REGISTRY_FORMAT) {
        throw new ConfigurationError(
          `expected "format": "${FILE_REGISTRY_FORMAT}", got ${JSON.stringify(info.format)}; ${this.root} is not a modelgate file registry`,
          { source: file, path: 'format' }
        )
      }
      if (info.version !== FILE_REGISTRY_VERSION) {
        throw new ConfigurationError(
          `this modelgate reads file registries of version ${FILE_REGISTRY_VERSION}, and this one is version ${JSON.stringify(info.version)}${typeof info.version === 'number' && info.version > FILE_REGISTRY_VERSION ? ', written by a newer modelgate: upgrade modelgate' : ''}`,
          { source: file, path: 'version' }
        )
      }
      this.known = true
      return true
    }
    let entries: string[]
    try {
      entries = await readdir(this.root)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return false
      if (code === 'ENOTDIR') {
        throw new ConfigurationError(`${this.root} is a file; the file registry needs a folder`, {
          source: this.source
        })
      }
      throw error
    }
    const foreign = entries.filter(entry => !OWN_ENTRIES.has(entry) && !/^\..*\.tmp$/.test(entry))
    if (foreign.length > 0) {
      const shown = foreign.sort().slice(0, 3).join(', ') + (foreign.length > 3 ? ', …' : '')
      throw new ConfigurationError(
        `${this.root} is not a modelgate file registry (it has no ${REGISTRY_FILE}) and is not empty (it holds ${shown}); point the registry at a new or empty folder, or at one modelgate created`,
        { source: this.source }
      )
    }
    return false
  }

  private async readModel(name: string): Promise<ModelRecord | undefined> {
    if (!(await this.checkFolder())) return undefined
    const path = this.modelFile(name)
    const raw = await readJsonObject(path)
    if (!raw) return undefined
    const stored = raw.name
    if (typeof stored !== 'string') {
      throw new ConfigurationError(`expected the model's name, got ${JSON.stringify(stored)}`, {
        source: path,
        path: 'name'
      })
    }
    if (stored !== name) {
      throw new ConfigurationError(
        `model ${JSON.stringify(name)} would be kept in ${this.modelDir(name)}, which holds model ${JSON.stringify(stored)} (the file system does not tell their names apart); choose a name that differs by more than letter case`
      )
    }
    return { raw, name, aliases: stringMap(raw.aliases ?? {}, 'aliases', path) }
  }

  private async readVersion(name: string, version: string): Promise<VersionRecord | undefined> {
    const path = this.versionFile(name, version)
    const raw = await readJsonObject(path)
    if (!raw) return undefined
    const record = parseVersion(raw, path)
    if (record.name !== name || record.version !== version) {
      throw new ConfigurationError(
        `expected version ${version} of ${JSON.stringify(name)}, found version ${JSON.stringify(record.version)} of ${JSON.stringify(record.name)}; was a folder copied by hand?`,
        { source: path }
      )
    }
    return record
  }

  /** Every numbered folder under `versions/`, complete or not, ascending. */
  private async versionNumbers(name: string): Promise<number[]> {
    let entries: string[]
    try {
      entries = await readdir(this.versionsDir(name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    return entries
      .filter(entry => VERSION_NUMBER.test(entry) && Number.isSafeInteger(Number(entry)))
      .map(Number)
      .sort((a, b) => a - b)
  }

  /** The versions that exist (a folder without version.json never counts), ascending. */
  private async readVersions(name: string): Promise<VersionRecord[]> {
    const numbers = await this.versionNumbers(name)
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
    let names: string[] = []
    try {
      names = (await readdir(join(this.root, MODELS))).map(decodeFolderName).filter(n => n !== undefined)
    } catch {
      // No models folder: no models.
    }
    if (names.length === 0) return `${missing}, which holds no models yet`
    names.sort()
    const shown = names.slice(0, 10).map(n => JSON.stringify(n))
    return `${missing}; it holds ${shown.join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`
  }

  // --- writing ----------------------------------------------------------------------------------------------------

  private async withLock<T>(purpose: string, work: (lock: HeldLock) => Promise<T>): Promise<T> {
    await this.prepareFolder()
    let lock: HeldLock
    try {
      lock = await acquireLock({
        path: join(this.root, LOCK_FILE),
        what: `the file registry at ${this.root}`,
        timeoutMs: this.lockTimeoutMs,
        staleMs: this.staleLockMs,
        purpose
      })
    } catch (error) {
      throw this.writeError(error)
    }
    try {
      if (!this.known && !(await readJsonObject(join(this.root, REGISTRY_FILE)))) {
        await writeFile(join(this.root, GITIGNORE), GITIGNORE_TEXT, { flag: 'wx' }).catch(ignoreExisting)
        await writeJsonAtomic(join(this.root, REGISTRY_FILE), {
          format: FILE_REGISTRY_FORMAT,
          version: FILE_REGISTRY_VERSION
        })
      }
      this.known = true
      return await work(lock)
    } finally {
      await lock.release()
    }
  }

  /** Makes the folder if it is missing, after making sure it is a registry or nothing yet. */
  private async prepareFolder(): Promise<void> {
    if (await this.checkFolder()) return
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
    const staging = join(this.root, STAGING)
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
    return this.artifactsDir(record.name, record.version)
  }

  /**
   * Removes staging directories whose writer is known to be gone (a crash): its pid no longer runs on this host,
   * or it is too old to be a copy still under way. Best effort: a directory that cannot be removed now is later.
   */
  private async cleanStaging(): Promise<void> {
    const staging = join(this.root, STAGING)
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

// --- names ----------------------------------------------------------------------------------------------------------

/** NAME_MAX on the common file systems. */
const MAX_FOLDER_BYTES = 255

/** The model's folder name (see the top of this file); a ConfigurationError for a name no folder can hold. */
export function modelFolderName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ConfigurationError(`a model name must not be empty, got ${JSON.stringify(name)}`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new ConfigurationError(`model name ${JSON.stringify(name)} has a control character; remove it`)
  }
  if (name.split('/').some(segment => segment === '.' || segment === '..')) {
    throw new ConfigurationError(
      `model name ${JSON.stringify(name)} has "." or ".." between slashes, which reads as a path; choose a plain name, as in churn-classifier`
    )
  }
  let folder = ''
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte)
    folder += /^[A-Za-z0-9_.-]$/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  if (folder.startsWith('.')) folder = `%2E${folder.slice(1)}`
  if (folder.length > MAX_FOLDER_BYTES) {
    throw new ConfigurationError(
      `model name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 39)}…` : name)} is too long for the file registry (${folder.length} bytes as a folder name, at most ${MAX_FOLDER_BYTES}); shorten it`
    )
  }
  return folder
}

function decodeFolderName(folder: string): string | undefined {
  if (folder.startsWith('.')) return undefined
  try {
    return decodeURIComponent(folder)
  } catch {
    return undefined
  }
}

// --- records --------------------------------------------------------------------------------------------------------

function toModelVersion(root: string, record: VersionRecord, model: ModelRecord): ModelVersion {
  const aliases = Object.entries(model.aliases)
    .filter(([, version]) => version === record.version)
    .map(([alias]) => alias)
    .sort()
  return {
    name: record.name,
    version: record.version,
    status: record.status,
    ...(record.statusMessage ? { statusMessage: record.statusMessage } : {}),
    source: resolve(root, record.source),
    ...(record.runId ? { runId: record.runId } : {}),
    ...(record.description ? { description: record.description } : {}),
    tags: { ...record.tags },
    aliases,
    ...(record.createdAt !== undefined ? { createdAt: record.createdAt } : {})
  }
}

function parseVersion(raw: JsonObject, path: string): VersionRecord {
  const text = (key: string, required: boolean): string | undefined => {
    const value = raw[key]
    if (value === undefined && !required) return undefined
    if (typeof value !== 'string') {
      throw new ConfigurationError(`expected a string, got ${JSON.stringify(value) ?? 'nothing'}`, {
        source: path,
        path: key
      })
    }
    return value
  }
  const status = (text('status', false) ?? 'READY') as VersionStatus
  if (!STATUSES.includes(status)) {
    throw new ConfigurationError(`expected one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`, {
      source: path,
      path: 'status'
    })
  }
  const created = text('created', false)
  const createdAt = created === undefined ? undefined : Date.parse(created)
  const statusMessage = text('status_message', false)
  const runId = text('run_id', false)
  const description = text('description', false)
  return {
    raw,
    name: text('name', true)!,
    version: text('version', true)!,
    status,
    ...(statusMessage ? { statusMessage } : {}),
    source: text('source', true)!,
    ...(runId ? { runId } : {}),
    ...(description ? { description } : {}),
    tags: stringMap(raw.tags ?? {}, 'tags', path),
    ...(createdAt !== undefined && Number.isFinite(createdAt) ? { createdAt } : {})
  }
}

function stringMap(value: unknown, key: string, path?: string): Record<string, string> {
  const fail = (detail: string) =>
    path ? new ConfigurationError(detail, { source: path, path: key }) : new Error(`${key}: ${detail}`)
  if (!isObject(value)) throw fail(`expected an object of strings, got ${JSON.stringify(value)}`)
  const map: Record<string, string> = {}
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== 'string')
      throw fail(`expected a string for ${JSON.stringify(name)}, got ${JSON.stringify(entry)}`)
    map[name] = entry
  }
  return map
}

function metricsJson(metrics: Readonly<Record<string, number>>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  // JSON has no NaN or infinities; MLflow's text for them keeps the value what it was.
  for (const [key, value] of Object.entries(metrics)) out[key] = Number.isFinite(value) ? value : String(value)
  return out
}

function sortedKeys(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function describeAliases(model: ModelRecord): string {
  const entries = Object.entries(model.aliases)
  if (entries.length === 0) return 'no alias is set'
  return `set: ${entries.map(([alias, version]) => `${alias} → ${version}`).join(', ')}`
}

/** `1-3, 5, 7-8`. */
function describeNumbers(numbers: readonly number[]): string {
  const parts: string[] = []
  for (let i = 0; i < numbers.length;) {
    let j = i
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++
    parts.push(j === i ? String(numbers[i]) : `${numbers[i]}-${numbers[j]}`)
    i = j + 1
  }
  return parts.join(', ')
}

function missingModelBug(name: string, root: string): Error {
  return new Error(
    `model ${name} does not exist in the file registry at ${root}: ensureRegisteredModel must come before prepareVersion`
  )
}

function ignoreExisting(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON object file, undefined when there is none; a ConfigurationError naming the file when it is damaged. */
async function readJsonObject(path: string): Promise<JsonObject | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw error
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ConfigurationError(
      `is not valid JSON (${(error as Error).message}); it is part of a modelgate file registry: restore it from a backup or fix it by hand`,
      { source: path }
    )
  }
  if (!isObject(value)) {
    throw new ConfigurationError(`expected a JSON object, got ${JSON.stringify(value)}`, { source: path })
  }
  return value
}
