#!/usr/bin/env node
import { main } from './main.js'
import { processOutput } from './output.js'

// The exit code is left in process.exitCode, never process.exit(): the report written to a piped stdout must flush
// first (the actions end the same way; see src/actions/shared/run-action.ts).
try {
  process.exitCode = await main(process.argv.slice(2), processOutput)
} catch (error) {
  process.stderr.write(
    `modelgate failed unexpectedly (a bug; please report it):\n${(error as Error).stack ?? String(error)}\n`
  )
  process.exitCode = 3
}
