/**
 * One validation of a model directory, from user-level settings to a report: the checks run in an order where
 * each can rely on the ones before (the file checks read what MLmodel says), independent ones run concurrently,
 * and the model is only ever served after the checks that guard against running untrusted code have passed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { findModelConfig } from '../config/find.js'
import { ConfigurationError } from '../errors.js'
import type { SelectedModel } from '../config/load.js'
import type { ValidationSettings } from '../config/schema.js'
import type { toRules } from '../compare/rules.js'
import type { MetricResult } from '../compare/types.js'
import { tuningOptions, type TuningOptions } from '../environment.js'
import type { MetricSet, MetricValue } from '../metrics/types.js'
import { DEFAULT_VALIDATE_FAIL_ON, gatePasses, type ValidateFailOn } from '../vocabulary.js'
import { checkManifest, checkPaths, checkSecrets, checkSize } from '../model/integrity-checks.js'
import {
  checkEnvironment,
  checkFlavorFiles,
  checkFlavors,
  checkInputExample,
  checkMLmodel,
  checkSignature
} from '../model/model-checks.js'
import { checkPickles, mlmodelReferences } from '../model/pickle/check.js'
import {
  checkResult,
  skippedCheck,
  validationVerdict,
  type CheckResult,
  type Finding,
  type ValidationReport
} from '../model/types.js'
import type { LoadedMLmodel } from '../model-dir/mlmodel.js'
import { walkModelDir } from '../model-dir/walk.js'

export interface ValidateOptions extends TuningOptions {
  /** Absolute workspace directory: model-path, config and metrics resolve against it. */
  workspace: string
  modelPath?: string | undefined
  modelUri?: string | undefined
  trackingUri?: string | undefined
  env?: NodeJS.ProcessEnv | undefined
  config?: string | undefined
  /** Picks the model of a `models:` list by name (the `model` input), as compare picks one by report id. */
  model?: string | undefined
  metrics?: string | undefined
  failOn?: ValidateFailOn | undefined
  /** Where the manifest is written. */
  reportDir: string
  describeInput?: (name: string) => string
  log?: (line: string) => void
}

const MB = 1024 * 1024
/** A model whose files failed these checks is never served: serving it would load (run) what they flagged. */
const GUARDS = new Set(['mlmodel', 'flavors', 'paths', 'pickle'])

export async function runValidation(options: ValidateOptions): Promise<ValidationReport> {
  const describe = options.describeInput ?? ((name: string) => `input '${name}'`)
  const { model: modelConfig, path: configPath } = await findModelConfig({
    workspace: options.workspace,
    config: options.config,
    modelName: options.model,
    modelInput: describe('model')
  })
  // The model input picks settings from the config: a config for another model would validate with its settings
  // while the user believes theirs applied. (Without a config the input is only a name: the workflow templates pass
  // their model input through.)
  if (options.model && modelConfig?.model !== undefined && modelConfig.model !== options.model) {
    throw new ConfigurationError(
      `is ${JSON.stringify(options.model)}, but ${configPath} is for model ${JSON.stringify(modelConfig.model)}; expected that name, or a models: list that holds ${JSON.stringify(options.model)}`,
      { source: describe('model') }
    )
  }
  // Read before any check runs: a metrics file with a typo in its name must not wait for a download, the hashing
  // and a smoke test to be reported.
  const metrics = options.metrics ? await loadMetricsInput(options) : undefined
  if (!options.modelUri) {
    const dir = resolve(options.workspace, options.modelPath!)
    return validateModelDir(dir, options.modelPath!, describe('model-path'), modelConfig, configPath, options, metrics)
  }
  // A registered model is checked as the registry holds it: downloaded into a scratch directory, never trusted
  // to be what a local copy says.
  const uri = options.modelUri
  const { openChosenRegistry } = await import('../registry/open.js')
  const { registry } = await openChosenRegistry({
    workspace: options.workspace,
    trackingUri: options.trackingUri,
    config: modelConfig?.registry,
    env: options.env,
    describeInput: describe,
    ...(options.log ? { log: options.log } : {}),
    ...tuningOptions(options)
  })
  const scratch = await mkdtemp(join(tmpdir(), 'modelgate-model-'))
  try {
    options.log?.(`downloading ${uri} from ${registry.location}`)
    await registry.downloadModel(uri, scratch)
    return await validateModelDir(scratch, uri, describe('model-uri'), modelConfig, configPath, options, metrics)
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function validateModelDir(
  dir: string,
  modelPath: string,
  source: string,
  modelConfig: SelectedModel | undefined,
  configPath: string | undefined,
  options: ValidateOptions,
  metrics: MetricSet | undefined
): Promise<ValidationReport> {
  const settings: ValidationSettings = modelConfig?.validation ?? {}

  const walk = await walkModelDir(dir, { source })
  const megabytes = (walk.files.reduce((sum, file) => sum + file.size, 0) / MB).toFixed(1)
  options.log?.(`hashing and scanning ${walk.files.length} files (${megabytes} MB)`)
  const mlmodel = await checkMLmodel(dir)
  const model = mlmodel.model
  const notRead = (id: 'flavors' | 'signature' | 'input-example' | 'environment', title: string) =>
    skippedCheck(id, title, 'the MLmodel file could not be read')
  const [modelChecks, manifest, secrets, pickles] = await Promise.all([
    model
      ? Promise.all([
          withFlavorFiles(dir, model, checkFlavors(model, { allowNoPyfunc: settings['allow-no-pyfunc'] ?? false })),
          checkSignature(model, { requireSignature: settings['require-signature'] ?? true }),
          checkInputExample(dir, model, { requireInputExample: settings['require-input-example'] ?? false }),
          checkEnvironment(dir, model)
        ])
      : [
          notRead('flavors', 'Flavors'),
          notRead('signature', 'Signature'),
          notRead('input-example', 'Input example'),
          notRead('environment', 'Python environment')
        ],
    checkManifest(walk.files, {}, walk.unlisted),
    checkSecrets(walk.files),
    checkPickles(walk.files, {
      allow: settings['allow-imports'] ?? [],
      referenced: mlmodelReferences(model?.model.flavors),
      ...(configPath ? { allowSource: configPath, allowPath: 'validation.allow-imports' } : {})
    })
  ])
  const maxSize = (settings['max-size-mb'] ?? 2048) * MB
  const checks: CheckResult[] = [
    mlmodel.result,
    ...modelChecks,
    checkSize(walk.files, maxSize),
    manifest.result,
    checkPaths(walk),
    secrets,
    pickles
  ]

  let manifestPath: string | undefined
  if (manifest.manifest) {
    manifestPath = join(options.reportDir, 'manifest.json')
    await writeFile(manifestPath, `${JSON.stringify(manifest.manifest, null, 2)}\n`)
  }

  const smoke = await smokeTest(dir, settings, checks, options)
  if (smoke) checks.push(smoke)
  const metricsCheck = await checkMetricBounds(options, modelConfig?.metrics, smoke, metrics)
  if (metricsCheck) checks.push(metricsCheck)

  const verdict = validationVerdict(checks)
  const failOn = options.failOn ?? settings['fail-on'] ?? DEFAULT_VALIDATE_FAIL_ON
  const flavors = model ? Object.keys(model.model.flavors) : undefined
  return {
    model: modelPath,
    checks,
    verdict,
    failOn,
    passed: gatePasses(verdict, failOn),
    ...(manifest.manifest ? { digest: manifest.manifest.digest } : {}),
    sizeBytes: walk.files.reduce((sum, file) => sum + file.size, 0),
    ...(flavors ? { flavors } : {}),
    ...(manifestPath ? { manifestPath } : {})
  }
}

/** The flavors check with the files the flavors name, which must be in the model. */
async function withFlavorFiles(dir: string, model: LoadedMLmodel, flavors: CheckResult): Promise<CheckResult> {
  const missing = await checkFlavorFiles(dir, model)
  if (missing.length === 0) return flavors
  return checkResult(flavors.id, flavors.title, flavors.summary, [...flavors.findings, ...missing], flavors.data)
}

async function smokeTest(
  dir: string,
  settings: ValidationSettings,
  checks: readonly CheckResult[],
  options: ValidateOptions
): Promise<CheckResult | undefined> {
  const configured = settings['smoke-test']
  if (configured === undefined || configured === 'none') return undefined
  // Imported only when a smoke test is configured: it brings child processes and sockets.
  const { runSmokeTest, skippedSmokeTest, SMOKE_DEFAULTS } = await import('../model/smoke-test.js')
  const blocking = checks.filter(c => GUARDS.has(c.id) && c.status === 'fail')
  if (blocking.length > 0) {
    return skippedSmokeTest(`not served: ${blocking.map(c => c.title).join(', ')} failed`)
  }
  const smoke = typeof configured === 'object' ? configured : { server: 'mlflow' as const }
  // A path is relative to the workspace; a bare name (python3) is looked up on PATH.
  const python = !smoke.python
    ? SMOKE_DEFAULTS.python
    : smoke.python.includes('/')
      ? resolve(options.workspace, smoke.python)
      : smoke.python
  return runSmokeTest({
    modelDir: dir,
    python,
    requests: smoke.requests ?? SMOKE_DEFAULTS.requests,
    startTimeoutMs: (smoke['timeout-seconds'] ?? SMOKE_DEFAULTS.startTimeoutMs / 1000) * 1000,
    requestTimeoutMs: SMOKE_DEFAULTS.requestTimeoutMs,
    ...(options.log ? { log: options.log } : {})
  })
}

/** The `metrics` input's file. Loaded only when given: a plain validation pays nothing for the metric readers. */
async function loadMetricsInput(options: ValidateOptions): Promise<MetricSet> {
  const { loadMetrics } = await import('../metrics/source.js')
  return loadMetrics(options.metrics!, { workspace: options.workspace, role: 'metrics' })
}

/**
 * The `metrics` input (loaded) and the smoke test's latencies against the absolute bounds of the config's rules.
 * There is no baseline here (that is compare-metrics' job), so only min and max can break.
 */
async function checkMetricBounds(
  options: ValidateOptions,
  rules: Parameters<typeof toRules>[0],
  smoke: CheckResult | undefined,
  loaded: MetricSet | undefined
): Promise<CheckResult | undefined> {
  const smokeMetrics: Record<string, number> = smoke
    ? (await import('../model/smoke-test.js')).smokeTestMetrics(smoke)
    : {}
  if (!options.metrics && Object.keys(smokeMetrics).length === 0) return undefined
  // Loaded only when there are metrics to bound: a plain validation pays nothing for the comparison engine.
  const [{ compareMetrics }, { rulesMatching, toRules }, { numberValue }] = await Promise.all([
    import('../compare/engine.js'),
    import('../compare/rules.js'),
    import('../metrics/types.js')
  ])
  const values = new Map<string, MetricValue>(loaded?.values)
  for (const [name, value] of Object.entries(smokeMetrics)) values.set(name, numberValue(value))
  const set: MetricSet = { values, provenance: loaded?.provenance ?? { kind: 'inline', spec: 'smoke test' } }
  // Without a metrics file only the smoke test's metrics are read: rules about the others are not this check's.
  const applicable = options.metrics ? toRules(rules) : rulesMatching(toRules(rules), values.keys())
  const comparison = compareMetrics(set, undefined, applicable)
  const findings: Finding[] = comparison.metrics
    .filter((m: MetricResult) => m.outcome !== 'pass')
    .map(m => ({
      severity: m.outcome === 'fail' ? 'error' : 'warning',
      message: `${m.name}: ${m.reasons.join('; ') || m.status}`
    }))
  if (options.metrics && applicable.length === 0) {
    // The comparison's own notice speaks of compare-metrics' rules input; here only the config holds rules.
    findings.push({
      severity: 'warning',
      file: options.metrics,
      message:
        'the config has no metric rules (metrics:), so the metrics file gates nothing; its values are only shown',
      fix: 'bound the metrics in the config, e.g. metrics: { accuracy: { min: 0.8 } }'
    })
  } else if (options.metrics && !applicable.some(rule => rule.min !== undefined || rule.max !== undefined)) {
    // Limits against a baseline (max-regression, min-improvement) are compare-metrics' to judge: with none of
    // min, max or threshold the metrics file is checked only for the metrics being there.
    findings.push({
      severity: 'warning',
      file: options.metrics,
      message:
        'no metric rule of the config sets min, max or threshold, so the metrics file is checked only for the metrics being reported; limits against a baseline are for compare-metrics',
      fix: 'give the rules absolute bounds, e.g. metrics: { accuracy: { min: 0.8 } }'
    })
  }
  const gated = comparison.metrics.filter(m => m.gated).length
  const summary = `${comparison.metrics.length} metrics, ${gated} with rules; ${comparison.failures} failing, ${findings.length - comparison.failures} warning`
  return checkResult('metrics', 'Metrics within bounds', summary, findings, {
    metrics: Object.fromEntries([...values].map(([k, v]) => [k, v.kind === 'number' ? v.value : null]))
  })
}
