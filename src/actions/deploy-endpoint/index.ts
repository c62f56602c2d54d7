import { runAction } from '../shared/run-action.js'
import { run } from './main.js'

// No process.exit(): runAction leaves the outcome in process.exitCode and the process ends when its work is done,
// so no log line still queued on stdout (a pipe to the runner, written asynchronously) is lost. See run-action.ts.
await runAction('deploy-endpoint', io => run(io))
