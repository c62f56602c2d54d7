// MLflow's own shapes of a run's metrics, from files the project's MLflow (3.17.2) wrote:
// test/fixtures/mlflow-runs/generate.py. Before they were recognised, every metric sat under another name and a
// rule on `accuracy` saw it missing.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { configurationErrorOf } from '../../../test/helpers/errors.js'
import { parseMetrics, type MetricsFormat } from './parse.js'

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'mlflow-runs')
const EXPECTED = {
  accuracy: 0.912,
  f1: 0.874,
  roc_auc: 0.9501,
  log_loss: 0.2873,
  'per_class.churned.recall': 0.71
}

function numbers(text: string, format: MetricsFormat): Record<string, number | string> {
  const values = parseMetrics(text, format, 'candidate.json')
  return Object.fromEntries([...values].map(([k, v]) => [k, v.kind === 'number' ? v.value : v.reason]))
}

describe("MLflow's metric shapes", () => {
  it('reads the REST API run JSON (runs/get) as its metrics', () => {
    expect(numbers(readFileSync(join(FIXTURES, 'run-rest.json'), 'utf8'), 'json')).toEqual(EXPECTED)
  })

  it('reads `mlflow runs describe` output as its metrics', () => {
    expect(numbers(readFileSync(join(FIXTURES, 'runs-describe.json'), 'utf8'), 'json')).toEqual(EXPECTED)
  })

  it('reads the CSV of mlflow.search_runs() as its metrics, without params or tags', () => {
    const read = numbers(readFileSync(join(FIXTURES, 'search-runs.csv'), 'utf8'), 'csv')
    expect(read).toEqual(EXPECTED)
  })

  it('reads the same shapes in YAML', () => {
    const yaml = 'info: {run_id: abc}\ndata:\n  metrics: {accuracy: 0.9}\n  params: {C: "0.5"}\n'
    expect(numbers(yaml, 'yaml')).toEqual({ accuracy: 0.9 })
  })

  it('keeps the latest step of a key listed more than once (a metric history)', () => {
    const history = JSON.stringify({
      metrics: [
        { key: 'accuracy', value: 0.95, timestamp: 3, step: 1 },
        { key: 'accuracy', value: 0.91, timestamp: 2, step: 2 },
        { key: 'accuracy', value: 0.5, timestamp: 1, step: 0 },
        { key: 'loss', value: 'NaN', timestamp: 1, step: 0 }
      ]
    })
    expect(numbers(history, 'json')).toEqual({ accuracy: 0.91, loss: 'nan' })
    const run = JSON.stringify({
      run: {
        info: { run_id: 'r1' },
        data: {
          metrics: [
            { key: 'a', value: 1, timestamp: 5, step: 3 },
            { key: 'a', value: 2, timestamp: 6, step: 3 }
          ]
        }
      }
    })
    expect(numbers(run, 'json')).toEqual({ a: 2 })
  })

  it('refuses a run without metrics, and a search over several runs', () => {
    const empty = JSON.stringify({ run: { info: { run_id: 'r1', status: 'FINISHED' }, data: { params: [] } } })
    expect(configurationErrorOf(() => parseMetrics(empty, 'json', 'run.json')).message).toMatch(
      /run r1, and the run has no metrics/
    )
    const csv = readFileSync(join(FIXTURES, 'search-runs.csv'), 'utf8').trimEnd()
    const twoRuns = `${csv}\n${csv.split('\n')[1]}\n`
    expect(configurationErrorOf(() => parseMetrics(twoRuns, 'csv', 'runs.csv')).message).toMatch(
      /mlflow\.search_runs\(\) with 2 runs/
    )
  })

  it('leaves an ordinary nested file alone', () => {
    expect(numbers('{"data": {"metrics": {"a": 1}}}', 'json')).toEqual({ 'data.metrics.a': 1 })
    expect(numbers('{"metrics": {"a": 1}}', 'json')).toEqual({ 'metrics.a': 1 })
  })
})
