/**
 * Credentials for a Databricks workspace, read the way the Databricks CLI and SDKs read them (unified client
 * authentication): the workspace URL (workspace.ts), then either a personal access token (`DATABRICKS_TOKEN`) or an OAuth service
 * principal (`DATABRICKS_CLIENT_ID` + `DATABRICKS_CLIENT_SECRET`, machine-to-machine).
 *
 * OAuth M2M is the client-credentials grant against the workspace's own token endpoint
 * (docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m): `POST <host>/oidc/v1/token` with HTTP Basic
 * `client_id:client_secret` and the form `grant_type=client_credentials&scope=all-apis`, answered with
 * `{access_token, token_type: "Bearer", expires_in}`. A token lives about an hour; it is cached, shared by concurrent
 * requests, and replaced shortly before it expires so no request carries a token the workspace is about to refuse.
 */
import * as z from 'zod/mini'
import { ConfigurationError, ServiceError } from '../errors.js'
import { NetworkError, type Auth } from '../http/client.js'
import { RestClient, type RestDialect } from '../http/rest.js'

export interface DatabricksCredentials {
  readonly auth: Auth
  readonly kind: 'pat' | 'oauth-m2m'
  /** The variables the credentials came from, for error messages that say what to fix. */
  readonly source: string
}

interface CredentialOptions {
  readonly host: string
  readonly env: NodeJS.ProcessEnv
  readonly fetch?: typeof fetch
  readonly retryBaseMs?: number
  readonly log?: (line: string) => void
  /** The deadline of the operation (HttpClient's `signal`). */
  readonly signal?: AbortSignal
}

const TOKEN_VARIABLE = 'DATABRICKS_TOKEN'
const CLIENT_ID_VARIABLE = 'DATABRICKS_CLIENT_ID'
const CLIENT_SECRET_VARIABLE = 'DATABRICKS_CLIENT_SECRET'

const MISSING =
  `Databricks credentials are missing; set ${TOKEN_VARIABLE} (a personal access token) or ${CLIENT_ID_VARIABLE} and ` +
  `${CLIENT_SECRET_VARIABLE} (an OAuth service principal with a secret), for example from repository secrets`

/**
 * Picks the credentials from the environment. Like the Databricks SDKs, both a token and a client id is refused
 * rather than guessed between: which identity registers a model decides who owns it.
 */
export function credentialsFromEnv(options: CredentialOptions): DatabricksCredentials {
  const env = options.env
  const token = env[TOKEN_VARIABLE]?.trim()
  const clientId = env[CLIENT_ID_VARIABLE]?.trim()
  const clientSecret = env[CLIENT_SECRET_VARIABLE]?.trim()
  if (token && (clientId || clientSecret)) {
    throw new ConfigurationError(
      `more than one Databricks authentication method is set (${TOKEN_VARIABLE} and ${clientId ? CLIENT_ID_VARIABLE : CLIENT_SECRET_VARIABLE}); set either a personal access token or an OAuth client id and secret, not both`,
      { source: TOKEN_VARIABLE }
    )
  }
  if (token) return { auth: { kind: 'bearer', token }, kind: 'pat', source: TOKEN_VARIABLE }
  if (clientId && !clientSecret) {
    throw new ConfigurationError(
      `${CLIENT_ID_VARIABLE} is set but ${CLIENT_SECRET_VARIABLE} is not; OAuth machine-to-machine needs the service principal's secret too`,
      { source: CLIENT_SECRET_VARIABLE }
    )
  }
  if (clientSecret && !clientId) {
    throw new ConfigurationError(
      `${CLIENT_SECRET_VARIABLE} is set but ${CLIENT_ID_VARIABLE} is not; set the service principal's application (client) id`,
      { source: CLIENT_ID_VARIABLE }
    )
  }
  if (!clientId || !clientSecret) throw new ConfigurationError(MISSING, { source: TOKEN_VARIABLE })
  const tokens = new OAuthTokenSource({
    host: options.host,
    clientId,
    clientSecret,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.signal ? { signal: options.signal } : {})
  })
  return {
    auth: { kind: 'token-provider', token: () => tokens.token() },
    kind: 'oauth-m2m',
    source: `${CLIENT_ID_VARIABLE}/${CLIENT_SECRET_VARIABLE}`
  }
}

const TokenResponse = z.looseObject({
  access_token: z.string(),
  token_type: z.optional(z.string()),
  // RFC 6749 says seconds as a number; some proxies send the digits as a string.
  expires_in: z.optional(z.union([z.number(), z.string()]))
})

interface OAuthTokenSourceOptions {
  readonly host: string
  readonly clientId: string
  readonly clientSecret: string
  readonly fetch?: typeof fetch
  readonly retryBaseMs?: number
  readonly log?: (line: string) => void
  /** The deadline of the operation (HttpClient's `signal`). */
  readonly signal?: AbortSignal
  /** For tests: the clock. */
  readonly now?: () => number
}

/** Used when the answer has no expires_in: the documented lifetime of an M2M token. */
const DEFAULT_LIFETIME_S = 3600
/** Refresh this long before expiry, at most: clock skew and a slow request must not meet an expired token. */
const MAX_REFRESH_MARGIN_MS = 60_000

class OAuthTokenSource {
  private readonly rest: RestClient<void>
  private readonly now: () => number
  private cached: { token: string; refreshAt: number } | undefined
  private pending: Promise<string> | undefined
  /** How many tokens were requested, for the step log and tests. */
  requests = 0

  constructor(options: OAuthTokenSourceOptions) {
    this.now = options.now ?? Date.now
    this.rest = new RestClient({
      baseUrl: options.host,
      auth: { kind: 'basic', username: options.clientId, password: options.clientSecret },
      label: 'Databricks OAuth',
      dialect: tokenDialect(options.host),
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.signal ? { signal: options.signal } : {})
    })
  }

  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token
    // Four uploads starting at once must share one token request, not race four.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async fetchToken(): Promise<string> {
    this.requests++
    const started = this.now()
    const answer = (await this.rest.call(undefined, TokenResponse, {
      method: 'POST',
      path: TOKEN_PATH,
      form: { grant_type: 'client_credentials', scope: 'all-apis' },
      // Asking for a token twice only mints two tokens: safe to repeat after a lost answer.
      idempotent: true
    }))!
    const lifetimeMs = (Number(answer.expires_in ?? DEFAULT_LIFETIME_S) || DEFAULT_LIFETIME_S) * 1000
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, lifetimeMs / 4)
    this.cached = { token: answer.access_token, refreshAt: started + lifetimeMs - margin }
    return answer.access_token
  }
}

const TOKEN_PATH = '/oidc/v1/token'

/** The token endpoint's answers in words: refused client credentials are the user's to fix. */
function tokenDialect(host: string): RestDialect<void> {
  const where = `the Databricks workspace at ${host}`
  return {
    name: where,
    describe: () => 'issue an OAuth token',
    unexpectedHint: 'is DATABRICKS_HOST a workspace URL?',
    isAbsent: () => false,
    translate: (_call, error) => {
      if (error instanceof NetworkError) {
        return new ServiceError(
          `could not get an OAuth token from ${host}${TOKEN_PATH} (${error.reason}) after retries`,
          undefined,
          error.timedOut ? 'TIMEOUT' : 'NETWORK'
        )
      }
      if (error.status === 400 || error.status === 401 || error.status === 403) {
        const body = error.json as { error?: unknown; error_description?: unknown } | undefined
        const why = [body?.error, body?.error_description].filter(part => typeof part === 'string').join(': ')
        return new ConfigurationError(
          `${where} refused the OAuth client credentials (HTTP ${error.status}${why ? `: ${why}` : ''}); check ${CLIENT_ID_VARIABLE} and ${CLIENT_SECRET_VARIABLE} (a service principal of this workspace, with a secret that has not expired)`,
          { source: CLIENT_ID_VARIABLE }
        )
      }
      return new ServiceError(
        `${where} failed to issue an OAuth token: HTTP ${error.status}: ${error.serverMessage}`,
        error.status
      )
    }
  }
}
