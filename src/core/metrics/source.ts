/**
 * Metric sources: what a `candidate` or `baseline` input names, and how it becomes a MetricSet.
 *
 * A spec is a workspace file (`metrics/eval.json`), a file at a git ref (`git:origin/main:metrics/eval.json`), or a
 * registry source (`mlflow-run:<id>`, `models:/<name>@<alias>`, `models:/<name>/<version>`). Each kind is a resolver;
 * callers go through loadMetrics. Registry sources live in registry-source.ts and load the registry layer only when used.
 */
import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { ConfigurationError } from '../errors.js'
import { subject } from './flatten.js'
import { parseGitSpec, readGitFile } from './git.js'
import { requireInsideWorkspace } from './inside-workspace.js'
import {
  MAX_METRICS_FILE_BYTES,
  formatFromPath,
  parseMetricsBytes,
  supportedExtensions,
  type MetricsFormat
} from './parse.js'
import { RegistryResolver } from './registry-source.js'
import type { MetricSourceResolver, SourceContext } from './resolver.js'
import type { MetricSet, Provenance } from './types.js'

export { formatFromPath, parseMetrics, MAX_METRICS_FILE_BYTES, type MetricsFormat } from './parse.js'
export { MAX_METRICS } from './flatten.js'

export const SUPPORTED_SOURCES =
  'a metrics file path (.json, .yaml, .yml or .csv), git:<ref>:<path>, mlflow-run:<run-id>, models:/<name>@<alias> or models:/<name>/<version>'

/**
 * Resolvers in the order they are tried; the file resolver comes last and takes anything without a scheme. One list
 * serves one comparison: its registry resolver opens the registry once, for the candidate and the baseline alike.
 */
export function defaultResolvers(): MetricSourceResolver[] {
  return [new GitResolver(), new RegistryResolver(), new FileResolver()]
}

export async function loadMetrics(
  spec: string,
  context: SourceContext,
  resolvers: MetricSourceResolver[] = defaultResolvers()
): Promise<MetricSet> {
  // Action inputs often carry a trailing newline from a YAML block scalar.
  const trimmed = spec.trim()
  if (trimmed === '') {
    throw new ConfigurationError(
      `no ${subject({ source: trimmed, role: context.role })} source given; expected ${SUPPORTED_SOURCES}`,
      {
        source: `input '${context.role}'`
      }
    )
  }
  const resolver = resolvers.find(candidate => candidate.canResolve(trimmed))
  if (!resolver) {
    const scheme = SCHEME.exec(trimmed)?.[0]
    // `run:3.json` may be a file whose name has a colon; `s3://bucket/x.json` is not.
    const maybeFile = formatFromPath(trimmed) !== undefined && !/^[^:]*:\/\//.test(trimmed)
    throw new ConfigurationError(
      `${subject({ source: trimmed, role: context.role })} source ${scheme ? `has an unknown scheme "${scheme}"` : 'is not recognised'}; expected ${SUPPORTED_SOURCES}${maybeFile ? ` (write ./${trimmed} for a file whose name contains a colon)` : ''}`,
      { source: trimmed }
    )
  }
  return resolver.load(trimmed, context)
}

// Two or more letters before the colon, so a Windows drive (`C:\metrics.json`) still reads as a path.
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/

export class FileResolver implements MetricSourceResolver {
  readonly scheme = 'file'

  canResolve(spec: string): boolean {
    return !SCHEME.test(spec)
  }

  async load(spec: string, context: SourceContext): Promise<MetricSet> {
    const absolute = isAbsolute(spec) ? spec : resolve(context.workspace, spec)
    const parse = { source: spec, role: context.role }
    const who = subject(parse)
    let size: number
    try {
      const info = await stat(absolute)
      if (info.isDirectory()) {
        throw new ConfigurationError(`${who} path is a directory (${absolute}); expected a metrics file`, {
          source: spec
        })
      }
      if (!info.isFile()) {
        throw new ConfigurationError(`${who} path is not a regular file (${absolute}); expected a metrics file`, {
          source: spec
        })
      }
      size = info.size
    } catch (error) {
      if (error instanceof ConfigurationError) throw error
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new ConfigurationError(
          `${who} file not found (looked for ${absolute}); expected a path relative to the workspace, or git:<ref>:<path> for a file at a git ref`,
          { source: spec }
        )
      }
      throw new ConfigurationError(`${who} file cannot be read (${absolute}): ${describeFsError(error)}`, {
        source: spec
      })
    }
    await requireInsideWorkspace(absolute, context.workspace, spec, who)
    const format = requireFormat(spec, spec, who)
    if (size > MAX_METRICS_FILE_BYTES) {
      throw new ConfigurationError(
        `${who} file is ${size} bytes; a metrics file over ${MAX_METRICS_FILE_BYTES} bytes (${MAX_METRICS_FILE_BYTES / 1024 / 1024} MiB) is refused (is it predictions or logs rather than metrics?)`,
        { source: spec }
      )
    }
    let bytes: Buffer
    try {
      bytes = await readFile(absolute)
    } catch (error) {
      throw new ConfigurationError(`${who} file cannot be read (${absolute}): ${describeFsError(error)}`, {
        source: spec
      })
    }
    return {
      values: parseMetricsBytes(bytes, format, parse),
      provenance: { kind: 'file', spec, path: workspacePath(context.workspace, absolute) }
    }
  }
}

export class GitResolver implements MetricSourceResolver {
  readonly scheme = 'git'

  constructor(private readonly options: { git?: string; timeoutMs?: number } = {}) {}

  canResolve(spec: string): boolean {
    return spec.startsWith('git:')
  }

  async load(spec: string, context: SourceContext): Promise<MetricSet> {
    const parse = { source: spec, role: context.role }
    const who = subject(parse)
    const parsed = parseGitSpec(spec)
    if (!parsed || parsed.ref === '' || parsed.path === '') {
      throw new ConfigurationError(
        `${who} source is missing its ${parsed?.ref === '' ? 'ref' : 'path'}; expected git:<ref>:<path>, as in git:origin/main:metrics/eval.json`,
        { source: spec }
      )
    }
    const { ref, path } = parsed
    const format = requireFormat(path, spec, who)
    const file = await readGitFile(ref, path, {
      ...parse,
      cwd: context.workspace,
      maxBytes: MAX_METRICS_FILE_BYTES,
      ...this.options
    })
    const provenance: Provenance = { kind: 'git', spec, path, ref, commit: file.commit }
    return { values: parseMetricsBytes(file.bytes, format, parse), provenance }
  }
}

function requireFormat(path: string, source: string, who: string): MetricsFormat {
  const format = formatFromPath(path)
  if (format) return format
  const extension = /\.[^./\\]+$/.exec(path)?.[0]
  throw new ConfigurationError(
    `${who} file ${extension ? `has the unsupported extension "${extension}"` : 'has no extension'}; expected one of ${supportedExtensions()} (the extension chooses the format)`,
    { source }
  )
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  return error instanceof Error ? error.message : String(error)
}

/** Workspace-relative with forward slashes, or the absolute path when the file lies outside the workspace. */
function workspacePath(workspace: string, absolute: string): string {
  const inside = relative(workspace, absolute)
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return absolute.split(sep).join('/')
  return inside.split(sep).join('/')
}
