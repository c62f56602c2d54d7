/**
 * A metrics file must be in the workspace, as validate-model keeps every model file inside the model directory: a
 * path or a symlink that leads out of it (`../../etc/passwd`, a link to `~/.aws/credentials` committed in a pull
 * request) would otherwise be read, and whatever of its text is not a number shown in the PR comment.
 */
import { realpath } from 'node:fs/promises'
import { ConfigurationError } from '../errors.js'
import { isInside } from '../paths.js'

/** Throws unless `absolute` (which exists), with every link resolved, lies inside `workspace`. */
export async function requireInsideWorkspace(
  absolute: string,
  workspace: string,
  spec: string,
  who: string
): Promise<void> {
  const [real, root] = await Promise.all([realpath(absolute), realpath(workspace)])
  if (isInside(root, real)) return
  const how =
    real === absolute ? `is outside the workspace (${root})` : `leads outside the workspace (${root}) through a symlink`
  throw new ConfigurationError(
    `${who} path ${how}; it was not read. Expected a file inside the workspace, or git:<ref>:<path> for a file at a git ref`,
    { source: spec }
  )
}
