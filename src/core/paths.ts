/** Path containment, shared by validate-model's walk and the metric sources, without loading either. */
import { isAbsolute, relative, sep } from 'node:path'

/** Whether `path` is `dir` or below it; both must be real (link-free) absolute paths. */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`))
}
