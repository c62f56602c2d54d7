/**
 * MLServer with its MLflow runtime (`mlserver` + `mlserver-mlflow` 1.7.1) as the model server of the haproxy
 * target, one process per model version like `mlflow models serve` (serving-facts §2 has the measurements).
 *
 * MLServer can hold several versions of a model in one process, but its unversioned routes then follow whichever
 * version loaded last (`/v2/models/{m}/…`) or first (`/invocations`), and HAProxy could not tell the versions apart.
 * Here each process serves exactly one version, so those traps cannot bite: the router's weights and `X-Served-By`
 * attribute every answer, as with mlflow, and clients keep posting to `/invocations` (mlserver-mlflow serves MLflow's
 * scoring protocol there), so the rollout's probe and metrics do not change.
 *
 * Readiness: `/v2/health/ready` answers 200 before the model is loaded (and after a failed load), so the start waits
 * on the versioned `/v2/models/{m}/versions/{v}/ready`, which is 200 only once this version is loaded. HAProxy's
 * check is one path for the whole backend, so it keeps `/ping`: mlserver-mlflow's runtime registers that route only
 * when its model has loaded (404 before), which makes it per-process readiness here, and the same path the mlflow
 * server's backends check. A model that cannot load makes the process exit 1 at start, as mlflow's does.
 */
import { writeFile } from 'node:fs/promises'
import { delimiter, dirname, join } from 'node:path'
import type { LaunchContext, LaunchSpec, ModelServerLauncher } from './model-server.js'

export const MLSERVER_MLFLOW_RUNTIME = 'mlserver_mlflow.MLflowRuntime'

/**
 * Inference worker processes per server: 1, MLServer's default, rather than 0 (inference in the server process).
 * 0 is cheaper: measured here (2 busy cores) 9.6 s to the versioned ready path and 305 MiB for the process group,
 * against 12.6 s and 508 MiB with a worker (serving-facts §2: 3.2 s/337 MiB against 5.2 s/589 MiB). But with 0,
 * mlserver-mlflow calls the model's predict on the server's event loop: a slow prediction holds up every other
 * request and HAProxy's check of this server, so a slow canary could be marked down instead of measured slow. And
 * serving-facts trap 6 saw a prediction that raises reset the keep-alive connection with 0, which HAProxy turns into
 * a 502 or, retrying an empty response, re-sends to the other version; a raising model would then be judged by
 * answers it did not give. (Here, 150 predictions of a raising model at 50/50 came back as its own 400s in both
 * modes; test/serving/mlserver.test.ts asserts that with 1.) The worker crash that 0 also avoids (uvloop 0.23) is
 * prevented by the uvloop 0.21.0 pin in python/requirements-mlserver.txt.
 */
export const MLSERVER_PARALLEL_WORKERS = 1

export interface MlserverLauncherOptions {
  /** The Python of the environment holding mlserver and mlserver-mlflow (and the model's requirements). */
  readonly python: string
  /** The name MLServer serves the model under (`/v2/models/{name}/…`): the registered model's name. */
  readonly model: string
  readonly parallelWorkers?: number
}

/** `settings.json`: the server's three listeners (HTTP, gRPC, Prometheus metrics), each on a free port. */
export interface MlserverSettings {
  readonly host: string
  readonly http_port: number
  readonly grpc_port: number
  readonly metrics_port: number
  readonly parallel_workers: number
  /** Where the workers share metrics and where tarball environments unpack; MLServer's default is the cwd. */
  readonly metrics_dir: string
  readonly environments_dir: string
}

/** `model-settings.json`: the one model version this process serves. */
export interface MlserverModelSettings {
  readonly name: string
  readonly implementation: typeof MLSERVER_MLFLOW_RUNTIME
  readonly parameters: { readonly uri: string; readonly version: string }
}

/** The versioned ready path; `/v2/health/ready` and the unversioned model path would say nothing of this version. */
export function mlserverReadyPath(model: string, version: string): string {
  return `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/ready`
}

export function mlserverSettings(
  options: { host: string; httpPort: number; grpcPort: number; metricsPort: number; workDir: string },
  parallelWorkers = MLSERVER_PARALLEL_WORKERS
): MlserverSettings {
  return {
    host: options.host,
    http_port: options.httpPort,
    grpc_port: options.grpcPort,
    metrics_port: options.metricsPort,
    parallel_workers: parallelWorkers,
    metrics_dir: join(options.workDir, 'metrics'),
    environments_dir: join(options.workDir, 'envs')
  }
}

export function mlserverModelSettings(model: string, version: string, modelDir: string): MlserverModelSettings {
  return { name: model, implementation: MLSERVER_MLFLOW_RUNTIME, parameters: { uri: modelDir, version } }
}

/**
 * `mlserver start <folder>` run as `python -c`, so it is the given environment's MLServer whatever is on PATH
 * (`python -m mlserver.cli.main` works too but warns about runpy on every start).
 */
const START = 'import sys; from mlserver.cli import main; sys.exit(main())'

export function mlserverLauncher(options: MlserverLauncherOptions): ModelServerLauncher {
  const { python, model } = options
  if (!model) throw new Error('MLServer needs the name to serve the model under')
  return {
    kind: 'mlserver',
    readyPath: '/ping',
    launch: async (modelDir: string, host: string, port: number, context: LaunchContext): Promise<LaunchSpec> => {
      const { workDir, version } = context
      // The OS may hand out a port again once it is closed, so each listener's port is checked against the others.
      const ports = [port]
      while (ports.length < 3) {
        const next = await context.freePort()
        if (!ports.includes(next)) ports.push(next)
      }
      const [, grpcPort = 0, metricsPort = 0] = ports
      const settings = mlserverSettings(
        { host, httpPort: port, grpcPort, metricsPort, workDir },
        options.parallelWorkers ?? MLSERVER_PARALLEL_WORKERS
      )
      await writeFile(join(workDir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`)
      await writeFile(
        join(workDir, 'model-settings.json'),
        `${JSON.stringify(mlserverModelSettings(model, version, modelDir), null, 2)}\n`
      )
      return {
        command: python,
        args: ['-c', START, 'start', workDir],
        // The working directory is the settings folder: MLServer also reads a `.env` from the cwd, which must not
        // be the runner's workspace.
        cwd: workDir,
        env: python.includes('/') ? { PATH: `${dirname(python)}${delimiter}${process.env.PATH ?? ''}` } : {},
        readyPath: mlserverReadyPath(model, version),
        identifiedBy: [workDir]
      }
    }
  }
}
