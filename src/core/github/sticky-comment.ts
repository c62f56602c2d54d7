/**
 * One comment per report on a pull request, found again by a hidden marker and updated in place.
 *
 * Why it is more than "find, then patch or post":
 * - The marker is searched across every page of comments. CML and github-action-benchmark read one page (30 items)
 *   and post duplicates on busy pull requests.
 * - Two runs can race (a push while the previous run still posts). Each run that creates a comment lists again
 *   afterwards; when several carry the marker, all runs agree that the oldest (lowest id) is the one to keep, move
 *   their content there and delete their own. The result is one comment whatever the interleaving.
 * - Duplicates left by an older race or another tool are deleted on the next run, so the state heals itself.
 */

export interface StoredComment {
  readonly id: number
  readonly body?: string | null
  readonly html_url: string
}

/** The seam between the sticky logic and GitHub: the octokit adapter implements it, tests can too. */
export interface IssueCommentApi {
  listAll(issueNumber: number): Promise<StoredComment[]>
  create(issueNumber: number, body: string): Promise<StoredComment>
  update(commentId: number, body: string): Promise<StoredComment>
  remove(commentId: number): Promise<void>
}

export type StickyAction = 'created' | 'updated' | 'unchanged'

export interface StickyResult {
  readonly id: number
  readonly url: string
  readonly action: StickyAction
  /** Duplicates this run deleted (from a race or an older run). */
  readonly removed: number
}

/** GitHub's limit on a comment body, in characters. */
export const COMMENT_BODY_LIMIT = 65_536

/** The hidden first line that identifies a report's comment. The id is URI-encoded so it can never close `-->`. */
export function markerFor(reportId: string): string {
  return `<!-- modelgate:report-id=${encodeURIComponent(reportId)} -->`
}

export function withMarker(reportId: string, markdown: string): string {
  return `${markerFor(reportId)}\n${markdown}`
}

export async function upsertStickyComment(
  api: IssueCommentApi,
  issueNumber: number,
  reportId: string,
  markdown: string
): Promise<StickyResult> {
  const marker = markerFor(reportId)
  const body = withMarker(reportId, markdown)
  if ([...body].length > COMMENT_BODY_LIMIT) {
    // The renderer keeps within budget; this guards against a caller that did not use it.
    throw new Error(`comment body is ${[...body].length} characters, over GitHub's ${COMMENT_BODY_LIMIT}`)
  }
  const ours = (comments: StoredComment[]) =>
    comments.filter(c => typeof c.body === 'string' && c.body.startsWith(marker)).sort((a, b) => a.id - b.id)

  let removed = 0
  // A comment can vanish between the list and the update (a person deleted it, or a racing run removed it as its
  // duplicate): the update answers 404, and the run lists again, so the report is posted rather than lost.
  for (let round = 1; ; round++) {
    const lastRound = round >= UPSERT_ROUNDS
    const existing = ours(await api.listAll(issueNumber))
    if (existing.length > 0) {
      const [keep, ...duplicates] = existing as [StoredComment, ...StoredComment[]]
      removed += await removeAll(api, duplicates)
      if (keep.body === body) return { id: keep.id, url: keep.html_url, action: 'unchanged', removed }
      const updated = await updateUnlessGone(api, keep.id, body, lastRound)
      if (updated) return { id: updated.id, url: updated.html_url, action: 'updated', removed }
      continue
    }

    const created = await api.create(issueNumber, body)
    const after = ours(await api.listAll(issueNumber))
    const keep = after[0]
    if (!keep || keep.id === created.id) return { id: created.id, url: created.html_url, action: 'created', removed }
    // Another run created its comment first: ours yields to the oldest, carrying our (newer) content there.
    removed += await removeAll(api, [created])
    const updated = await updateUnlessGone(api, keep.id, body, lastRound)
    if (updated) return { id: updated.id, url: updated.html_url, action: 'updated', removed }
  }
}

/** Rounds of list-then-write before a comment that keeps vanishing is reported as the error it is. */
const UPSERT_ROUNDS = 3

async function updateUnlessGone(
  api: IssueCommentApi,
  commentId: number,
  body: string,
  lastRound: boolean
): Promise<StoredComment | undefined> {
  try {
    return await api.update(commentId, body)
  } catch (error) {
    if (lastRound || (error as { status?: number }).status !== 404) throw error
    return undefined
  }
}

async function removeAll(api: IssueCommentApi, comments: StoredComment[]): Promise<number> {
  let removed = 0
  for (const comment of comments) {
    try {
      await api.remove(comment.id)
      removed++
    } catch (error) {
      // A racing run may have deleted it already.
      if ((error as { status?: number }).status !== 404) throw error
    }
  }
  return removed
}
