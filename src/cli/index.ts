#!/usr/bin/env node
import { main } from './main.js'
import { processOutput } from './output.js'

try {
  process.exitCode = await main(process.argv.slice(2), processOutput)
} catch (error) {
  process.stderr.write(
    `modelgate failed unexpectedly (a bug; please report it):\n${(error as Error).stack ?? String(error)}\n`
  )
  process.exitCode = 3
}
