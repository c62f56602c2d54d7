import { runAction } from '../shared/run-action.js'
import { run } from './main.js'

await runAction('validate-model', io => run(io))
process.exit()
