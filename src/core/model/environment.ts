/**
 * The Python environment a model is served in: `requirements.txt`, `python_env.yaml` and `conda.yaml` as MLflow
 * writes them (`mlflow/utils/environment.py`). Whoever serves the model (`mlflow models serve`, Databricks Model
 * Serving) rebuilds the environment from these files, so an unpinned dependency is a model that may behave
 * differently tomorrow, and a missing file is one that cannot be served reproducibly at all.
 */
import { normalize } from 'node:path'
import { load, YAMLException } from 'js-yaml'
import { expandedSize, MAX_YAML_VALUES } from '../config/yaml-bounds.js'
import { describeValue } from '../errors.js'
import { describeLookupProblem, findModelFile, readFoundFile, type LoadedMLmodel } from '../model-dir/mlmodel.js'
import type { Finding } from './types.js'

export const REQUIREMENTS_FILE = 'requirements.txt'
export const PYTHON_ENV_FILE = 'python_env.yaml'
export const CONDA_FILE = 'conda.yaml'

const MAX_ENV_FILE_BYTES = 1024 * 1024
/** `-r` may nest; MLflow writes one level, and a cycle must not hang us. */
const MAX_INCLUDE_DEPTH = 5

export interface Requirement {
  /** 1-based line in its file. */
  readonly line: number
  readonly text: string
  readonly kind: 'package' | 'include' | 'constraint' | 'editable' | 'url' | 'option'
  /** PEP 503-normalised package name, for packages. */
  readonly name?: string
  /** The file an include or constraint line points at. */
  readonly target?: string
  /** An exact version (`==1.2.3`, `===1.2.3`), a direct reference (`name @ url`) or a hash pins it. */
  readonly pinned: boolean
  /** The version specifier as written, without spaces (`==1.2.3`), for comparisons. */
  readonly specifier?: string
}

const OPTION_WITH_FILE = /^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)$/
const PACKAGE = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|\.{0,2}\/|file:)/i

/** Parses a pip requirements file: comments, continuations, options, packages with extras, markers and hashes. */
export function parseRequirements(text: string): Requirement[] {
  const requirements: Requirement[] = []
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1
    let content = lines[index]!
    while (content.endsWith('\\') && index + 1 < lines.length) content = content.slice(0, -1) + ' ' + lines[++index]
    content = content.replace(/(^|\s)#.*$/, '').trim()
    if (!content) continue
    const include = OPTION_WITH_FILE.exec(content)
    if (include) {
      const kind = include[1] === '-r' || include[1] === '--requirement' ? 'include' : 'constraint'
      requirements.push({ line, text: content, kind, target: include[2]!, pinned: true })
      continue
    }
    if (/^(-e|--editable)\b/.test(content)) {
      requirements.push({ line, text: content, kind: 'editable', pinned: false })
      continue
    }
    if (content.startsWith('-')) {
      requirements.push({ line, text: content, kind: 'option', pinned: true })
      continue
    }
    const hashed = /\s--hash[=\s]/.test(content)
    const spec = content.replace(/\s--\S+(\s+[^-\s]\S*)?/g, '').trim()
    if (URL_LIKE.test(spec)) {
      // A wheel or archive file is one exact build; a VCS URL is exact only at a commit or tag.
      const exact =
        /\.(whl|tar\.gz|zip|tar\.bz2)(#.*)?$/.test(spec) ||
        /@[\w.-]+(#.*)?$/.test(spec.replace(/^\w+\+?\w*:\/\/[^@/]*@/, ''))
      requirements.push({ line, text: content, kind: 'url', pinned: exact || hashed })
      continue
    }
    const match = PACKAGE.exec(spec)
    if (!match) {
      requirements.push({ line, text: content, kind: 'option', pinned: true })
      continue
    }
    const rest = match[3]!.split(';')[0]!.trim()
    const specifier = rest.replace(/\s+/g, '')
    const direct = rest.startsWith('@')
    const exact = specifier.split(',').some(part => /^(===.+|==[^*]+)$/.test(part))
    requirements.push({
      line,
      text: content,
      kind: 'package',
      name: normalizeName(match[1]!),
      pinned: exact || direct || hashed,
      ...(specifier ? { specifier } : {})
    })
  }
  return requirements
}

/** PEP 503: `Scikit_Learn` and `scikit-learn` are one package. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

interface EnvFiles {
  readonly requirements: string
  readonly pythonEnv: string
  readonly conda: string
  /** Whether MLmodel names them (then a missing one is an error, not a gap). */
  readonly pythonEnvNamed: boolean
  readonly condaNamed: boolean
}

function envFiles(model: LoadedMLmodel): EnvFiles {
  const env = model.model.flavors.python_function?.env
  const named = (value: unknown) => (typeof value === 'string' && value ? value : undefined)
  const conda = typeof env === 'string' ? env : named(env?.conda)
  const virtualenv = typeof env === 'object' && env !== null ? named(env.virtualenv) : undefined
  return {
    requirements: REQUIREMENTS_FILE,
    pythonEnv: virtualenv ?? PYTHON_ENV_FILE,
    conda: conda ?? CONDA_FILE,
    pythonEnvNamed: virtualenv !== undefined,
    condaNamed: conda !== undefined
  }
}

export interface EnvironmentInspection {
  readonly findings: Finding[]
  readonly data: {
    python?: string
    requirements: number
    unpinned: string[]
    mlflow?: string
    files: string[]
  }
}

/** Reads the environment files of a model directory and reports what would make serving it unreproducible. */
export async function inspectEnvironment(dir: string, model: LoadedMLmodel): Promise<EnvironmentInspection> {
  const files = envFiles(model)
  const findings: Finding[] = []
  const present: string[] = []
  const pythons: Array<{ file: string; version: string }> = []

  const declared = model.model.flavors.python_function?.python_version
  if (declared !== undefined && declared !== null) pythons.push({ file: 'MLmodel', version: String(declared) })

  // requirements.txt, and what it includes.
  const packages: Requirement[] = []
  const unpinned: string[] = []
  const requirementsText = await readModelFile(dir, files.requirements)
  if (requirementsText.problem) {
    findings.push({
      severity: 'error',
      file: files.requirements,
      message: `${requirementsText.problem}: the serving environment has no list of packages to install`,
      fix: 'save or log the model with MLflow (it writes requirements.txt), or pass pip_requirements=[...] with pinned versions'
    })
  } else {
    present.push(files.requirements)
    await collectRequirements(
      dir,
      files.requirements,
      requirementsText.text!,
      0,
      packages,
      unpinned,
      findings,
      new Set()
    )
  }

  // python_env.yaml
  const pythonEnv = await readYaml(dir, files.pythonEnv, findings, files.pythonEnvNamed)
  if (pythonEnv.found) present.push(files.pythonEnv)
  if (pythonEnv.value !== undefined) {
    const env = pythonEnv.value
    if (!isRecord(env)) {
      findings.push({
        severity: 'error',
        file: files.pythonEnv,
        message: `expected a map with python and dependencies, got ${describeValue(env)}`
      })
    } else {
      const version = pythonVersion(env.python, files.pythonEnv, findings)
      if (version) pythons.push({ file: files.pythonEnv, version })
      else if (env.python === undefined) {
        findings.push({
          severity: 'warning',
          file: files.pythonEnv,
          message: 'states no python version',
          fix: 'add python: "3.x.y"'
        })
      }
      // MLflow's _PythonEnv raises on a python, build_dependencies or dependencies of another type: such a file
      // cannot build the serving environment at all.
      const lists = { build_dependencies: env.build_dependencies, dependencies: env.dependencies }
      for (const [key, value] of Object.entries(lists)) {
        if (value !== undefined && value !== null && !Array.isArray(value)) {
          findings.push({
            severity: 'error',
            file: files.pythonEnv,
            message: `${key}: expected a list, got ${describeValue(value)}; MLflow refuses the file`,
            fix: `write it as a YAML list: ${key}: ["-r requirements.txt"]`
          })
        }
      }
      const dependencies = Array.isArray(env.dependencies) ? env.dependencies : []
      if (
        env.dependencies === undefined ||
        env.dependencies === null ||
        (Array.isArray(env.dependencies) && dependencies.length === 0)
      ) {
        findings.push({
          severity: 'warning',
          file: files.pythonEnv,
          message: 'lists no dependencies, so virtualenv serving installs none of the requirements',
          fix: `add dependencies: ["-r ${files.requirements}"]`
        })
      }
      for (const dependency of dependencies) {
        const parsed = typeof dependency === 'string' ? parseRequirements(dependency)[0] : undefined
        if (parsed?.kind === 'include' && parsed.target !== files.requirements) {
          const target = await readModelFile(dir, parsed.target!)
          if (target.problem) {
            findings.push({
              severity: 'error',
              file: files.pythonEnv,
              message: `dependencies: "${dependency}": ${target.problem}`
            })
          }
        } else if (parsed?.kind === 'include' && requirementsText.problem) {
          findings.push({
            severity: 'error',
            file: files.pythonEnv,
            message: `dependencies: "${dependency}" points at ${files.requirements}, which ${requirementsText.why}`
          })
        } else if (parsed?.kind === 'package' && !parsed.pinned) unpinned.push(parsed.name!)
      }
    }
  }

  // conda.yaml
  const conda = await readYaml(dir, files.conda, findings, files.condaNamed)
  if (conda.found) present.push(files.conda)
  if (conda.value !== undefined) {
    const env = conda.value
    const dependencies = isRecord(env) && Array.isArray(env.dependencies) ? env.dependencies : undefined
    if (!dependencies) {
      findings.push({ severity: 'error', file: files.conda, message: 'has no dependencies list' })
    } else {
      const python = dependencies.find(d => typeof d === 'string' && /^python\s*([=<>!~]|$)/.test(d)) as
        string | undefined
      const pinnedPython = python && /^python\s*==?\s*([\d.]+\S*)$/.exec(python)
      if (pinnedPython) pythons.push({ file: files.conda, version: pinnedPython[1]! })
      else {
        findings.push({
          severity: 'warning',
          file: files.conda,
          message: python ? `pins python loosely ("${python}")` : 'states no python version',
          fix: 'list python=3.x.y among the dependencies'
        })
      }
      const pipEntry = dependencies.find(d => isRecord(d) && 'pip' in d) as { pip: unknown } | undefined
      if (pipEntry && !Array.isArray(pipEntry.pip)) {
        findings.push({
          severity: 'error',
          file: files.conda,
          message: `dependencies: pip: expected a list of requirements, got ${describeValue(pipEntry.pip)}`,
          fix: 'write it as a YAML list: - pip: ["-r requirements.txt"]'
        })
      }
      const pip = dependencies.find(d => isRecord(d) && Array.isArray(d.pip)) as { pip: unknown[] } | undefined
      if (pip && !requirementsText.problem) compareWithConda(pip.pip, packages, files, findings)
    }
  }

  // Python versions: every file that states one must agree (3.11 agrees with 3.11.7).
  if (pythons.some(p => pythons.some(q => !versionsAgree(p.version, q.version)))) {
    findings.push({
      severity: 'warning',
      message: `the Python versions differ: ${pythons.map(p => `${p.file} says ${p.version}`).join(', ')}`,
      fix: 'save the model again from one environment, or make the files state the same version'
    })
  }

  if (unpinned.length) {
    const names = [...new Set(unpinned)]
    findings.push({
      severity: 'warning',
      file: files.requirements,
      message: `${names.length} ${names.length === 1 ? 'dependency is' : 'dependencies are'} not pinned to an exact version: ${names.join(', ')}`,
      fix: `pin ${names.length === 1 ? 'it' : 'them'} (name==version), e.g. with pip_requirements=[...] when logging the model`
    })
  }

  const mlflow = packages.find(p => p.name === 'mlflow' || p.name === 'mlflow-skinny')
  const mlflowPin = mlflow?.specifier?.startsWith('==') ? mlflow.specifier.slice(2) : undefined
  if (!requirementsText.problem && !mlflow) {
    findings.push({
      severity: 'warning',
      file: files.requirements,
      message: 'mlflow is not listed: the serving environment gets whatever MLflow version the server installs',
      fix: `add mlflow==${String(model.model.mlflow_version ?? '<the version that saved the model>')}`
    })
  } else if (mlflowPin && model.model.mlflow_version && String(model.model.mlflow_version) !== mlflowPin) {
    findings.push({
      severity: 'info',
      file: files.requirements,
      message: `pins mlflow ${mlflowPin}; the model was saved by MLflow ${String(model.model.mlflow_version)}`
    })
  }

  const python = pythons.find(p => p.file !== 'MLmodel')?.version ?? pythons[0]?.version
  return {
    findings,
    data: {
      ...(python ? { python } : {}),
      requirements: packages.length,
      unpinned: [...new Set(unpinned)],
      ...(mlflowPin ? { mlflow: mlflowPin } : {}),
      files: present
    }
  }
}

async function collectRequirements(
  dir: string,
  file: string,
  text: string,
  depth: number,
  packages: Requirement[],
  unpinned: string[],
  findings: Finding[],
  visited: Set<string>
): Promise<void> {
  visited.add(normalize(file))
  for (const requirement of parseRequirements(text)) {
    if (requirement.kind === 'package') {
      packages.push(requirement)
      if (!requirement.pinned) unpinned.push(requirement.name!)
    } else if (requirement.kind === 'editable') {
      findings.push({
        severity: 'warning',
        file,
        message: `line ${requirement.line}: an editable install (${requirement.text}) cannot be reproduced where the model is served`
      })
    } else if (requirement.kind === 'url' && !requirement.pinned) {
      unpinned.push(requirement.text)
    } else if (requirement.kind === 'include' || requirement.kind === 'constraint') {
      const target = requirement.target!
      const included = await readModelFile(dir, target)
      if (included.problem) {
        findings.push({
          severity: 'error',
          file,
          message: `line ${requirement.line}: ${requirement.text}: ${included.problem}`
        })
      } else if (requirement.kind === 'include' && depth < MAX_INCLUDE_DEPTH && !visited.has(normalize(target))) {
        await collectRequirements(dir, target, included.text!, depth + 1, packages, unpinned, findings, visited)
      }
    }
  }
}

function compareWithConda(
  pip: unknown[],
  packages: readonly Requirement[],
  files: EnvFiles,
  findings: Finding[]
): void {
  const condaPackages = new Map<string, string>()
  for (const entry of pip) {
    if (typeof entry !== 'string') continue
    const parsed = parseRequirements(entry)[0]
    // A conda env that includes requirements.txt agrees with it by construction.
    if (parsed?.kind === 'include' && normalize(parsed.target!) === normalize(files.requirements)) return
    if (parsed?.kind === 'package') condaPackages.set(parsed.name!, parsed.specifier ?? '')
  }
  const requirements = new Map(packages.map(p => [p.name!, p.specifier ?? '']))
  const onlyConda = [...condaPackages.keys()].filter(name => !requirements.has(name))
  const onlyRequirements = [...requirements.keys()].filter(name => !condaPackages.has(name))
  const differing = [...condaPackages].filter(
    ([name, spec]) => requirements.has(name) && requirements.get(name) !== spec
  )
  const parts = [
    onlyConda.length ? `only in ${files.conda}: ${onlyConda.join(', ')}` : '',
    onlyRequirements.length ? `only in ${files.requirements}: ${onlyRequirements.join(', ')}` : '',
    differing.length
      ? `pinned differently: ${differing.map(([name, spec]) => `${name} (${spec || 'any'} vs ${requirements.get(name) || 'any'})`).join(', ')}`
      : ''
  ].filter(Boolean)
  if (parts.length) {
    findings.push({
      severity: 'warning',
      file: files.conda,
      message: `its pip section and ${files.requirements} disagree (${parts.join('; ')}): the model is served differently with conda and virtualenv`,
      fix: 'save the model again so MLflow writes both from one list'
    })
  }
}

function pythonVersion(value: unknown, file: string, findings: Finding[]): string | undefined {
  if (value === undefined || value === null) return undefined
  const refused = 'MLflow refuses a python version that is not a string'
  if (typeof value === 'number') {
    findings.push({
      severity: 'error',
      file,
      message: `python: ${value} is a YAML number, so 3.10 reads as 3.1; ${refused}`,
      fix: `quote it: python: "${value}"`
    })
    return String(value)
  }
  if (typeof value !== 'string') {
    findings.push({
      severity: 'error',
      file,
      message: `python: ${describeValue(value)} is not a version number; ${refused}`
    })
    return undefined
  }
  if (!/^\d+(\.\d+)*$/.test(value.trim())) {
    findings.push({ severity: 'warning', file, message: `python: ${describeValue(value)} is not a version number` })
    return undefined
  }
  return value.trim()
}

/** 3.11 and 3.11.7 agree; 3.11.7 and 3.10.4 do not. */
function versionsAgree(a: string, b: string): boolean {
  const left = a.split('.')
  const right = b.split('.')
  return left.slice(0, Math.min(left.length, right.length)).every((part, index) => part === right[index])
}

interface ReadResult {
  text?: string
  /** The file's name and what is wrong with it: `requirements.txt is missing`. */
  problem?: string
  /** The problem without the name: `is missing`. */
  why?: string
}

async function readModelFile(dir: string, path: string): Promise<ReadResult> {
  const found = await findModelFile(dir, path)
  const problem = (why: string) => ({ problem: `${path} ${why}`, why })
  if ('problem' in found) return problem(describeLookupProblem(found))
  if (found.size > MAX_ENV_FILE_BYTES) return problem(`is ${found.size} bytes, too large for an environment file`)
  const read = await readFoundFile(found.absolute)
  return 'problem' in read ? problem(describeLookupProblem(read)) : { text: read.text }
}

async function readYaml(
  dir: string,
  file: string,
  findings: Finding[],
  named: boolean
): Promise<{ found: boolean; value?: unknown }> {
  const read = await readModelFile(dir, file)
  if (read.problem) {
    findings.push(
      named
        ? { severity: 'error', file, message: `${read.problem}, though MLmodel names it as the model's environment` }
        : {
            severity: 'warning',
            file,
            message: `${read.problem}: ${file === CONDA_FILE ? 'conda' : 'virtualenv'} serving has no environment to build`
          }
    )
    return { found: false }
  }
  try {
    const value: unknown = load(read.text!, { filename: file })
    if (expandedSize(value, MAX_YAML_VALUES) > MAX_YAML_VALUES) {
      const message = `expands, through YAML aliases (*name), to more than ${MAX_YAML_VALUES.toLocaleString('en-US')} values; it was not read`
      findings.push({ severity: 'error', file, message })
      return { found: true }
    }
    return { found: true, value }
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error
    findings.push({
      severity: 'error',
      file,
      message: `${error.mark ? `line ${error.mark.line + 1}: ` : ''}not valid YAML: ${error.reason}`
    })
    return { found: true }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
