// Writes schema/modelgate.schema.json from the zod schema (npm run schema). A test fails when they drift.
import { writeFileSync } from 'node:fs'
import { configJsonSchemaText } from '../src/core/config/json-schema.js'

writeFileSync(new URL('../schema/modelgate.schema.json', import.meta.url), configJsonSchemaText())
console.log('wrote schema/modelgate.schema.json')
