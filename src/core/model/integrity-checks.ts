/**
 * The integrity checks of a model directory as CheckResults: paths (the walk's findings), size, manifest and
 * secrets. The work is done in walk.ts, manifest.ts and secrets.ts; this module only judges and words the results.
 */
import { createManifest, type HashOptions, type Manifest } from '../model-dir/manifest.js'
import { MAX_SCANNED_BYTES, scanSecretsCounted } from './secrets.js'
import { checkResult, type CheckResult, type Finding, type ModelFile } from './types.js'
import type { ModelWalk } from '../model-dir/walk.js'
import { formatBytes } from '../format.js'

export const DEFAULT_MAX_SIZE_BYTES = 2 * 1024 ** 3
/** Above this share of the limit the size check warns, so a model that grows each release is noticed in time. */
const SIZE_WARN_RATIO = 0.8
const LARGEST_SHOWN = 5

export function checkPaths(walk: ModelWalk): CheckResult {
  const errors = walk.findings.filter(f => f.severity === 'error').length
  const warnings = walk.findings.filter(f => f.severity === 'warning').length
  const counted = `${plural(walk.files.length, 'file')} in ${plural(walk.directories + 1, 'directory', 'directories')}`
  const summary =
    errors || warnings
      ? `${[errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ')} among ${counted}`
      : `${counted}, no links or special files`
  return checkResult('paths', 'No file escapes the model directory', summary, walk.findings, {
    files: walk.files.length,
    directories: walk.directories
  })
}

export function checkSize(files: readonly ModelFile[], maxSizeBytes: number = DEFAULT_MAX_SIZE_BYTES): CheckResult {
  if (!(maxSizeBytes > 0) || !Number.isFinite(maxSizeBytes)) {
    throw new RangeError(`maxSizeBytes must be a positive number, got ${maxSizeBytes}`)
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  const largest = [...files]
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, LARGEST_SHOWN)
    .map(({ path, size }) => ({ path, size }))
  const share = bytes / maxSizeBytes
  const findings: Finding[] = []
  const biggest = largest.length ? `; the largest file is ${largest[0].path} (${formatBytes(largest[0].size)})` : ''
  if (bytes > maxSizeBytes) {
    findings.push({
      severity: 'error',
      message: `the model is ${formatBytes(bytes)}, over the limit of ${formatBytes(maxSizeBytes)}${biggest}`,
      fix: 'remove what the model does not load (checkpoints, training data, caches), or raise the size limit'
    })
  } else if (share > SIZE_WARN_RATIO) {
    findings.push({
      severity: 'warning',
      message: `the model is ${formatBytes(bytes)}, ${Math.floor(share * 100)}% of the limit of ${formatBytes(maxSizeBytes)}${biggest}`,
      fix: 'check that every large file is needed to load the model'
    })
  }
  const summary = `${formatBytes(bytes)} of ${formatBytes(maxSizeBytes)} allowed, ${plural(files.length, 'file')}`
  return checkResult('size', 'Size within the limit', summary, findings, {
    bytes,
    limit: maxSizeBytes,
    files: files.length,
    largest
  })
}

/**
 * The manifest check; `manifest` is undefined when a file could not be hashed, or when `unlisted` (the walk's
 * entries it could not read) is not empty: a partial one would mislead.
 */
export async function checkManifest(
  files: readonly ModelFile[],
  options: HashOptions = {},
  unlisted: readonly string[] = []
): Promise<{ result: CheckResult; manifest: Manifest | undefined }> {
  const created = await createManifest(files, options)
  const { entries, failures } = created
  const manifest = unlisted.length ? undefined : created.manifest
  const findings: Finding[] = unlisted.map(path => ({
    severity: 'error' as const,
    file: path,
    message: 'could not be listed, so the manifest would leave out what it holds',
    fix: 'make every folder of the model readable by the job'
  }))
  findings.push(
    ...failures.map(failure => ({
      severity: 'error' as const,
      file: failure.path,
      message: `could not be read to hash it (${failure.reason})`,
      fix: 'make every file of the model readable by the job'
    }))
  )
  const walked = new Map(files.map(file => [file.path, file.size]))
  for (const entry of entries) {
    if (walked.get(entry.path) !== entry.size) {
      findings.push({
        severity: 'error',
        file: entry.path,
        message: `changed while it was checked (${walked.get(entry.path)} bytes when listed, ${entry.size} when hashed)`,
        fix: 'validate the model once whatever writes it has finished'
      })
    }
  }
  const bytes = entries.reduce((sum, entry) => sum + entry.size, 0)
  const title = 'Manifest of every file (sha256)'
  if (!manifest) {
    const summary = [
      unlisted.length ? `${plural(unlisted.length, 'entry', 'entries')} could not be listed` : '',
      failures.length ? `${plural(failures.length, 'file')} could not be read` : ''
    ]
      .filter(Boolean)
      .join(', ')
      .concat('; no manifest')
    return { result: checkResult('manifest', title, summary, findings, { files: files.length }), manifest }
  }
  const summary = `sha256:${manifest.digest.slice(0, 12)}… over ${plural(entries.length, 'file')} (${formatBytes(bytes)})`
  const data = { digest: manifest.digest, files: entries.length, bytes }
  return { result: checkResult('manifest', title, summary, findings, data), manifest }
}

export async function checkSecrets(files: readonly ModelFile[]): Promise<CheckResult> {
  const { findings, notRead } = await scanSecretsCounted(files)
  const flagged = new Set(findings.map(f => f.file)).size
  // The content of binary and very large files is not read: the summary must not vouch for them.
  const unread = notRead ? `; ${plural(notRead, 'file')} binary or over ${MAX_SCANNED_BYTES >> 20} MiB, not read` : ''
  const summary = findings.length
    ? `${plural(findings.length, 'finding')} in ${plural(flagged, 'file')}${unread}`
    : `no credentials in ${plural(files.length - notRead, notRead ? 'text file' : 'file')}${unread}`
  return checkResult('secrets', 'No credentials in the model', summary, findings, {
    files: files.length,
    flagged,
    notRead
  })
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
