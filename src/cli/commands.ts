/**
 * What each command takes, in one place: the flags the parser accepts and the help that lists them. Each flag is
 * named like the action input it stands for, with the same default, so a workflow step and a shell line read alike
 * (commands.test.ts checks the names against each action.yml). This module imports nothing heavy: `--help` and
 * the parser need it before a command's own module loads.
 */
import { COMPARE_FAIL_ON, REGISTRY_KINDS, VALIDATE_FAIL_ON } from '../core/vocabulary.js'

export interface FlagSpec {
  readonly name: string
  /** What the value looks like in the help (`<dir>`); absent for a switch. */
  readonly value?: string
  readonly default?: string
  readonly help: string
}

export interface CommandSpec {
  readonly name: string
  readonly summary: string
  readonly usage: string
  /** The action whose inputs the flags mirror. */
  readonly action?: string
  readonly flags: readonly FlagSpec[]
  readonly notes?: string
}

const FORMAT: FlagSpec = {
  name: 'format',
  value: 'text|markdown|json',
  default: 'text on a terminal, else markdown',
  help: 'the report on stdout; json prints only JSON there (progress and warnings go to stderr)'
}
const WORKSPACE: FlagSpec = {
  name: 'workspace',
  value: '<dir>',
  default: 'the current directory',
  help: 'the paths of the inputs resolve against it, as against GITHUB_WORKSPACE in the action'
}
const CONFIG: FlagSpec = {
  name: 'config',
  value: '<file>',
  default: '.modelgate.yml when present',
  help: 'the modelgate config file'
}
const TRACKING_URI: FlagSpec = {
  name: 'tracking-uri',
  value: '<uri>',
  default: "the config's registry.tracking-uri, else MLFLOW_TRACKING_URI",
  help: 'MLflow tracking server (or Databricks workspace)'
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'validate',
    summary: 'check an MLflow model before it may be promoted (the validate-model action)',
    usage: 'modelgate validate --model-path <dir> [options]',
    action: 'validate-model',
    flags: [
      { name: 'model-path', value: '<dir>', help: 'a local MLflow model directory (the folder with MLmodel)' },
      {
        name: 'model-uri',
        value: '<uri>',
        help: 'instead: models:/<name>/<version>, models:/<name>@<alias> or runs:/<id>/<path>, downloaded and checked'
      },
      { ...TRACKING_URI, help: 'MLflow tracking server (or Databricks workspace) for --model-uri' },
      CONFIG,
      {
        name: 'model',
        value: '<name>',
        default: "the config's only model",
        help: "which model of the config's models: list to validate with"
      },
      { name: 'metrics', value: '<file>', help: "a metrics file checked against the config's absolute bounds" },
      {
        name: 'fail-on',
        value: VALIDATE_FAIL_ON.join('|'),
        default: "the config's validation.fail-on, else error",
        help: 'when the command exits 1'
      },
      FORMAT,
      WORKSPACE,
      {
        name: 'report-dir',
        value: '<dir>',
        default: 'a new temporary directory',
        help: 'where the manifest of file hashes is written (a relative path is from the current directory)'
      }
    ]
  },
  {
    name: 'compare',
    summary: "compare a candidate's metrics with a baseline under the config's rules (the compare-metrics action)",
    usage: 'modelgate compare --candidate <source> [--baseline <source>] [options]',
    action: 'compare-metrics',
    flags: [
      {
        name: 'candidate',
        value: '<source>',
        help: 'metrics file (.json, .yaml, .csv), git:<ref>:<path>, mlflow-run:<id>, models:/<name>@<alias>'
      },
      {
        name: 'baseline',
        value: '<source>',
        default: "the config's compare.baseline",
        help: 'the same kinds of source; none means only absolute bounds are checked'
      },
      CONFIG,
      { name: 'rules', value: '<yaml>', help: "inline rules, replacing the config's rule of the same name" },
      {
        name: 'report-id',
        value: '<id>',
        default: 'the model name',
        help: "which model of the config's models: list"
      },
      {
        name: 'fail-on',
        value: COMPARE_FAIL_ON.join('|'),
        default: "the config's compare.fail-on, else regression",
        help: 'when the command exits 1'
      },
      { ...TRACKING_URI, help: 'MLflow tracking server, for mlflow-run: and models:/ sources' },
      FORMAT,
      WORKSPACE
    ],
    notes: "The action's comment and github-token inputs have no flag: the command prints the comment instead."
  },
  {
    name: 'register',
    summary: 'register a model version with lineage, idempotently (the register-model action)',
    usage: 'modelgate register --model-path <dir> [--name <name>] [options]',
    action: 'register-model',
    flags: [
      {
        name: 'registry',
        value: REGISTRY_KINDS.join('|'),
        default: "the config's registry.type; file without a tracking URI",
        help: 'where to register'
      },
      {
        name: 'registry-path',
        value: '<dir>',
        default: "the config's registry.path, else .modelgate/registry",
        help: "the file registry's folder"
      },
      TRACKING_URI,
      { name: 'name', value: '<name>', default: "the config's model", help: 'the registered model name' },
      { name: 'model-path', value: '<dir>', help: 'a local MLflow model directory to upload' },
      { name: 'source', value: '<uri>', help: 'instead: an artifact the registry already has (runs:/<id>/model, ...)' },
      {
        name: 'run-id',
        value: '<id>',
        default: 'a run modelgate creates',
        help: 'the MLflow run the version belongs to'
      },
      { name: 'aliases', value: '<a,b>', help: 'aliases to point at the version, e.g. challenger' },
      { name: 'tags', value: '<yaml>', help: 'tags as a YAML map, e.g. "team: fraud"' },
      { name: 'description', value: '<text>', help: "the version's description" },
      { name: 'validation-report', value: '<file>', help: "validate's JSON report, recorded as a tag" },
      {
        name: 'comparison-report',
        value: '<file>',
        help: "compare's JSON report: its verdict a tag, its metrics the version's"
      },
      {
        name: 'timeout',
        value: '<duration>',
        default: '10m',
        help: 'the longest the whole registration may take, e.g. 90s, 10m, 1h'
      },
      CONFIG,
      FORMAT,
      WORKSPACE
    ]
  },
  {
    name: 'deploy',
    summary: 'roll a registered version out to a serving endpoint, proven, or roll back (the deploy-endpoint action)',
    usage: 'modelgate deploy --model-uri <models:/name@alias> [--target haproxy|databricks] [--dry-run] [options]',
    action: 'deploy-endpoint',
    flags: [
      {
        name: 'model-uri',
        value: '<uri>',
        help: 'models:/<name>/<version> or models:/<name>@<alias>, resolved through the registry'
      },
      { name: 'target', value: 'haproxy|databricks', default: "the config's deploy.target", help: 'where it serves' },
      {
        name: 'endpoint',
        value: '<name>',
        default: "the config's deploy.endpoint",
        help: 'the serving endpoint (the HAProxy backend)'
      },
      {
        name: 'haproxy-socket',
        value: '<addr>',
        default: "the config's deploy.runtime-api",
        help: "HAProxy's Runtime API: a socket path or host:port"
      },
      TRACKING_URI,
      {
        name: 'traffic',
        value: '<percent>',
        default: '100',
        help: 'the share the new version takes while it is observed; below 100 is a canary'
      },
      {
        name: 'smoke-input',
        value: '<file>',
        default: "the model's serving input example",
        help: 'the scoring request to send (JSON)'
      },
      { name: 'requests', value: '<n>', default: '50', help: 'real requests to observe before promoting' },
      { name: 'timeout', value: '<duration>', help: 'the deadline of the whole rollout, e.g. 15m' },
      { name: 'rollback', value: 'on-failure|never', default: 'on-failure', help: 'what a failed rollout does' },
      { name: 'promote-alias', value: '<alias>', help: 'the alias to move to the version after success' },
      {
        name: 'environment',
        value: '<name>',
        help: "the GitHub deployment environment to record (with GITHUB_REPOSITORY and GITHUB_SHA); it also picks the config's deploy.environments entry"
      },
      { name: 'dry-run', help: 'print the plan (current state, desired state, checks) and change nothing' },
      {
        name: 'github-token',
        value: '<token>',
        default: 'GITHUB_TOKEN',
        help: 'the token that records the deployment'
      },
      CONFIG,
      FORMAT,
      WORKSPACE
    ]
  },
  {
    name: 'demo',
    summary: 'run the pull-request gate on the bundled example model, with no server and no token',
    usage: 'modelgate demo [--format markdown|text|json]',
    flags: [
      {
        name: 'format',
        value: 'markdown|text|json',
        default: 'markdown',
        help: 'markdown prints the comment the gate would post; json prints only the JSON report'
      }
    ],
    notes: 'Exits 0 whatever the verdict: it shows the gate, it does not gate.'
  }
]

export const EXIT_CODES =
  'Exit codes: 0 the gate passes (or the model is registered, or deployed), 1 it fails (or the registry failed, or the\nrollout failed), 2 a usage or configuration error, 3 a modelgate bug.'

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find(command => command.name === name)
}

type OptionConfig = { type: 'string' | 'boolean'; short?: string }

/** The parser's options for a command: every flag takes a value, and -h/--help is a switch everywhere. */
export function parserOptions(command: CommandSpec): Record<string, OptionConfig> {
  const options: Record<string, OptionConfig> = Object.fromEntries(
    command.flags.map(flag => [flag.name, { type: flag.value === undefined ? 'boolean' : 'string' }])
  )
  options.help = { type: 'boolean', short: 'h' }
  return options
}
