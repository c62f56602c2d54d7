/**
 * One registration, idempotent by content: hash the model, look for a version that already holds that digest,
 * create one only when none does (finishing one a crashed run left half-registered), then set the tags, the
 * description and the aliases.
 * Running it twice on the same model leaves one version; every step can be repeated, so a failed run is repaired
 * by running it again.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createManifest } from '../model-dir/manifest.js'
import { walkModelDir } from '../model-dir/walk.js'
import { ConfigurationError, ServiceError } from '../errors.js'
import { sleep } from '../http/client.js'
import {
  DIGEST_TAG,
  type CreatedVersion,
  type ModelContent,
  type ModelRegistry,
  type ModelVersion,
  type NewVersion
} from './types.js'
import { checkAlias, modelVersionUri } from './uri.js'

export interface RegisterRequest {
  readonly registry: ModelRegistry
  readonly name: string
  /** Absolute path of a local model directory to upload. */
  readonly modelDir?: string
  /** An artifact the registry can reach, registered without uploading. */
  readonly source?: string
  readonly runId?: string
  readonly aliases: readonly string[]
  /** The user's tags; they overwrite on a re-run. */
  readonly tags: Readonly<Record<string, string>>
  /** modelgate's lineage and gate tags; a re-run adds the missing ones and keeps what the first run recorded. */
  readonly lineage: Readonly<Record<string, string>>
  readonly runTags?: Readonly<Record<string, string>>
  /** The version's description; on a re-run it replaces a different one, and left out it leaves the version's. */
  readonly description?: string
  readonly metrics?: Readonly<Record<string, number>>
  /** The digest validate-model computed, when its report was given: it must match the model registered. */
  readonly validatedDigest?: string
  readonly describeInput: (name: string) => string
  readonly log?: (line: string) => void
}

export interface Registration {
  readonly version: ModelVersion
  /** False when a version with this digest already existed. */
  readonly created: boolean
  /** `sha256:<hex>`. */
  readonly digest: string
  readonly modelUri: string
  readonly aliases: readonly string[]
}

export async function registerModel(request: RegisterRequest): Promise<Registration> {
  try {
    return await register(request)
  } catch (error) {
    // The registries place a URI they cannot read at the URI itself; here it is what the user gave as `source`.
    if (request.source && error instanceof ConfigurationError && error.place?.source === request.source) {
      throw new ConfigurationError(error.detail, { ...error.place, source: request.describeInput('source') })
    }
    throw error
  }
}

async function register(request: RegisterRequest): Promise<Registration> {
  const log = request.log ?? (() => {})
  const aliases = request.aliases.map(alias => checkAlias(alias, request.describeInput('aliases')))
  const { content, digest, cleanup } = await prepareContent(request)
  try {
    const { registry, name } = request
    await registry.ensureRegisteredModel(name)
    const newVersion: NewVersion = {
      name,
      digest,
      content,
      tags: { ...request.lineage, ...request.tags, [DIGEST_TAG]: digest },
      ...(request.runId ? { runId: request.runId } : {}),
      ...(request.description ? { description: request.description } : {}),
      ...(request.metrics && Object.keys(request.metrics).length ? { metrics: request.metrics } : {}),
      ...(request.runTags ? { runTags: request.runTags } : {})
    }

    let version: ModelVersion
    let created: boolean
    const existing = await registry.findVersionByDigest(name, digest)
    if (existing) {
      log(`${name} version ${existing.version} already holds ${digest}; not creating another`)
      version = existing.status === 'READY' ? existing : await registry.completeVersion(existing, newVersion)
      created = false
      await updateExisting(registry, version, request, log)
    } else {
      if (content.kind === 'directory') {
        log(`uploading ${content.files.length} files (${megabytes(content.files)}) to ${registry.location}`)
      }
      const result = await createVersion(registry, newVersion, log)
      version = result.version
      created = result.created
      if (!created) await updateExisting(registry, version, request, log)
      log(`${created ? 'registered' : 'found'} ${name} version ${version.version} (${digest})`)
    }

    for (const alias of aliases) {
      await registry.setAlias(name, alias, version.version)
      log(`alias ${alias} → ${name} version ${version.version}`)
    }
    const final = (await registry.getVersion(name, version.version)) ?? version
    return { version: final, created, digest, modelUri: modelVersionUri(name, final.version), aliases }
  } finally {
    await cleanup()
  }
}

/** Create requests made when the earlier ones failed with no version holding the digest afterwards. */
const CREATE_ATTEMPTS = 4

/**
 * Creates a version of content that no version held when the caller looked (the protocol every registry shares):
 *   1. the registry stages the content (uploads it, or copies it where the registry keeps files);
 *   2. one create request carries every tag, so a version never exists without its digest; when it fails in a way
 *      that may have come after the version was made (a 5xx, a lost connection, no answer in time), the digest tells:
 *      the version found by it is the one created, and only when none is found is the create asked again;
 *   3. the version is finished (files uploaded after the create where the registry takes them so, then READY);
 *   4. two writers that both looked before either created end with two versions of one digest: the lower number
 *      wins once it is READY, and the other writer deletes its own and what was staged for it (deleting needs more
 *      permission than creating; without it the duplicate stays, and is logged).
 */
export async function createVersion(
  registry: ModelRegistry,
  request: NewVersion,
  log: (line: string) => void = () => {}
): Promise<CreatedVersion> {
  const draft = await registry.prepareVersion(request)
  try {
    const attempt = await createOnce(registry, request, draft.create.bind(draft), log)
    if (!attempt.created) return attempt
    const version = attempt.version.status === 'READY' ? attempt.version : await draft.finish(attempt.version)
    const result = await converge(registry, request, version, log)
    if (result.removed) {
      await draft.discard().catch((error: unknown) => {
        log(`could not remove what was staged for the duplicate version: ${(error as Error).message}`)
      })
    }
    return result.outcome
  } finally {
    await draft.release()
  }
}

async function createOnce(
  registry: ModelRegistry,
  request: NewVersion,
  create: () => Promise<CreatedVersion>,
  log: (line: string) => void
): Promise<CreatedVersion> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create()
    } catch (error) {
      const unknownOutcome = error instanceof ServiceError && (error.status === undefined || error.status >= 500)
      if (!unknownOutcome || attempt >= CREATE_ATTEMPTS) throw error
      const landed = await registry.findVersionByDigest(request.name, request.digest)
      if (landed) {
        log(
          `creating the version failed (${error.message}), but version ${landed.version} holds the digest: the create happened`
        )
        return { version: landed, created: true }
      }
      log(`creating the version failed (${error.message}); trying again`)
      await sleep(registry.retryBaseMs * 2 ** (attempt - 1))
    }
  }
}

async function converge(
  registry: ModelRegistry,
  request: NewVersion,
  ours: ModelVersion,
  log: (line: string) => void
): Promise<{ outcome: CreatedVersion; removed: boolean }> {
  const stands = { outcome: { version: ours, created: true }, removed: false }
  const first = await registry.findVersionByDigest(request.name, request.digest)
  if (!first || Number(first.version) >= Number(ours.version)) return stands
  const winner = await settled(registry, first)
  if (!winner) return stands
  log(`version ${winner.version} of ${request.name} already holds ${request.digest}; removing ${ours.version}`)
  const removed = await registry.deleteVersion(request.name, ours.version).then(
    () => true,
    (error: unknown) => {
      log(`could not delete the duplicate version ${ours.version}: ${(error as Error).message}`)
      return false
    }
  )
  return { outcome: { version: winner, created: false }, removed }
}

/** The READY version a racing writer made, or undefined when its registration failed (then ours stands). */
async function settled(registry: ModelRegistry, version: ModelVersion): Promise<ModelVersion | undefined> {
  if (version.status === 'READY') return version
  try {
    return await registry.waitUntilReady(version.name, version.version)
  } catch (error) {
    if (error instanceof ServiceError) return undefined
    throw error
  }
}

/** A version that already existed takes what the inputs say now: tags, and the description when one is given. */
async function updateExisting(
  registry: ModelRegistry,
  version: ModelVersion,
  request: RegisterRequest,
  log: (line: string) => void
): Promise<void> {
  await repairTags(registry, version, request)
  // No description input leaves the version's alone: it may have been written in the registry's UI.
  if (request.description && request.description !== (version.description ?? '')) {
    await registry.setVersionDescription(version.name, version.version, request.description)
    log(`description of ${version.name} version ${version.version} updated`)
  }
}

/** On a version that already existed: the user's tags as given now, modelgate's only where missing. */
async function repairTags(registry: ModelRegistry, version: ModelVersion, request: RegisterRequest): Promise<void> {
  const missing: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.lineage)) if (!(key in version.tags)) missing[key] = value
  for (const [key, value] of Object.entries(request.tags)) if (version.tags[key] !== value) missing[key] = value
  if (Object.keys(missing).length) await registry.setVersionTags(version.name, version.version, missing)
}

async function prepareContent(
  request: RegisterRequest
): Promise<{ content: ModelContent; digest: string; cleanup: () => Promise<void> }> {
  const none = async () => {}
  if (request.modelDir) {
    const { content, digest } = await hashDirectory(request.modelDir, request.describeInput('model-path'), request.log)
    checkValidatedDigest(request, digest)
    return { content, digest, cleanup: none }
  }
  const source = request.source!
  if (request.validatedDigest)
    return { content: { kind: 'uri', uri: source }, digest: request.validatedDigest, cleanup: none }
  // Without validate-model's digest, the content address of an existing artifact is only known by reading it.
  const temp = await mkdtemp(join(tmpdir(), 'modelgate-source-'))
  const cleanup = () => rm(temp, { recursive: true, force: true })
  try {
    request.log?.(`downloading ${source} to hash it`)
    await request.registry.downloadModel(source, temp)
    const { digest } = await hashDirectory(temp, request.describeInput('source'), request.log)
    return { content: { kind: 'uri', uri: source }, digest, cleanup }
  } catch (error) {
    await cleanup()
    throw error
  }
}

async function hashDirectory(
  dir: string,
  source: string,
  log?: (line: string) => void
): Promise<{ content: ModelContent; digest: string }> {
  const walk = await walkModelDir(dir, { source })
  const problem = walk.findings.find(finding => finding.severity === 'error')
  if (problem) {
    throw new ConfigurationError(
      `${problem.file ? `${problem.file}: ` : ''}${problem.message}; a registry copies regular files only, so this model cannot be registered as it is (validate-model reports the same)`,
      { source }
    )
  }
  if (walk.files.length === 0)
    throw new ConfigurationError(`${dir} holds no files; expected an MLflow model directory`, { source })
  log?.(`hashing ${walk.files.length} files (${megabytes(walk.files)})`)
  const { manifest, failures } = await createManifest(walk.files)
  if (!manifest) {
    throw new ConfigurationError(
      `${failures.map(f => `${f.path} (${f.reason})`).join(', ')} could not be read, so the model cannot be hashed or uploaded`,
      { source }
    )
  }
  return { content: { kind: 'directory', dir, files: walk.files }, digest: `sha256:${manifest.digest}` }
}

function checkValidatedDigest(request: RegisterRequest, digest: string): void {
  if (request.validatedDigest && request.validatedDigest !== digest) {
    throw new ConfigurationError(
      `the validation report is for the model with digest ${request.validatedDigest}, but model-path holds ${digest}; register the model that was validated (the files changed between the steps)`,
      { source: request.describeInput('validation-report') }
    )
  }
}

/** A size for progress lines only; the reports format sizes with core/format, which this package sits beside. */
function megabytes(files: readonly { readonly size: number }[]): string {
  return `${(files.reduce((sum, file) => sum + file.size, 0) / 1024 / 1024).toFixed(1)} MB`
}
