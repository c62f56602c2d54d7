export const id = 276;
export const ids = [276];
export const modules = {

/***/ 276:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   COMMENT_BODY_LIMIT: () => (/* binding */ COMMENT_BODY_LIMIT),
/* harmony export */   markerFor: () => (/* binding */ markerFor),
/* harmony export */   upsertStickyComment: () => (/* binding */ upsertStickyComment),
/* harmony export */   withMarker: () => (/* binding */ withMarker)
/* harmony export */ });
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
/** GitHub's limit on a comment body, in characters. */
const COMMENT_BODY_LIMIT = 65_536;
/** The hidden first line that identifies a report's comment. The id is URI-encoded so it can never close `-->`. */
function markerFor(reportId) {
    return `<!-- modelgate:report-id=${encodeURIComponent(reportId)} -->`;
}
function withMarker(reportId, markdown) {
    return `${markerFor(reportId)}\n${markdown}`;
}
async function upsertStickyComment(api, issueNumber, reportId, markdown) {
    const marker = markerFor(reportId);
    const body = withMarker(reportId, markdown);
    if ([...body].length > COMMENT_BODY_LIMIT) {
        // The renderer keeps within budget; this guards against a caller that did not use it.
        throw new Error(`comment body is ${[...body].length} characters, over GitHub's ${COMMENT_BODY_LIMIT}`);
    }
    const ours = (comments) => comments.filter(c => typeof c.body === 'string' && c.body.startsWith(marker)).sort((a, b) => a.id - b.id);
    const existing = ours(await api.listAll(issueNumber));
    if (existing.length > 0) {
        const [keep, ...duplicates] = existing;
        const removed = await removeAll(api, duplicates);
        if (keep.body === body)
            return { id: keep.id, url: keep.html_url, action: 'unchanged', removed };
        const updated = await api.update(keep.id, body);
        return { id: updated.id, url: updated.html_url, action: 'updated', removed };
    }
    const created = await api.create(issueNumber, body);
    const after = ours(await api.listAll(issueNumber));
    const keep = after[0];
    if (!keep || keep.id === created.id)
        return { id: created.id, url: created.html_url, action: 'created', removed: 0 };
    // Another run created its comment first: ours yields to the oldest, carrying our (newer) content there.
    await removeAll(api, [created]);
    const updated = await api.update(keep.id, body);
    return { id: updated.id, url: updated.html_url, action: 'updated', removed: 1 };
}
async function removeAll(api, comments) {
    let removed = 0;
    for (const comment of comments) {
        try {
            await api.remove(comment.id);
            removed++;
        }
        catch (error) {
            // A racing run may have deleted it already.
            if (error.status !== 404)
                throw error;
        }
    }
    return removed;
}


/***/ })

};
