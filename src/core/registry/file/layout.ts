/**
 * The file registry's folder: where everything is, how a model's name becomes a folder, and what the folder holds.
 * Meant to be read (and diffed, and backed up) by people; every JSON file is pretty-printed with a trailing newline:
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
 * ModelVersion.source is it resolved against the root. The records in the JSON files are records.ts's.
 *
 * A model's folder is its name with every UTF-8 byte outside `A-Z a-z 0-9 _ - .` written as `%XX`, and a leading `.`
 * as `%2E`: `churn-classifier` and `main.ml.churn` stay as they are, `team/churn v2` is `team%2Fchurn%20v2`, and no
 * name becomes `.`, `..`, a hidden folder or a path. Names that are empty, hold control characters, or have `.` or
 * `..` as a `/`-segment are refused. model.json holds the real name; a folder whose model.json names another model
 * (a case-insensitive file system folds `Churn` into `churn`) is refused rather than shared.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import { writeJsonAtomic } from './atomic.js'

const FILE_REGISTRY_FORMAT = 'modelgate-file-registry'
const FILE_REGISTRY_VERSION = 1

const REGISTRY_FILE = 'registry.json'
const LOCK_FILE = 'registry.lock'
const MODELS = 'models'
const STAGING = 'staging'
const GITIGNORE = '.gitignore'
/** What a registry folder may hold before registry.json is written (a first writer that died early). */
const OWN_ENTRIES = new Set([REGISTRY_FILE, GITIGNORE, LOCK_FILE, `${LOCK_FILE}.break`, MODELS, STAGING, '.DS_Store'])
/** For a registry kept in a repository: what exists only while a step writes is never committed. */
const GITIGNORE_TEXT = `# Written by modelgate: these exist only while a step writes to the registry.\n${LOCK_FILE}\n${LOCK_FILE}.break\n${STAGING}/\n.*.tmp\n`

/** A version folder's name: a decimal number without leading zeros. */
export const VERSION_NUMBER = /^[1-9]\d*$/

export type JsonObject = Record<string, unknown>

export class RegistryLayout {
  /** Set once registry.json has been seen (or written), so that only the first call checks the folder. */
  private known = false

  constructor(
    readonly root: string,
    /** How errors about the folder name where it came from. */
    private readonly source: string
  ) {}

  get lockFile(): string {
    return join(this.root, LOCK_FILE)
  }

  get stagingDir(): string {
    return join(this.root, STAGING)
  }

  modelDir(name: string): string {
    return join(this.root, MODELS, modelFolderName(name))
  }

  modelFile(name: string): string {
    return join(this.modelDir(name), 'model.json')
  }

  versionsDir(name: string): string {
    return join(this.modelDir(name), 'versions')
  }

  versionDir(name: string, version: string): string {
    return join(this.versionsDir(name), version)
  }

  versionFile(name: string, version: string): string {
    return join(this.versionDir(name, version), 'version.json')
  }

  metricsFile(name: string, version: string): string {
    return join(this.versionDir(name, version), 'metrics.json')
  }

  artifactsDir(name: string, version: string): string {
    return join(this.versionDir(name, version), 'artifacts')
  }

  /** The version's `source` as version.json records it: relative to the root, with `/`. */
  relativeArtifacts(name: string, version: string): string {
    return [MODELS, modelFolderName(name), 'versions', version, 'artifacts'].join('/')
  }

  /**
   * Whether the folder is a registry (true) or nothing yet (false: missing, or empty but for what a first writer
   * left). Any other folder is refused: pointed at a checkout by mistake, the registry would write into it.
   */
  async checkFolder(): Promise<boolean> {
    if (this.known) return true
    const file = join(this.root, REGISTRY_FILE)
    const info = await readJsonObject(file)
    if (info) {
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

  /** Under the lock: writes registry.json (and the .gitignore) into a folder that has none yet. */
  async initialize(): Promise<void> {
    if (!this.known && !(await readJsonObject(join(this.root, REGISTRY_FILE)))) {
      await writeFile(join(this.root, GITIGNORE), GITIGNORE_TEXT, { flag: 'wx' }).catch(ignoreExisting)
      await writeJsonAtomic(join(this.root, REGISTRY_FILE), {
        format: FILE_REGISTRY_FORMAT,
        version: FILE_REGISTRY_VERSION
      })
    }
    this.known = true
  }

  /** Every numbered folder under `versions/`, complete or not, ascending. */
  async versionNumbers(name: string): Promise<number[]> {
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

  /** The names of the models the folder holds, sorted; for messages about one that is not there. */
  async modelNames(): Promise<string[]> {
    try {
      return (await readdir(join(this.root, MODELS)))
        .map(decodeFolderName)
        .filter(n => n !== undefined)
        .sort()
    } catch {
      // No models folder: no models.
      return []
    }
  }
}

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

function ignoreExisting(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON object file, undefined when there is none; a ConfigurationError naming the file when it is damaged. */
export async function readJsonObject(path: string): Promise<JsonObject | undefined> {
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
