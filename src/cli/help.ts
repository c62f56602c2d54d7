/** The help the command prints: the list of commands, and each command's flags with their defaults. */
import { COMMANDS, EXIT_CODES, type CommandSpec, type FlagSpec } from './commands.js'
import type { Style } from './style.js'

const WIDTH = 30

export function renderOverview(style: Style): string {
  const rows = COMMANDS.map(command => `  ${command.name.padEnd(10)} ${command.summary}`)
  return [
    `${style.bold('modelgate')}: MLOps promotion gates for ML models, the GitHub actions' engine on the command line`,
    '',
    style.bold('Usage:'),
    '  modelgate <command> [flags]',
    "  modelgate <command> --help     the command's flags and their defaults (also: modelgate help <command>)",
    '',
    style.bold('Commands:'),
    ...rows,
    '',
    EXIT_CODES
  ].join('\n')
}

const LINE = 116

/** Words filled into lines of the help column, the first beside the flag when it fits. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  return [...lines, line]
}

function flagLine(flag: FlagSpec): string {
  const head = `  --${flag.name}${flag.value ? ` ${flag.value}` : ''}`
  const help = wrap(`${flag.help}${flag.default ? ` (default: ${flag.default})` : ''}`, LINE - WIDTH)
  const indent = ' '.repeat(WIDTH)
  const rest = help.slice(1).map(line => `${indent}${line}`)
  return head.length < WIDTH - 1
    ? [`${head.padEnd(WIDTH)}${help[0]}`, ...rest].join('\n')
    : [head, `${indent}${help[0]}`, ...rest].join('\n')
}

export function renderCommandHelp(command: CommandSpec, style: Style): string {
  return [
    `${style.bold(`modelgate ${command.name}`)}: ${command.summary}`,
    '',
    style.bold('Usage:'),
    `  ${command.usage}`,
    '',
    style.bold('Flags:') + (command.action ? ` named like the ${command.action} action's inputs` : ''),
    ...command.flags.map(flagLine),
    `${'  -h, --help'.padEnd(WIDTH)}this help`,
    ...(command.notes ? ['', command.notes] : []),
    '',
    EXIT_CODES
  ].join('\n')
}
