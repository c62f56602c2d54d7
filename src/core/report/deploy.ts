/**
 * A deploy-endpoint run rendered: the job summary (markdown), the CLI's text, and the JSON report. Each shows the plan
 * (what served before, the traffic steps, the rules), what every step observed, and the rollback's proof.
 */
import { describeSettingsSource, type DeployRun } from '../gates/deploy.js'
import type { RolloutReport, StepReport } from '../serving/rollout.js'
import { formatRoutes, formatServing } from '../serving/types.js'

const HEADLINES: Readonly<Record<RolloutReport['outcome'], string>> = {
  planned: 'planned (dry run, nothing changed)',
  unchanged: 'already serving, nothing changed',
  deployed: 'deployed',
  'rolled-back': 'failed, rolled back (proven)',
  failed: 'failed'
}

export function deployHeadline(run: DeployRun): string {
  const r = run.report
  return `${run.model} version ${run.version} → ${run.endpoint} (${run.target}): ${HEADLINES[r.outcome]}`
}

function planText(run: DeployRun): string {
  const plan = run.report.plan
  if (plan.steps.length === 0) return `nothing to do: v${plan.candidateVersion} already takes all traffic`
  return plan.steps.map(s => `${formatRoutes(s.routes, plan.candidateVersion)} (${s.requests} requests)`).join(' → ')
}

function rulesText(run: DeployRun): string {
  return run.rules.map(rule => `${rule.name} ≤ ${rule.max}`).join(', ')
}

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value * 10) / 10}` : 'n/a')
const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : 'n/a')

function stepRow(step: StepReport, index: number, candidate: string): string {
  const c = step.candidate
  const answered = Object.entries(step.byVersion)
    .map(([version, stats]) => `v${version}: ${stats.requests}`)
    .concat(step.unattributed.requests ? [`none: ${step.unattributed.requests}`] : [])
    .join(', ')
  return `| ${index + 1} | ${formatRoutes(step.routes, candidate)} | ${answered} | ${c.requests} | ${c.errors} | ${pct(c.errorRate)} | ${ms(c.latencyP50Ms)} | ${ms(c.latencyP95Ms)} | ${step.passed ? 'pass' : '**fail**'} |`
}

export function renderDeployMarkdown(run: DeployRun): string {
  const r = run.report
  const lines = [
    `## deploy-endpoint: ${deployHeadline(run)}`,
    '',
    '| | |',
    '|---|---|',
    `| Endpoint | ${run.endpointUrl} |`,
    `| Settings | ${escapeCell(describeSettingsSource(run.settings))} |`,
    `| Version | \`${run.modelUri}\` |`,
    `| Before | ${formatServing(r.plan.before, 'nothing serving')}${r.previousVersion ? ` (previous version ${r.previousVersion})` : ''} |`,
    `| Plan | ${planText(run)} |`,
    `| Checks | ${rulesText(run)} |`
  ]
  if (run.promotedAlias) lines.push(`| Alias | ${run.promotedAlias} → version ${run.version} |`)
  if (run.deployment) lines.push(`| GitHub deployment | ${run.deployment.id} (${run.deployment.state}) |`)
  if (r.failure) lines.push(`| Failure | ${r.failure.phase}: ${escapeCell(clip(r.failure.message))} |`)
  if (r.steps.length) {
    lines.push(
      '',
      '### Traffic steps',
      '',
      `Error rate and latency are version ${r.plan.candidateVersion}'s (with requests no version answered).`,
      '',
      '| Step | Traffic | Answered by | Requests | Errors | Error rate | p50 ms | p95 ms | Verdict |',
      '|---|---|---|---|---|---|---|---|---|',
      ...r.steps.map((step, i) => stepRow(step, i, r.plan.candidateVersion))
    )
    const failed = r.steps.find(s => !s.passed)
    if (failed) {
      const broken = failed.judgements.filter(j => !j.pass).map(j => `${j.name} ${ms(j.value)} > ${j.max}`)
      if (broken.length) lines.push('', `Broken rules: ${broken.join(', ')}.`)
      if (failed.firstErrors.length) lines.push('', `First error: \`${escapeCell(clip(failed.firstErrors[0]!))}\``)
    }
  }
  if (r.rollback) {
    const rb = r.rollback
    lines.push(
      '',
      '### Rollback',
      '',
      `${rb.proven ? 'Proven' : '**Not proven**'}: ${escapeCell(rb.message)}`,
      '',
      '| Router state | Servers (member version address weight) |',
      '|---|---|',
      `| Before the rollout | ${rb.before.join('<br>') || 'empty'} |`,
      `| Read back after the rollback | ${rb.after.join('<br>') || 'empty'} |`
    )
    if (rb.verification) {
      const v = rb.verification
      lines.push(
        '',
        `Verification: ${v.requests} requests, ${v.errors} errors, answered by ${Object.entries(v.byVersion)
          .map(([version, s]) => `v${version} (${s.requests})`)
          .join(', ')}.`
      )
    }
  }
  const t = r.timings
  if (t.applyToAnswerMs !== undefined || t.failureToProvenMs !== undefined) {
    lines.push(
      '',
      [
        t.applyToAnswerMs !== undefined
          ? `apply → new version answering: ${(t.applyToAnswerMs / 1000).toFixed(1)} s`
          : '',
        t.failureToProvenMs !== undefined
          ? `failure seen → previous version proven: ${(t.failureToProvenMs / 1000).toFixed(1)} s`
          : ''
      ]
        .filter(Boolean)
        .join('; ')
    )
  }
  return `${lines.join('\n')}\n`
}

export function renderDeployText(run: DeployRun): string {
  const r = run.report
  const lines = [
    deployHeadline(run),
    `  endpoint: ${run.endpointUrl}`,
    `  settings: ${describeSettingsSource(run.settings)}`,
    `  current:  ${formatServing(r.plan.before, 'nothing serving')}`,
    `  desired:  ${planText(run)}`,
    `  checks:   ${rulesText(run)}`
  ]
  for (const [i, step] of r.steps.entries()) {
    const c = step.candidate
    lines.push(
      `  step ${i + 1} ${formatRoutes(step.routes, r.plan.candidateVersion)}: ${c.requests} requests, ${c.errors} errors (${pct(c.errorRate)}), p50 ${ms(c.latencyP50Ms)} ms, p95 ${ms(c.latencyP95Ms)} ms: ${step.passed ? 'pass' : 'FAIL'}`
    )
  }
  if (r.failure) lines.push(`  failure:  ${r.failure.phase}: ${clip(r.failure.message)}`)
  if (r.rollback) lines.push(`  rollback: ${r.rollback.message}`)
  if (run.promotedAlias) lines.push(`  alias:    ${run.promotedAlias} → ${run.version}`)
  return `${lines.join('\n')}\n`
}

export function buildDeployJson(run: DeployRun): Record<string, unknown> {
  return {
    tool: 'modelgate',
    action: 'deploy-endpoint',
    passed: run.passed,
    dryRun: run.dryRun,
    model: run.model,
    version: run.version,
    modelUri: run.modelUri,
    target: run.target,
    endpoint: run.endpoint,
    endpointUrl: run.endpointUrl,
    settings: {
      ...(run.settings.configFile ? { configFile: run.settings.configFile } : {}),
      ...(run.settings.environment !== undefined ? { environment: run.settings.environment } : {}),
      ...(run.settings.entry !== undefined ? { entry: `deploy.environments.${run.settings.entry}` } : {}),
      fromInputs: run.settings.fromInputs
    },
    rules: run.rules,
    ...(run.promotedAlias ? { promotedAlias: run.promotedAlias } : {}),
    ...(run.deployment ? { deployment: run.deployment } : {}),
    rollout: run.report
  }
}

/** Model servers answer errors with whole stack traces; the summary shows their start, the JSON report all of it. */
export function clip(text: string, max = 240): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
