/**
 * The Databricks workspace a registry or a serving target talks to: its URL, from an input or `DATABRICKS_HOST`, in
 * the form the Databricks SDKs accept, and the credentials (auth.ts) that go with it.
 */
import { ConfigurationError } from '../errors.js'
import { credentialsFromEnv, type DatabricksCredentials } from './auth.js'

/** Where the Databricks CLI and SDKs read the workspace URL. */
const HOST_VARIABLE = 'DATABRICKS_HOST'

export interface WorkspaceOptions {
  /** The workspace URL (`https://adb-….azuredatabricks.net`); a bare host name gets https://. */
  readonly host: string
  /** How errors name where the URL came from. Default `DATABRICKS_HOST`. */
  readonly hostSource?: string
  /** Where the credentials are read: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET. */
  readonly env: NodeJS.ProcessEnv
  readonly retryBaseMs?: number
  readonly fetch?: typeof fetch
  readonly log?: (line: string) => void
  /** The deadline of the operation (HttpClient's `signal`). */
  readonly signal?: AbortSignal
}

export interface DatabricksWorkspace {
  /** The normalized URL, without a trailing slash. */
  readonly url: string
  readonly hostSource: string
  readonly credentials: DatabricksCredentials
}

/** The workspace URL checked and its credentials read, before any request: a mistake in either is named now. */
export function openWorkspace(options: WorkspaceOptions): DatabricksWorkspace {
  const hostSource = options.hostSource ?? HOST_VARIABLE
  const url = normalizeHost(options.host, hostSource)
  const credentials = credentialsFromEnv({
    host: url,
    env: options.env,
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.signal ? { signal: options.signal } : {})
  })
  return { url, hostSource, credentials }
}

/**
 * The workspace URL as the SDKs accept it: a bare host name gets `https://`, a trailing slash goes. Anything else
 * that is not an http(s) URL is a mistake worth naming now rather than as a DNS failure after retries.
 */
export function normalizeHost(host: string, source: string): string {
  const trimmed = host.trim()
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new ConfigurationError(
      `"${host}" is not a workspace URL; expected the Databricks workspace URL, as in https://adb-1234567890123456.7.azuredatabricks.net`,
      { source }
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(
      `"${host}" is not an http(s) URL; expected the Databricks workspace URL, as in https://dbc-a1b2c3d4-e5f6.cloud.databricks.com`,
      { source }
    )
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}
