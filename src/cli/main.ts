/**
 * The `modelgate` command: the same engine as the actions, outside GitHub.
 * deploy options:
  --model-uri <uri>        models:/<name>/<version> or models:/<name>@<alias>, resolved through the registry
  --target <kind>          haproxy or databricks; default the config's deploy.target
  --endpoint <name>        the endpoint (HAProxy backend); default the config's deploy.endpoint
  --haproxy-socket <addr>  HAProxy's Runtime API; default the config's deploy.runtime-api
  --traffic <percent>      share the new version takes while observed (below 100: a canary), default 100
  --smoke-input <file>     the scoring request (JSON); default the model's serving input example
  --requests <n>           requests to observe per step, default 50
  --timeout <duration>     deadline of the whole rollout, e.g. 15m
  --rollback <mode>        on-failure (default) or never
  --promote-alias <alias>  alias to move to the version after success
  --environment <name>     GitHub deployment environment to record (with GITHUB_REPOSITORY and GITHUB_SHA)
  --github-token <token>   token that records it (default GITHUB_TOKEN)
  --dry-run                print the plan (current state, desired state, checks) and change nothing

Exit codes: 0 the gate passes, 1 it fails (or a registry failed), 2 a usage or configuration error.
 */
import { parseArgs } from 'node:util'
import { readTuningOptions } from '../core/environment.js'
import { isConfigurationError, isServiceError } from '../core/errors.js'
import { REGISTRY_KINDS, VALIDATE_FAIL_ON } from '../core/vocabulary.js'
import { UsageError, type Output } from './output.js'

const EXIT_PASS = 0
const EXIT_FAIL = 1
const EXIT_USAGE = 2

const USAGE = `modelgate: MLOps promotion gates for ML models

Usage:
  modelgate compare --candidate <source> [--baseline <source>] [options]
  modelgate demo
  modelgate validate --model-path <dir> [--config <file>] [--metrics <file>] [--fail-on ${VALIDATE_FAIL_ON.join('|')}]
  modelgate register --name <name> --model-path <dir> [--registry ${REGISTRY_KINDS.join('|')}] [options]
  modelgate deploy --model-uri <models:/name@alias> [--target haproxy|databricks] [--dry-run] [options]

compare options:
  --candidate <source>     metrics file (.json, .yaml, .csv), git:<ref>:<path>, mlflow-run:<id>, models:/<name>@<alias>
  --baseline <source>      the same kinds of source; default: the config's compare.baseline
  --config <file>          default .modelgate.yml when present
  --rules <yaml>           inline rules, overriding the config's rule of the same name
  --report-id <id>         which model of a models: list; default the model name
  --fail-on <when>         regression (default), warning or never
  --tracking-uri <uri>     MLflow tracking server, for mlflow-run: and models:/ sources
  --format <format>        text (default on a terminal), markdown or json
  --workspace <dir>        resolve relative paths against this directory (default: the current one)

register options:
  --registry <type>        file (default without a tracking URI), mlflow or databricks-uc
  --registry-path <dir>    the file registry's folder (default .modelgate/registry)
  --tracking-uri <uri>     MLflow tracking server or Databricks workspace (or MLFLOW_TRACKING_URI)
  --model-path <dir>       a local MLflow model directory to upload; or --source <uri> for an existing artifact
  --run-id <id>            the run the version belongs to
  --aliases <a,b>          aliases to point at the version, e.g. challenger
  --tags <yaml>            tags as a YAML map, e.g. "team: fraud"
  --validation-report, --comparison-report <file>   the earlier steps' JSON reports, recorded as tags

deploy options:
  --model-uri <uri>        models:/<name>/<version> or models:/<name>@<alias>, resolved through the registry
  --target <kind>          haproxy or databricks; default the config's deploy.target
  --endpoint <name>        the endpoint (HAProxy backend); default the config's deploy.endpoint
  --haproxy-socket <addr>  HAProxy's Runtime API; default the config's deploy.runtime-api
  --traffic <percent>      share the new version takes while observed (below 100: a canary), default 100
  --smoke-input <file>     the scoring request (JSON); default the model's serving input example
  --requests <n>           requests to observe per step, default 50
  --timeout <duration>     deadline of the whole rollout, e.g. 15m
  --rollback <mode>        on-failure (default) or never
  --promote-alias <alias>  alias to move to the version after success
  --environment <name>     GitHub deployment environment to record (with GITHUB_REPOSITORY and GITHUB_SHA)
  --github-token <token>   token that records it (default GITHUB_TOKEN)
  --dry-run                print the plan (current state, desired state, checks) and change nothing

Exit codes: 0 the gate passes (or the model is registered), 1 it fails (or the registry failed), 2 usage or
configuration error.`

export async function main(argv: string[], output: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      // Each command's module loads when it runs: `modelgate compare` never pays for the pickle scanner.
      case 'compare': {
        const { runCompareCommand, COMPARE_OPTIONS } = await import('./compare.js')
        return await runCompareCommand(parse(rest, COMPARE_OPTIONS), output, readTuningOptions(env))
      }
      case 'demo': {
        const { runDemoCommand } = await import('./demo.js')
        return await runDemoCommand(parse(rest, { format: { type: 'string' } }), output)
      }
      case 'validate': {
        const { runValidateCommand, VALIDATE_OPTIONS } = await import('./validate.js')
        return await runValidateCommand(parse(rest, VALIDATE_OPTIONS), output, readTuningOptions(env))
      }
      case 'register': {
        const { runRegisterCommand, REGISTER_OPTIONS } = await import('./register.js')
        return await runRegisterCommand(parse(rest, REGISTER_OPTIONS), output, readTuningOptions(env))
      }
      case 'deploy': {
        const { runDeployCommand, DEPLOY_OPTIONS } = await import('./deploy.js')
        return await runDeployCommand(parse(rest, DEPLOY_OPTIONS), output, readTuningOptions(env), env)
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        output.out(USAGE)
        return command === undefined ? EXIT_USAGE : EXIT_PASS
      case '--version':
        output.out('modelgate 0.1.0')
        return EXIT_PASS
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.error(`modelgate: ${error.message}\n\n${USAGE}`)
      return EXIT_USAGE
    }
    if (isConfigurationError(error)) {
      output.error(`modelgate: ${error.message}`)
      return EXIT_USAGE
    }
    if (isServiceError(error)) {
      output.error(`modelgate: ${error.message}`)
      return EXIT_FAIL
    }
    throw error
  }
}

type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>['options']

function parse(args: string[], options: OptionSpec): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, strict: true })
    return values as Record<string, string | undefined>
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
