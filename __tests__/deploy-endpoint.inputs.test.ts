/**
 * deploy-endpoint's inputs and the config's `deploy:` section, without serving anything: typed settings from the
 * runner's INPUT_ variables, the parsers the action and the CLI share, the deploy rules taken from `metrics:`, and
 * the section's own errors, and the per-environment settings of `deploy.environments` merged with the rest.
 */
import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getInputs } from '../src/actions/deploy-endpoint/inputs.js'
import type { ActionIO } from '../src/actions/shared/action-io.js'
import { loadConfigFile } from '../src/core/config/load.js'
import {
  deployRules,
  deploySettingsFor,
  describeSettingsSource,
  parseRolloutTimeout,
  parseTraffic,
  runDeploy
} from '../src/core/gates/deploy.js'
import { runRegistration } from '../src/core/gates/register.js'
import { configurationErrorOf, configurationRejection } from '../test/helpers/errors.js'

function io(inputs: Record<string, string>): ActionIO & { secrets: string[] } {
  const secrets: string[] = []
  return {
    secrets,
    getInput: name => inputs[name] ?? '',
    setOutput: () => undefined,
    appendSummary: async () => undefined,
    setSecret: value => void secrets.push(value),
    debug: () => undefined,
    info: () => undefined,
    warning: () => undefined,
    setFailed: () => undefined
  }
}

describe('deploy-endpoint inputs', () => {
  it('reads every input into typed settings, with the defaults of action.yml', () => {
    const recorder = io({ 'model-uri': 'models:/churn@challenger', 'github-token': 'ghs_secret' })
    const settings = getInputs(recorder, { GITHUB_WORKSPACE: '/work/repo' })
    expect(settings).toMatchObject({
      workspace: '/work/repo',
      modelUri: 'models:/churn@challenger',
      traffic: 100,
      requests: 50,
      rollback: 'on-failure',
      dryRun: false,
      githubToken: 'ghs_secret'
    })
    expect(settings.rolloutTimeoutMs).toBeUndefined()
    expect(recorder.secrets).toEqual(['ghs_secret'])
  })

  it('parses traffic, requests, timeout, rollback, target and dry-run', () => {
    const settings = getInputs(
      io({
        'model-uri': 'models:/churn/3',
        target: 'haproxy',
        traffic: '10%',
        requests: '200',
        timeout: '1h30m',
        rollback: 'never',
        'dry-run': 'true'
      }),
      {}
    )
    expect(settings).toMatchObject({
      target: 'haproxy',
      traffic: 10,
      requests: 200,
      rolloutTimeoutMs: 90 * 60_000,
      rollback: 'never',
      dryRun: true
    })
  })

  it.each([
    [{ traffic: '0' }, `input 'traffic': expected a whole percentage from 1 to 100`],
    [{ traffic: '12.5' }, `input 'traffic': expected a whole percentage from 1 to 100`],
    [{ requests: 'many' }, `input 'requests': expected a whole number of requests`],
    [{ timeout: '15 minutes' }, `input 'timeout': expected a duration such as 15m, 90s or 1h30m, got "15 minutes"`],
    [{ rollback: 'always' }, `input 'rollback': expected "on-failure", "never", got "always"`],
    [{ target: 'kubernetes' }, `input 'target': expected "haproxy", "databricks", got "kubernetes"`],
    [{ 'dry-run': 'yes' }, `input 'dry-run': expected true or false, got "yes"`],
    [{ 'model-uri': '' }, `input 'model-uri': is required`]
  ])('refuses %j', (inputs, message) => {
    expect(() => getInputs(io({ 'model-uri': 'models:/churn/1', ...inputs }), {})).toThrow(message)
  })

  it('reads durations as users write them', () => {
    expect(parseRolloutTimeout('15m', 't')).toBe(900_000)
    expect(parseRolloutTimeout('90s', 't')).toBe(90_000)
    expect(parseRolloutTimeout('500ms', 't')).toBe(500)
    expect(parseRolloutTimeout('120', 't')).toBe(120_000)
    expect(() => parseRolloutTimeout('0s', 't')).toThrow('expected a duration')
    expect(() => parseRolloutTimeout('m15', 't')).toThrow('expected a duration')
    expect(parseTraffic(' 25 ', 't')).toBe(25)
  })
})

describe('deploy rules from metrics:', () => {
  it('takes upper bounds on the deploy metrics and nothing else', () => {
    const warnings: string[] = []
    const rules = deployRules(
      {
        accuracy: { direction: 'higher', min: 0.8 },
        'deploy.error_rate': { max: 0.01 },
        'deploy.latency_p95_ms': { direction: 'lower', threshold: 200 },
        'deploy.*': 'lower',
        'deploy.latency_p99_ms': { max: 300 }
      },
      '.modelgate.yml',
      line => warnings.push(line)
    )
    expect(rules).toEqual([
      { name: 'deploy.error_rate', max: 0.01 },
      { name: 'deploy.latency_p95_ms', max: 200 }
    ])
    expect(warnings).toEqual([
      '.modelgate.yml: metrics.deploy.latency_p99_ms is not a deploy metric (deploy.error_rate, deploy.latency_p50_ms, deploy.latency_p95_ms); a rollout ignores it'
    ])
  })

  it.each([
    [{ 'deploy.error_rate': 'lower' as const }, 'sets only a direction'],
    [{ 'deploy.error_rate': { min: 0 } }, 'sets min'],
    [
      { 'deploy.latency_p50_ms': { direction: 'lower' as const, 'max-regression-pct': 10, max: 5 } },
      'sets max-regression-pct'
    ],
    [{ 'deploy.latency_p50_ms': { direction: 'higher' as const, max: 5 } }, 'says higher is better'],
    [{ 'deploy.latency_p50_ms': { required: false, max: 5 } }, 'sets required: false'],
    [{ 'deploy.latency_p50_ms': { direction: 'lower' as const } }, 'has no max']
  ])('refuses a rule a rollout cannot judge: %j', (metrics, message) => {
    expect(() => deployRules(metrics, '.modelgate.yml')).toThrow(
      new RegExp(`^\\.modelgate\\.yml \\(metrics\\.deploy\\.\\w+\\): ${message}.*expected an upper bound`)
    )
  })
})

describe('the deploy: section of .modelgate.yml', () => {
  function load(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-config-'))
    writeFileSync(join(dir, '.modelgate.yml'), yaml)
    return loadConfigFile('.modelgate.yml', dir, true).finally(() => rmSync(dir, { recursive: true, force: true }))
  }

  it('accepts the documented keys', async () => {
    const loaded = await load(
      'model: churn\ndeploy:\n  target: haproxy\n  endpoint: churn\n  url: http://127.0.0.1:8080\n  runtime-api: /run/haproxy/admin.sock\n  server: mlflow\n  state-dir: /srv/modelgate\n'
    )
    expect(loaded!.config.deploy).toEqual({
      target: 'haproxy',
      endpoint: 'churn',
      url: 'http://127.0.0.1:8080',
      'runtime-api': '/run/haproxy/admin.sock',
      server: 'mlflow',
      'state-dir': '/srv/modelgate'
    })
  })

  it.each([
    [
      'model: churn\ndeploy:\n  target: kubernetes\n',
      /\.modelgate\.yml:3 \(deploy\.target\): .*"haproxy".*"databricks"/
    ],
    ['model: churn\ndeploy:\n  server: torchserve\n', /\.modelgate\.yml:3 \(deploy\.server\): .*"mlflow".*"mlserver"/],
    [
      'model: churn\ndeploy:\n  runtime_api: /x\n',
      /\.modelgate\.yml:3 \(deploy\.runtime_api\): unknown key "runtime_api"; did you mean "runtime-api"\?/
    ]
  ])('names the mistake in %j', async (yaml, message) => {
    await expect(load(yaml)).rejects.toThrow(message)
  })

  it('a deploy with no target anywhere is a ConfigurationError before anything is opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-config-'))
    try {
      writeFileSync(join(dir, '.modelgate.yml'), 'model: churn\n')
      await expect(runDeploy({ workspace: dir, modelUri: 'models:/churn/1' })).rejects.toThrow(
        `input 'target': is required: expected "haproxy" or "databricks" (or deploy.target in .modelgate.yml)`
      )
      await expect(runDeploy({ workspace: dir, modelUri: 'runs:/abc/model', target: 'haproxy' })).rejects.toThrow(
        `input 'model-uri': "runs:/abc/model" is not a registered version`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the state folder of the haproxy target', () => {
  it('one that cannot be written is a ConfigurationError naming deploy.state-dir, before anything is started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-state-'))
    try {
      cpSync(join('examples', 'churn-classifier', 'model'), join(dir, 'model'), { recursive: true })
      writeFileSync(join(dir, 'a-file'), '')
      writeFileSync(
        join(dir, '.modelgate.yml'),
        'model: churn\ndeploy:\n  target: haproxy\n  endpoint: churn\n  url: http://127.0.0.1:1\n  runtime-api: /nonexistent/admin.sock\n  state-dir: a-file/state\n'
      )
      await runRegistration({ workspace: dir, name: 'churn', modelPath: 'model', aliases: [], env: {} })
      const error = await configurationRejection(runDeploy({ workspace: dir, modelUri: 'models:/churn/1', env: {} }))
      expect(error.message).toMatch(
        `.modelgate.yml (deploy.state-dir): the state folder ${join(dir, 'a-file', 'state', 'churn')} cannot be written (ENOTDIR): expected a folder`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('deploy.environments: per-environment settings', () => {
  const section = {
    target: 'haproxy' as const,
    python: '/opt/venv/bin/python',
    url: 'http://127.0.0.1:9999',
    environments: {
      staging: { url: 'http://staging:8080', 'runtime-api': '/run/haproxy-staging.sock', 'state-dir': '/srv/staging' },
      production: {
        url: 'http://prod:8080',
        'runtime-api': 'prod:9999',
        endpoint: 'churn-live',
        python: '/usr/bin/python3'
      }
    }
  }

  it('puts the named entry over the top-level keys, key by key', () => {
    const { settings, source } = deploySettingsFor(section, {
      configFile: '.modelgate.yml',
      configRead: true,
      environment: 'staging'
    })
    expect(settings).toEqual({
      target: 'haproxy',
      python: '/opt/venv/bin/python',
      url: 'http://staging:8080',
      'runtime-api': '/run/haproxy-staging.sock',
      'state-dir': '/srv/staging'
    })
    expect(source).toMatchObject({
      configFile: '.modelgate.yml',
      environment: 'staging',
      entry: 'staging',
      fromInputs: []
    })
    expect(describeSettingsSource(source)).toBe('deploy.environments.staging over deploy in .modelgate.yml')
    expect(source.key('url')).toBe('deploy.environments.staging.url or deploy.url')
  })

  it('lets the inputs win over the entry and the top level: target, endpoint, haproxy-socket', () => {
    const { settings, source } = deploySettingsFor(section, {
      configFile: 'cfg.yml',
      configRead: true,
      environment: 'production',
      inputs: { target: 'databricks', endpoint: 'from-input', runtimeApi: '/run/input.sock' }
    })
    expect(settings).toEqual({
      target: 'databricks',
      python: '/usr/bin/python3',
      url: 'http://prod:8080',
      endpoint: 'from-input',
      'runtime-api': '/run/input.sock'
    })
    expect(describeSettingsSource(source)).toBe(
      'deploy.environments.production over deploy in cfg.yml; target, endpoint, runtime-api from the inputs'
    )
  })

  it('finds an entry whatever its case, as GitHub does with environment names', () => {
    const { settings, source } = deploySettingsFor(section, { configFile: 'cfg.yml', environment: 'Production' })
    expect(settings.url).toBe('http://prod:8080')
    expect(source).toMatchObject({ environment: 'Production', entry: 'production' })
  })

  it('uses the top-level keys when no environment is given, and says the map did not apply', () => {
    const { settings, source } = deploySettingsFor(section, { configFile: 'cfg.yml', configRead: true })
    expect(settings).toEqual({ target: 'haproxy', python: '/opt/venv/bin/python', url: 'http://127.0.0.1:9999' })
    expect(describeSettingsSource(source)).toBe(
      'deploy in cfg.yml (no environment given, so deploy.environments does not apply)'
    )
    expect(source.key('runtime-api')).toBe(
      "deploy.runtime-api (deploy.environments applies only when input 'environment' names one)"
    )
  })

  it('uses the top-level keys for any environment when the config has no map, as before', () => {
    const { environments: _none, ...top } = section
    const { settings, source } = deploySettingsFor(top, { configFile: 'cfg.yml', configRead: true, environment: 'qa' })
    expect(settings).toEqual(top)
    expect(source).toMatchObject({ environment: 'qa', fromInputs: [] })
    expect(source.entry).toBeUndefined()
    expect(describeSettingsSource(source)).toBe('deploy in cfg.yml')
    expect(describeSettingsSource(deploySettingsFor(undefined, { configFile: 'cfg.yml' }).source)).toBe(
      'no config file'
    )
  })

  it('refuses an environment the map lacks, naming the file, the map, the name given and the names known', () => {
    const error = configurationErrorOf(() =>
      deploySettingsFor(section, { configFile: 'deploy/cfg.yml', environment: 'prod', describe: name => `--${name}` })
    )
    expect(error.message).toBe(
      'deploy/cfg.yml (deploy.environments): has no settings for environment "prod" (--environment); it names "staging", "production". Add "prod" to deploy.environments, or give one of those names: with a deploy.environments map, a rollout never falls back to the top-level deploy settings'
    )
  })

  it('refuses any environment when the map is empty', () => {
    const error = configurationErrorOf(() =>
      deploySettingsFor({ environments: {} }, { configFile: 'cfg.yml', environment: 'staging' })
    )
    expect(error.message).toBe(
      `cfg.yml (deploy.environments): has no settings for environment "staging" (input 'environment'); it names none. Add "staging" to deploy.environments: with a deploy.environments map, a rollout never falls back to the top-level deploy settings`
    )
  })

  it('runDeploy refuses such an environment before opening anything, even in a dry run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-config-'))
    try {
      writeFileSync(
        join(dir, '.modelgate.yml'),
        'model: churn\ndeploy:\n  target: haproxy\n  environments:\n    staging: { url: "http://127.0.0.1:1" }\n'
      )
      const error = await configurationRejection(
        runDeploy({ workspace: dir, modelUri: 'models:/churn/1', environment: 'production', dryRun: true })
      )
      expect(error.message).toBe(
        `.modelgate.yml (deploy.environments): has no settings for environment "production" (input 'environment'); it names "staging". Add "production" to deploy.environments, or give one of those names: with a deploy.environments map, a rollout never falls back to the top-level deploy settings`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names the entry and the top-level key when a required setting is in neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-config-'))
    try {
      writeFileSync(
        join(dir, '.modelgate.yml'),
        'model: churn\ndeploy:\n  environments:\n    staging: { url: "http://127.0.0.1:1" }\n'
      )
      const error = await configurationRejection(
        runDeploy({ workspace: dir, modelUri: 'models:/churn/1', environment: 'staging' })
      )
      expect(error.message).toBe(
        `input 'target': is required: expected "haproxy" or "databricks" (or deploy.environments.staging.target or deploy.target in .modelgate.yml)`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('deploy.environments in .modelgate.yml', () => {
  function load(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-deploy-config-'))
    writeFileSync(join(dir, '.modelgate.yml'), yaml)
    return loadConfigFile('.modelgate.yml', dir, true).finally(() => rmSync(dir, { recursive: true, force: true }))
  }

  it('is accepted at the top level and in each entry of a models: list', async () => {
    const top = await load(
      'model: churn\ndeploy:\n  target: haproxy\n  environments:\n    staging:\n      url: http://staging:8080\n      runtime-api: /run/s.sock\n    production:\n      url: http://prod:8080\n'
    )
    expect(top!.config.deploy!.environments).toEqual({
      staging: { url: 'http://staging:8080', 'runtime-api': '/run/s.sock' },
      production: { url: 'http://prod:8080' }
    })
    const list = await load(
      'models:\n  - model: a\n    deploy:\n      target: databricks\n      environments:\n        staging: { endpoint: a-staging }\n        production: { endpoint: a }\n'
    )
    expect(list!.config.models![0]!.deploy!.environments).toEqual({
      staging: { endpoint: 'a-staging' },
      production: { endpoint: 'a' }
    })
  })

  it.each([
    [
      'a nested environments map',
      'model: churn\ndeploy:\n  environments:\n    staging:\n      environments: {}\n',
      '.modelgate.yml:5 (deploy.environments.staging.environments): unknown key "environments" (expected one of: target, endpoint, url, runtime-api, server, python, state-dir)'
    ],
    [
      'a misspelt key in an entry',
      'model: churn\ndeploy:\n  environments:\n    staging:\n      runtime_api: /x\n',
      '.modelgate.yml:5 (deploy.environments.staging.runtime_api): unknown key "runtime_api"; did you mean "runtime-api"?'
    ],
    [
      'a bad value in an entry',
      'model: churn\ndeploy:\n  environments:\n    production: { target: kubernetes }\n',
      '.modelgate.yml:4 (deploy.environments.production.target): expected "haproxy" or "databricks", got "kubernetes"'
    ],
    [
      'two names GitHub takes for one environment',
      'model: churn\ndeploy:\n  environments:\n    production: {}\n    Production: {}\n',
      '.modelgate.yml:5 (deploy.environments.Production): names the same GitHub environment as "production" (GitHub environment names are not case sensitive); keep one'
    ],
    [
      'an empty environment name',
      'model: churn\ndeploy:\n  environments:\n    "": {}\n',
      '.modelgate.yml:4 (deploy.environments[""]): an empty name is not allowed; expected a name'
    ]
  ])('refuses %s', async (_case, yaml, message) => {
    await expect(load(yaml)).rejects.toThrow(message)
  })
})
