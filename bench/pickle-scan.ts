// Pickle scanner throughput: generates ~200 MB pickles with the project's Python (a numpy array with protocols 4
// and 5, the same array through joblib, and a plain-Python-object pickle) and prints MB/s two ways:
// - file: scanModelFile, as the check runs it; it seeks over array bytes, so numpy files cost a few reads.
// - streamed: every byte read from disk and pushed through the parser (what a compressed or piped file costs).
// No assertions. Run with `npx tsx bench/pickle-scan.ts [sizeMB]`.
import { execFileSync } from 'node:child_process'
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { scanModelFile } from '../src/core/model/pickle/containers.js'
import { createPolicy } from '../src/core/model/pickle/policy.js'
import { scanPickleStream } from '../src/core/model/pickle/scanner.js'

const sizeMb = Number(process.argv[2] ?? 200)
const python = resolve('.venv/bin/python')
if (!existsSync(python)) {
  console.log(`${python} is missing (scripts/setup-python.sh creates it); the benchmark needs it to write pickles`)
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'modelgate-pickle-bench-'))
const generator = `
import sys, pickle, joblib, numpy as np
out, mb = sys.argv[1], float(sys.argv[2])
arr = np.random.default_rng(0).standard_normal(int(mb * 1024 * 1024 / 8))
for proto in (4, 5):
    with open(f"{out}/numpy_p{proto}.pkl", "wb") as f:
        pickle.dump(arr, f, protocol=proto)
joblib.dump({"weights": arr}, f"{out}/numpy.joblib")
joblib.dump({"weights": arr[: len(arr) // 8]}, f"{out}/numpy_zlib.joblib", compress=1)
# Object-heavy: records of ints, floats, short strings, tuples and nested lists; ~70 bytes each once pickled.
n = int(mb * 1024 * 1024 / 70)
rows = [{"id": i, "name": "user%d" % i, "score": i * 0.5, "tags": ["a", "b"], "pair": (i, -i)} for i in range(n)]
with open(f"{out}/objects_p4.pkl", "wb") as f:
    pickle.dump(rows, f, protocol=4)
`
const t0 = performance.now()
execFileSync(python, ['-c', generator, dir, String(sizeMb)], { stdio: 'inherit' })
console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s in ${dir}`)

const policy = createPolicy()
const files = ['numpy_p4.pkl', 'numpy_p5.pkl', 'numpy.joblib', 'numpy_zlib.joblib', 'objects_p4.pkl']
try {
  const rate = (mb: number, ms: number): string =>
    `${(mb / (ms / 1000)).toFixed(0).padStart(7)} MB/s (${ms.toFixed(0).padStart(5)} ms)`
  for (const name of files) {
    const absolute = join(dir, name)
    const size = statSync(absolute).size
    let file = Infinity
    let streamed = Infinity
    let summary = ''
    for (let run = 0; run < 3; run++) {
      let start = performance.now()
      const report = await scanModelFile({ path: name, absolute, size }, { policy })
      file = Math.min(file, performance.now() - start)
      const result = report.streams[0]?.result
      summary = `${report.format}, ${result?.imports.length ?? 0} distinct imports, ${result?.problems.length ?? 0} problems`
      if (report.format === 'zlib') continue
      start = performance.now()
      await scanPickleStream(createReadStream(absolute, { highWaterMark: 1024 * 1024 }), { policy, totalSize: size })
      streamed = Math.min(streamed, performance.now() - start)
    }
    const mb = size / (1024 * 1024)
    console.log(
      `${name.padEnd(18)} ${mb.toFixed(0).padStart(4)} MB  file ${rate(mb, file)}  ` +
        `streamed ${streamed === Infinity ? '(n/a: compressed)'.padEnd(27) : rate(mb, streamed)}  ${summary}`
    )
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
