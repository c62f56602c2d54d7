/**
 * The JSON Schema of `.modelgate.yml`, generated from the zod schema so the two can never disagree. Draft-07,
 * because that is what the YAML language server and most editors implement.
 */
import * as z from 'zod/mini'
import { ConfigSchema } from './schema.js'

export const SCHEMA_ID = 'https://modelgate.dev/schema/modelgate.schema.json'

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' })
  return { ...schema, $id: SCHEMA_ID, title: 'modelgate configuration (.modelgate.yml)' }
}

export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}
