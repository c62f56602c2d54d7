#!/usr/bin/env node
import { main } from './main.js'
import { processOutput } from './output.js'

// A reader that stops early (`modelgate ... | head -1`) closes the pipe: what is left of the report has nowhere to go,
// which is neither the gate's failure nor a bug, so the exit code stays the gate's. Node ends the process with a
// stack trace (and exit 1, the code of a failed gate) on an unhandled EPIPE; writes after it are dropped quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

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
