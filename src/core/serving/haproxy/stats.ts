/**
 * Reading a backend's servers back from HAProxy: `show servers state <backend>` for what is configured (address,
 * port, user weight, administrative state) and `show stat <backend> 4 -1` for what the checks and the traffic say
 * (status, sessions, answers by class). The two are merged by server name.
 *
 * `show stat`'s weight column is an effective weight rounded up (a server at weight 0 in maintenance shows 1), so
 * the weight is taken from `show servers state`'s `srv_uweight`. Free-text columns of `show stat` (check
 * descriptions) come late in the line, after every column read here, and are not split on.
 */

export interface ServerStatus {
  readonly name: string
  /** `127.0.0.1:41234` */
  readonly address: string
  /** The weight set by configuration or `set weight` (0–256). */
  readonly weight: number
  /** HAProxy's status text: `UP`, `DOWN`, `MAINT`, `DRAIN`, `no check`, `UP 1/2`, `DOWN 1/2`… */
  readonly status: string
  /** Administratively in maintenance (`disable server`, or a new dynamic server not yet enabled). */
  readonly maintenance: boolean
  readonly draining: boolean
  /** The last health check's short status (`L7OK`, `L4CON`, `L7STS`…), empty when checks are off. */
  readonly checkStatus: string
  /** Sessions (requests, for HTTP without keep-alive reuse) sent to the server since the last reload. */
  readonly sessions: number
  readonly responses2xx: number
  readonly responses4xx: number
  readonly responses5xx: number
}

const ADMIN_FORCED_MAINT = 0x01
const ADMIN_INHERITED_MAINT = 0x02
const ADMIN_CONFIG_MAINT = 0x04
const ADMIN_FORCED_DRAIN = 0x08
const ADMIN_INHERITED_DRAIN = 0x10
const ADMIN_RESOLVER_MAINT = 0x20
const ADMIN_HOST_MAINT = 0x40
const MAINT = ADMIN_FORCED_MAINT | ADMIN_INHERITED_MAINT | ADMIN_CONFIG_MAINT | ADMIN_RESOLVER_MAINT | ADMIN_HOST_MAINT
const DRAIN = ADMIN_FORCED_DRAIN | ADMIN_INHERITED_DRAIN

interface StateLine {
  name: string
  address: string
  weight: number
  admin: number
}

/** Parses `show servers state <backend>` (version line, `#` header, one space-separated line per server). */
export function parseServersState(text: string): StateLine[] {
  const lines = text.split('\n').filter(line => line.trim() !== '')
  const header = lines.find(line => line.startsWith('# '))
  if (!header) {
    if (lines.length <= 1) return []
    throw new Error(`unexpected \`show servers state\` answer: ${text.slice(0, 200)}`)
  }
  const columns = header.slice(2).trim().split(/\s+/)
  const at = (name: string) => {
    const index = columns.indexOf(name)
    if (index < 0) throw new Error(`\`show servers state\` has no column ${name}`)
    return index
  }
  const [nameAt, addrAt, portAt, weightAt, adminAt] = [
    'srv_name',
    'srv_addr',
    'srv_port',
    'srv_uweight',
    'srv_admin_state'
  ].map(at)
  return lines
    .filter(line => !line.startsWith('#') && /\s/.test(line.trim()))
    .map(line => {
      const fields = line.trim().split(/\s+/)
      return {
        name: fields[nameAt!]!,
        address: `${fields[addrAt!]}:${fields[portAt!]}`,
        weight: Number(fields[weightAt!]),
        admin: Number(fields[adminAt!])
      }
    })
}

interface StatLine {
  name: string
  status: string
  checkStatus: string
  sessions: number
  responses2xx: number
  responses4xx: number
  responses5xx: number
}

/** Parses `show stat` CSV (`# pxname,svname,…` header) into the server lines of one backend. */
export function parseStat(text: string, backend: string): StatLine[] {
  const lines = text.split('\n').filter(line => line.trim() !== '')
  const header = lines.find(line => line.startsWith('# '))
  if (!header) return []
  const columns = header.slice(2).split(',')
  const at = (name: string) => {
    const index = columns.indexOf(name)
    if (index < 0) throw new Error(`\`show stat\` has no column ${name}`)
    return index
  }
  const index = {
    px: at('pxname'),
    sv: at('svname'),
    status: at('status'),
    check: at('check_status'),
    stot: at('stot'),
    h2: at('hrsp_2xx'),
    h4: at('hrsp_4xx'),
    h5: at('hrsp_5xx')
  }
  const count = (value: string | undefined) => (value ? Number(value) : 0)
  return lines
    .filter(line => !line.startsWith('#'))
    .map(line => line.split(','))
    .filter(fields => fields[index.px] === backend && fields[index.sv] !== 'BACKEND' && fields[index.sv] !== 'FRONTEND')
    .map(fields => ({
      name: fields[index.sv]!,
      status: fields[index.status] ?? '',
      checkStatus: fields[index.check] ?? '',
      sessions: count(fields[index.stot]),
      responses2xx: count(fields[index.h2]),
      responses4xx: count(fields[index.h4]),
      responses5xx: count(fields[index.h5])
    }))
}

/** Merges the two answers by server name, in `show servers state` order. */
export function mergeServerStatus(state: readonly StateLine[], stat: readonly StatLine[]): ServerStatus[] {
  const byName = new Map(stat.map(line => [line.name, line]))
  return state.map(line => {
    const counters = byName.get(line.name)
    return {
      name: line.name,
      address: line.address,
      weight: line.weight,
      status: counters?.status ?? '',
      maintenance: (line.admin & MAINT) !== 0,
      draining: (line.admin & DRAIN) !== 0,
      checkStatus: counters?.checkStatus ?? '',
      sessions: counters?.sessions ?? 0,
      responses2xx: counters?.responses2xx ?? 0,
      responses4xx: counters?.responses4xx ?? 0,
      responses5xx: counters?.responses5xx ?? 0
    }
  })
}
