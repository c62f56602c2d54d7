/**
 * Metric sources in a model registry: `mlflow-run:<run-id>`, `models:/<name>/<version>` and
 * `models:/<name>@<alias>` read the metrics of the run (and MLflow 3 logged model) behind a version, so a gate can
 * compare a candidate with the real `champion`.
 *
 * An alias that no version carries yet is not an error for a baseline: it is the first model, and the comparison
 * says so plainly (AbsentSource). A version number that does not exist is a mistake and fails.
 */
import { stat } from 'node:fs/promises'
import { tuningOptions } from '../environment.js'
import { ConfigurationError } from '../errors.js'
import type { ModelRegistry, ModelVersion } from '../registry/types.js'
import { parseModelUri } from '../registry/uri.js'
import { classifyText, numberFromText } from './flatten.js'
import type { MetricSourceResolver, SourceContext } from './resolver.js'
import type { MetricSet, MetricValue, Provenance } from './types.js'

const MODEL_URI_EXPECTED =
  'expected models:/<name>/<version> or models:/<name>@<alias>, as in models:/churn@champion (or mlflow-run:<run-id> for a run)'

/** The source names something that does not exist yet; for a baseline that means "no baseline yet". */
export class AbsentSource extends Error {
  constructor(
    readonly spec: string,
    readonly reason: string
  ) {
    super(`${spec}: ${reason}`)
    this.name = 'AbsentSource'
  }
}

export class RegistryResolver implements MetricSourceResolver {
  readonly scheme = 'registry'

  private opened: Promise<ModelRegistry> | undefined

  constructor(private readonly open: (context: SourceContext) => Promise<ModelRegistry> = openFromContext) {}

  canResolve(spec: string): boolean {
    return spec.startsWith('mlflow-run:') || spec.startsWith('models:')
  }

  async load(spec: string, context: SourceContext): Promise<MetricSet> {
    // A comparison's candidate and baseline name the same registry (only their role differs): opening it twice
    // would double the sign-in and the server checks, so the first registry spec opens it for both.
    this.opened ??= this.open(context)
    return this.read(spec, context, await this.opened)
  }

  private async read(spec: string, context: SourceContext, registry: ModelRegistry): Promise<MetricSet> {
    if (spec.startsWith('mlflow-run:')) {
      const runId = spec.slice('mlflow-run:'.length).trim()
      if (!/^[\w-]+$/.test(runId)) {
        throw new ConfigurationError(`expected mlflow-run:<run-id>, as in mlflow-run:4f2a9c…, got "${spec}"`, {
          source: spec
        })
      }
      const metrics = await registry.readRunMetrics(runId)
      return toMetricSet(metrics.values, { kind: 'mlflow-run', spec, runId })
    }
    const uri = parseModelUri(spec, `${context.role} '${spec}'`, MODEL_URI_EXPECTED)
    let version: ModelVersion | undefined
    let alias: string | undefined
    if (uri.kind === 'version') {
      version = await registry.getVersion(uri.name, uri.version)
      if (!version) {
        throw new ConfigurationError(`version ${uri.version} of ${uri.name} does not exist in ${registry.location}`, {
          source: spec
        })
      }
    } else if (uri.kind === 'alias') {
      alias = uri.alias
      version = await registry.getVersionByAlias(uri.name, uri.alias)
      if (!version) throw new AbsentSource(spec, `no version of ${uri.name} has the alias ${uri.alias} yet`)
    } else {
      throw new ConfigurationError(
        `expected a registered version (models:/<name>/<version> or models:/<name>@<alias>) or mlflow-run:<run-id>, got "${spec}"`,
        { source: spec }
      )
    }
    const metrics = await registry.readVersionMetrics(version)
    if (metrics.values.size === 0) {
      throw new AbsentSource(
        spec,
        `version ${version.version}${alias ? ` (alias ${alias})` : ''} has no metrics; register with comparison-report to record them`
      )
    }
    return toMetricSet(metrics.values, {
      kind: 'model-version',
      spec,
      model: version.name,
      version: version.version,
      ...(alias ? { alias } : {}),
      ...(metrics.runId ? { runId: metrics.runId } : {})
    })
  }
}

async function openFromContext(context: SourceContext): Promise<ModelRegistry> {
  const { chooseRegistry, openRegistry } = await import('../registry/open.js')
  const describe = context.describeInput ?? ((name: string) => `input '${name}'`)
  const choice = chooseRegistry({
    workspace: context.workspace,
    trackingUri: context.trackingUri,
    config: context.registry,
    env: context.env,
    describeInput: describe
  })
  // With no tracking URI anywhere the registry defaults to a folder. If that folder does not exist either, the
  // user almost certainly meant an MLflow server: "no baseline yet" would hide the mistake and pass the gate.
  const chosenByDefault = context.registry?.type === undefined && context.registry?.path === undefined
  if (choice.kind === 'file' && chosenByDefault && !(await isDirectory(choice.path!))) {
    throw new ConfigurationError(
      `no tracking URI is set, so ${context.role} would be read from the folder registry ${choice.path}, which does not exist; set ${describe('tracking-uri')} (or MLFLOW_TRACKING_URI, or registry.tracking-uri in .modelgate.yml) to read it from MLflow, or registry.path to the registry folder`,
      { source: describe(context.role) }
    )
  }
  return openRegistry(choice, { ...(context.env ? { env: context.env } : {}), ...tuningOptions(context) })
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** MLflow keeps NaN and infinities; they arrive as text and become the defects they are, never numbers. */
function toMetricSet(values: ReadonlyMap<string, number | string>, provenance: Provenance): MetricSet {
  const converted = new Map<string, MetricValue>()
  for (const [key, value] of values) {
    converted.set(key, typeof value === 'number' ? numberFromText(value, String(value)) : classifyText(value))
  }
  return { values: converted, provenance }
}
