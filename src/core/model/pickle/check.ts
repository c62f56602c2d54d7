/**
 * The `pickle` check: scan every pickle-bearing file of the model for imports that would run code when loaded.
 * Deny by default: dangerous imports, imports the allowlist does not name (grouped per file, so a model with 500
 * custom classes gets one line, not 500) and files that cannot be decoded fail the check. An import that passes only
 * because of the user's `allow-imports` is reported with the entry that let it through.
 */
import { checkResult, skippedCheck, type CheckResult, type Finding, type ModelFile } from '../types.js'
import type { FileScanReport, ScannedStream } from './containers.js'
import { isPickleCandidate, readFirstBytes } from './sniff.js'
import { createPolicy } from './policy.js'
import type { ImportRecord } from './result.js'
import { mapConcurrently } from '../../concurrency.js'

export const PICKLE_CHECK_TITLE = 'Unsafe deserialization'

export interface PickleCheckOptions {
  /** Extra allowed imports (`mypackage.*`, `mypackage.Model`): the `allow-imports` setting. */
  readonly allow?: readonly string[]
  /** Cap on bytes decompressed from one file (zip entries, compressed joblib). Default 4 GiB. */
  readonly maxBytes?: number
  /** Files scanned at once. */
  readonly concurrency?: number
  /** Where `allow` came from, for configuration errors: file and key path (`.modelgate.yml`, `validation.allow-imports`). */
  readonly allowSource?: string
  readonly allowPath?: string
  /**
   * Files (or folders) the model's MLmodel names: scanned whatever they are called. Those it says are loaded with
   * pickle (`mlmodelPickles`) must decode as pickles; the rest are scanned when they start like one.
   */
  readonly referenced?: ReadonlyMap<string, 'pickle' | 'any'>
}

/** Flavor keys whose value is a file the flavor's loader unpickles (pickle, cloudpickle, joblib or torch.load). */
const PICKLE_KEYS: Readonly<Record<string, readonly string[]>> = {
  sklearn: ['pickled_model'],
  python_function: ['python_model'],
  statsmodels: ['data'],
  pytorch: ['model_data'],
  lightgbm: ['data'],
  catboost: ['data']
}

/**
 * The paths a parsed MLmodel names under its flavors, model-relative: `pickle` for those the flavor loads with a
 * pickle loader (sklearn's `pickled_model` unless skops, pyfunc's `python_model`, ...), `any` for the rest.
 */
export function mlmodelReferences(
  flavors: Readonly<Record<string, unknown>> | undefined
): Map<string, 'pickle' | 'any'> {
  const refs = new Map<string, 'pickle' | 'any'>()
  const add = (value: unknown, kind: 'pickle' | 'any'): void => {
    if (typeof value !== 'string' || !value || value.length > 4096) return
    const path = value.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '')
    if (refs.get(path) !== 'pickle') refs.set(path, kind)
  }
  for (const [flavor, config] of Object.entries(flavors ?? {})) {
    if (!config || typeof config !== 'object') continue
    const c = config as Record<string, unknown>
    const skops = flavor === 'sklearn' && c.serialization_format === 'skops'
    const native = (flavor === 'lightgbm' || flavor === 'catboost') && !/\.(pkl|pickle|joblib)$/i.test(String(c.data))
    for (const [key, value] of Object.entries(c)) {
      const pickled = (PICKLE_KEYS[flavor] ?? []).includes(key) && !skops && !native
      if (typeof value === 'string') add(value, pickled ? 'pickle' : 'any')
      else if (key === 'artifacts' && value && typeof value === 'object') {
        for (const artifact of Object.values(value as Record<string, unknown>)) {
          if (artifact && typeof artifact === 'object') add((artifact as Record<string, unknown>).path, 'any')
        }
      }
    }
  }
  return refs
}

function referenceOf(
  path: string,
  refs: ReadonlyMap<string, 'pickle' | 'any'> | undefined
): 'pickle' | 'any' | undefined {
  if (!refs?.size) return undefined
  let kind: 'pickle' | 'any' | undefined
  for (const [ref, k] of refs) {
    if (path === ref) return k
    // A folder (pytorch's model_data, pyfunc's data): the files under it are candidates, not certainly pickles.
    if (path.startsWith(`${ref}/`)) kind ??= 'any'
  }
  return kind
}

const FIX_DANGEROUS = 'Rebuild the model from trusted code and re-export it; do not load this file.'
const FIX_BYTECODE =
  'This file carries Python bytecode (MLflow pickles a python_model object with cloudpickle). Log the model from ' +
  "code instead (mlflow.pyfunc.log_model(python_model='model.py')), or, if you trust its author, accept it with " +
  "allow-imports: ['cloudpickle.*'], which reports it as a warning."

function dangerFix(rec: ImportRecord): string {
  return /^(cloudpickle|dill)(\.|$)/.test(rec.module) ? FIX_BYTECODE : FIX_DANGEROUS
}
const FIX_UNKNOWN =
  "If these are your own classes and you trust their code, list them in allow-imports (e.g. 'mypackage.Model' or " +
  "'mypackage.*'); otherwise rebuild the model from trusted code."
const FIX_CORRUPT = 'Re-export the model: a pickle that does not parse cannot be checked, and may not load.'
const UNKNOWN_LISTED = 10

function importName(r: ImportRecord): string {
  return r.module === '?' && r.name.startsWith('extension code') ? r.name : `${r.module}.${r.name}`
}

function where(r: ImportRecord): string {
  const times = r.count > 1 ? `, ${r.count} times` : ''
  return `${r.opcode} at offset ${r.offset}${times}`
}

function findingsFor(report: FileScanReport): Finding[] {
  const findings: Finding[] = []
  for (const stream of report.streams) {
    const file = stream.path
    const r = stream.result
    const unknown = new Map<string, ImportRecord>()
    const allowed = new Map<string, Set<string>>()
    for (const rec of r.imports) {
      if (rec.rating === 'dangerous') {
        const context = rec.context ? ` (${rec.context})` : ''
        if (rec.overriddenBy) {
          findings.push({
            severity: 'warning',
            file,
            message:
              `imports ${importName(rec)} (${where(rec)}), which ${rec.reason}; allowed only because ` +
              `allow-imports lists '${rec.overriddenBy}'${context}`,
            fix: 'Remove the allow-imports entry unless you trust this file completely.'
          })
        } else {
          findings.push({
            severity: 'error',
            file,
            message: `imports ${importName(rec)} (${where(rec)}): ${rec.reason}${context}`,
            fix: dangerFix(rec)
          })
        }
      } else if (rec.rating === 'unknown') {
        const key = importName(rec)
        if (!unknown.has(key)) unknown.set(key, rec)
      } else if (rec.allowedBy) {
        const key = importName(rec)
        const entries = allowed.get(rec.allowedBy) ?? new Set<string>()
        entries.add(key)
        allowed.set(rec.allowedBy, entries)
      }
    }
    const extra = r.omittedImports
    if (unknown.size || extra) {
      const names = [...unknown.keys()]
      const listed = names.slice(0, UNKNOWN_LISTED).join(', ')
      const more = names.length - Math.min(names.length, UNKNOWN_LISTED) + extra
      findings.push({
        severity: 'error',
        file,
        message:
          `imports ${names.length + extra} thing${names.length + extra === 1 ? '' : 's'} the allowlist does not name ` +
          `(${listed}${more ? `, and ${more} more` : ''}); unpickling runs their code`,
        fix: FIX_UNKNOWN
      })
    }
    for (const [entry, names] of allowed) {
      const list = [...names]
      findings.push({
        severity: 'info',
        file,
        message:
          `imports ${list.slice(0, UNKNOWN_LISTED).join(', ')}${list.length > UNKNOWN_LISTED ? `, and ${list.length - UNKNOWN_LISTED} more` : ''}, ` +
          `allowed by the allow-imports entry '${entry}' (the built-in allowlist does not name ${list.length === 1 ? 'it' : 'them'})`
      })
    }
    for (const problem of r.problems) {
      findings.push({
        severity: problem.severity,
        file,
        message: `is not a valid pickle: ${problem.message} (offset ${problem.offset})`,
        fix: FIX_CORRUPT
      })
    }
  }
  for (const problem of report.problems) {
    findings.push({
      severity: problem.severity,
      file: problem.path,
      message: problem.message,
      ...(problem.severity === 'error' ? { fix: FIX_CORRUPT } : {})
    })
  }
  return findings
}

function summarize(report: FileScanReport): Record<string, unknown> {
  return {
    file: report.path,
    format: report.format,
    size: report.size,
    streams: report.streams.map(s => {
      const counts = { safe: 0, unknown: 0, dangerous: 0 }
      for (const rec of s.result.imports) counts[rec.rating]++
      return {
        path: s.path,
        encoding: s.encoding,
        protocol: s.result.protocol,
        pickles: s.result.pickles,
        bytes: s.result.bytes,
        joblibArrays: s.result.joblibArrays,
        imports: counts,
        flagged: s.result.imports
          .filter(rec => rec.rating !== 'safe' || rec.allowedBy)
          .slice(0, 50)
          .map(rec => ({
            import: importName(rec),
            rating: rec.rating,
            opcode: rec.opcode,
            offset: rec.offset,
            reason: rec.reason,
            ...(rec.context ? { context: rec.context } : {}),
            ...(rec.overriddenBy ? { overriddenBy: rec.overriddenBy } : {}),
            ...(rec.allowedBy ? { allowedBy: rec.allowedBy } : {})
          })),
        problems: s.result.problems.length,
        notes: s.result.notes
      }
    }),
    problems: report.problems.map(p => ({ severity: p.severity, message: p.message, path: p.path }))
  }
}

export async function checkPickles(
  files: readonly ModelFile[],
  options: PickleCheckOptions = {}
): Promise<CheckResult> {
  const policy = createPolicy({
    allow: options.allow ?? [],
    source: options.allowSource ?? 'allow-imports',
    ...(options.allowPath ? { path: options.allowPath } : {})
  })
  const sniffed = await mapConcurrently(files, 16, async file => {
    if (referenceOf(file.path, options.referenced)) return file
    try {
      return isPickleCandidate(file.path, await readFirstBytes(file.absolute)) ? file : undefined
    } catch {
      // An unreadable file with a pickle extension still gets a finding from the scan.
      return isPickleCandidate(file.path, new Uint8Array()) ? file : undefined
    }
  })
  const candidates = sniffed.filter((f): f is ModelFile => f !== undefined)
  if (!candidates.length) return skippedCheck('pickle', PICKLE_CHECK_TITLE, 'no pickle files in the model')

  // The readers and the interpreter load only for a model that has something for them to read.
  const { scanModelFile } = await import('./containers.js')
  const reports = await mapConcurrently(candidates, options.concurrency ?? 4, file =>
    scanModelFile(file, {
      policy,
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...(referenceOf(file.path, options.referenced) === 'pickle' ? { definite: true } : {})
    })
  )
  // A zip without pickle entries (an .npz, a .keras archive) is not a pickle file.
  // A file that turned out not to be a pickle (a speculative read that found none) is no pickle file; it is left
  // out of the count unless it imported something, so the summary speaks only of what was decoded.
  const counted = (s: ScannedStream): boolean =>
    s.result.pickles > 0 || s.encoding === 'skops-schema' || s.result.imports.length > 0 || s.result.problems.length > 0
  const relevant = reports.filter(r => r.streams.some(counted) || r.problems.some(p => p.severity !== 'info'))
  if (!relevant.length) return skippedCheck('pickle', PICKLE_CHECK_TITLE, 'no pickle files in the model')

  const findings = relevant.flatMap(findingsFor)
  const streams = relevant.flatMap(r => r.streams.filter(counted))
  const isDanger = (f: Finding): boolean =>
    f.severity === 'error' && (f.fix === FIX_DANGEROUS || f.fix === FIX_BYTECODE)
  const isUnknown = (f: Finding): boolean => f.fix === FIX_UNKNOWN
  const dangerous = findings.filter(isDanger).length
  const corrupt = findings.filter(f => f.severity === 'error' && !isDanger(f) && !isUnknown(f)).length
  const unknownFiles = findings.filter(f => f.fix === FIX_UNKNOWN).length
  const userAllowed = findings.filter(f => f.severity === 'info' && f.message.includes('allow-imports entry')).length
  const fileCount = `${relevant.length} file${relevant.length === 1 ? '' : 's'}`
  const pickles = `${streams.length} pickle stream${streams.length === 1 ? '' : 's'}`
  const parts: string[] = []
  if (dangerous) parts.push(`${dangerous} dangerous import${dangerous === 1 ? '' : 's'}`)
  if (corrupt) parts.push(`${corrupt} unreadable`)
  if (unknownFiles) {
    parts.push(`imports outside the allowlist in ${unknownFiles} stream${unknownFiles === 1 ? '' : 's'}`)
  }
  const clean = userAllowed
    ? `only allowlisted imports (some by allow-imports, in ${userAllowed} stream${userAllowed === 1 ? '' : 's'})`
    : 'only allowlisted imports'
  const summary = `${pickles} in ${fileCount}: ${parts.length ? parts.join(', ') : clean}`
  return checkResult('pickle', PICKLE_CHECK_TITLE, summary, findings, { files: relevant.map(summarize) })
}
