import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { isInside, openModelFile, walkModelDir } from './walk.js'
import { configurationRejection } from '../../../test/helpers/errors.js'

const run = promisify(execFile)
let root: string

function write(path: string, content: string | Buffer = ''): void {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, content)
}

function tree(name: string): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  return dir
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'modelgate-walk-'))
})

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

describe('walkModelDir', () => {
  it('lists nested, empty and unicode-named files sorted by path bytes, with sizes and forward slashes', async () => {
    const dir = tree('plain')
    write(join(dir, 'MLmodel'), 'flavors: {}\n')
    write(join(dir, 'data', 'model.pkl'), Buffer.alloc(10, 1))
    write(join(dir, 'data', 'deep', 'er', 'empty.txt'))
    write(join(dir, 'données', 'modèle.bin'), 'é')
    write(join(dir, 'z', '😀.txt'), 'x')
    write(join(dir, 'z', '\uffff.txt'), 'y')
    const walk = await walkModelDir(dir)
    expect(walk.findings).toEqual([])
    expect(walk.directories).toBe(5)
    // U+FFFF sorts before U+1F600 in UTF-16 but after it in UTF-8: the order is by bytes, as the manifest's.
    expect(walk.files.map(f => [f.path, f.size])).toEqual([
      ['MLmodel', 12],
      ['data/deep/er/empty.txt', 0],
      ['data/model.pkl', 10],
      ['données/modèle.bin', 2],
      ['z/\uffff.txt', 1],
      ['z/😀.txt', 1]
    ])
    expect(walk.files[0].absolute).toBe(join(dir, 'MLmodel'))
  })

  it('reports links out of the directory as errors naming where they point, and lists nothing behind them', async () => {
    const outside = tree('outside-target')
    write(join(outside, 'secret.txt'), 'hunter2')
    const dir = tree('escapes')
    write(join(dir, 'MLmodel'), 'x')
    mkdirSync(join(dir, 'data'))
    symlinkSync('../../../../../../../../etc/passwd', join(dir, 'data', 'passwd'))
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'absolute.txt'))
    symlinkSync(outside, join(dir, 'artifacts'))
    symlinkSync('does-not-exist.pkl', join(dir, 'dangling.pkl'))
    const walk = await walkModelDir(dir)
    expect(walk.files.map(f => f.path)).toEqual(['MLmodel'])
    const byFile = Object.fromEntries(walk.findings.map(f => [f.file, f]))
    expect(byFile['data/passwd']).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/symlink to "(\.\.\/)+etc\/passwd" \(\/etc\/passwd\), outside the model directory/)
    })
    expect(byFile['absolute.txt']).toMatchObject({
      severity: 'error',
      message: expect.stringContaining(`symlink to ${JSON.stringify(join(outside, 'secret.txt'))}`)
    })
    expect(byFile['absolute.txt'].message).toContain('outside the model directory')
    expect(byFile['artifacts']).toMatchObject({ severity: 'error', message: expect.stringContaining('outside') })
    expect(byFile['dangling.pkl']).toMatchObject({
      severity: 'error',
      message: 'is a symlink to "does-not-exist.pkl", which resolves to nothing (a dangling link)'
    })
    expect(walk.findings).toHaveLength(4)
  })

  it('warns about links inside the directory and does not follow them unless asked', async () => {
    const dir = tree('internal')
    write(join(dir, 'data', 'model.pkl'), 'weights')
    symlinkSync('data/model.pkl', join(dir, 'model.pkl'))
    symlinkSync('data', join(dir, 'alias'))
    const walk = await walkModelDir(dir)
    expect(walk.files.map(f => f.path)).toEqual(['data/model.pkl'])
    expect(walk.findings.map(f => [f.file, f.severity, f.message])).toEqual([
      ['alias', 'warning', 'is a symlink to "data" (data in the model directory); it was not followed'],
      [
        'model.pkl',
        'warning',
        'is a symlink to "data/model.pkl" (data/model.pkl in the model directory); it was not followed'
      ]
    ])

    const followed = await walkModelDir(dir, { followInternalSymlinks: true })
    expect(followed.files.map(f => [f.path, f.absolute])).toEqual([
      ['alias/model.pkl', join(dir, 'data', 'model.pkl')],
      ['data/model.pkl', join(dir, 'data', 'model.pkl')],
      ['model.pkl', join(dir, 'data', 'model.pkl')]
    ])
    expect(followed.findings.every(f => f.severity === 'warning' && f.message.endsWith('it was followed'))).toBe(true)
  })

  it('refuses links that loop, followed or not, and terminates on links that point at each other', async () => {
    const dir = tree('loops')
    write(join(dir, 'a', 'x.txt'), 'x')
    write(join(dir, 'b', 'y.txt'), 'y')
    symlinkSync('..', join(dir, 'a', 'up'))
    symlinkSync('../b', join(dir, 'a', 'to-b'))
    symlinkSync('../a', join(dir, 'b', 'to-a'))
    symlinkSync('self', join(dir, 'self'))
    for (const follow of [false, true]) {
      const walk = await walkModelDir(dir, { followInternalSymlinks: follow })
      const errors = walk.findings.filter(f => f.severity === 'error').map(f => f.file)
      expect(errors).toEqual(expect.arrayContaining(['a/up', 'self']))
      expect(walk.findings.find(f => f.file === 'self')?.message).toContain('a link loop')
      if (follow) {
        // a → to-b → b → to-a would come back to a: refused there, after one round.
        expect(errors).toContain('a/to-b/to-a')
        expect(walk.files.map(f => f.path)).toEqual(['a/to-b/y.txt', 'a/x.txt', 'b/to-a/x.txt', 'b/y.txt'])
      }
    }
  })

  it('reports a FIFO as an error without opening it', async () => {
    const dir = tree('fifo')
    write(join(dir, 'MLmodel'), 'x')
    await run('mkfifo', [join(dir, 'pipe')])
    // A walk that opened the FIFO would block here until the test timed out.
    const walk = await walkModelDir(dir)
    expect(walk.files.map(f => f.path)).toEqual(['MLmodel'])
    expect(walk.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'pipe',
        message: 'is a FIFO (named pipe), not a regular file'
      })
    ])
    await expect(openModelFile(join(dir, 'pipe'))).rejects.toMatchObject({ code: 'ENOTREGULAR' })
  })

  it('warns about names with control characters or backslashes, and rejects names that are not UTF-8', async () => {
    const dir = tree('names')
    write(join(dir, 'line\nbreak.txt'), 'x')
    write(join(dir, 'win\\dows.txt'), 'x')
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x66, 0xff, 0x2e])]), 'x')
    const walk = await walkModelDir(dir)
    expect(walk.files.map(f => f.path)).toEqual(['line\nbreak.txt', 'win\\dows.txt'])
    expect(walk.findings.map(f => [f.severity, f.message.split(' (')[0]])).toEqual(
      expect.arrayContaining([
        ['warning', 'has a control character in its name'],
        ['warning', 'has a backslash in its name, a path separator on Windows'],
        ['error', 'has a name that is not valid UTF-8']
      ])
    )
  })

  it('lists the directories it could not read, whose files the list therefore lacks', async () => {
    const dir = tree('locked')
    write(join(dir, 'MLmodel'), 'flavors: {}\n')
    write(join(dir, 'sub', 'weights.bin'), 'x')
    chmodSync(root, 0o755)
    chmodSync(join(dir, 'sub'), 0)
    // Root reads anything: walk as nobody, so the refusal is the kernel's own.
    const asRoot = process.getuid?.() === 0
    if (asRoot) process.seteuid!(65534)
    let walk: Awaited<ReturnType<typeof walkModelDir>>
    try {
      walk = await walkModelDir(dir)
    } finally {
      if (asRoot) process.seteuid!(0)
      chmodSync(join(dir, 'sub'), 0o755)
    }
    expect(walk.files.map(f => f.path)).toEqual(['MLmodel'])
    expect(walk.unlisted).toEqual(['sub'])
    expect((await walkModelDir(tree('plain'))).unlisted).toEqual([])
  })

  it('refuses a path that is not a directory, naming the input', async () => {
    write(join(root, 'file.txt'), 'x')
    const notDir = await configurationRejection(walkModelDir(join(root, 'file.txt')))
    expect(notDir.message).toMatch(
      /^input 'model-path': .*file\.txt is not a directory; expected an MLflow model directory/
    )
    const missing = await configurationRejection(walkModelDir(join(root, 'nope'), { source: '--model-path' }))
    expect(missing.message).toMatch(/^--model-path: .*nope does not exist/)
  })

  it('walks a model directory reached through a link, which is the user choosing a path', async () => {
    const dir = tree('real-model')
    write(join(dir, 'MLmodel'), 'x')
    symlinkSync(dir, join(root, 'linked-model'))
    const walk = await walkModelDir(join(root, 'linked-model'))
    expect(walk.files.map(f => f.path)).toEqual(['MLmodel'])
    expect(walk.findings).toEqual([])
  })
})

describe('isInside', () => {
  it('is true for the directory and below it, false for siblings sharing a prefix and parents', () => {
    expect(isInside('/m', '/m')).toBe(true)
    expect(isInside('/m', '/m/a/b')).toBe(true)
    expect(isInside('/m', '/m/..a')).toBe(true)
    expect(isInside('/m', '/mm/a')).toBe(false)
    expect(isInside('/m', '/')).toBe(false)
    expect(isInside('/m/a', '/m')).toBe(false)
  })
})
