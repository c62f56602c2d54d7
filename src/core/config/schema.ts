/**
 * The `.modelgate.yml` schema. This zod schema is the single source of truth: the loader validates with it, the
 * actions' `rules` input is validated with its `metrics` part, and `schema/modelgate.schema.json` (for editors) is
 * generated from it by `npm run schema`.
 *
 * Keys are kebab-case. A rule may also use MLflow's `MetricThreshold` names (`threshold`, `min_absolute_change`,
 * `min_relative_change`, `greater_is_better`) with MLflow's meaning; `rules.ts` maps them onto ours.
 */
import * as z from 'zod'

const finite = () => z.number().refine(Number.isFinite, 'expected a finite number')

export const DirectionSchema = z
  .enum(['higher', 'lower'])
  .meta({ description: 'Whether a higher or a lower value is better.' })

export const RuleObjectSchema = z
  .strictObject({
    direction: DirectionSchema.optional(),
    min: finite().optional().meta({ description: 'The candidate must be at least this (absolute floor).' }),
    max: finite().optional().meta({ description: 'The candidate must be at most this (absolute ceiling).' }),
    'max-regression': finite()
      .nonnegative()
      .optional()
      .meta({ description: 'Largest absolute worsening against the baseline that still passes.' }),
    'max-regression-pct': finite()
      .nonnegative()
      .optional()
      .meta({ description: 'Largest worsening against the baseline, in percent of |baseline|, that still passes.' }),
    'min-improvement': finite()
      .nonnegative()
      .optional()
      .meta({ description: 'Smallest absolute improvement over the baseline required to pass.' }),
    'min-improvement-pct': finite()
      .nonnegative()
      .optional()
      .meta({ description: 'Smallest improvement over the baseline, in percent of |baseline|, required to pass.' }),
    required: z.boolean().optional().meta({ description: 'Fail when the candidate does not report this metric.' }),
    severity: z
      .enum(['fail', 'warn'])
      .optional()
      .meta({ description: 'What breaking this rule does to the gate (default fail).' }),
    threshold: finite()
      .optional()
      .meta({ description: 'MLflow MetricThreshold: the candidate must be >= (greater_is_better) or <= this.' }),
    min_absolute_change: finite()
      .positive()
      .optional()
      .meta({ description: 'MLflow MetricThreshold: required absolute improvement over the baseline (> 0).' }),
    min_relative_change: finite().min(0).max(1).optional().meta({
      description: 'MLflow MetricThreshold: required relative improvement over |baseline|, a fraction in [0, 1].'
    }),
    greater_is_better: z.boolean().optional().meta({ description: 'MLflow MetricThreshold: the direction.' }),
    higher_is_better: z.boolean().optional().meta({ description: 'MLflow 2 alias of greater_is_better (deprecated).' })
  })
  .superRefine(checkRuleCoherence)
  .meta({ title: 'Metric rule' })

type RawRule = {
  direction?: 'higher' | 'lower' | undefined
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

export const MetricRulesSchema = z.record(z.string().min(1), RuleSpecSchema).meta({
  description:
    'Metric name or glob (`*` within one dotted segment, `**` across segments) to its rule; `higher`/`lower` alone sets only the direction.'
})

export const FailOnSchema = z.enum(['regression', 'warning', 'never'])

export const CompareSettingsSchema = z.strictObject({
  baseline: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Default baseline metrics source (file, git:<ref>:<path>, mlflow-run:<id>, models:/...).' }),
  'fail-on': FailOnSchema.optional()
})

export const RegistrySettingsSchema = z.strictObject({
  type: z.enum(['file', 'mlflow', 'databricks-uc']),
  path: z.string().min(1).optional(),
  'tracking-uri': z.string().min(1).optional()
})

const modelShape = {
  model: z.string().min(1).meta({ description: 'The model name; also the default report id of its PR comment.' }),
  metrics: MetricRulesSchema.optional(),
  compare: CompareSettingsSchema.optional(),
  registry: RegistrySettingsSchema.optional()
}

export const ModelConfigSchema = z.strictObject(modelShape)

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    model: modelShape.model.optional(),
    metrics: modelShape.metrics,
    compare: modelShape.compare,
    registry: modelShape.registry,
    models: z.array(ModelConfigSchema).min(1).optional()
  })
  .meta({ title: 'modelgate configuration (.modelgate.yml)' })

export type RuleObject = z.infer<typeof RuleObjectSchema>
export type RuleSpec = z.infer<typeof RuleSpecSchema>
export type MetricRules = z.infer<typeof MetricRulesSchema>
export type FailOn = z.infer<typeof FailOnSchema>
export type ModelConfig = z.infer<typeof ModelConfigSchema>
export type Config = z.infer<typeof ConfigSchema>
