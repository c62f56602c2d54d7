import { runAction } from '../shared/run-action.js'
import { run } from './main.js'

// No process.exit: runAction leaves the outcome in process.exitCode and the process ends when its work is done, so
// nothing written to stdout or GITHUB_OUTPUT is cut off (see run-action.ts).
await runAction('register-model', io => run(io))
