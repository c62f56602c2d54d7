/** The names of deploy-endpoint's inputs and outputs, as action.yml declares them. */
export enum Inputs {
  Target = 'target',
  Endpoint = 'endpoint',
  HaproxySocket = 'haproxy-socket',
  ModelUri = 'model-uri',
  TrackingUri = 'tracking-uri',
  Traffic = 'traffic',
  SmokeInput = 'smoke-input',
  Requests = 'requests',
  Timeout = 'timeout',
  Rollback = 'rollback',
  PromoteAlias = 'promote-alias',
  Environment = 'environment',
  DryRun = 'dry-run',
  Config = 'config',
  GitHubToken = 'github-token'
}

export enum Outputs {
  EndpointUrl = 'endpoint-url',
  DeployedVersion = 'deployed-version',
  PreviousVersion = 'previous-version',
  RolledBack = 'rolled-back',
  Changed = 'changed',
  LatencyP50Ms = 'latency-p50-ms',
  LatencyP95Ms = 'latency-p95-ms',
  ErrorRate = 'error-rate',
  DeploymentId = 'deployment-id',
  Report = 'report'
}
