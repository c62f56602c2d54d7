import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { EXAMPLE_MODEL } from '../../../test/fixtures/models/real-models.js'
import { inspectEnvironment, normalizeName, parseRequirements } from './environment.js'
import { parseMLmodel } from '../model-dir/mlmodel.js'

describe('parseRequirements', () => {
  it('reads what pip reads', () => {
    const text = [
      '# pinned by MLflow',
      'mlflow==3.17.2',
      'Scikit_Learn == 1.9.1 ; python_version >= "3.9"  # trailing comment',
      'numpy>=2,<3',
      'pandas',
      'scipy===1.17.1',
      'requests[socks]==2.32.3',
      'torch==2.* ',
      'mypkg @ https://example.com/mypkg-1.0-py3-none-any.whl',
      'hashed>=1 \\',
      '    --hash=sha256:abc',
      'git+https://github.com/org/repo.git@v1.2.0#egg=repo',
      'git+https://github.com/org/repo.git',
      './wheels/local-1.0-py3-none-any.whl',
      '-r extra.txt',
      '--constraint constraints.txt',
      '-e ./src',
      '--index-url https://pypi.example.com/simple',
      ''
    ].join('\n')
    const rows = parseRequirements(text).map(r => [r.line, r.kind, r.name ?? r.target ?? r.text, r.pinned])
    expect(rows).toEqual([
      [2, 'package', 'mlflow', true],
      [3, 'package', 'scikit-learn', true],
      [4, 'package', 'numpy', false],
      [5, 'package', 'pandas', false],
      [6, 'package', 'scipy', true],
      [7, 'package', 'requests', true],
      [8, 'package', 'torch', false],
      [9, 'package', 'mypkg', true],
      [10, 'package', 'hashed', true],
      [12, 'url', 'git+https://github.com/org/repo.git@v1.2.0#egg=repo', true],
      [13, 'url', 'git+https://github.com/org/repo.git', false],
      [14, 'url', './wheels/local-1.0-py3-none-any.whl', true],
      [15, 'include', 'extra.txt', true],
      [16, 'constraint', 'constraints.txt', true],
      [17, 'editable', '-e ./src', false],
      [18, 'option', '--index-url https://pypi.example.com/simple', true]
    ])
    expect(parseRequirements('numpy == 2.4.6')[0]?.specifier).toBe('==2.4.6')
  })

  it('normalises names as PEP 503 does', () => {
    expect(normalizeName('Scikit_Learn')).toBe('scikit-learn')
    expect(normalizeName('zope.interface')).toBe('zope-interface')
  })
})

describe('inspectEnvironment', () => {
  let root: string
  let count = 0
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelgate-env-'))
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  /** A copy of the committed example model with some files replaced (null deletes). */
  async function modelWith(files: Record<string, string | null> = {}) {
    const dir = join(root, `model-${count++}`)
    await cp(EXAMPLE_MODEL, dir, { recursive: true })
    for (const [name, content] of Object.entries(files)) {
      if (content === null) await rm(join(dir, name))
      else await writeFile(join(dir, name), content)
    }
    const model = parseMLmodel(await readFile(join(dir, 'MLmodel'), 'utf8'), dir)
    return inspectEnvironment(dir, model)
  }

  it('finds nothing to say about the example model', async () => {
    const { findings, data } = await modelWith()
    expect(findings).toEqual([])
    expect(data).toEqual({
      python: '3.11.7',
      requirements: 6,
      unpinned: [],
      mlflow: '3.17.2',
      files: ['requirements.txt', 'python_env.yaml', 'conda.yaml']
    })
  })

  it('warns about unpinned requirements and names them', async () => {
    const { findings, data } = await modelWith({
      'requirements.txt': 'mlflow==3.17.2\nnumpy>=2\npandas\nscikit-learn~=1.9\nscipy==1.17.1\nskops==0.16.0\n'
    })
    expect(data.unpinned).toEqual(['numpy', 'pandas', 'scikit-learn'])
    expect(findings).toContainEqual({
      severity: 'warning',
      file: 'requirements.txt',
      message: '3 dependencies are not pinned to an exact version: numpy, pandas, scikit-learn',
      fix: 'pin them (name==version), e.g. with pip_requirements=[...] when logging the model'
    })
    // conda.yaml still pins them, so the two lists now disagree.
    expect(findings.find(f => f.file === 'conda.yaml')?.message).toMatch(/pinned differently: numpy \(==2.4.6 vs >=2\)/)
  })

  it('warns when the files state different Python versions', async () => {
    const { findings } = await modelWith({
      'python_env.yaml': 'python: 3.10.14\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n'
    })
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: 'the Python versions differ: MLmodel says 3.11.7, python_env.yaml says 3.10.14, conda.yaml says 3.11.7'
      })
    ])
  })

  it('fails a model without requirements.txt', async () => {
    const { findings } = await modelWith({ 'requirements.txt': null })
    expect(findings.filter(f => f.severity === 'error').map(f => [f.file, f.message])).toEqual([
      ['requirements.txt', 'requirements.txt is missing: the serving environment has no list of packages to install'],
      ['python_env.yaml', 'dependencies: "-r requirements.txt" points at requirements.txt, which is missing']
    ])
  })

  it('warns when mlflow is not a requirement', async () => {
    const requirements = (await readFile(join(EXAMPLE_MODEL, 'requirements.txt'), 'utf8')).replace(/^mlflow==.*\n/m, '')
    const conda = (await readFile(join(EXAMPLE_MODEL, 'conda.yaml'), 'utf8')).replace(/^ {2}- mlflow==.*\n/m, '')
    const { findings } = await modelWith({ 'requirements.txt': requirements, 'conda.yaml': conda })
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/^mlflow is not listed/),
        fix: 'add mlflow==3.17.2'
      })
    ])
  })

  it('follows -r includes and fails one that is missing or outside the model', async () => {
    const base = await readFile(join(EXAMPLE_MODEL, 'requirements.txt'), 'utf8')
    const included = await modelWith({ 'requirements.txt': `${base}\n-r extra.txt\n`, 'extra.txt': 'rich\n' })
    expect(included.data.unpinned).toEqual(['rich'])
    const missing = await modelWith({ 'requirements.txt': `${base}\n-r extra.txt\n-r ../../etc/passwd\n` })
    expect(missing.findings.filter(f => f.severity === 'error').map(f => f.message)).toEqual([
      'line 7: -r extra.txt: extra.txt is missing',
      'line 8: -r ../../etc/passwd: ../../etc/passwd is outside the model directory'
    ])
  })

  it('does not follow a symlink out of the model directory', async () => {
    const dir = join(root, 'linked')
    await cp(EXAMPLE_MODEL, dir, { recursive: true })
    await rm(join(dir, 'requirements.txt'))
    await symlink('/etc/hostname', join(dir, 'requirements.txt'))
    const { findings } = await inspectEnvironment(dir, parseMLmodel(await readFile(join(dir, 'MLmodel'), 'utf8'), dir))
    expect(findings[0]?.message).toBe(
      'requirements.txt is outside the model directory: the serving environment has no list of packages to install'
    )
  })

  it('reports a python version YAML read as a number, and broken YAML with its line', async () => {
    const number = await modelWith({ 'python_env.yaml': 'python: 3.10\ndependencies:\n- -r requirements.txt\n' })
    expect(number.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        message:
          'python: 3.1 is a YAML number, so 3.10 reads as 3.1; MLflow refuses a python version that is not a string'
      })
    )
    const broken = await modelWith({ 'conda.yaml': 'name: mlflow-env\ndependencies:\n- python=3.11.7\n  - pip: [\n' })
    expect(broken.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'conda.yaml',
        message: expect.stringMatching(/^line \d: not valid YAML/)
      })
    ])
  })

  it('fails a python_env.yaml MLflow refuses to load, and warns about one that installs nothing', async () => {
    const errors = async (text: string) =>
      (await modelWith({ 'python_env.yaml': text })).findings
        .filter(f => f.file === 'python_env.yaml')
        .map(f => [f.severity, f.message])
    expect(await errors('python: "3.11.7"\ndependencies: "-r requirements.txt"\n')).toEqual([
      ['error', 'dependencies: expected a list, got "-r requirements.txt"; MLflow refuses the file']
    ])
    expect(await errors('python: "3.11.7"\nbuild_dependencies: pip\ndependencies:\n- -r requirements.txt\n')).toEqual([
      ['error', 'build_dependencies: expected a list, got "pip"; MLflow refuses the file']
    ])
    expect(await errors('python: [3, 11]\ndependencies:\n- -r requirements.txt\n')).toEqual([
      ['error', 'python: [3,11] is not a version number; MLflow refuses a python version that is not a string']
    ])
    expect(await errors('python: "3.11.7"\n')).toEqual([
      ['warning', 'lists no dependencies, so virtualenv serving installs none of the requirements']
    ])
  })

  it('fails a conda.yaml whose pip section is not a list', async () => {
    const conda = 'name: mlflow-env\ndependencies:\n- python=3.11.7\n- pip: -r requirements.txt\n'
    const { findings } = await modelWith({ 'conda.yaml': conda })
    expect(findings.filter(f => f.file === 'conda.yaml').map(f => [f.severity, f.message])).toEqual([
      ['error', 'dependencies: pip: expected a list of requirements, got "-r requirements.txt"']
    ])
  })

  it('fails a missing environment file that MLmodel names, and warns about one it does not', async () => {
    const named = await modelWith({ 'python_env.yaml': null })
    expect(named.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'python_env.yaml',
        message: expect.stringMatching(/MLmodel names it/)
      })
    ])
    const mlflow1 = (await readFile(join(EXAMPLE_MODEL, 'MLmodel'), 'utf8')).replace(
      'env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n',
      'env: conda.yaml\n'
    )
    const old = await modelWith({ MLmodel: mlflow1, 'python_env.yaml': null })
    expect(old.findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        file: 'python_env.yaml',
        message: expect.stringMatching(/virtualenv serving/)
      })
    ])
  })
})
