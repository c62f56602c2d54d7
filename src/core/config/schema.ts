/**
 * The `.modelgate.yml` schema. This zod schema is the single source of truth: the loader validates with it, the
 * actions' `rules` input is validated with its `metrics` part, and `schema/modelgate.schema.json` (for editors) is
 * generated from it by `npm run schema`.
 *
 * Keys are kebab-case. A rule may also use MLflow's `MetricThreshold` names (`threshold`, `min_absolute_change`,
 * `min_relative_change`, `greater_is_better`) with MLflow's meaning; `compare/rules.ts` maps them onto ours.
 *
 * Written with zod/mini, zod's functional API: classic zod attaches every method to every schema it creates, and
 * building this schema that way cost a gate step more start-up time (about 13 ms) than all of its comparison work.
 * zod 4's number() already refuses NaN and infinities.
 */
import * as z from 'zod/mini'
import {
  COMPARE_FAIL_ON,
  DIRECTIONS,
  type Direction,
  REGISTRY_KINDS,
  RULE_SEVERITIES,
  VALIDATE_FAIL_ON
} from '../vocabulary.js'

// zod 4 compiles each object schema into a function on first parse; a config is parsed once per process, so the
// compilation costs more than it saves.
z.config({ jitless: true })

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.meta({ description }))
const optionalNumber = (description: string, ...checks: z.core.$ZodCheck<number>[]) =>
  z.optional(z.number().check(...checks, z.meta({ description })))

const DirectionSchema = described(z.enum(DIRECTIONS), 'Whether a higher or a lower value is better.')

const RuleObjectSchema = z
  .strictObject({
    direction: z.optional(DirectionSchema),
    min: optionalNumber('The candidate must be at least this (absolute floor).'),
    max: optionalNumber('The candidate must be at most this (absolute ceiling).'),
    'max-regression': optionalNumber(
      'Largest absolute worsening against the baseline that still passes.',
      z.nonnegative()
    ),
    'max-regression-pct': optionalNumber(
      'Largest worsening against the baseline, in percent of |baseline|, that still passes.',
      z.nonnegative()
    ),
    'min-improvement': optionalNumber(
      'Smallest absolute improvement over the baseline required to pass.',
      z.nonnegative()
    ),
    'min-improvement-pct': optionalNumber(
      'Smallest improvement over the baseline, in percent of |baseline|, required to pass.',
      z.nonnegative()
    ),
    required: z.optional(
      described(
        z.boolean(),
        'Default true: a candidate that does not report the metric fails the gate; false only warns. On a glob, true also fails when no metric matches it (by default that warns).'
      )
    ),
    severity: z.optional(
      described(z.enum(RULE_SEVERITIES), 'What breaking this rule does to the gate (default fail).')
    ),
    threshold: optionalNumber('MLflow MetricThreshold: the candidate must be >= (greater_is_better) or <= this.'),
    min_absolute_change: optionalNumber(
      'MLflow MetricThreshold: required absolute improvement over the baseline (> 0).',
      z.positive()
    ),
    min_relative_change: optionalNumber(
      'MLflow MetricThreshold: required relative improvement over |baseline|, a fraction in [0, 1].',
      z.gte(0),
      z.lte(1)
    ),
    greater_is_better: z.optional(
      described(
        z.boolean(),
        'MLflow MetricThreshold: which way is better; it only orients threshold and the minimum changes (a worsening they do not catch passes, as in MLflow).'
      )
    ),
    higher_is_better: z.optional(described(z.boolean(), 'MLflow 2 alias of greater_is_better (deprecated).'))
  })
  .check(z.superRefine(checkRuleCoherence), z.meta({ title: 'Metric rule' }))

type RawRule = {
  direction?: Direction | undefined
  min?: number | undefined
  max?: number | undefined
  threshold?: number | undefined
  greater_is_better?: boolean | undefined
  higher_is_better?: boolean | undefined
  [key: string]: unknown
}

const COMPARISON_KEYS = [
  'max-regression',
  'max-regression-pct',
  'min-improvement',
  'min-improvement-pct',
  'min_absolute_change',
  'min_relative_change'
] as const

/** Rules that parse but contradict themselves are refused here, so the error carries the key's line. */
function checkRuleCoherence(rule: RawRule, ctx: z.core.$RefinementCtx<RawRule>): void {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message, input: rule[path] })
  if (rule.greater_is_better !== undefined && rule.higher_is_better !== undefined) {
    issue('higher_is_better', 'set greater_is_better or its old alias higher_is_better, not both')
  }
  const mlflowGreater = rule.greater_is_better ?? rule.higher_is_better
  if (rule.direction && mlflowGreater !== undefined && (rule.direction === 'higher') !== mlflowGreater) {
    issue('direction', `contradicts greater_is_better: ${String(mlflowGreater)}; set one of them`)
  }
  const direction = rule.direction ?? (mlflowGreater === undefined ? undefined : mlflowGreater ? 'higher' : 'lower')
  for (const key of [...COMPARISON_KEYS, 'threshold'] as const) {
    if (rule[key] !== undefined && !direction) {
      issue(key, 'needs a direction to know which way is worse: add direction: higher or direction: lower')
    }
  }
  if (rule.threshold !== undefined && direction) {
    const bound = direction === 'higher' ? 'min' : 'max'
    if (rule[bound] !== undefined)
      issue('threshold', `means ${bound} for this direction, and ${bound} is also set; keep one`)
  }
  if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
    issue('min', `is greater than max (${rule.max}); no value can pass`)
  }
  const loosens = rule['max-regression'] !== undefined || rule['max-regression-pct'] !== undefined
  const demands = ['min-improvement', 'min-improvement-pct', 'min_absolute_change', 'min_relative_change'].some(
    key => rule[key] !== undefined
  )
  if (loosens && demands) {
    issue(
      rule['max-regression'] !== undefined ? 'max-regression' : 'max-regression-pct',
      'allows a worsening while another key demands an improvement; keep one kind'
    )
  }
}

export const RuleSpecSchema = z.union([DirectionSchema, RuleObjectSchema])

export const MetricRulesSchema = described(
  z.record(z.string().check(z.minLength(1)), RuleSpecSchema),
  'Metric name or glob (`*` within one dotted segment, `**` across segments) to its rule; `higher`/`lower` alone sets only the direction.'
)

const CompareSettingsSchema = z.strictObject({
  baseline: z.optional(
    described(
      z.string().check(z.minLength(1)),
      'Default baseline metrics source (file, git:<ref>:<path>, mlflow-run:<id>, models:/...).'
    )
  ),
  'fail-on': z.optional(z.enum(COMPARE_FAIL_ON))
})

const RegistrySettingsSchema = z.strictObject({
  type: z.optional(
    described(
      z.enum(REGISTRY_KINDS),
      'file: a registry in a folder (the default); mlflow: an MLflow tracking server; databricks-uc: Unity Catalog.'
    )
  ),
  path: z.optional(
    described(
      z.string().check(z.minLength(1)),
      "The file registry's folder, relative to the workspace (default .modelgate/registry)."
    )
  ),
  'tracking-uri': z.optional(
    described(
      z.string().check(z.minLength(1)),
      'The MLflow tracking server (http://host:5000) or Databricks workspace URL; MLFLOW_TRACKING_URI otherwise.'
    )
  ),
  experiment: z.optional(
    described(
      z.string().check(z.minLength(1)),
      'The MLflow experiment that holds the runs register-model creates for uploaded models (default modelgate).'
    )
  )
})

const SmokeTestSettingsSchema = z.strictObject({
  server: described(z.literal('mlflow'), 'How to serve the model: mlflow models serve --env-manager local.'),
  python: z.optional(
    described(
      z.string().check(z.minLength(1)),
      'The Python with mlflow and the model requirements installed (default python3 on PATH).'
    )
  ),
  requests: z.optional(described(z.int().check(z.gte(1), z.lte(10_000)), 'Scoring requests to time (default 20).')),
  'timeout-seconds': z.optional(
    described(z.number().check(z.positive()), 'How long the server may take to start answering (default 180).')
  )
})

const ValidationSettingsSchema = z.strictObject({
  'require-signature': z.optional(
    described(z.boolean(), 'Fail a model without a signature (default true: Unity Catalog refuses such models).')
  ),
  'require-input-example': z.optional(
    described(z.boolean(), 'Fail (not only warn about) a model without an input example (default false).')
  ),
  'allow-no-pyfunc': z.optional(
    described(z.boolean(), 'Accept a model without the python_function flavor (it cannot be served by MLflow).')
  ),
  'max-size-mb': z.optional(
    described(z.number().check(z.positive()), 'Largest model directory accepted (default 2048).')
  ),
  'allow-imports': z.optional(
    described(
      z.array(z.string().check(z.minLength(1))),
      'Extra imports that pickles may use, as module.name or module.* (your own model classes).'
    )
  ),
  'smoke-test': z.optional(
    z.union([
      described(z.enum(['none', 'mlflow']), 'mlflow: serve the model and send it its serving example.'),
      SmokeTestSettingsSchema
    ])
  ),
  'fail-on': z.optional(described(z.enum(VALIDATE_FAIL_ON), 'When validate-model fails the step.'))
})

export const DEPLOY_TARGETS = ['haproxy', 'databricks'] as const
export const DEPLOY_SERVERS = ['mlflow', 'mlserver'] as const

const nonEmpty = (description: string) => z.optional(described(z.string().check(z.minLength(1)), description))

const DeploySettingsSchema = z
  .strictObject({
    target: z.optional(
      described(
        z.enum(DEPLOY_TARGETS),
        'haproxy: model server processes behind HAProxy (self-hosted); databricks: Databricks Model Serving.'
      )
    ),
    endpoint: nonEmpty("The serving endpoint's name; for haproxy the backend's name."),
    url: nonEmpty('The address clients use (reported as endpoint-url), e.g. http://127.0.0.1:8080.'),
    'runtime-api': nonEmpty("HAProxy's Runtime API: a socket path or host:port."),
    server: z.optional(
      described(
        z.enum(DEPLOY_SERVERS),
        'haproxy: the model server run per version: mlflow (mlflow models serve, the default) or mlserver (MLServer with its MLflow runtime).'
      )
    ),
    python: nonEmpty(
      'haproxy: the Python that serves each version, with the model requirements and mlflow (server mlflow) or mlserver and mlserver-mlflow (server mlserver; pins in python/requirements-mlserver.txt). Default python3 on PATH.'
    ),
    'state-dir': nonEmpty(
      'haproxy: where modelgate keeps the model server processes it started (default ~/.modelgate/serving); never the runner temporary folder, which a later job does not see.'
    )
  })
  .check(z.meta({ title: 'Deployment settings' }))

/**
 * `deploy.environments`: per GitHub environment, settings that replace the top-level ones for a rollout recorded in
 * that environment (gates/deploy.ts, deploySettingsFor, merges them). An entry takes the same keys but no
 * `environments` of its own: one level of override is all a reader has to follow.
 */
const DeployEnvironmentsSchema = described(
  z.record(z.string().check(z.minLength(1)), DeploySettingsSchema).check(z.superRefine(checkEnvironmentNames)),
  'GitHub environment (the environment input) to settings that replace the keys above there; one it lacks is an error.'
)

/** GitHub environment names are not case sensitive, so two keys that differ only in case name one environment. */
function checkEnvironmentNames(map: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, unknown>>) {
  const seen = new Map<string, string>()
  for (const name of Object.keys(map)) {
    const first = seen.get(name.toLowerCase())
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        input: map[name],
        message: `names the same GitHub environment as "${first}" (GitHub environment names are not case sensitive); keep one`
      })
    } else seen.set(name.toLowerCase(), name)
  }
}

const DeploySectionSchema = z
  .strictObject({ ...DeploySettingsSchema.shape, environments: z.optional(DeployEnvironmentsSchema) })
  .check(z.meta({ title: 'Deployment settings' }))

const ModelNameSchema = described(
  z.string().check(z.minLength(1)),
  'The model name; also the default report id of its PR comment.'
)

const modelShape = {
  model: ModelNameSchema,
  metrics: z.optional(MetricRulesSchema),
  compare: z.optional(CompareSettingsSchema),
  registry: z.optional(RegistrySettingsSchema),
  validation: z.optional(ValidationSettingsSchema),
  deploy: z.optional(DeploySectionSchema)
}

const ModelConfigSchema = z.strictObject(modelShape)

export const ConfigSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    ...modelShape,
    model: z.optional(ModelNameSchema),
    models: z.optional(z.array(ModelConfigSchema).check(z.minLength(1)))
  })
  .check(z.meta({ title: 'modelgate configuration (.modelgate.yml)' }))

export type RuleObject = z.infer<typeof RuleObjectSchema>
export type RuleSpec = z.infer<typeof RuleSpecSchema>
export type MetricRules = z.infer<typeof MetricRulesSchema>
export type ModelConfig = z.infer<typeof ModelConfigSchema>
export type Config = z.infer<typeof ConfigSchema>
export type ValidationSettings = z.infer<typeof ValidationSettingsSchema>
export type RegistrySettings = z.infer<typeof RegistrySettingsSchema>
/** The `deploy:` section as written: top-level settings and the optional per-environment map. */
export type DeploySection = z.infer<typeof DeploySectionSchema>
/** The settings of one rollout: the top-level ones, or one entry of `deploy.environments`, or the two merged. */
export type DeploySettings = z.infer<typeof DeploySettingsSchema>
