/**
 * Writes that a crash or a concurrent reader never sees half done, and the copies that fill a version.
 *
 * A JSON file is written to a temporary file beside it, fsynced, and renamed over the old one: rename within a
 * directory is atomic, so a reader sees the old file or the new one. The directory is fsynced after, so the rename
 * itself survives a power cut (where the platform can fsync a directory). A crash leaves at most a `.<name>.*.tmp`
 * file, which nothing reads.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path'
import { ConfigurationError } from '../../errors.js'
import type { UploadFile } from '../types.js'
import { forEachConcurrently } from '../../concurrency.js'

/** Pretty-printed with a trailing newline: the registry's files are meant to be read (and diffed) by people. */
function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', 0o644)
  try {
    await handle.writeFile(jsonText(value))
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => {})
    throw error
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
  await syncDirectory(dir)
}

export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Windows cannot open a directory and some file systems refuse to fsync one; the rename stands regardless.
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const COPY_CONCURRENCY = 8

/**
 * Copies a model directory's files (as the walk listed them) under `into`, keeping their relative layout. Each copy
 * is fsynced, since the version is committed by a rename that must not outlive its files in a crash. A file whose
 * size is no longer the one listed (and hashed) fails the copy: the version's digest tag would not describe it.
 */
export async function copyUploadFiles(files: readonly UploadFile[], into: string, source: string): Promise<void> {
  const seen = new Set<string>()
  const targets = files.map(file => {
    const target = targetPath(into, file.path, source)
    if (seen.has(target)) throw new ConfigurationError(`the model lists ${file.path} twice`, { source })
    seen.add(target)
    return { file, target }
  })
  const made = new Map<string, Promise<unknown>>()
  await forEachConcurrently(targets, COPY_CONCURRENCY, async ({ file, target }) => {
    const parent = dirname(target)
    if (!made.has(parent)) made.set(parent, mkdir(parent, { recursive: true }))
    await made.get(parent)
    const info = await lstat(file.absolute).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigurationError(`${file.path} could not be read (${error.code ?? error.message})`, { source })
    })
    if (!info.isFile()) {
      throw new ConfigurationError(`${file.path} is no longer a regular file; it changed during registration`, {
        source
      })
    }
    await copyFile(file.absolute, target, constants.COPYFILE_FICLONE)
    const copied = await stat(target)
    if (copied.size !== file.size) {
      throw new ConfigurationError(
        `${file.path} changed while it was being registered (${file.size} bytes when hashed, ${copied.size} when copied); run again once nothing writes to the model directory`,
        { source }
      )
    }
    await syncFile(target)
  })
}

/** The file's place under `root`, refusing any path that would land outside it. */
function targetPath(root: string, path: string, source: string): string {
  const segments = path.split('/')
  if (isAbsolute(path) || segments.some(s => s === '' || s === '.' || s === '..')) {
    throw new ConfigurationError(`the model file path ${JSON.stringify(path)} is not a relative path inside it`, {
      source
    })
  }
  const target = join(root, ...segments)
  const rel = relative(root, target)
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new ConfigurationError(`the model file path ${JSON.stringify(path)} would be written outside the model`, {
      source
    })
  }
  return target
}

/**
 * Copies the regular files and directories under `from` into `into` (which may exist); anything else is skipped.
 * With `sync`, each copy is fsynced (for a copy that a rename will commit).
 */
export async function copyTree(from: string, into: string, options: { sync?: boolean } = {}): Promise<void> {
  await mkdir(into, { recursive: true })
  const entries = await readdir(from, { withFileTypes: true })
  await forEachConcurrently(entries, COPY_CONCURRENCY, async entry => {
    const source = join(from, entry.name)
    const target = join(into, entry.name)
    if (entry.isDirectory()) await copyTree(source, target, options)
    else if (entry.isFile()) {
      await copyFile(source, target, constants.COPYFILE_FICLONE)
      if (options.sync) await syncFile(target)
    }
  })
}
