/**
 * The seam every metric source implements: a resolver claims the specs it understands (`git:…`, `models:/…`, a
 * path) and loads one into a MetricSet. source.ts tries them in order; registry-source.ts is one of them.
 */
import type { TuningOptions } from '../environment.js'
import type { RegistrySettings } from '../config/schema.js'
import type { MetricSet } from './types.js'

export interface SourceContext extends TuningOptions {
  /** Absolute workspace directory; relative file paths resolve against it; git runs in it. */
  workspace: string
  /** Which input this source came from ('candidate' | 'baseline' | a CLI flag name), for error messages. */
  role: string
  trackingUri?: string | undefined
  /** The config's `registry:` section, for registry sources. */
  registry?: RegistrySettings | undefined
  env?: NodeJS.ProcessEnv | undefined
  /** How errors name an input (`input 'tracking-uri'`, `--tracking-uri`). */
  describeInput?: (name: string) => string
}

export interface MetricSourceResolver {
  /** e.g. 'file', 'git', 'mlflow-run', 'models' */
  readonly scheme: string
  canResolve(spec: string): boolean
  load(spec: string, context: SourceContext): Promise<MetricSet>
}
