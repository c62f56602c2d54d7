/**
 * MLflow's own Python client, run from the project's .venv against a tracking server: to set up state the way a
 * data scientist's training job would, and to read back what our TypeScript client wrote the way MLflow reads it.
 *
 * Each helper runs one small script in a fresh `python` (about a second, most of it `import mlflow`). Arguments go
 * in as JSON on argv, never spliced into the source. The script prints its result as JSON on the last line of
 * stdout; on failure it prints {"error": ...} and exits 1, which becomes a PythonClientError with MLflow's error code.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mlflowPython, REPO_ROOT, requireMlflow } from './server.js'

export const EXAMPLE_MODEL_DIR = join(REPO_ROOT, 'examples', 'churn-classifier', 'model')

/**
 * One of the example's metrics files as its training job would log them: MLflow keeps a flat map of numbers, so
 * nested keys are joined with dots (`per_class.churned.recall`).
 */
export function exampleMetrics(file: 'baseline' | 'candidate'): Record<string, number> {
  const path = join(REPO_ROOT, 'examples', 'churn-classifier', 'metrics', `${file}.json`)
  return flatten(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === 'number') out[prefix + key] = inner
    else if (inner && typeof inner === 'object')
      Object.assign(out, flatten(inner as Record<string, unknown>, `${prefix}${key}.`))
  }
  return out
}

export interface PythonClientOptions {
  /**
   * Extra environment. By default MLflow's client neither retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES=0) nor waits
   * longer than 30 s for an answer, so a helper that reads back state fails fast instead of backing off for minutes;
   * set these to see the client's own retries, e.g. through the fault proxy.
   */
  env?: Record<string, string>
  /** Kills the script after this long. Default 120 s. */
  timeoutMs?: number
  /** The virtual environment. Default: the repository's .venv. */
  venv?: string
}

/** A model version as MLflow's Python client sees it. */
export interface PythonModelVersion {
  name: string
  version: string
  tags: Record<string, string>
  /** The aliases that point at this version, from the registered model's alias map, sorted. */
  aliases: string[]
  source: string
  run_id: string
  status: string
  description: string
}

export class PythonClientError extends Error {
  constructor(
    message: string,
    /** MLflow's error code (RESOURCE_DOES_NOT_EXIST, ...) when the script failed with an MlflowException. */
    readonly errorCode: string | undefined,
    /** The Python exception's class name. */
    readonly exceptionType: string | undefined,
    readonly stderr: string
  ) {
    super(message)
    this.name = 'PythonClientError'
  }
}

const PRELUDE = `
import json, sys
# MLflow prints run links ("View run ...") on stdout; only our JSON may go there.
_out, sys.stdout = sys.stdout, sys.stderr
ARGS = json.loads(sys.argv[1])
def emit(value):
    print(json.dumps(value), file=_out, flush=True)
def version_json(client, mv):
    aliases = client.get_registered_model(mv.name).aliases
    return {
        "name": mv.name,
        "version": str(mv.version),
        "tags": dict(mv.tags),
        "aliases": sorted(a for a, v in aliases.items() if str(v) == str(mv.version)),
        "source": mv.source,
        "run_id": mv.run_id or "",
        "status": str(mv.status),
        "description": mv.description or "",
    }
try:
    import mlflow
    from mlflow import MlflowClient
    mlflow.set_tracking_uri(ARGS["tracking_uri"])
    client = MlflowClient(ARGS["tracking_uri"])
    emit(main())
except BaseException as error:
    emit({"error": {"type": type(error).__name__, "error_code": getattr(error, "error_code", None), "message": str(error)}})
    raise
`

/**
 * Runs `body` (Python defining `def main(): ...` that returns something JSON-serialisable; `ARGS`, `mlflow`, `client`
 * and `version_json(client, mv)` are in scope) against the tracking server and returns main's result.
 */
export async function runPythonClient<T>(
  trackingUri: string,
  body: string,
  args: Record<string, unknown> = {},
  options: PythonClientOptions = {}
): Promise<T> {
  requireMlflow(options.venv)
  // main must exist before the prelude's try block calls it.
  const script = `${body}\n${PRELUDE}`
  const inherited = Object.fromEntries(
    // A developer's MLFLOW_* or DATABRICKS_* settings would point the client somewhere else or add credentials.
    Object.entries(process.env).filter(([key]) => !key.startsWith('MLFLOW_') && !key.startsWith('DATABRICKS_'))
  )
  const env = {
    ...inherited,
    MLFLOW_TRACKING_URI: trackingUri,
    MLFLOW_REGISTRY_URI: trackingUri,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    MLFLOW_HTTP_REQUEST_TIMEOUT: '30',
    PYTHONWARNINGS: 'ignore',
    ...options.env
  }
  const { code, stdout, stderr } = await run(
    mlflowPython(options.venv),
    ['-c', script, JSON.stringify({ ...args, tracking_uri: trackingUri })],
    env,
    options.timeoutMs ?? 120_000
  )
  const lastLine = stdout.trimEnd().split('\n').at(-1) ?? ''
  let result: unknown
  try {
    result = JSON.parse(lastLine)
  } catch {
    throw new PythonClientError(
      `MLflow Python client script ${code === 0 ? 'printed no JSON' : `failed (${code})`}. stderr ended with:\n${tail(stderr)}`,
      undefined,
      undefined,
      stderr
    )
  }
  const failure = (result as { error?: { type?: string; error_code?: string | null; message?: string } } | null)?.error
  if (code !== 0 || failure) {
    throw new PythonClientError(
      // str() of MLflow's exceptions already starts with the error code.
      `MLflow Python client: ${failure?.type ?? 'error'}: ${failure?.message ?? `exit ${code}`}`,
      failure?.error_code ?? undefined,
      failure?.type,
      stderr
    )
  }
  return result as T
}

export function readVersionWithPythonClient(
  trackingUri: string,
  name: string,
  version: string | number,
  options?: PythonClientOptions
): Promise<PythonModelVersion> {
  return runPythonClient(
    trackingUri,
    `def main():
    return version_json(client, client.get_model_version(ARGS["name"], ARGS["version"]))`,
    { name, version: String(version) },
    options
  )
}

export function readAliasWithPythonClient(
  trackingUri: string,
  name: string,
  alias: string,
  options?: PythonClientOptions
): Promise<PythonModelVersion> {
  return runPythonClient(
    trackingUri,
    `def main():
    return version_json(client, client.get_model_version_by_alias(ARGS["name"], ARGS["alias"]))`,
    { name, alias },
    options
  )
}

/** Logs a finished run with these metrics (creating the experiment if needed) and returns its run id. */
export function logRunWithMetrics(
  trackingUri: string,
  experimentName: string,
  metrics: Record<string, number>,
  options?: PythonClientOptions
): Promise<string> {
  return runPythonClient(
    trackingUri,
    `def main():
    mlflow.set_experiment(ARGS["experiment"])
    with mlflow.start_run() as run:
        mlflow.log_metrics(ARGS["metrics"])
    return run.info.run_id`,
    { experiment: experimentName, metrics },
    options
  )
}

export interface RegisterExampleOptions extends PythonClientOptions {
  /** Metrics logged on the run. */
  metrics?: Record<string, number>
  /** An alias set on the new version. */
  alias?: string
  /** Default "modelgate-tests". */
  experimentName?: string
  /** The MLflow model directory to log. Default: the committed example model. */
  modelDir?: string
}

export interface RegisteredExample {
  runId: string
  experimentId: string
  version: string
  /** Where the registry says the version's files are: mlflow-artifacts:/<experiment>/<run>/artifacts/model. */
  source: string
}

/**
 * What a training job does: a run with metrics and the model directory logged as the run's "model" artifacts, then
 * `mlflow.register_model("runs:/<run>/model", name)` and optionally an alias on the new version.
 */
export function logAndRegisterExampleModel(
  trackingUri: string,
  name: string,
  options: RegisterExampleOptions = {}
): Promise<RegisteredExample> {
  return runPythonClient(
    trackingUri,
    `def main():
    mlflow.set_experiment(ARGS["experiment"])
    with mlflow.start_run() as run:
        if ARGS["metrics"]:
            mlflow.log_metrics(ARGS["metrics"])
        mlflow.log_artifacts(ARGS["model_dir"], "model")
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", ARGS["name"])
    if ARGS["alias"]:
        client.set_registered_model_alias(ARGS["name"], ARGS["alias"], mv.version)
    return {"runId": run.info.run_id, "experimentId": run.info.experiment_id, "version": str(mv.version), "source": mv.source}`,
    {
      name,
      experiment: options.experimentName ?? 'modelgate-tests',
      metrics: options.metrics ?? {},
      alias: options.alias ?? null,
      model_dir: options.modelDir ?? EXAMPLE_MODEL_DIR
    },
    options
  )
}

function tail(text: string, chars = 4_000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const err = Buffer.concat(stderr).toString('utf8')
      resolveRun({
        code: signal ? null : code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: signal ? `${err}\n(killed by ${signal} after ${timeoutMs} ms)` : err
      })
    })
  })
}
