/** The names of compare-metrics' inputs and outputs, as action.yml declares them. */
export enum Inputs {
  Candidate = 'candidate',
  Baseline = 'baseline',
  Config = 'config',
  Rules = 'rules',
  Comment = 'comment',
  ReportId = 'report-id',
  FailOn = 'fail-on',
  GitHubToken = 'github-token',
  TrackingUri = 'tracking-uri'
}

export enum Outputs {
  Passed = 'passed',
  Verdict = 'verdict',
  Regressions = 'regressions',
  Report = 'report',
  Markdown = 'markdown',
  CommentUrl = 'comment-url'
}

export const COMMENT_MODES = ['auto', 'always', 'never'] as const
export type CommentMode = (typeof COMMENT_MODES)[number]
