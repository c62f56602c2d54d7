import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGitSpec, readGitFile } from './git.js'
import { GitResolver, loadMetrics } from './source.js'
import { invalidValue, numberValue } from './types.js'
import { configurationRejection } from '../../../test/helpers/errors.js'

let root: string
let repo: string
let commits: { first: string; second: string }

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, text)
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-git-'))
  repo = join(root, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  git(repo, 'config', 'user.name', 'Modelgate Test')
  git(repo, 'config', 'user.email', 'test@example.com')
  git(repo, 'config', 'commit.gpgsign', 'false')
  write(join(repo, 'metrics/eval.json'), '{"accuracy": 0.91, "loss": NaN}\n')
  write(join(repo, 'metrics/a:b.yaml'), 'accuracy: 0.5\n')
  git(repo, 'add', '.')
  git(repo, 'commit', '-q', '-m', 'first')
  write(join(repo, 'metrics/eval.json'), '{"accuracy": 0.93, "loss": 0.2}\n')
  git(repo, 'commit', '-q', '-am', 'second')
  git(repo, 'tag', 'v1', 'HEAD~1')
  commits = { first: git(repo, 'rev-parse', 'HEAD~1'), second: git(repo, 'rev-parse', 'HEAD') }
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('parseGitSpec', () => {
  it('splits at the first colon after git:, since refs cannot hold one and paths can', () => {
    expect(parseGitSpec('git:origin/main:metrics/eval.json')).toEqual({ ref: 'origin/main', path: 'metrics/eval.json' })
    expect(parseGitSpec('git:HEAD~1:dir/a:b.json')).toEqual({ ref: 'HEAD~1', path: 'dir/a:b.json' })
    expect(parseGitSpec('git:HEAD')).toBeUndefined()
    expect(parseGitSpec('metrics.json')).toBeUndefined()
  })
})

describe('git sources', () => {
  const context = () => ({ workspace: repo, role: 'baseline' })

  it('reads a metrics file as it was at HEAD~1 and as it is at HEAD, with full provenance', async () => {
    const before = await loadMetrics('git:HEAD~1:metrics/eval.json', context())
    expect([...before.values]).toEqual([
      ['accuracy', numberValue(0.91)],
      ['loss', invalidValue('nan', 'NaN')]
    ])
    expect(before.provenance).toEqual({
      kind: 'git',
      spec: 'git:HEAD~1:metrics/eval.json',
      ref: 'HEAD~1',
      commit: commits.first,
      path: 'metrics/eval.json'
    })
    const now = await loadMetrics('git:HEAD:metrics/eval.json', context())
    expect(now.values.get('accuracy')).toEqual(numberValue(0.93))
    expect(now.provenance.commit).toBe(commits.second)
  })

  it('resolves branches, tags and shas, and paths that contain a colon', async () => {
    expect((await loadMetrics('git:main:metrics/eval.json', context())).provenance.commit).toBe(commits.second)
    expect((await loadMetrics('git:v1:metrics/eval.json', context())).provenance.commit).toBe(commits.first)
    const short = commits.first.slice(0, 10)
    expect((await loadMetrics(`git:${short}:metrics/eval.json`, context())).provenance.commit).toBe(commits.first)
    expect([...(await loadMetrics('git:HEAD:metrics/a:b.yaml', context())).values]).toEqual([
      ['accuracy', numberValue(0.5)]
    ])
  })

  it('explains an unknown ref with the actions/checkout fetch-depth advice', async () => {
    const error = await configurationRejection(loadMetrics('git:origin/main:metrics/eval.json', context()))
    expect(error.place).toEqual({ source: 'git:origin/main:metrics/eval.json' })
    expect(error.detail).toContain('baseline metrics: git ref "origin/main" is not a commit in the repository at')
    expect(error.detail).toContain('set fetch-depth: 0 on the checkout step')
    expect(error.detail).toContain('git fetch --depth=1 origin main')
  })

  it('says when the clone is shallow', async () => {
    const shallow = join(root, 'shallow')
    git(root, 'clone', '-q', '--depth', '1', `file://${repo}`, shallow)
    const error = await configurationRejection(
      loadMetrics('git:HEAD~1:metrics/eval.json', { workspace: shallow, role: 'baseline' })
    )
    expect(error.detail).toContain('(a shallow clone)')
    expect(error.detail).toContain('set fetch-depth: 0 on the checkout step, or at least 2 so that HEAD~1 is fetched')
  })

  it('names the ref and commit when the path is not there, or is a directory', async () => {
    const missing = await configurationRejection(loadMetrics('git:HEAD~1:metrics/missing.json', context()))
    expect(missing.detail).toBe(
      `baseline metrics: "metrics/missing.json" does not exist at HEAD~1 (commit ${commits.first.slice(0, 12)}); expected a file path relative to the repository root`
    )
    const directory = await configurationRejection(loadMetrics('git:HEAD:metrics.json', context()))
    expect(directory.detail).toContain('does not exist')
    mkdirSync(join(repo, 'sub.json'))
    write(join(repo, 'sub.json/x'), '1')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'dir')
    expect((await configurationRejection(loadMetrics('git:HEAD:sub.json', context()))).detail).toContain(
      'is a directory at HEAD'
    )
  })

  it('refuses a workspace that is not a git repository', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'modelgate-plain-'))
    try {
      const error = await configurationRejection(
        loadMetrics('git:HEAD:metrics.json', { workspace: plain, role: 'baseline' })
      )
      expect(error.detail).toContain(`${plain} is not a git repository`)
    } finally {
      rmSync(plain, { recursive: true, force: true })
    }
  })

  it('says when git is not installed, or the workspace does not exist', async () => {
    const resolvers = [new GitResolver({ git: join(root, 'no-such-git') })]
    const error = await configurationRejection(loadMetrics('git:HEAD:metrics/eval.json', context(), resolvers))
    expect(error.detail).toContain('git is not installed or not on PATH')
    const gone = await configurationRejection(
      loadMetrics('git:HEAD:m.json', { workspace: join(root, 'gone'), role: 'baseline' })
    )
    expect(gone.detail).toContain('does not exist, so git cannot run in it')
  })

  it('stops a git that hangs', async () => {
    const slow = join(root, 'slow-git')
    writeFileSync(slow, '#!/bin/sh\nexec sleep 10\n')
    chmodSync(slow, 0o755)
    const resolvers = [new GitResolver({ git: slow, timeoutMs: 200 })]
    const error = await configurationRejection(loadMetrics('git:HEAD:metrics/eval.json', context(), resolvers))
    expect(error.detail).toContain('did not finish within')
  })

  it('refuses options disguised as refs, and malformed specs, before running git', async () => {
    const resolvers = [new GitResolver({ git: join(root, 'no-such-git') })]
    expect((await configurationRejection(loadMetrics('git:--output=x:m.json', context(), resolvers))).detail).toContain(
      'starts with "-"'
    )
    expect((await configurationRejection(loadMetrics('git:HEAD', context(), resolvers))).detail).toContain(
      'missing its path'
    )
    expect((await configurationRejection(loadMetrics('git::m.json', context(), resolvers))).detail).toContain(
      'missing its ref'
    )
    expect((await configurationRejection(loadMetrics('git:HEAD:m.txt', context(), resolvers))).detail).toContain(
      'unsupported extension ".txt"'
    )
  })

  it('refuses a blob over the size limit without reading it', async () => {
    const error = await configurationRejection(
      readGitFile('HEAD', 'metrics/eval.json', { cwd: repo, source: 'git:HEAD:metrics/eval.json', maxBytes: 10 })
    )
    expect(error.detail).toMatch(/is \d+ bytes; a metrics file over 10 bytes is refused/)
  })
})
