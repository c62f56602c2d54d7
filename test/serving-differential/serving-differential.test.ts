/**
 * validate-model's input-example check against MLflow's own judgement of the same serving body.
 *
 * generate.py (run once with the project's .venv, in one process, seeded) writes random signatures and serving
 * bodies as model directories, and records what `mlflow.models.validate_serving_input` makes of each: that is what
 * the scoring server would do with the example. Here modelgate's signature and input-example checks run on the same
 * directories. No case may pass modelgate and be refused by MLflow. Where modelgate fails a body MLflow accepts, it
 * must be for one of the reasons listed in STRICTER, on purpose.
 *
 * MLflow's answers are cached under node_modules/.cache, keyed by the generator's text, the seed and the count, so a
 * change to the generator regenerates them.
 */
import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { checkInputExample, checkSignature } from '../../src/core/model/model-checks.js'
import { readMLmodel } from '../../src/core/model-dir/mlmodel.js'

const ROOT = join(import.meta.dirname, '..', '..')
const HERE = join(ROOT, 'test', 'serving-differential')
const PYTHON = join(ROOT, '.venv', 'bin', 'python')
// MODELGATE_DIFFERENTIAL_SEED tries other cases (each seed is cached apart).
const SEED = Number(process.env.MODELGATE_DIFFERENTIAL_SEED ?? 20261206)
const COUNT = 1600

/**
 * Where modelgate fails what MLflow accepts, on purpose, matched against modelgate's error messages. Each one is a
 * body the scoring server takes but then hands the model something other than what the example says.
 */
const STRICTER: ReadonlyArray<{ readonly why: string; readonly message: RegExp }> = [
  {
    why: 'values numpy or pandas convert silently (text or booleans for numbers, anything for booleans or strings, 1.5 truncated to an int)',
    message:
      /expected (true or false|a number|a whole number)(, got| written)|\(tensor [^)]+\): expected (numbers|whole numbers|true or false|strings|ASCII strings)|is not a whole number/
  },
  {
    why: 'numbers outside the declared integer type (pandas wraps them: 1099511627776 becomes 0 in an integer column)',
    message: /does not fit a/
  },
  {
    why: 'a list or a map where one value is declared',
    message: /expected a single \w+ value, got|feeds a tensor only with single values/
  },
  {
    why: 'binary values that are not base64 (only dataframe bodies decode them)',
    message: /base64-encoded string|(null|NaN|-?Infinity) in a binary column/
  },
  {
    why: 'NaN or an infinity in a boolean column, which MLflow reads by truthiness (the model gets true)',
    message: /in a boolean column: MLflow reads it by truthiness/
  },
  {
    why: 'an infinity in a dataframe column of dates, which pandas turns into a missing date (NaT)',
    message: /which pandas makes a missing date/
  },
  {
    why: 'values inside arrays, objects and maps that pandas leaves as objects, which MLflow passes unchecked',
    message: /passes to the model unchecked|got a nested|null among booleans/
  },
  {
    why: 'datetimes read as something else (20240102 as a year, a number among dates as nanoseconds, 1.5 ns rounded)',
    message:
      /numpy reads .* as (the year|\d nanoseconds)|among date strings|rounds fractions|expected a date string, got (true|false)/
  },
  {
    why: 'dates in a form pandas reads only by guessing (Jan 2 2024); modelgate reads ISO 8601, 2024/01/02 and 01/02/2024',
    message: /not a date modelgate can read the way pandas does/
  },
  {
    why: 'instances records whose cells become whole columns (a string or boolean column passes them unchecked)',
    message: /instances as a list of records turns each column into one list/
  },
  {
    why: 'a dataframe column feeding a tensor with a single value first and lists after (pandas makes text of the lists)',
    message: /the first row holds a single value/
  },
  { why: 'void tensors, whose values modelgate cannot check', message: /void tensor/ },
  {
    why: 'a map given to an any column in a map body of columns (pandas reads its keys as row labels)',
    message: /is a map in a body of columns/
  }
]

interface MlflowAnswer {
  readonly id: string
  readonly accepted: boolean
  readonly message?: string
}

function generated(): { dir: string; cases: MlflowAnswer[] } {
  const key = createHash('sha256')
  for (const file of ['generate.py', 'trivial_model.py']) key.update(readFileSync(join(HERE, file)))
  key.update(`${SEED} ${COUNT}`)
  const dir = join(ROOT, 'node_modules', '.cache', 'modelgate-serving-differential', key.digest('hex').slice(0, 16))
  if (!existsSync(join(dir, 'results.json'))) {
    const scratch = `${dir}.${process.pid}`
    rmSync(scratch, { recursive: true, force: true })
    mkdirSync(scratch, { recursive: true })
    const run = spawnSync(
      PYTHON,
      [join(HERE, 'generate.py'), scratch, '--seed', String(SEED), '--count', String(COUNT)],
      { encoding: 'utf8', timeout: 150_000 }
    )
    if (run.status !== 0) throw new Error(`generate.py failed (${run.status ?? run.signal}):\n${run.stderr}`)
    rmSync(dir, { recursive: true, force: true })
    renameSync(scratch, dir)
  }
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { cases: MlflowAnswer[] }
  return { dir, cases: results.cases }
}

interface Outcome extends MlflowAnswer {
  readonly errors: string[]
}

async function judge(dir: string, answer: MlflowAnswer): Promise<Outcome> {
  const caseDir = join(dir, 'cases', answer.id)
  const model = await readMLmodel(caseDir)
  const results = [checkSignature(model), await checkInputExample(caseDir, model)]
  const errors = results.flatMap(r => r.findings.filter(f => f.severity === 'error').map(f => f.message))
  return { ...answer, errors }
}

function show(dir: string, outcome: Outcome): string {
  const caseDir = join(dir, 'cases', outcome.id)
  const mlmodel = readFileSync(join(caseDir, 'MLmodel'), 'utf8')
  const signature = mlmodel.slice(mlmodel.indexOf('signature:'), mlmodel.indexOf('saved_input_example_info:'))
  // The body as written, on one line: it may hold NaN and Infinity, which JSON.parse refuses.
  const body = readFileSync(join(caseDir, 'serving_input_example.json'), 'utf8').replace(/\s*\n\s*/g, ' ')
  return [
    `case ${outcome.id} (${caseDir})`,
    signature.trim(),
    `body: ${body.slice(0, 600)}`,
    `MLflow: ${outcome.accepted ? 'accepted' : outcome.message}`,
    `modelgate: ${outcome.errors.length ? outcome.errors.join(' | ') : 'passed'}`
  ].join('\n')
}

describe('the serving input example, judged by modelgate and by MLflow 3.17.2', () => {
  it(`agrees with validate_serving_input on ${COUNT} random cases, or is stricter for a listed reason`, async () => {
    const { dir, cases } = generated()
    expect(cases).toHaveLength(COUNT)
    const outcomes: Outcome[] = []
    for (const answer of cases) outcomes.push(await judge(dir, answer))

    const missed = outcomes.filter(o => !o.accepted && o.errors.length === 0)
    const stricter = outcomes.filter(o => o.accepted && o.errors.length > 0)
    const unexplained = stricter.filter(o => !o.errors.some(e => STRICTER.some(s => s.message.test(e))))
    const counts = STRICTER.map(s => `${stricter.filter(o => o.errors.some(e => s.message.test(e))).length} ${s.why}`)
    const refused = outcomes.filter(o => !o.accepted).length
    const summary = `${COUNT} cases: MLflow refused ${refused}, modelgate missed ${missed.length}, stricter on ${stricter.length} (${counts.join('; ')})`

    expect({ summary, missed: missed.slice(0, 8).map(o => show(dir, o)) }).toEqual({ summary, missed: [] })
    expect({ summary, unexplained: unexplained.slice(0, 8).map(o => show(dir, o)) }).toEqual({
      summary,
      unexplained: []
    })
    // The generator must keep producing both answers, or the comparison proves nothing.
    expect(refused).toBeGreaterThan(COUNT / 5)
    expect(COUNT - refused).toBeGreaterThan(COUNT / 5)
  }, 180_000)
})
