export const id = 434;
export const ids = [434];
export const modules = {

/***/ 1434:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createIssueCommentApi: () => (/* binding */ createIssueCommentApi),
/* harmony export */   isPermissionDenied: () => (/* binding */ isPermissionDenied)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1758);
/* harmony import */ var _octokit_plugin_retry__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9735);
/* harmony import */ var _octokit_plugin_throttling__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6856);
/**
 * The GitHub REST client: @actions/github's octokit with the retry and throttling plugins and a per-request
 * timeout. This is the only core module that imports the Actions toolkit's GitHub client; callers load it with a
 * dynamic import so that runs which post nothing never pay for it.
 */



const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RATE_LIMIT_RETRIES = 2;
function createIssueCommentApi(options) {
    const log = options.log ?? (() => undefined);
    const retryBase = options.retryBaseMs ?? 1000;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const rateLimitRetries = options.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES;
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(options.token, {
        baseUrl: options.apiUrl,
        request: {
            // One slow request must not hold the job until the runner's six-hour limit.
            fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
        },
        retry: { retryAfterBaseValue: retryBase },
        throttle: {
            retryAfterBaseValue: retryBase,
            onRateLimit: (retryAfter, request, _o, retryCount) => {
                log(`GitHub rate limit hit on ${request.method} ${request.url}; retrying after ${retryAfter} s`);
                return retryCount < rateLimitRetries;
            },
            onSecondaryRateLimit: (retryAfter, request, _o, retryCount) => {
                log(`GitHub secondary rate limit hit on ${request.method} ${request.url}; retrying after ${retryAfter} s`);
                return retryCount < rateLimitRetries;
            }
        }
    }, _octokit_plugin_retry__WEBPACK_IMPORTED_MODULE_1__/* .retry */ .L, _octokit_plugin_throttling__WEBPACK_IMPORTED_MODULE_2__/* .throttling */ .A);
    const { owner, repo } = options;
    const toStored = (c) => ({
        id: c.id,
        body: c.body ?? null,
        html_url: c.html_url
    });
    return {
        async listAll(issueNumber) {
            const comments = await octokit.paginate(octokit.rest.issues.listComments, {
                owner,
                repo,
                issue_number: issueNumber,
                per_page: 100
            });
            return comments.map(toStored);
        },
        async create(issueNumber, body) {
            const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
            return toStored(data);
        },
        async update(commentId, body) {
            const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: commentId, body });
            return toStored(data);
        },
        async remove(commentId) {
            await octokit.rest.issues.deleteComment({ owner, repo, comment_id: commentId });
        }
    };
}
/** A 403 on a write from a token without write access (fork pull requests): the gate degrades, it does not fail. */
function isPermissionDenied(error) {
    const status = error.status;
    const message = error.message ?? '';
    return status === 403 && /not accessible by integration|must have (push|write) access|permission/i.test(message);
}


/***/ })

};
