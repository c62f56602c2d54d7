import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { COMMANDS } from './commands.js'

const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..')

/** Flags with no input behind them: how the command prints and where it runs. */
const CLI_ONLY = new Set(['format', 'workspace', 'report-dir'])
/** Inputs with no flag: the command prints the comment instead of posting it. */
const ACTION_ONLY = new Set(['comment', 'github-token'])

describe('the commands mirror the actions', () => {
  for (const command of COMMANDS.filter(c => c.action)) {
    it(`modelgate ${command.name} has a flag for each input of ${command.action}, named alike`, () => {
      const action = load(readFileSync(join(ROOT, 'actions', command.action!, 'action.yml'), 'utf8')) as {
        inputs: Record<string, unknown>
      }
      const inputs = Object.keys(action.inputs).filter(name => !ACTION_ONLY.has(name))
      // A flag may also stand for an action-only input (deploy's --github-token, since no runner supplies one).
      const flags = command.flags.map(flag => flag.name).filter(name => !CLI_ONLY.has(name) && !ACTION_ONLY.has(name))
      expect([...flags].sort()).toEqual([...inputs].sort())
    })
  }
})
