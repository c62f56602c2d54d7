/**
 * The walk of a model directory: every regular file, and a finding for everything else. A model directory is what
 * MLflow writes, regular files and directories only, so anything else is either a packaging accident or an attempt
 * to make the registry copy something from outside (a symlink to `~/.aws/credentials` is copied as its content).
 *
 * Entries are inspected with lstat and links are never followed out of the directory. Special files are never
 * opened: opening a FIFO for reading blocks until a writer appears, which would hang the step.
 */
import { constants, type Stats } from 'node:fs'
import { lstat, open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { ConfigurationError, errorCode } from '../errors.js'
import { isInside } from '../paths.js'
import type { Finding, ModelFile } from './types.js'

// The containment rule lives in paths.ts so the metric sources share it without loading the walker.
export { isInside }

export interface WalkOptions {
  /**
   * Follow symlinks whose target stays inside the model directory, listing the target's content under the link's
   * path. Off by default: MLflow never writes links and a registry copies files, so the link is reported instead.
   */
  readonly followInternalSymlinks?: boolean
  /** How errors name the directory's origin; the action's input by default. */
  readonly source?: string
}

export interface ModelWalk {
  /** Regular files, sorted by the UTF-8 bytes of their path (the manifest's order). */
  readonly files: ModelFile[]
  readonly findings: Finding[]
  /** Directories below the model directory (the directory itself not counted). */
  readonly directories: number
  /**
   * Entries that could not be read or inspected ('.' for the model directory itself), sorted: whatever they hold is
   * missing from `files`, so a manifest of `files` would be partial.
   */
  readonly unlisted: string[]
}

const DEFAULT_SOURCE = "input 'model-path'"
const LINK_FIX = 'replace the link with a copy of the file: MLflow never writes links and registries copy files'
const SPECIAL_FIX = 'remove it: a model directory holds only regular files and directories'

interface PendingDirectory {
  readonly absolute: string
  /** Model-relative path, '' for the model directory itself. */
  readonly path: string
  /**
   * The real paths of the directories walked to get here, this one last: a followed link back into any of them
   * would be walked forever (two directories linking to each other loop without either containing the other).
   */
  readonly chain: readonly string[]
}

export async function walkModelDir(dir: string, options: WalkOptions = {}): Promise<ModelWalk> {
  const source = options.source ?? DEFAULT_SOURCE
  // The model directory itself may be reached through a link (a checkout layout, a mounted volume): that is the
  // user's choice of path, not the model's content, so it is the one place stat follows a link.
  let info: Stats
  let root: string
  try {
    info = await stat(dir)
    root = await realpath(dir)
  } catch (error) {
    const code = errorCode(error)
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `could not be read (${code})`
    throw new ConfigurationError(`${dir} ${why}; expected an MLflow model directory (the one holding MLmodel)`, {
      source
    })
  }
  if (!info.isDirectory()) {
    throw new ConfigurationError(
      `${dir} is not a directory; expected an MLflow model directory (the one holding MLmodel)`,
      { source }
    )
  }
  const walker = new Walker(root, options.followInternalSymlinks ?? false)
  await walker.directory({ absolute: root, path: '', chain: [root] })
  // Subdirectories are walked concurrently, so findings arrive in I/O order; reports must not depend on it.
  const findings = walker.findings
    .map(finding => ({ finding, key: Buffer.from(`${finding.file ?? ''}\0${finding.message}`, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(k => k.finding)
  return {
    files: sortByPath(walker.files),
    findings,
    directories: walker.directories,
    unlisted: sortByPath(walker.unlisted.map(path => ({ path }))).map(entry => entry.path)
  }
}

class Walker {
  readonly files: ModelFile[] = []
  readonly findings: Finding[] = []
  readonly unlisted: string[] = []
  directories = 0

  constructor(
    private readonly root: string,
    private readonly follow: boolean
  ) {}

  async directory(dir: PendingDirectory): Promise<void> {
    let names: Buffer[]
    try {
      // Raw bytes: a name that is not UTF-8 would come back with U+FFFD in place of its bytes, and lstat of that
      // string would then fail or, worse, find a different file.
      names = await readdir(dir.absolute, { encoding: 'buffer' })
    } catch (error) {
      this.error(dir.path || '.', `could not be read as a directory (${errorCode(error)})`)
      this.unlisted.push(dir.path || '.')
      return
    }
    names.sort(Buffer.compare)
    await Promise.all(names.map(name => this.entry(dir, name)))
  }

  private async entry(parent: PendingDirectory, raw: Buffer): Promise<void> {
    const name = raw.toString('utf8')
    const path = parent.path ? `${parent.path}/${name}` : name
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      this.error(
        path,
        `has a name that is not valid UTF-8 (bytes ${raw.toString('hex')}), so no manifest can name it faithfully`,
        'rename it to a UTF-8 name'
      )
      return
    }
    // readdir never yields these, but a path built from one would step outside the manifest's namespace.
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      this.error(path, 'has a name that is not a single path segment')
      return
    }
    this.checkName(path, name)
    const absolute = join(parent.absolute, name)
    let info: Stats
    try {
      info = await lstat(absolute)
    } catch (error) {
      this.error(path, `could not be inspected (${errorCode(error)})`)
      this.unlisted.push(path)
      return
    }
    if (info.isFile()) this.files.push({ path, absolute, size: info.size })
    else if (info.isDirectory()) {
      this.directories++
      await this.directory({ absolute, path, chain: [...parent.chain, join(parent.chain.at(-1) ?? this.root, name)] })
    } else if (info.isSymbolicLink()) await this.link(parent, path, absolute)
    else this.error(path, `is ${describeSpecial(info)}, not a regular file`, SPECIAL_FIX)
  }

  private async link(parent: PendingDirectory, path: string, absolute: string): Promise<void> {
    const target = await readlink(absolute).catch(() => '?')
    const shown = JSON.stringify(target)
    let real: string
    try {
      real = await realpath(absolute)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const why = code === 'ELOOP' ? 'a link loop' : code === 'ENOENT' ? 'nothing (a dangling link)' : errorCode(error)
      this.error(path, `is a symlink to ${shown}, which resolves to ${why}`, 'remove the link or copy the file in')
      return
    }
    if (!isInside(this.root, real)) {
      const resolved = real === target ? '' : ` (${real})`
      this.error(
        path,
        `is a symlink to ${shown}${resolved}, outside the model directory; it was not followed or hashed`,
        'copy the file into the model directory if the model needs it, and remove the link'
      )
      return
    }
    const inside = relative(this.root, real).split(sep).join('/') || '.'
    // A link to a directory that contains it makes any copy that follows links recurse until the disk is full.
    const here = parent.chain.at(-1) ?? this.root
    if (isInside(real, here) || parent.chain.includes(real)) {
      this.error(path, `is a symlink to ${shown}, a directory that contains the link (a loop)`, 'remove the link')
      return
    }
    if (!this.follow) {
      this.warning(path, `is a symlink to ${shown} (${inside} in the model directory); it was not followed`, LINK_FIX)
      return
    }
    this.warning(path, `is a symlink to ${shown} (${inside} in the model directory); it was followed`, LINK_FIX)
    const info = await lstat(real)
    if (info.isFile()) this.files.push({ path, absolute: real, size: info.size })
    else if (info.isDirectory()) {
      this.directories++
      await this.directory({ absolute: real, path, chain: [...parent.chain, real] })
    } else this.error(path, `is a symlink to ${describeSpecial(info)}, not a regular file`, SPECIAL_FIX)
  }

  private checkName(path: string, name: string): void {
    // Control characters make names print as something else (a carriage return hides what precedes it) and a
    // backslash is a separator on Windows, where the same model would unpack to a different tree.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) {
      this.warning(path, `has a control character in its name (${JSON.stringify(name)})`, 'rename it')
    } else if (name.includes('\\')) {
      this.warning(path, 'has a backslash in its name, a path separator on Windows', 'rename it')
    }
  }

  private error(file: string, message: string, fix?: string): void {
    this.findings.push({ severity: 'error', file, message, ...(fix ? { fix } : {}) })
  }

  private warning(file: string, message: string, fix?: string): void {
    this.findings.push({ severity: 'warning', file, message, ...(fix ? { fix } : {}) })
  }
}

/** Sorted by the UTF-8 bytes of `path`: JavaScript's own string order is by UTF-16 units, which no other tool uses. */
export function sortByPath<T extends { readonly path: string }>(items: readonly T[]): T[] {
  return items
    .map(item => ({ item, key: Buffer.from(item.path, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(k => k.item)
}

function describeSpecial(info: { isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean }): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)'
  if (info.isSocket()) return 'a socket'
  if (info.isBlockDevice()) return 'a block device'
  return 'a character device'
}

/**
 * Flags for opening a model file: never through a link in the last component and never blocking on a FIFO, in
 * case the entry was swapped after the walk looked at it. O_NONBLOCK has no effect on regular files.
 */
export const MODEL_FILE_OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/** Opens a file the walk listed, refusing anything that is no longer a regular file. */
export async function openModelFile(absolute: string): Promise<FileHandle> {
  const handle = await open(absolute, MODEL_FILE_OPEN_FLAGS)
  try {
    if ((await handle.stat()).isFile()) return handle
  } catch (error) {
    await handle.close()
    throw error
  }
  await handle.close()
  throw Object.assign(new Error(`${absolute} is no longer a regular file`), { code: 'ENOTREGULAR' })
}
