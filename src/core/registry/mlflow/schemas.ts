/**
 * The MLflow REST API's responses as zod schemas (`mlflow/protos/service.proto`, `model_registry.proto`,
 * `mlflow_artifacts.proto`), loose so a newer server's extra fields pass. What the wire does that a reader would not
 * guess: unset fields and empty arrays are left out (so every array is optional), int64 values arrive as JSON
 * numbers, versions are strings, and a metric that Python held as NaN or infinity arrives as a string.
 */
import * as z from 'zod/mini'

// A response is parsed once; compiling each schema to a function would cost more than it saves.
z.config({ jitless: true })

const Tag = z.looseObject({ key: z.string(), value: z.optional(z.string()) })
const Tags = z.optional(z.array(Tag))

export const MetricSchema = z.looseObject({
  key: z.string(),
  value: z.union([z.number(), z.string()]),
  timestamp: z.optional(z.number()),
  step: z.optional(z.number()),
  model_id: z.optional(z.string())
})

const ExperimentSchema = z.looseObject({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.optional(z.string()),
  lifecycle_stage: z.optional(z.string())
})

export const RunSchema = z.looseObject({
  info: z.looseObject({
    run_id: z.optional(z.string()),
    run_uuid: z.optional(z.string()),
    experiment_id: z.string(),
    status: z.optional(z.string()),
    artifact_uri: z.optional(z.string()),
    lifecycle_stage: z.optional(z.string())
  }),
  data: z.optional(z.looseObject({ metrics: z.optional(z.array(MetricSchema)), tags: Tags }))
})

const LoggedModelSchema = z.looseObject({
  info: z.looseObject({
    model_id: z.string(),
    experiment_id: z.optional(z.string()),
    name: z.optional(z.string()),
    artifact_uri: z.string(),
    status: z.optional(z.string()),
    source_run_id: z.optional(z.string()),
    tags: Tags
  }),
  data: z.optional(z.looseObject({ metrics: z.optional(z.array(MetricSchema)) }))
})

const RegisteredModelSchema = z.looseObject({
  name: z.string(),
  aliases: z.optional(z.array(z.looseObject({ alias: z.string(), version: z.string() }))),
  tags: Tags
})

const ModelVersionSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  creation_timestamp: z.optional(z.number()),
  description: z.optional(z.string()),
  source: z.optional(z.string()),
  run_id: z.optional(z.string()),
  status: z.optional(z.string()),
  status_message: z.optional(z.string()),
  tags: Tags,
  aliases: z.optional(z.array(z.string())),
  model_id: z.optional(z.string())
})

const ArtifactListSchema = z.looseObject({
  files: z.optional(
    z.array(z.looseObject({ path: z.string(), is_dir: z.optional(z.boolean()), file_size: z.optional(z.number()) }))
  )
})

export const Responses = {
  experiment: z.looseObject({ experiment: ExperimentSchema }),
  experimentId: z.looseObject({ experiment_id: z.string() }),
  run: z.looseObject({ run: RunSchema }),
  loggedModel: z.looseObject({ model: LoggedModelSchema }),
  registeredModel: z.looseObject({ registered_model: RegisteredModelSchema }),
  modelVersion: z.looseObject({ model_version: ModelVersionSchema }),
  modelVersions: z.looseObject({
    model_versions: z.optional(z.array(ModelVersionSchema)),
    next_page_token: z.optional(z.string())
  }),
  downloadUri: z.looseObject({ artifact_uri: z.string() }),
  artifacts: ArtifactListSchema,
  empty: z.looseObject({})
} as const

export type MlflowRun = z.infer<typeof RunSchema>
export type MlflowLoggedModel = z.infer<typeof LoggedModelSchema>
export type MlflowModelVersion = z.infer<typeof ModelVersionSchema>
export type MlflowMetric = z.infer<typeof MetricSchema>
