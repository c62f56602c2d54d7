/**
 * Every environment variable modelgate reads, in one list (github/codeql-action's `EnvVar` convention). Inputs and
 * flags are the interface; these are what a workflow or a shell sets around it.
 *
 * Three kinds:
 * - user settings: the variables MLflow's and Databricks' own clients read, honoured the same way here;
 * - the runner's: what GitHub Actions sets for every step (`INPUT_<NAME>` too, read by the runner seam only);
 * - tuning knobs for tests, listed in EDGE_ONLY_VARIABLES: the actions' and the CLI's settings read and check them
 *   once and pass them down as options, so src/core never reads them (environment.test.ts checks it).
 */
import { ConfigurationError } from './errors.js'

export enum EnvVar {
  // User settings.
  /** The MLflow tracking server (or `databricks-uc`), when no tracking-uri input, flag or config names one. */
  MlflowTrackingUri = 'MLFLOW_TRACKING_URI',
  /** A bearer token for the MLflow server. */
  MlflowTrackingToken = 'MLFLOW_TRACKING_TOKEN',
  /** Basic-auth user for the MLflow server, with MLFLOW_TRACKING_PASSWORD. */
  MlflowTrackingUsername = 'MLFLOW_TRACKING_USERNAME',
  /** Basic-auth password for the MLflow server, with MLFLOW_TRACKING_USERNAME. */
  MlflowTrackingPassword = 'MLFLOW_TRACKING_PASSWORD',
  /** The Databricks workspace URL for Unity Catalog, when the tracking URI is not one. */
  DatabricksHost = 'DATABRICKS_HOST',
  /** A Databricks personal access token. */
  DatabricksToken = 'DATABRICKS_TOKEN',
  /** An OAuth service principal's id (machine-to-machine), with DATABRICKS_CLIENT_SECRET. */
  DatabricksClientId = 'DATABRICKS_CLIENT_ID',
  /** An OAuth service principal's secret, with DATABRICKS_CLIENT_ID. */
  DatabricksClientSecret = 'DATABRICKS_CLIENT_SECRET',
  /** `true` or `false`: whether the workspace takes model files through the Files API, instead of asking it. */
  DatabricksFilesApiOverride = 'MLFLOW_USE_DATABRICKS_SDK_MODEL_ARTIFACTS_REPO_FOR_UC',
  /** `modelgate deploy --environment`: the token that records the GitHub deployment, when --github-token is not given. */
  GitHubToken = 'GITHUB_TOKEN',
  /** Where the smoke test finds `python` when the configured interpreter is a bare name. */
  Path = 'PATH',
  /** Set to anything but empty: the command line prints no colours, even on a terminal (no-color.org). */
  NoColor = 'NO_COLOR',
  /** Set to anything but empty, `0` or `false`: the command line prints colours even to a pipe. */
  ForceColor = 'FORCE_COLOR',

  // Set by the GitHub Actions runner.
  /** The checkout every file input resolves against (the current directory outside Actions). */
  GitHubWorkspace = 'GITHUB_WORKSPACE',
  /** The file step outputs are appended to. */
  GitHubOutput = 'GITHUB_OUTPUT',
  /** The file the job summary is appended to. */
  GitHubStepSummary = 'GITHUB_STEP_SUMMARY',
  /** The JSON payload of the triggering event (the pull request number comes from it). */
  GitHubEventPath = 'GITHUB_EVENT_PATH',
  /** The triggering event's name, e.g. `pull_request`. */
  GitHubEventName = 'GITHUB_EVENT_NAME',
  /** `owner/repo`. */
  GitHubRepository = 'GITHUB_REPOSITORY',
  /** The commit the workflow runs on. */
  GitHubSha = 'GITHUB_SHA',
  /** The full ref, e.g. `refs/pull/7/merge`; a lineage tag. */
  GitHubRef = 'GITHUB_REF',
  /** The short ref, e.g. `main`; MLflow's branch tag. */
  GitHubRefName = 'GITHUB_REF_NAME',
  /** The workflow's name; a lineage tag. */
  GitHubWorkflow = 'GITHUB_WORKFLOW',
  /** The workflow run's id, for its URL in reports and tags. */
  GitHubRunId = 'GITHUB_RUN_ID',
  /** Which attempt of the run this is (a re-run's URL names it). */
  GitHubRunAttempt = 'GITHUB_RUN_ATTEMPT',
  /** github.com or a GitHub Enterprise Server. */
  GitHubServerUrl = 'GITHUB_SERVER_URL',
  /** The REST API the pull request comment is posted through. */
  GitHubApiUrl = 'GITHUB_API_URL',
  /** Where report files are written (the system's temporary directory outside Actions). */
  RunnerTemp = 'RUNNER_TEMP',

  // Tuning knobs for tests: edge only (see EDGE_ONLY_VARIABLES).
  /** Base of every retry backoff in ms (default 500 for registries, 1000 for GitHub): tests play 429s and 5xx fast. */
  RetryBaseMs = 'MODELGATE_RETRY_BASE_MS',
  /** Per-request timeout of the registry clients in ms: tests play a server slower than it. */
  HttpTimeoutMs = 'MODELGATE_HTTP_TIMEOUT_MS'
}

/** Read by the actions' and the CLI's settings only, then passed down as options; never by src/core. */
export const EDGE_ONLY_VARIABLES: ReadonlySet<EnvVar> = new Set([EnvVar.RetryBaseMs, EnvVar.HttpTimeoutMs])

/** Credentials the actions mask in the log before anything could print them. */
export const SECRET_VARIABLES: readonly EnvVar[] = [
  EnvVar.MlflowTrackingPassword,
  EnvVar.MlflowTrackingToken,
  EnvVar.DatabricksToken,
  EnvVar.DatabricksClientSecret
]

/** The tuning knobs as options for the registry and GitHub clients; absent when unset. */
export interface TuningOptions {
  readonly retryBaseMs?: number
  readonly timeoutMs?: number
}

/** The tuning options of a larger options object that are set, and only those: an absent one keeps a default. */
export function tuningOptions(options: {
  readonly [K in keyof TuningOptions]?: TuningOptions[K] | undefined
}): TuningOptions {
  return {
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {})
  }
}

/** Reads and checks the tuning knobs; a value that is not a number of milliseconds is the user's mistake. */
export function readTuningOptions(env: NodeJS.ProcessEnv): TuningOptions {
  return tuningOptions({
    retryBaseMs: milliseconds(env, EnvVar.RetryBaseMs, 0),
    timeoutMs: milliseconds(env, EnvVar.HttpTimeoutMs, 1)
  })
}

function milliseconds(env: NodeJS.ProcessEnv, name: EnvVar, least: number): number | undefined {
  const text = env[name]?.trim()
  if (!text) return undefined
  const value = Number(text)
  if (!Number.isFinite(value) || value < least) {
    throw new ConfigurationError(`expected a number of milliseconds, ${least} or more, got "${text}"`, {
      source: name
    })
  }
  return value
}
