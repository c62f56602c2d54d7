/** The names of register-model's inputs and outputs, as action.yml declares them. */
export enum Inputs {
  Registry = 'registry',
  RegistryPath = 'registry-path',
  TrackingUri = 'tracking-uri',
  Name = 'name',
  ModelPath = 'model-path',
  Source = 'source',
  RunId = 'run-id',
  Aliases = 'aliases',
  Tags = 'tags',
  Description = 'description',
  ValidationReport = 'validation-report',
  ComparisonReport = 'comparison-report',
  Config = 'config',
  Timeout = 'timeout'
}

export enum Outputs {
  Version = 'version',
  ModelUri = 'model-uri',
  Created = 'created',
  Digest = 'digest',
  Report = 'report'
}
