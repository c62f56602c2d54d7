/**
 * MLflow's own ways of writing a run's metrics down, read as the metrics they are.
 *
 * Flattened as ordinary nested files they would put every metric under another name (`data.metrics.accuracy`,
 * `metrics.accuracy`, `run.data.metrics.0.value`) beside the run's params and tags, so a rule on `accuracy` would
 * see it missing. Recognised, from the names the readers already flattened (any format, no second parse):
 * - the run JSON of MLflow's REST API (`GET /api/2.0/mlflow/runs/get`): `{"run": {"info": …, "data": {"metrics":
 *   [{key, value, timestamp, step}, …]}}}`, and a metric history (`metrics/get-history`: `{"metrics": […]}`); a key
 *   listed more than once keeps its latest step (then latest timestamp, then the larger value, as MLflow's runs/get);
 * - `mlflow runs describe --run-id …`: `{"info": {"run_id": …}, "data": {"metrics": {name: value}, …}}`;
 * - the CSV of `mlflow.search_runs()`: `run_id, …, metrics.<name>, params.<name>, tags.<name>` columns, one run.
 */
import { ConfigurationError } from '../errors.js'
import { subject, type ParseContext } from './flatten.js'
import type { MetricValue } from './types.js'

type Values = Map<string, MetricValue>

/** The metrics of an MLflow run when `values` is one of MLflow's shapes; `values` itself otherwise. */
export function fromMlflowShapes(values: Values, context: ParseContext): Values {
  if (values.has('run.info.run_id') || values.has('run.info.run_uuid') || values.has('run.data.metrics.0.key')) {
    return fromMetricList(values, 'run.data.metrics.', runId(values, 'run.info.'), context)
  }
  if (values.has('metrics.0.key') && values.has('metrics.0.value')) {
    return fromMetricList(values, 'metrics.', undefined, context)
  }
  if ((values.has('info.run_id') || values.has('info.run_uuid')) && hasPrefix(values, 'data.')) {
    return withPrefix(values, 'data.metrics.', runId(values, 'info.'), context)
  }
  if (values.has('run_id') && values.has('experiment_id') && hasPrefix(values, 'metrics.')) {
    return withPrefix(values, 'metrics.', runId(values, ''), context)
  }
  return values
}

function hasPrefix(values: Values, prefix: string): boolean {
  for (const name of values.keys()) if (name.startsWith(prefix)) return true
  return false
}

function runId(values: Values, prefix: string): string | undefined {
  const value = values.get(`${prefix}run_id`) ?? values.get(`${prefix}run_uuid`)
  return value ? text(value) : undefined
}

function text(value: MetricValue): string {
  return value.kind === 'number' ? String(value.value) : value.raw
}

function noMetrics(context: ParseContext, run: string | undefined, shape: string): never {
  throw new ConfigurationError(
    `${subject(context)} file is ${shape}${run ? ` of run ${run}` : ''}, and the run has no metrics; expected a run that logged the metrics the rules gate`,
    { source: context.source }
  )
}

/** `data.metrics.accuracy` → `accuracy`, and nothing else of the run (params, tags, info). */
function withPrefix(values: Values, prefix: string, run: string | undefined, context: ParseContext): Values {
  const metrics: Values = new Map()
  for (const [name, value] of values) {
    if (name.startsWith(prefix)) metrics.set(name.slice(prefix.length), value)
  }
  if (metrics.size === 0) {
    noMetrics(context, run, prefix === 'metrics.' ? 'the CSV of mlflow.search_runs()' : 'mlflow runs describe output')
  }
  return metrics
}

/** A list of `{key, value, step, timestamp}`: each key's latest entry. */
function fromMetricList(values: Values, prefix: string, run: string | undefined, context: ParseContext): Values {
  const latest = new Map<string, { value: MetricValue; step: number; timestamp: number }>()
  for (let i = 0; ; i++) {
    const entry = `${prefix}${i}.`
    const key = values.get(`${entry}key`)
    const value = values.get(`${entry}value`)
    if (key === undefined && value === undefined) break
    if (key === undefined || value === undefined) {
      throw new ConfigurationError(
        `${subject(context)} file is an MLflow run's JSON whose metric ${i + 1} has no ${key === undefined ? '"key"' : '"value"'}; expected {"key": …, "value": …, "step": …, "timestamp": …}`,
        { source: context.source }
      )
    }
    const step = numberOr(values.get(`${entry}step`), 0)
    const timestamp = numberOr(values.get(`${entry}timestamp`), 0)
    const name = text(key)
    const seen = latest.get(name)
    if (!seen || isLater({ value, step, timestamp }, seen)) latest.set(name, { value, step, timestamp })
  }
  if (latest.size === 0) noMetrics(context, run, "an MLflow run's JSON (REST API)")
  return new Map([...latest].map(([name, entry]) => [name, entry.value]))
}

function numberOr(value: MetricValue | undefined, fallback: number): number {
  return value?.kind === 'number' ? value.value : fallback
}

type Entry = { value: MetricValue; step: number; timestamp: number }
function isLater(a: Entry, b: Entry): boolean {
  if (a.step !== b.step) return a.step > b.step
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp
  return a.value.kind === 'number' && (b.value.kind !== 'number' || a.value.value > b.value.value)
}
