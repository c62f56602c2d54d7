/**
 * What register-model checks before it registers a local model directory: the checks validate-model runs first
 * (MLmodel present, well formed, naming a flavor that can load it and holding the files that flavor loads), with the
 * same messages. Registering a folder that is not an MLflow model makes a version MLflow's client cannot load, and a
 * registry keeps it for good.
 */
import { ConfigurationError } from '../errors.js'
import { checkFlavorFiles, checkFlavors, checkMLmodel } from './model-checks.js'

/** Throws a ConfigurationError naming `source` (the model-path input) when `dir` is not a loadable MLflow model. */
export async function assertRegistrableModel(dir: string, source: string): Promise<void> {
  const { result, model } = await checkMLmodel(dir)
  // A model without python_function is still an MLflow model (its own flavor loads it), so only validate-model's
  // `allow-no-pyfunc` question is left to validate-model.
  const findings = [
    ...result.findings,
    ...(model
      ? [...checkFlavors(model, { allowNoPyfunc: true }).findings, ...(await checkFlavorFiles(dir, model))]
      : [])
  ]
  const errors = findings.filter(finding => finding.severity === 'error')
  if (!errors.length) return
  throw new ConfigurationError(
    `is not an MLflow model that can be registered: ${errors.map(e => e.message).join('; ')}`,
    { source }
  )
}
