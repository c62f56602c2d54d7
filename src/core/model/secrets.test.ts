/**
 * Every secret here is generated at run time from pieces and random characters, so the repository holds nothing
 * token-shaped for scanners (GitHub's push protection, ours) to trip on, and nothing that could be a live key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { looksRandom, redact, scanSecrets, scanText } from './secrets.js'
import type { Finding } from './types.js'
import { walkModelDir } from '../model-dir/walk.js'

const run = promisify(execFile)
let root: string
let count = 0

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'

/** `n` random characters of `alphabet`, starting with one of each class it has so that every class is present. */
function random(n: number, alphabet = UPPER + LOWER + DIGITS): string {
  const classes = [UPPER, LOWER, DIGITS].map(c => [...c].find(ch => alphabet.includes(ch))).filter(Boolean)
  const bytes = randomBytes(n)
  return (classes.join('') + [...bytes].map(b => alphabet[b % alphabet.length]).join('')).slice(0, n)
}

const join2 = (...parts: string[]) => parts.join('')
const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n)
const base64 = (bytes: number) => randomBytes(bytes).toString('base64')

async function scanTree(files: Record<string, string | Buffer>): Promise<Finding[]> {
  const dir = join(root, `t${count++}`)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return scanSecrets((await walkModelDir(dir)).files)
}

/** The finding for one file holding one secret: it names the line and shows four characters, never more. */
async function expectSecret(path: string, content: string, secret: string, what: RegExp, line: number) {
  const findings = await scanTree({ [path]: content })
  expect(findings).toHaveLength(1)
  expect(findings[0]).toMatchObject({ severity: 'error', file: path })
  expect(findings[0].message).toMatch(new RegExp(`^line ${line}: `))
  expect(findings[0].message).toMatch(what)
  expect(JSON.stringify(findings)).not.toContain(secret.slice(0, 6))
  return findings[0]
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-secrets-'))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('files that are credentials by name', () => {
  it.each([
    ['.env', 'dotenv'],
    ['config/.env.production', 'dotenv'],
    ['id_rsa', 'SSH private key'],
    ['keys/id_ed25519', 'SSH private key'],
    ['.netrc', '.netrc'],
    ['.pypirc', '.pypirc'],
    ['.git-credentials', 'git credential store']
  ])('%s is an error whatever it holds', async (path, what) => {
    const findings = await scanTree({ [path]: 'anything\n' })
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'error', file: path, message: expect.stringContaining(what) })
    ])
    expect(findings[0].message).toContain('must never ship')
  })

  it('leaves public keys and dotenv templates with placeholders alone', async () => {
    expect(
      await scanTree({
        'id_rsa.pub': `ssh-ed25519 ${base64(32)} me@host\n`,
        '.env.example': 'OPENAI_API_KEY=sk-your-key-here\nDATABASE_URL=\n',
        'environment.md': 'Put your secrets in a .env file, never in the model.\n'
      })
    ).toEqual([])
  })
})

describe('config files of tools, when they hold a credential', () => {
  it('.npmrc with an auth token, and not without one', async () => {
    const token = join2('np', 'm_', random(36))
    await expectSecret('.npmrc', `registry=https://r.example/\n//r.example/:_authToken=${token}\n`, token, /npm/, 2)
    expect(await scanTree({ '.npmrc': 'registry=https://registry.npmjs.org/\nsave-exact=true\n' })).toEqual([])
  })

  it('an AWS credentials file', async () => {
    const id = join2('AK', 'IA', random(16, UPPER + DIGITS))
    const secret = random(40, UPPER + LOWER + DIGITS + '/+')
    const findings = await scanTree({
      '.aws/credentials': `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`
    })
    expect(findings.map(f => f.message)).toEqual([
      `line 2: an AWS credentials file entry (${redact(id)})`,
      `line 3: an AWS secret access key (${redact(secret)})`
    ])
    expect(JSON.stringify(findings)).not.toContain(id.slice(0, 6))
    expect(JSON.stringify(findings)).not.toContain(secret.slice(0, 6))
  })

  it('a GCP service-account key', async () => {
    const body = base64(600)
    const json = JSON.stringify(
      {
        type: 'service_account',
        project_id: 'acme-ml',
        private_key_id: hex(40),
        private_key: `-----BEGIN ${'PRIVATE'} KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
        client_email: 'trainer@acme-ml.iam.gserviceaccount.com'
      },
      null,
      2
    )
    const finding = await expectSecret('sa.json', json, body, /GCP service-account key for trainer@acme-ml/, 5)
    expect(finding.message).toContain('(private_key)')
  })

  it('an Azure storage connection string', async () => {
    const key = base64(64)
    await expectSecret(
      'settings.ini',
      `[storage]\nconnection = DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${key};EndpointSuffix=core.windows.net\n`,
      key,
      /Azure/,
      2
    )
  })

  it('a .databrickscfg with a token', async () => {
    const token = join2('da', 'pi', hex(32))
    await expectSecret(
      '.databrickscfg',
      `[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = ${token}\n`,
      token,
      /Databricks/,
      3
    )
  })

  it('a kubeconfig with a token', async () => {
    const token = random(48)
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- cluster: {server: "https://k8s.example:6443"}',
      '  name: prod',
      'users:',
      '- name: ci',
      '  user:',
      `    token: ${token}`
    ].join('\n')
    await expectSecret('kubeconfig', kubeconfig, token, /kubeconfig credential/, 9)
  })

  it('Docker registry auths, in config.json and the legacy .dockercfg', async () => {
    const auth = Buffer.from(`ci:${random(20)}`).toString('base64')
    const config = JSON.stringify({ auths: { 'registry.example': { auth } } }, null, 2)
    await expectSecret('.docker/config.json', config, auth, /Docker registry credential/, 4)
    await expectSecret('.dockercfg', JSON.stringify({ 'registry.example': { auth } }), auth, /Docker/, 1)
    expect(await scanTree({ '.docker/config.json': '{"credsStore": "desktop"}' })).toEqual([])
  })
})

describe('token shapes in any small text file', () => {
  const cases: [string, () => string, RegExp][] = [
    ['GitHub classic', () => join2('gh', 'p_', random(36)), /GitHub token/],
    ['GitHub OAuth', () => join2('gh', 'o_', random(36)), /GitHub token/],
    ['GitHub app', () => join2('gh', 's_', random(36)), /GitHub token/],
    ['GitHub user-to-server', () => join2('gh', 'u_', random(36)), /GitHub token/],
    ['GitHub fine-grained', () => join2('github', '_pat_', random(22), '_', random(59)), /GitHub fine-grained/],
    ['Slack', () => join2('xo', 'xb-', random(12, DIGITS), '-', random(13, DIGITS), '-', random(24)), /Slack/],
    ['Databricks', () => join2('da', 'pi', hex(32)), /Databricks/],
    ['OpenAI', () => join2('s', 'k-', 'proj-', random(48)), /OpenAI style/],
    ['Anthropic', () => join2('s', 'k-', 'ant-', 'api03-', random(93)), /Anthropic/],
    ['Hugging Face', () => join2('h', 'f_', random(34, UPPER + LOWER)), /Hugging Face/],
    ['Google API', () => join2('AI', 'za', random(35)), /Google API key/],
    ['Stripe live', () => join2('s', 'k_', 'live_', random(24)), /Stripe/]
  ]

  it.each(cases)('%s', async (_, make, what) => {
    const token = make()
    const finding = await expectSecret('src/settings.py', `import os\n\nKEY = "${token}"\n`, token, what, 3)
    expect(finding.message).toContain(`(${token.slice(0, 4)}…)`)
  })

  it('a private key block in a .pem or .key file, or anywhere', async () => {
    for (const [path, kind] of [
      ['tls/server.pem', 'RSA '],
      ['tls/server.key', ''],
      ['notes.txt', 'OPENSSH ']
    ]) {
      const body = base64(900)
      const pem = `-----BEGIN ${kind}${'PRIVATE'} KEY-----\n${body}\n-----END ${kind}PRIVATE KEY-----\n`
      const finding = await expectSecret(path, `# key\n${pem}`, body, /private key/, 2)
      expect(finding.message).toBe(`line 2: a private key (-----BEGIN ${kind}PRIVATE KEY-----)`)
    }
  })

  it('a JWT whose header names an algorithm, and not three base64 words that are not one', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const jwt = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: 'ci', exp: 2e9 })}.${randomBytes(32).toString('base64url')}`
    await expectSecret('request.http', `Authorization: Bearer ${jwt}\n`, jwt, /signed JWT/, 1)
    const notJwt = `${encode({ kind: 'x', value: 'y' })}.${encode({ sub: 'ci' })}.${randomBytes(8).toString('base64url')}`
    expect(await scanTree({ 'data.txt': notJwt })).toEqual([])
  })

  it('an AWS key id with a secret-looking value is an error; an id alone is a warning; the docs example is nothing', async () => {
    const id = join2('AS', 'IA', random(16, UPPER + DIGITS))
    const secret = random(40, UPPER + LOWER + DIGITS + '/+')
    await expectSecret(
      'deploy.py',
      `s3 = client(\n  key="${id}",\n  secret="${secret}")\n`,
      secret,
      /AWS access key with its secret/,
      2
    )
    const alone = await scanTree({ 'deploy.py': `KEY_ID = "${id}"\nCOMMIT = "${hex(40)}"\n` })
    expect(alone).toEqual([
      expect.objectContaining({ severity: 'warning', message: `line 1: an AWS access key id (${redact(id)})` })
    ])
    expect(await scanTree({ 'README.md': `e.g. ${join2('AK', 'IA', 'IOSFODNN7', 'EXAMPLE')}\n` })).toEqual([])
  })

  it('lists at most 20 lines of one file, then counts the rest', async () => {
    const text = Array.from({ length: 30 }, () => `token = ${join2('gh', 'p_', random(36))}`).join('\n')
    const findings = scanText('tokens.txt', text)
    expect(findings).toHaveLength(21)
    expect(findings[19].message).toMatch(/^line 20: /)
    expect(findings[20].message).toBe('10 more lines hold secrets (not listed)')
  })

  it('reads only small text files: a NUL byte early or a size over 1 MiB skips the content', async () => {
    const token = join2('gh', 'p_', random(36))
    expect(
      await scanTree({
        'weights.bin': Buffer.concat([Buffer.from([0x80, 0x05, 0x00]), Buffer.from(` ${token} `)]),
        'huge.txt': `${'x'.repeat(1 << 20)}\n${token}\n`
      })
    ).toEqual([])
  })
})

describe('what is not a secret', () => {
  it('placeholders and identifiers with a token prefix', async () => {
    const findings = await scanTree({
      'a.py': [
        `KEY = "${join2('s', 'k-', 'x'.repeat(32))}"`,
        `KEY = "${join2('s', 'k-', 'your-openai-api-key-goes-here')}"`,
        `TOKEN = "${join2('gh', 'p_', 'x'.repeat(36))}"`,
        'from huggingface_hub import hf_hub_download, hf_hub_url',
        `name = "${join2('h', 'f_', 'abcdefghijklmnopqrstuvwxyzabcdefgh')}"`,
        'sklearn-compatible: sk-learn style estimators'
      ].join('\n')
    })
    expect(findings).toEqual([])
  })

  it("pip's hash-pinned requirements and MLflow's own YAML files", async () => {
    const findings = await scanTree({
      'requirements.txt': [
        'mlflow==3.17.2 \\',
        `    --hash=sha256:${hex(64)} \\`,
        `    --hash=sha256:${hex(64)}`,
        'scikit-learn==1.9.1 --hash=sha256:' + hex(64)
      ].join('\n'),
      MLmodel: [
        'artifact_path: model',
        'flavors:',
        '  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}',
        `model_uuid: ${hex(32)}`,
        `run_id: ${hex(32)}`,
        `model_id: m-${hex(32)}`,
        "utc_time_created: '2026-01-01 00:00:00.000000'"
      ].join('\n'),
      'conda.yaml':
        'channels: [conda-forge]\ndependencies: [python=3.11.7, pip, {pip: [mlflow==3.17.2]}]\nname: mlflow-env\n'
    })
    expect(findings).toEqual([])
  })

  const python = resolve('.venv/bin/python')
  const withMlflow = existsSync(python) ? it : it.skip
  withMlflow(
    'a real sklearn model saved by MLflow, pickled and with skops',
    async () => {
      const dir = join(root, 'mlflow-model')
      const script = [
        'import sys, numpy as np, mlflow.sklearn',
        'from sklearn.linear_model import LogisticRegression',
        'X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] > 0).astype(int)',
        'm = LogisticRegression().fit(X, y)',
        "kw = dict(input_example=X[:2], pip_requirements=['scikit-learn', 'numpy'])",
        "mlflow.sklearn.save_model(m, sys.argv[1] + '/pickled', serialization_format='cloudpickle', **kw)",
        "mlflow.sklearn.save_model(m, sys.argv[1] + '/skops', **kw)"
      ].join('\n')
      await run(python, ['-c', script, dir], { env: { ...process.env, MLFLOW_TRACKING_URI: `file:${dir}-runs` } })
      const walk = await walkModelDir(dir)
      expect(walk.files.map(f => f.path)).toEqual(expect.arrayContaining(['pickled/model.pkl', 'skops/MLmodel']))
      expect(await scanSecrets(walk.files)).toEqual([])
    },
    120_000
  )
})

describe('scanSecrets', () => {
  it('skips a file that vanished after the walk: the manifest check reports unreadable files', async () => {
    expect(await scanSecrets([{ path: 'gone.txt', absolute: join(root, 'gone.txt'), size: 10 }])).toEqual([])
  })

  it('fails a file the job may not read: it ships whatever it holds, unscanned', async () => {
    const dir = join(root, `t${count++}`)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'notes.txt')
    writeFileSync(file, `aws_secret_access_key = ${base64(30)}\n`, { mode: 0 })
    chmodSync(root, 0o755)
    chmodSync(dir, 0o755)
    // Root reads anything: scan as nobody, so the refusal is the kernel's own.
    const asRoot = process.getuid?.() === 0
    if (asRoot) process.seteuid!(65534)
    let findings: Finding[]
    try {
      findings = await scanSecrets([{ path: 'notes.txt', absolute: file, size: 70 }])
    } finally {
      if (asRoot) process.seteuid!(0)
    }
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'notes.txt',
        message: 'could not be read (EACCES), so it was not scanned for credentials'
      })
    ])
  })
})

describe('looksRandom', () => {
  it('wants both cases, digits unless told otherwise, and the entropy of a generated string', () => {
    expect(looksRandom(random(32))).toBe(true)
    expect(looksRandom(random(32, LOWER + DIGITS))).toBe(false)
    expect(looksRandom(random(32, UPPER + LOWER))).toBe(false)
    expect(looksRandom(random(32, UPPER + LOWER), { digits: false })).toBe(true)
    expect(looksRandom('aA1'.repeat(10))).toBe(false)
  })
})
