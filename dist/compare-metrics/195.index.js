export const id = 195;
export const ids = [195];
export const modules = {

/***/ 2195:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  loadConfigFile: () => (/* binding */ loadConfigFile),
  parseConfig: () => (/* binding */ parseConfig),
  parseRulesInput: () => (/* binding */ parseRulesInput),
  selectModel: () => (/* binding */ selectModel)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./node_modules/js-yaml/dist/js-yaml.mjs
var js_yaml = __webpack_require__(3243);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(4296);
;// CONCATENATED MODULE: ./src/core/config/yaml-locate.ts
/**
 * Maps key paths of a YAML (or JSON) document to line numbers, so a schema error can say "line 12" and not only
 * "metrics.accuracy.min". js-yaml's AST carries no positions, but its event stream does; we walk the events once
 * and only when an error needs a line.
 */

/** Returns a function giving the 1-based line of the key at `path` (or of its nearest located ancestor). */
function createLocator(source) {
    let positions;
    const lineStarts = computeLineStarts(source);
    return (path) => {
        positions ??= collectPositions(source);
        for (let depth = path.length; depth >= 0; depth--) {
            const offset = positions.get(pathKey(path.slice(0, depth)));
            if (offset !== undefined)
                return lineOf(lineStarts, offset);
        }
        return undefined;
    };
}
function collectPositions(source) {
    const positions = new Map();
    let events;
    try {
        events = (0,js_yaml/* parseEvents */.PH)(source, {});
    }
    catch {
        return positions;
    }
    const stack = [];
    // Where the value about to start lives, and records the offset for it if it is a keyed child.
    const enterValue = (offset) => {
        const top = stack[stack.length - 1];
        if (!top)
            return [];
        if (top.kind === 'sequence') {
            const path = [...top.path, top.index++];
            if (!positions.has(pathKey(path)))
                positions.set(pathKey(path), offset);
            return path;
        }
        if (top.awaitingKey)
            return undefined;
        const path = [...top.path, top.pendingKey ?? ''];
        top.awaitingKey = true;
        return path;
    };
    for (const event of events) {
        switch (event.type) {
            case js_yaml/* EVENT_ID */.hy.MAPPING:
            case js_yaml/* EVENT_ID */.hy.SEQUENCE: {
                const top = stack[stack.length - 1];
                if (top?.kind === 'mapping' && top.awaitingKey) {
                    // A complex (non-scalar) key: positions inside it are meaningless; track it so POP stays balanced.
                    top.awaitingKey = false;
                    top.pendingKey = undefined;
                    stack.push({
                        kind: event.type === js_yaml/* EVENT_ID */.hy.MAPPING ? 'mapping' : 'sequence',
                        path: [...top.path, '?'],
                        index: 0,
                        awaitingKey: true
                    });
                    break;
                }
                const path = enterValue(event.start) ?? [];
                if (path.length === 0)
                    positions.set(pathKey(path), event.start);
                stack.push({
                    kind: event.type === js_yaml/* EVENT_ID */.hy.MAPPING ? 'mapping' : 'sequence',
                    path,
                    index: 0,
                    awaitingKey: true
                });
                break;
            }
            case js_yaml/* EVENT_ID */.hy.SCALAR:
            case js_yaml/* EVENT_ID */.hy.ALIAS: {
                const top = stack[stack.length - 1];
                const start = event.type === js_yaml/* EVENT_ID */.hy.SCALAR ? event.valueStart : event.anchorStart;
                if (top?.kind === 'mapping' && top.awaitingKey) {
                    const key = event.type === js_yaml/* EVENT_ID */.hy.SCALAR ? (0,js_yaml/* getScalarValue */.KE)(source, event) : '*';
                    top.pendingKey = key;
                    top.awaitingKey = false;
                    const keyPath = pathKey([...top.path, key]);
                    if (!positions.has(keyPath))
                        positions.set(keyPath, start);
                }
                else {
                    enterValue(start);
                }
                break;
            }
            case js_yaml/* EVENT_ID */.hy.POP:
                stack.pop();
                break;
            default:
                break;
        }
    }
    return positions;
}
function pathKey(path) {
    return JSON.stringify(path);
}
function computeLineStarts(source) {
    const starts = [0];
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1))
        starts.push(i + 1);
    return starts;
}
function lineOf(lineStarts, offset) {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
        const mid = (low + high + 1) >> 1;
        if (lineStarts[mid] <= offset)
            low = mid;
        else
            high = mid - 1;
    }
    return low + 1;
}
/** `metrics["per_class.*.recall"].min`: dotted where unambiguous, bracketed where a key holds dots or spaces. */
function formatKeyPath(path) {
    let text = '';
    for (const part of path) {
        if (typeof part === 'number')
            text += `[${part}]`;
        else if (/^[A-Za-z_][\w-]*$/.test(part))
            text += text ? `.${part}` : part;
        else
            text += `[${JSON.stringify(part)}]`;
    }
    return text;
}

;// CONCATENATED MODULE: ./src/core/config/issues.ts


/** Shown at most; the rest is counted so one bad file does not flood the log. */
const MAX_ISSUES = 5;
function issuesToError(issues, source, locate, schema, basePath = []) {
    const flat = issues.flatMap(issue => flatten(issue, basePath));
    const first = flat[0];
    const line = locate(first.path);
    const details = flat.slice(0, MAX_ISSUES).map((issue, index) => {
        const where = formatKeyPath(issue.path);
        const issueLine = locate(issue.path);
        const prefix = index === 0 ? '' : `${issueLine !== undefined ? `line ${issueLine}, ` : ''}${where || 'top level'}: `;
        return prefix + describeIssue(issue, schema, basePath.length);
    });
    const more = flat.length > MAX_ISSUES ? ` (and ${flat.length - MAX_ISSUES} more problems)` : '';
    return new errors/* ConfigurationError */.j1(details.join('; ') + more, {
        source,
        ...(line !== undefined ? { line } : {}),
        ...(first.path.length ? { path: formatKeyPath(first.path) } : {})
    });
}
function flatten(issue, basePath) {
    const path = [...basePath, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        // A rule is `higher`/`lower` or a map: report against the branch that matches the input's shape.
        const input = issue.input;
        const branches = issue.errors;
        // The enum branch fails at the rule itself (empty path); the map branch fails inside it or with its own keys.
        const objectBranch = branches.find(b => b.every(i => i.path.length > 0 || i.code === 'unrecognized_keys'));
        if (input !== null && typeof input === 'object' && objectBranch) {
            return objectBranch.flatMap(i => flatten(i, path));
        }
        return [{ issue, path }];
    }
    if (issue.code === 'unrecognized_keys') {
        return issue.keys.map(key => ({ issue: { ...issue, keys: [key] }, path: [...path, key] }));
    }
    return [{ issue, path }];
}
function describeIssue({ issue, path }, schema, baseDepth) {
    const input = issue.input;
    const got = input === undefined ? 'nothing' : (0,errors/* describeValue */.bp)(input);
    switch (issue.code) {
        case 'invalid_type':
            if (input === undefined)
                return `is required: expected ${article(issue.expected)}`;
            return `expected ${article(issue.expected)}, got ${got}`;
        case 'invalid_value':
            return `expected ${issue.values.map(v => JSON.stringify(v)).join(' or ')}, got ${got}`;
        case 'unrecognized_keys': {
            const key = issue.keys[0];
            const known = keysAt(schema, path.slice(baseDepth, -1));
            const suggestion = key && known.length ? closest(key, known) : undefined;
            return (`unknown key ${JSON.stringify(key)}` +
                (suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : '') +
                (known.length ? ` (expected one of: ${known.join(', ')})` : ''));
        }
        case 'too_small':
            if (issue.origin === 'array' || issue.origin === 'string')
                return `must not be empty`;
            return `expected a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${got}`;
        case 'too_big':
            return `expected a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${got}`;
        case 'invalid_union':
            return `expected "higher", "lower" or a rule map (direction, min, max, max-regression, ...), got ${got}`;
        default:
            return issue.message;
    }
}
/** The keys an object schema allows at `path`, found by walking the schema, since zod's issue does not list them. */
function keysAt(schema, path) {
    let node = schema;
    const descend = (current, part) => {
        const def = current._zod.def;
        switch (def.type) {
            case 'optional':
            case 'nullable':
            case 'default':
                return descend(def.innerType, part);
            case 'pipe':
                return descend(def.in, part);
            case 'union':
                return def.options
                    .map(option => descend(option, part))
                    .find((found) => found !== undefined);
            case 'object':
                return part === undefined ? current : def.shape[String(part)];
            case 'record':
                return part === undefined ? undefined : def.valueType;
            case 'array':
                return part === undefined ? undefined : def.element;
            default:
                return undefined;
        }
    };
    for (const part of path) {
        node = node && descend(node, part);
    }
    const object = node && descend(node, undefined);
    if (!object)
        return [];
    return Object.keys(object._zod.def.shape).filter(k => k !== '$schema');
}
function article(type) {
    if (type === 'object' || type === 'record' || type === 'map')
        return 'a map of keys to values';
    if (type === 'array')
        return 'a list';
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
/** The nearest known key by edit distance, when it is near enough to be a typo. */
function closest(word, candidates) {
    let best;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
function editDistance(a, b) {
    let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

// EXTERNAL MODULE: ./node_modules/zod/v4/classic/schemas.js + 17 modules
var schemas = __webpack_require__(8816);
;// CONCATENATED MODULE: ./src/core/config/schema.ts
/**
 * The `.modelgate.yml` schema. This zod schema is the single source of truth: the loader validates with it, the
 * actions' `rules` input is validated with its `metrics` part, and `schema/modelgate.schema.json` (for editors) is
 * generated from it by `npm run schema`.
 *
 * Keys are kebab-case. A rule may also use MLflow's `MetricThreshold` names (`threshold`, `min_absolute_change`,
 * `min_relative_change`, `greater_is_better`) with MLflow's meaning; `rules.ts` maps them onto ours.
 */

const finite = () => schemas/* number */.aig().refine(Number.isFinite, 'expected a finite number');
const DirectionSchema = schemas/* enum */.k5n(['higher', 'lower'])
    .meta({ description: 'Whether a higher or a lower value is better.' });
const RuleObjectSchema = schemas/* strictObject */.rej({
    direction: DirectionSchema.optional(),
    min: finite().optional().meta({ description: 'The candidate must be at least this (absolute floor).' }),
    max: finite().optional().meta({ description: 'The candidate must be at most this (absolute ceiling).' }),
    'max-regression': finite()
        .nonnegative()
        .optional()
        .meta({ description: 'Largest absolute worsening against the baseline that still passes.' }),
    'max-regression-pct': finite()
        .nonnegative()
        .optional()
        .meta({ description: 'Largest worsening against the baseline, in percent of |baseline|, that still passes.' }),
    'min-improvement': finite()
        .nonnegative()
        .optional()
        .meta({ description: 'Smallest absolute improvement over the baseline required to pass.' }),
    'min-improvement-pct': finite()
        .nonnegative()
        .optional()
        .meta({ description: 'Smallest improvement over the baseline, in percent of |baseline|, required to pass.' }),
    required: schemas/* boolean */.zMY().optional().meta({ description: 'Fail when the candidate does not report this metric.' }),
    severity: schemas/* enum */.k5n(['fail', 'warn'])
        .optional()
        .meta({ description: 'What breaking this rule does to the gate (default fail).' }),
    threshold: finite()
        .optional()
        .meta({ description: 'MLflow MetricThreshold: the candidate must be >= (greater_is_better) or <= this.' }),
    min_absolute_change: finite()
        .positive()
        .optional()
        .meta({ description: 'MLflow MetricThreshold: required absolute improvement over the baseline (> 0).' }),
    min_relative_change: finite().min(0).max(1).optional().meta({
        description: 'MLflow MetricThreshold: required relative improvement over |baseline|, a fraction in [0, 1].'
    }),
    greater_is_better: schemas/* boolean */.zMY().optional().meta({ description: 'MLflow MetricThreshold: the direction.' }),
    higher_is_better: schemas/* boolean */.zMY().optional().meta({ description: 'MLflow 2 alias of greater_is_better (deprecated).' })
})
    .superRefine(checkRuleCoherence)
    .meta({ title: 'Metric rule' });
const COMPARISON_KEYS = [
    'max-regression',
    'max-regression-pct',
    'min-improvement',
    'min-improvement-pct',
    'min_absolute_change',
    'min_relative_change'
];
/** Rules that parse but contradict themselves are refused here, so the error carries the key's line. */
function checkRuleCoherence(rule, ctx) {
    const issue = (path, message) => ctx.addIssue({ code: 'custom', path: [path], message, input: rule[path] });
    if (rule.greater_is_better !== undefined && rule.higher_is_better !== undefined) {
        issue('higher_is_better', 'set greater_is_better or its old alias higher_is_better, not both');
    }
    const mlflowGreater = rule.greater_is_better ?? rule.higher_is_better;
    if (rule.direction && mlflowGreater !== undefined && (rule.direction === 'higher') !== mlflowGreater) {
        issue('direction', `contradicts greater_is_better: ${String(mlflowGreater)}; set one of them`);
    }
    const direction = rule.direction ?? (mlflowGreater === undefined ? undefined : mlflowGreater ? 'higher' : 'lower');
    for (const key of [...COMPARISON_KEYS, 'threshold']) {
        if (rule[key] !== undefined && !direction) {
            issue(key, 'needs a direction to know which way is worse: add direction: higher or direction: lower');
        }
    }
    if (rule.threshold !== undefined && direction) {
        const bound = direction === 'higher' ? 'min' : 'max';
        if (rule[bound] !== undefined)
            issue('threshold', `means ${bound} for this direction, and ${bound} is also set; keep one`);
    }
    if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
        issue('min', `is greater than max (${rule.max}); no value can pass`);
    }
    const loosens = rule['max-regression'] !== undefined || rule['max-regression-pct'] !== undefined;
    const demands = ['min-improvement', 'min-improvement-pct', 'min_absolute_change', 'min_relative_change'].some(key => rule[key] !== undefined);
    if (loosens && demands) {
        issue(rule['max-regression'] !== undefined ? 'max-regression' : 'max-regression-pct', 'allows a worsening while another key demands an improvement; keep one kind');
    }
}
const RuleSpecSchema = schemas/* union */.KCZ([DirectionSchema, RuleObjectSchema]);
const MetricRulesSchema = schemas/* record */.g1P(schemas/* string */.YjP().min(1), RuleSpecSchema).meta({
    description: 'Metric name or glob (`*` within one dotted segment, `**` across segments) to its rule; `higher`/`lower` alone sets only the direction.'
});
const FailOnSchema = schemas/* enum */.k5n(['regression', 'warning', 'never']);
const CompareSettingsSchema = schemas/* strictObject */.rej({
    baseline: schemas/* string */.YjP()
        .min(1)
        .optional()
        .meta({ description: 'Default baseline metrics source (file, git:<ref>:<path>, mlflow-run:<id>, models:/...).' }),
    'fail-on': FailOnSchema.optional()
});
const RegistrySettingsSchema = schemas/* strictObject */.rej({
    type: schemas/* enum */.k5n(['file', 'mlflow', 'databricks-uc']),
    path: schemas/* string */.YjP().min(1).optional(),
    'tracking-uri': schemas/* string */.YjP().min(1).optional()
});
const modelShape = {
    model: schemas/* string */.YjP().min(1).meta({ description: 'The model name; also the default report id of its PR comment.' }),
    metrics: MetricRulesSchema.optional(),
    compare: CompareSettingsSchema.optional(),
    registry: RegistrySettingsSchema.optional()
};
const ModelConfigSchema = schemas/* strictObject */.rej(modelShape);
const ConfigSchema = schemas/* strictObject */.rej({
    $schema: schemas/* string */.YjP().optional(),
    model: modelShape.model.optional(),
    metrics: modelShape.metrics,
    compare: modelShape.compare,
    registry: modelShape.registry,
    models: schemas/* array */.YOg(ModelConfigSchema).min(1).optional()
})
    .meta({ title: 'modelgate configuration (.modelgate.yml)' });

;// CONCATENATED MODULE: ./src/core/config/load.ts
/**
 * Reads `.modelgate.yml` and the inline `rules` input. Every problem becomes a ConfigurationError that names the
 * file (or input), the line and the key path, and says what was expected.
 */







/** Config files are small; this bound turns an accidental multi-megabyte file into a clear error. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * Loads the config file. With `explicit` false (the default name, not given by the user) a missing file is not an
 * error: the config is optional. A file the user named must exist.
 */
async function loadConfigFile(path, workspace, explicit) {
    const absolute = (0,external_node_path_.isAbsolute)(path) ? path : (0,external_node_path_.resolve)(workspace, path);
    let size;
    try {
        const info = await (0,promises_.stat)(absolute);
        if (info.isDirectory())
            throw new errors/* ConfigurationError */.j1('is a directory; expected a YAML file', { source: path });
        size = info.size;
    }
    catch (error) {
        if (error instanceof errors/* ConfigurationError */.j1)
            throw error;
        if (!explicit)
            return undefined;
        throw new errors/* ConfigurationError */.j1(`config file not found (looked for ${absolute})`, { source: path });
    }
    if (size > MAX_CONFIG_BYTES) {
        throw new errors/* ConfigurationError */.j1(`is ${size} bytes; a config file over ${MAX_CONFIG_BYTES} bytes is refused`, {
            source: path
        });
    }
    const text = await (0,promises_.readFile)(absolute, 'utf8');
    return { config: parseConfig(text, path), path };
}
function parseConfig(text, source) {
    const document = parseYaml(text, source, 'a map with keys such as model, metrics, compare');
    if (document === undefined)
        return {};
    return validate(ConfigSchema, document, text, source, []);
}
/**
 * Parses the `rules` input: the same map as the config's `metrics:`. The user may paste it with or without the
 * `metrics:` key, so both are accepted.
 */
function parseRulesInput(text, source) {
    const document = parseYaml(text, source, 'a map of metric names to rules');
    if (document === undefined)
        return {};
    if (isPlainObject(document) && Object.keys(document).length === 1 && isPlainObject(document.metrics)) {
        return validate(MetricRulesSchema, document.metrics, text, source, ['metrics']);
    }
    return validate(MetricRulesSchema, document, text, source, []);
}
/**
 * The settings of one model. A config holds either one model at the top level or a `models:` list; with a list,
 * `name` picks the entry (the compare action passes its report id), and a single entry needs no name.
 */
function selectModel(config, name, source) {
    if (!config.models) {
        if (!config.model && !config.metrics && !config.compare && !config.registry)
            return undefined;
        return {
            ...(config.model ? { model: config.model } : {}),
            ...(config.metrics ? { metrics: config.metrics } : {}),
            ...(config.compare ? { compare: config.compare } : {}),
            ...(config.registry ? { registry: config.registry } : {})
        };
    }
    if (config.model || config.metrics) {
        throw new errors/* ConfigurationError */.j1('sets both top-level model settings and a models: list; expected one or the other', {
            source
        });
    }
    if (!name) {
        if (config.models.length === 1)
            return config.models[0];
        throw new errors/* ConfigurationError */.j1(`lists ${config.models.length} models (${config.models.map(m => m.model).join(', ')}); say which one with the report-id input or --report-id`, { source, path: 'models' });
    }
    const found = config.models.find(m => m.model === name);
    if (!found) {
        throw new errors/* ConfigurationError */.j1(`has no model named ${JSON.stringify(name)}; expected one of: ${config.models.map(m => m.model).join(', ')}`, { source, path: 'models' });
    }
    return found;
}
function parseYaml(text, source, expected) {
    if (text.trim() === '')
        return undefined;
    let documents;
    try {
        // loadAll, because load() throws on a file that holds only comments, which is a valid empty config.
        documents = (0,js_yaml/* loadAll */.gh)(text, { filename: source });
    }
    catch (error) {
        if (error instanceof js_yaml/* YAMLException */.tB) {
            const line = error.mark ? error.mark.line + 1 : undefined;
            throw new errors/* ConfigurationError */.j1(`is not valid YAML: ${error.reason}; expected ${expected}`, {
                source,
                ...(line !== undefined ? { line } : {})
            });
        }
        throw error;
    }
    if (documents.length > 1) {
        throw new errors/* ConfigurationError */.j1(`holds ${documents.length} YAML documents; expected one`, { source });
    }
    const document = documents[0];
    if (document === null || document === undefined)
        return undefined;
    if (!isPlainObject(document)) {
        throw new errors/* ConfigurationError */.j1(`expected ${expected}, got ${Array.isArray(document) ? 'a list' : 'a single value'}`, {
            source,
            line: 1
        });
    }
    return document;
}
function validate(schema, value, text, source, base) {
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success)
        return result.data;
    throw issuesToError(result.error.issues, source, createLocator(text), schema, base);
}
function isPlainObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
}


/***/ })

};
