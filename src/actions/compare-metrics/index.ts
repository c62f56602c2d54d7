import { runAction } from '../shared/run-action.js'
import { run } from './main.js'

await runAction('compare-metrics', io => run(io))
// The throttling plugin keeps timers alive; the outcome is decided, so leave now.
process.exit()
