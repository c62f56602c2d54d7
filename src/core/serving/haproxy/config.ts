/**
 * The HAProxy configuration modelgate writes for a self-hosted endpoint: one frontend on the address clients use,
 * one backend per endpoint whose servers (one per model version) are added and weighted at run time through the
 * admin socket. Serving-facts §4 has the measurements behind each line.
 */

export interface HaproxyConfigOptions {
  /** The Runtime API socket path. */
  readonly socket: string
  /** The backend's name, which is the endpoint's name. */
  readonly backend: string
  /** Where clients connect, `127.0.0.1:8080`. */
  readonly bind: string
  /** The path the health check GETs: `/ping` for `mlflow models serve`. */
  readonly readyPath?: string
  /** Longest a scoring request may take at the model server, in ms. Default 60 s. */
  readonly serverTimeoutMs?: number
  /** Master pid file, so a later run can reload or stop this HAProxy. */
  readonly pidFile?: string
}

export function haproxyConfig(options: HaproxyConfigOptions): string {
  const readyPath = options.readyPath ?? '/ping'
  if (!/^\/\S*$/.test(readyPath)) throw new Error(`the ready path must start with / and hold no spaces: ${readyPath}`)
  return [
    '# Written by modelgate. Servers are added, weighted and removed at run time through the admin socket;',
    '# a reload forgets them, so modelgate reads the servers back before every change.',
    'global',
    `  stats socket ${options.socket} mode 600 level admin expose-fd listeners`,
    ...(options.pidFile ? [`  pidfile ${options.pidFile}`] : []),
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    `  timeout server ${options.serverTimeoutMs ?? 60_000}ms`,
    '  timeout check 2s',
    // A request whose connection failed or came back empty is sent again, to another server: a version that dies
    // costs few errors. Real answers (a 400 from a model that raises) are never retried, so they stay counted.
    '  retries 2',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '',
    `frontend ${options.backend}-in`,
    `  bind ${options.bind}`,
    `  default_backend ${options.backend}`,
    '',
    `backend ${options.backend}`,
    // Weighted round robin splits exactly (90/10 gives 900/100 of 1,000), so tests can assert counts.
    '  balance roundrobin',
    `  option httpchk GET ${readyPath}`,
    // Names the server that answered; the rollout attributes every answer with it.
    '  http-response set-header X-Served-By %s',
    '  default-server inter 500ms fall 2 rise 1',
    ''
  ].join('\n')
}
