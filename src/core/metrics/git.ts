/**
 * Reads one file as it is at a git ref, through the real `git` (no shell, no library): the same object lookup the
 * user would do by hand, so a mismatch between what we read and what they see cannot come from a reimplementation.
 */
import type { ExecFileException } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { ConfigurationError } from '../errors.js'
import { subject, type ParseContext } from './flatten.js'

export const GIT_TIMEOUT_MS = 30_000

export interface GitReadOptions extends ParseContext {
  /** Directory git runs in: the workspace. */
  readonly cwd: string
  /** The git executable; tests point it at a missing one. */
  readonly git?: string
  readonly timeoutMs?: number
  /** Largest blob accepted, in bytes. */
  readonly maxBytes: number
}

export interface GitFile {
  /** Full sha of the commit the ref resolved to. */
  readonly commit: string
  readonly bytes: Buffer
}

interface GitResult {
  readonly code: number
  readonly stdout: Buffer
  readonly stderr: string
}

/** `git:<ref>:<path>` split at the first colon after the scheme: refs cannot contain `:`, paths can. */
export function parseGitSpec(spec: string): { ref: string; path: string } | undefined {
  if (!spec.startsWith('git:')) return undefined
  const rest = spec.slice(4)
  const colon = rest.indexOf(':')
  if (colon < 0) return undefined
  return { ref: rest.slice(0, colon), path: rest.slice(colon + 1) }
}

/**
 * The ref exists and the file is not in it: for a baseline at the base branch, the pull request that adds the model
 * adds the file too. Still a ConfigurationError wherever a missing file is a mistake (the candidate); the compare
 * gate reads it as "no baseline yet" for the baseline.
 */
export class PathNotAtRef extends ConfigurationError {
  constructor(
    detail: string,
    place: { source: string },
    /** `"metrics/eval.json" does not exist at origin/main (commit 0123456789ab)`. */
    readonly absence: string
  ) {
    super(detail, place)
    this.name = 'PathNotAtRef'
  }
}

export async function readGitFile(ref: string, path: string, options: GitReadOptions): Promise<GitFile> {
  const place = { source: options.source }
  const who = subject(options)
  if (ref.startsWith('-')) {
    throw new ConfigurationError(
      `${who}: git ref ${JSON.stringify(ref)} starts with "-"; expected a branch, tag or commit`,
      place
    )
  }
  if (/[\n\r\0]/.test(path) || /[\n\r\0]/.test(ref)) {
    throw new ConfigurationError(
      `${who}: git ref or path contains a line break or NUL; expected git:<ref>:<path>`,
      place
    )
  }

  const verified = await runGit(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], options)
  if (verified.code !== 0) {
    checkRepository(verified.stderr, options)
    const shallow = await runGit(['rev-parse', '--is-shallow-repository'], options)
    const isShallow = shallow.code === 0 && shallow.stdout.toString('utf8').trim() === 'true'
    throw new ConfigurationError(
      `${who}: git ref ${JSON.stringify(ref)} is not a commit in the repository at ${options.cwd}${isShallow ? ' (a shallow clone)' : ''}. actions/checkout fetches a single commit by default: set fetch-depth: 0 on the checkout step, ${fetchHint(ref)}`,
      place
    )
  }
  const commit = verified.stdout.toString('utf8').trim()
  const object = `${commit}:${path}`

  const check = await runGit(['cat-file', '--batch-check'], options, `${object}\n`)
  if (check.code !== 0) failGit(check, ['cat-file', '--batch-check'], options)
  const line = check.stdout.toString('utf8').trim()
  const [, type, size] = /^[0-9a-f]+ (\S+) (\d+)$/.exec(line) ?? []
  const at = `${ref} (commit ${commit.slice(0, 12)})`
  if (type === undefined) {
    const absence = `${JSON.stringify(path)} does not exist at ${at}`
    throw new PathNotAtRef(`${who}: ${absence}; expected a file path relative to the repository root`, place, absence)
  }
  if (type === 'tree') {
    throw new ConfigurationError(
      `${who}: ${JSON.stringify(path)} is a directory at ${at}; expected a metrics file`,
      place
    )
  }
  if (type !== 'blob') {
    throw new ConfigurationError(
      `${who}: ${JSON.stringify(path)} is a ${type} at ${at} (a submodule?); expected a metrics file`,
      place
    )
  }
  if (Number(size) > options.maxBytes) {
    throw new ConfigurationError(
      `${who} file ${JSON.stringify(path)} at ${at} is ${Number(size)} bytes; a metrics file over ${options.maxBytes} bytes is refused`,
      place
    )
  }

  // The bytes as committed: a textconv driver configured for *.json must not rewrite what we compare.
  const show = ['show', '--no-textconv', object]
  const shown = await runGit(show, options)
  if (shown.code !== 0) failGit(shown, show, options)
  return { commit, bytes: shown.stdout }
}

/** The cheaper alternative to a full history, as the rest of the sentence after "set fetch-depth: 0". */
function fetchHint(ref: string): string {
  const ancestor = /^HEAD(?:~(\d*)|(\^+))$/.exec(ref)
  if (ancestor) {
    const depth = (ancestor[2] ? ancestor[2].length : Number(ancestor[1] || 1)) + 1
    return `or at least ${depth} so that ${ref} is fetched`
  }
  const remote = /^(?:refs\/remotes\/)?origin\/(.+)$/.exec(ref)
  return `or fetch the ref first (git fetch --depth=1 origin ${remote ? remote[1] : ref})`
}

/** Turns "not a repository" and "dubious ownership" into messages a workflow author can act on. */
function checkRepository(stderr: string, options: GitReadOptions): void {
  if (/not a git repository/i.test(stderr)) {
    throw new ConfigurationError(
      `${subject(options)}: ${options.cwd} is not a git repository; git: sources need a checkout (actions/checkout) of the repository in the workspace`,
      { source: options.source }
    )
  }
  if (/dubious ownership/i.test(stderr)) {
    throw new ConfigurationError(
      `${subject(options)}: git refuses the repository at ${options.cwd} because another user owns it; run git config --global --add safe.directory ${options.cwd}`,
      { source: options.source }
    )
  }
}

function failGit(result: GitResult, args: string[], options: GitReadOptions): never {
  checkRepository(result.stderr, options)
  throw new ConfigurationError(
    `${subject(options)}: git ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`,
    { source: options.source }
  )
}

/** Runs git; resolves with its exit code and output, and rejects only when git could not run at all. */
async function runGit(args: string[], options: GitReadOptions, input?: string): Promise<GitResult> {
  const timeout = options.timeoutMs ?? GIT_TIMEOUT_MS
  const git = options.git ?? 'git'
  // Loaded on first use: child_process brings net and the stream stack, ~3 ms of start-up a run without git: pays.
  const { execFile } = await import('node:child_process')
  const result = await new Promise<GitResult | { failure: ExecFileException }>(resolve => {
    const child = execFile(
      git,
      args,
      {
        cwd: options.cwd,
        encoding: 'buffer',
        timeout,
        // Room for the largest accepted blob plus git's own framing; the size was checked before `git show`.
        maxBuffer: options.maxBytes + 1024 * 1024,
        windowsHide: true,
        // English messages, so the checks above can recognise them; never prompt for anything.
        env: { ...process.env, LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' }
      },
      (error, stdout, stderr) => {
        // A numeric code is git's exit status; anything else means git did not run or did not finish.
        if (error && typeof error.code !== 'number') resolve({ failure: error })
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr: stderr.toString('utf8') })
      }
    )
    child.stdin?.on('error', () => {})
    child.stdin?.end(input ?? '')
  })
  if (!('failure' in result)) return result
  const error = result.failure
  if (error.code === 'ENOENT') {
    const cwdExists = await stat(options.cwd).then(
      info => info.isDirectory(),
      () => false
    )
    if (!cwdExists) {
      throw new ConfigurationError(
        `${subject(options)}: the workspace ${options.cwd} does not exist, so git cannot run in it`,
        {
          source: options.source
        }
      )
    }
    throw new ConfigurationError(
      `${subject(options)}: git is not installed or not on PATH (looked for ${JSON.stringify(git)}); git: sources need git`,
      { source: options.source }
    )
  }
  if (error.killed || error.signal) {
    throw new ConfigurationError(
      `${subject(options)}: git ${args[0]} did not finish within ${Math.round(timeout / 1000)} s (${error.signal ?? 'killed'})`,
      { source: options.source }
    )
  }
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    throw new ConfigurationError(`${subject(options)}: git ${args[0]} printed more than ${options.maxBytes} bytes`, {
      source: options.source
    })
  }
  throw error
}
