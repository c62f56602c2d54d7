/**
 * The `modelgate` command: the same engine as the actions, outside GitHub.
 * Exit codes: 0 the gate passes, 1 it fails (or a registry failed), 2 a usage or configuration error.
 * stdout carries only the report (with `--format json`, only JSON); progress, warnings and errors go to stderr.
 */
import { parseArgs } from 'node:util'
import { readTuningOptions } from '../core/environment.js'
import { isConfigurationError, isServiceError } from '../core/errors.js'
import { findCommand, parserOptions, type CommandSpec } from './commands.js'
import { renderCommandHelp, renderOverview } from './help.js'
import { UsageError, type CommandUi, type Output } from './output.js'
import { startProgress, type ProgressOptions } from './progress.js'
import { colourWanted, makeStyle } from './style.js'

const EXIT_PASS = 0
const EXIT_FAIL = 1
const EXIT_USAGE = 2

export async function main(
  argv: string[],
  output: Output,
  env: NodeJS.ProcessEnv = process.env,
  progressOptions: ProgressOptions = {}
): Promise<number> {
  const [command, ...rest] = argv
  const errStyle = makeStyle(colourWanted(output.isErrorTerminal ?? false, env))
  const outStyle = makeStyle(colourWanted(output.isTerminal, env))
  const progress = startProgress(output, errStyle, progressOptions)
  const ui: CommandUi = { log: progress.log, warn: progress.warn, style: outStyle }
  let spec: CommandSpec | undefined
  try {
    switch (command) {
      case undefined:
        output.error(renderOverview(errStyle))
        return EXIT_USAGE
      case 'help':
      case '--help':
      case '-h': {
        const topic = command === 'help' ? rest[0] : undefined
        if (topic === undefined) {
          output.out(renderOverview(outStyle))
          return EXIT_PASS
        }
        spec = findCommand(topic)
        if (!spec) throw new UsageError(`unknown command "${topic}"`)
        output.out(renderCommandHelp(spec, outStyle))
        return EXIT_PASS
      }
      case '--version':
        output.out('modelgate 0.1.0')
        return EXIT_PASS
    }
    spec = findCommand(command)
    if (!spec) throw new UsageError(`unknown command "${command}"`)
    const flags = parse(rest, spec)
    if (flags.help) {
      output.out(renderCommandHelp(spec, outStyle))
      return EXIT_PASS
    }
    switch (spec.name) {
      // Each command's module loads when it runs: `modelgate compare` never pays for the pickle scanner.
      case 'compare': {
        const { runCompareCommand } = await import('./compare.js')
        return await runCompareCommand(flags, output, readTuningOptions(env), ui)
      }
      case 'demo': {
        const { runDemoCommand } = await import('./demo.js')
        return await runDemoCommand(flags, output, ui)
      }
      case 'validate': {
        const { runValidateCommand } = await import('./validate.js')
        return await runValidateCommand(flags, output, readTuningOptions(env), ui)
      }
      case 'register': {
        const { runRegisterCommand } = await import('./register.js')
        return await runRegisterCommand(flags, output, readTuningOptions(env), ui)
      }
      case 'deploy': {
        const { runDeployCommand } = await import('./deploy.js')
        return await runDeployCommand(flags, output, readTuningOptions(env), ui, env)
      }
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = spec ? `modelgate ${spec.name} --help` : 'modelgate --help'
      output.error(`${errStyle.red('modelgate:')} ${error.message}\nRun \`${help}\` for the flags and their defaults.`)
      return EXIT_USAGE
    }
    if (isConfigurationError(error)) {
      output.error(`${errStyle.red('modelgate:')} ${error.message}`)
      return EXIT_USAGE
    }
    if (isServiceError(error)) {
      output.error(`${errStyle.red('modelgate:')} ${error.message}`)
      return EXIT_FAIL
    }
    throw error
  } finally {
    progress.stop()
  }
}

/** Flags by name; a switch (`--help`) reads as `'true'`. */
export type Flags = Record<string, string | undefined> & { help?: string }

function parse(args: string[], spec: CommandSpec): Flags {
  try {
    const { values } = parseArgs({ args, options: parserOptions(spec), strict: true, allowPositionals: false })
    // An empty value is no value, as the actions read an empty input (`--config="$CONFIG"` with CONFIG unset).
    return Object.fromEntries(
      Object.entries(values)
        .filter(([, value]) => value !== '')
        .map(([name, value]) => [name, value === true ? 'true' : (value as string | undefined)])
    )
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
