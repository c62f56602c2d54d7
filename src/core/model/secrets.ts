/**
 * Credentials that must never ship inside a model: a model artifact is readable by everyone who can pull it from
 * the registry, for as long as the version exists, so a key in it is a leaked key.
 *
 * Two kinds of evidence. Some files are credentials by name (`.env`, `id_rsa`, `.netrc`): their content is not
 * read. Others are credentials by content: known token shapes, private key blocks, and the config files of cloud
 * CLIs when they hold a secret. Content is read only from small text files (at most 1 MiB, no NUL byte in the
 * first 8 KiB): MLflow's own binary artifacts (pickles, weights) are skipped, and a model's text files are small.
 *
 * A finding never holds the secret: it names the file, the line and the first four characters.
 */
import { basename } from 'node:path'
import { mapConcurrently } from '../concurrency.js'
import { errorCode } from '../errors.js'
import type { Finding, ModelFile } from './types.js'
import { openModelFile } from '../model-dir/walk.js'

export const MAX_SCANNED_BYTES = 1 << 20
const BINARY_SNIFF_BYTES = 8 << 10
/** Past this, one more finding tells the reader nothing new and a generated file could flood the report. */
const MAX_FINDINGS_PER_FILE = 20
const READ_CONCURRENCY = 8

const REVOKE = 'remove it from the model and revoke it: anyone who can pull the model can read it'

/** Files that are credentials whatever they hold. */
const SECRET_NAMES: readonly { readonly test: (name: string) => boolean; readonly what: string }[] = [
  {
    // Templates are checked for content instead: they conventionally hold placeholders.
    test: name => (name === '.env' || name.startsWith('.env.')) && !/^\.env\.(example|sample|template)$/.test(name),
    what: 'a dotenv file (environment secrets)'
  },
  { test: name => /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/.test(name), what: 'an SSH private key' },
  { test: name => name === '.netrc' || name === '_netrc', what: 'a .netrc file (login passwords)' },
  { test: name => name === '.pypirc', what: 'a .pypirc file (package index credentials)' },
  { test: name => name === '.git-credentials', what: 'a git credential store' }
]

interface Hit {
  /** Offset in the text, for the line number. */
  readonly index: number
  readonly what: string
  /** The value to show redacted; none when the finding shows no part of the secret. */
  readonly secret?: string
  readonly severity?: 'error' | 'warning'
}

/** Token shapes that are secrets in any file. `g` flag: every occurrence. */
interface TokenPattern {
  readonly what: string
  readonly pattern: RegExp
  /** Rejects matches that have the shape but not the randomness of a real token (placeholders, identifiers). */
  readonly accept?: (token: string) => boolean
}

const TOKEN_PATTERNS: readonly TokenPattern[] = [
  {
    what: 'a GitHub token',
    pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g,
    accept: token => looksRandom(token.slice(4), { digits: false })
  },
  { what: 'a GitHub fine-grained token', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}(?![A-Za-z0-9_])/g },
  { what: 'a Slack token', pattern: /(?<![A-Za-z0-9-])xox[abpr]-(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]{10,}/g },
  { what: 'a Databricks token', pattern: /(?<![A-Za-z0-9])dapi[0-9a-f]{32}(?:-\d+)?(?![A-Za-z0-9])/g },
  {
    what: 'an Anthropic API key',
    pattern: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g,
    accept: token => looksRandom(token.slice(7))
  },
  {
    what: 'an API key (sk-, OpenAI style)',
    pattern: /(?<![A-Za-z0-9_-])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g,
    accept: token => looksRandom(token.slice(3))
  },
  {
    what: 'a Hugging Face token',
    pattern: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_])/g,
    accept: token => looksRandom(token.slice(3), { digits: false })
  },
  { what: 'a Google API key', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  { what: 'a Stripe live secret key', pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[0-9A-Za-z]{20,}(?![A-Za-z0-9_])/g },
  {
    what: 'an Azure storage or service bus key',
    pattern: /(?<=(?:AccountKey|SharedAccessKey)=)[A-Za-z0-9+/]{20,}={0,2}/g,
    accept: token => looksRandom(token, { digits: false })
  },
  {
    what: 'an AWS secret access key',
    pattern: /(?<=aws_secret_access_key["']?\s*[=:]\s*["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/gi
  },
  {
    what: 'a signed JWT',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g,
    accept: jwtHasAlg
  }
]

const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g
const AWS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g
/** 40 characters of base64 alphabet standing alone: the shape of an AWS secret key. */
const AWS_SECRET_SHAPE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g

export async function scanSecrets(files: readonly ModelFile[]): Promise<Finding[]> {
  return (await scanSecretsCounted(files)).findings
}

/** The findings, and how many files were not read at all (binary, or over MAX_SCANNED_BYTES), for the summary. */
export async function scanSecretsCounted(
  files: readonly ModelFile[]
): Promise<{ findings: Finding[]; notRead: number }> {
  let notRead = 0
  const findings = await mapConcurrently(files, READ_CONCURRENCY, async file => {
    const scanned = await scanFile(file)
    if (scanned === NOT_READ) notRead++
    return scanned === NOT_READ ? [] : scanned
  })
  return { findings: findings.flat(), notRead }
}

const NOT_READ = Symbol('not read')

async function scanFile(file: ModelFile): Promise<Finding[] | typeof NOT_READ> {
  const name = basename(file.path)
  const byName = SECRET_NAMES.find(rule => rule.test(name))
  if (byName) {
    return [{ severity: 'error', file: file.path, message: `is ${byName.what}, which must never ship`, fix: REVOKE }]
  }
  if (file.size === 0) return []
  if (file.size > MAX_SCANNED_BYTES) return NOT_READ
  let text: string | undefined
  try {
    text = await readSmallText(file)
  } catch (error) {
    const code = errorCode(error)
    // A file gone since the walk ships nothing (the manifest check reports it); one the job may not read still
    // ships whatever it holds, so the scan cannot say it holds no credentials.
    if (code === 'ENOENT') return []
    return [
      {
        severity: 'error',
        file: file.path,
        message: `could not be read (${code}), so it was not scanned for credentials`,
        fix: 'make every file of the model readable by the job'
      }
    ]
  }
  return text === undefined ? NOT_READ : scanText(file.path, text)
}

/** The file as text, or undefined when it is binary or changed since the walk; throws when it cannot be read. */
async function readSmallText(file: ModelFile): Promise<string | undefined> {
  const handle = await openModelFile(file.absolute)
  try {
    // One byte over the walk's size shows a file that grew since; the manifest check fails on that anyway.
    const buffer = Buffer.allocUnsafe(file.size + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > file.size) return undefined
    }
    if (buffer.subarray(0, Math.min(length, BINARY_SNIFF_BYTES)).includes(0)) return undefined
    return buffer.toString('utf8', 0, length)
  } finally {
    await handle.close()
  }
}

/** Findings for one text file's content; `path` is its model-relative path (its name selects config-file rules). */
export function scanText(path: string, text: string): Finding[] {
  const hits = [...configFileHits(path, text), ...privateKeyHits(text), ...awsKeyHits(text), ...tokenHits(text)]
  const starts = lineStarts(text)
  // One finding per line: the first rule to fire is the most specific (a service-account file before the key in it).
  const byLine = new Map<number, Hit>()
  for (const hit of hits) {
    const line = lineOf(starts, hit.index)
    if (!byLine.has(line)) byLine.set(line, hit)
  }
  const lines = [...byLine.keys()].sort((a, b) => a - b)
  const findings: Finding[] = lines.slice(0, MAX_FINDINGS_PER_FILE).map(line => {
    const hit = byLine.get(line) as Hit
    const shown = hit.secret === undefined ? '' : ` (${redact(hit.secret)})`
    return {
      severity: hit.severity ?? 'error',
      file: path,
      message: `line ${line}: ${hit.what}${shown}`,
      fix: hit.severity === 'warning' ? 'check that the model needs it and that its secret is not shipped too' : REVOKE
    }
  })
  const more = lines.length - findings.length
  if (more > 0) {
    findings.push({
      severity: 'error',
      file: path,
      message: `${more} more lines hold secrets (not listed)`,
      fix: REVOKE
    })
  }
  return findings
}

function configFileHits(path: string, text: string): Hit[] {
  const name = basename(path)
  const hits: Hit[] = []
  const first = (pattern: RegExp, what: string, group = 1): void => {
    const match = pattern.exec(text)
    if (match) hits.push({ index: match.index, what, secret: match[group] })
  }
  if (/"type"\s*:\s*"service_account"/.test(text)) {
    const key = /"private_key"\s*:\s*"[^"]/.exec(text)
    const email = /"client_email"\s*:\s*"([^"]+)"/.exec(text)?.[1]
    if (key) {
      hits.push({ index: key.index, what: `a GCP service-account key${email ? ` for ${email}` : ''} (private_key)` })
    }
  }
  if (/^kind:\s*["']?Config["']?\s*$/m.test(text) && /^\s*clusters:/m.test(text)) {
    first(
      /^\s*(?:token|client-key-data|password|id-token|refresh-token|access-token):\s*["']?([^\s"']+)/m,
      'a kubeconfig credential'
    )
  }
  if (/"auths"\s*:/.test(text) || name === '.dockercfg') {
    first(/"(?:auth|identitytoken|registrytoken)"\s*:\s*"([^"]+)"/, 'a Docker registry credential')
  }
  if (name === '.npmrc') first(/^\s*(?:\/\/\S*:)?_(?:authToken|auth|password)\s*=\s*(\S+)/m, 'an npm registry token')
  if ((name === 'credentials' || path.includes('.aws/')) && /^\s*\[[^\]\n]+\]/m.test(text)) {
    first(/^\s*aws_(?:access_key_id|secret_access_key|session_token)\s*=\s*(\S+)/m, 'an AWS credentials file entry')
  }
  if (name === '.databrickscfg') first(/^\s*(?:token|password|client_secret)\s*=\s*(\S+)/m, 'a Databricks credential')
  return hits
}

function privateKeyHits(text: string): Hit[] {
  // The armour line names the kind of key and is no part of the secret, so it is shown whole.
  return [...text.matchAll(PRIVATE_KEY)].map(match => ({ index: match.index, what: `a private key (${match[0]})` }))
}

/** A key id is an account's name, its secret the password: the pair is a credential, an id alone only a clue. */
function awsKeyHits(text: string): Hit[] {
  const ids = [...text.matchAll(AWS_KEY_ID)].filter(match => !match[0].endsWith('EXAMPLE'))
  if (ids.length === 0) return []
  const secret = [...text.matchAll(AWS_SECRET_SHAPE)].find(match => looksLikeAwsSecret(match[0]))
  return ids.map(match =>
    secret
      ? { index: match.index, what: 'an AWS access key with its secret key', secret: match[0] }
      : { index: match.index, what: 'an AWS access key id', secret: match[0], severity: 'warning' as const }
  )
}

function tokenHits(text: string): Hit[] {
  const hits: Hit[] = []
  for (const { what, pattern, accept } of TOKEN_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      if (!accept || accept(match[0])) hits.push({ index: match.index, what, secret: match[0] })
    }
  }
  return hits
}

/** A JWT whose header decodes to a JSON object naming its algorithm: a real token, not three base64 words. */
function jwtHasAlg(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'))
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string'
  } catch {
    return false
  }
}

function looksLikeAwsSecret(value: string): boolean {
  // 40 hex digits is a git commit or a sha1, not a key.
  return !/^[0-9a-f]+$/i.test(value) && looksRandom(value)
}

/**
 * Whether a token body has the character mix and entropy of a generated secret: placeholders
 * (`sk-your-key-here-xxxxxxxxxxxx`) and identifiers are words, mostly one case, and repeat characters.
 */
export function looksRandom(body: string, need: { digits?: boolean } = {}): boolean {
  if (!/[a-z]/.test(body) || !/[A-Z]/.test(body)) return false
  if ((need.digits ?? true) && !/[0-9]/.test(body)) return false
  return entropy(body) >= 3.5
}

/** Shannon entropy in bits per character. */
function entropy(text: string): number {
  const counts = new Map<string, number>()
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
  let bits = 0
  for (const count of counts.values()) {
    const p = count / text.length
    bits -= p * Math.log2(p)
  }
  return bits
}

export function redact(secret: string): string {
  return `${[...secret].slice(0, 4).join('')}…`
}

function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

/** 1-based line of an offset. */
function lineOf(starts: readonly number[], index: number): number {
  let low = 0
  let high = starts.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (starts[mid] <= index) low = mid
    else high = mid - 1
  }
  return low + 1
}
