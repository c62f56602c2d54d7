/**
 * The deployment recorder for a run: one that writes to GitHub, or one that records nothing. Kept apart from
 * deployments.ts so that the recorder logic does not import the GitHub client that implements its seam.
 */
import { GitHubDeploymentRecorder, noDeploymentRecorder, type DeploymentRecorder } from './deployments.js'
import type { GitHubClientOptions } from './octokit.js'

export interface OpenDeploymentRecorderOptions extends Omit<GitHubClientOptions, 'token' | 'owner' | 'repo' | 'log'> {
  readonly token?: string | undefined
  readonly repository?: { readonly owner: string; readonly repo: string } | undefined
  /** The workflow run's URL (the run context's `runUrl`), linked from each status. */
  readonly logUrl?: string | undefined
  readonly dryRun?: boolean | undefined
  readonly warn: (message: string) => void
  readonly info?: (message: string) => void
}

/**
 * The recorder for this run: one that writes to GitHub when there is a token and a repository and this is no dry
 * run, else one that records nothing (saying why through `info`).
 */
export async function openDeploymentRecorder(options: OpenDeploymentRecorderOptions): Promise<DeploymentRecorder> {
  const info = options.info ?? (() => undefined)
  if (options.dryRun) return noDeploymentRecorder
  if (!options.repository) {
    info('No GitHub repository (GITHUB_REPOSITORY): the rollout is not recorded as a GitHub deployment.')
    return noDeploymentRecorder
  }
  if (!options.token) {
    info('No GitHub token: the rollout is not recorded as a GitHub deployment.')
    return noDeploymentRecorder
  }
  const { createDeploymentApi } = await import('./octokit.js')
  const { token, repository, logUrl, dryRun: _dryRun, warn, info: _info, ...client } = options
  const api = createDeploymentApi({ ...client, token, ...repository, log: info })
  return new GitHubDeploymentRecorder(api, { warn, info, ...(logUrl ? { logUrl } : {}) })
}
