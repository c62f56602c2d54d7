/** The names of validate-model's inputs and outputs, as action.yml declares them. */
export enum Inputs {
  ModelPath = 'model-path',
  ModelUri = 'model-uri',
  TrackingUri = 'tracking-uri',
  Config = 'config',
  Model = 'model',
  Metrics = 'metrics',
  FailOn = 'fail-on'
}

export enum Outputs {
  Passed = 'passed',
  Report = 'report',
  Digest = 'digest',
  SizeBytes = 'size-bytes',
  Flavors = 'flavors'
}
