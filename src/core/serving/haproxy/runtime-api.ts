/**
 * HAProxy's Runtime API (the stats socket at `level admin`): one command per connection, the answer read to EOF.
 *
 * Commands that change something answer with an empty text on success, except `add server` (`New server
 * registered.`) and `del server` (`Server deleted.`); any other text is HAProxy refusing (`No such server.`,
 * `Absolute weight can only be between 0 and 256 inclusive.`), so it is raised with the command and the answer.
 * Serving-facts §4.
 */
import { connect, type Socket } from 'node:net'
import { ServiceError } from '../../errors.js'

const ACCEPTED = new Set(['', 'New server registered.', 'Server deleted.'])
const DEFAULT_TIMEOUT_MS = 10_000

export class RuntimeApiError extends ServiceError {
  constructor(
    readonly command: string,
    readonly answer: string
  ) {
    const text = answer.trim().replace(/\s+/g, ' ')
    // A socket below `level admin` reads but refuses every change: say where that is set.
    const hint = /^Permission denied/.test(text)
      ? " (the socket's `stats socket` line in HAProxy's configuration needs `level admin`)"
      : ''
    super(`HAProxy Runtime API refused \`${command}\`: ${text || '(no answer)'}${hint}`)
    this.name = 'RuntimeApiError'
  }
}

export interface RuntimeApiOptions {
  /** A Unix socket path (`/run/haproxy/admin.sock`) or `host:port` for a TCP stats socket. */
  readonly address: string
  readonly timeoutMs?: number
}

export class RuntimeApi {
  readonly address: string
  private readonly timeoutMs: number

  constructor(options: RuntimeApiOptions) {
    this.address = options.address
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /** Sends one command and returns HAProxy's answer as it came (for `show …` and `get …`). */
  async query(command: string): Promise<string> {
    if (/[\n;]/.test(command)) throw new Error(`one Runtime API command at a time, got ${JSON.stringify(command)}`)
    return new Promise<string>((resolve, reject) => {
      const socket = this.open()
      const chunks: Buffer[] = []
      const timer = setTimeout(() => {
        socket.destroy()
        reject(
          new ServiceError(
            `HAProxy Runtime API at ${this.address}: no answer to \`${command}\` within ${this.timeoutMs} ms`
          )
        )
      }, this.timeoutMs)
      socket.on('connect', () => socket.end(`${command}\n`))
      socket.on('data', chunk => chunks.push(chunk))
      socket.on('error', error => {
        clearTimeout(timer)
        reject(
          new ServiceError(
            `HAProxy Runtime API at ${this.address} could not be reached for \`${command}\`: ${error.message}`
          )
        )
      })
      socket.on('close', hadError => {
        clearTimeout(timer)
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'))
      })
    })
  }

  /** Sends a command that changes something; raises RuntimeApiError unless HAProxy's answer means success. */
  async run(command: string): Promise<void> {
    const answer = await this.query(command)
    if (!ACCEPTED.has(answer.trim())) throw new RuntimeApiError(command, answer)
  }

  private open(): Socket {
    const tcp = /^(?<host>[^/]+):(?<port>\d+)$/.exec(this.address)
    if (!tcp) return connect({ path: this.address })
    // `[::1]:9999`, as HAProxy writes an IPv6 address with a port: the brackets are not part of the host.
    const host = tcp.groups!.host!.replace(/^\[(.*)\]$/, '$1')
    return connect({ host, port: Number(tcp.groups!.port) })
  }
}
