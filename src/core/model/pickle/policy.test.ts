import { describe, expect, it } from '@jest/globals'
import { configurationErrorOf } from '../../../../test/helpers/errors.js'
import { createPolicy } from './policy.js'

const policy = createPolicy()
const rating = (module: string, name: string, p = policy) => p.judge(module, name).rating

describe('built-in ratings', () => {
  it.each([
    ['os', 'system'],
    ['posix', 'system'],
    ['nt', 'system'],
    ['os.path', 'join'],
    ['subprocess', 'Popen'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['builtins', 'compile'],
    ['builtins', 'open'],
    ['builtins', 'getattr'],
    ['builtins', '__import__'],
    ['builtins', 'globals'],
    ['builtins', 'breakpoint'],
    ['__builtin__', 'eval'],
    ['runpy', 'run_path'],
    ['socket', 'create_connection'],
    ['shutil', 'rmtree'],
    ['sys', 'exit'],
    ['pty', 'spawn'],
    ['importlib', 'import_module'],
    ['pickle', 'loads'],
    ['_pickle', 'loads'],
    ['cPickle', 'loads'],
    ['marshal', 'loads'],
    ['types', 'CodeType'],
    ['types', 'FunctionType'],
    ['webbrowser', 'open'],
    ['ctypes', 'CDLL'],
    ['code', 'interact'],
    ['codeop', 'compile_command'],
    ['platform', 'popen'],
    ['asyncio.subprocess', 'create_subprocess_shell'],
    ['asyncio', 'create_subprocess_exec'],
    ['multiprocessing.util', 'spawnv_passfds'],
    ['urllib.request', 'urlopen'],
    ['http.client', 'HTTPConnection'],
    ['requests', 'get'],
    ['operator', 'attrgetter'],
    ['operator', 'methodcaller'],
    ['torch', 'load'],
    ['torch.jit', 'load'],
    ['torch.storage', '_load_from_bytes'],
    ['numpy', 'load'],
    ['joblib', 'load'],
    ['joblib.numpy_pickle_compat', 'NDArrayWrapper'],
    ['cloudpickle.cloudpickle', '_make_function'],
    ['dill._dill', '_create_code'],
    ['copyreg', 'add_extension'],
    ['tempfile', 'NamedTemporaryFile'],
    ['timeit', 'timeit'],
    ['pandas', 'read_pickle'],
    ['numpy.testing._private.utils', 'runstring'],
    ['sklearn.utils._testing', 'assert_run_python_script_without_output'],
    ['sklearn.datasets._openml', 'fetch_openml']
  ])('%s.%s is dangerous', (module, name) => {
    expect(rating(module, name)).toBe('dangerous')
  })

  it.each([
    ['numpy.core.multiarray', '_reconstruct'],
    ['numpy._core.multiarray', '_reconstruct'],
    ['numpy', 'dtype'],
    ['numpy', 'ndarray'],
    ['numpy', 'float64'],
    ['numpy._core.numeric', '_frombuffer'],
    ['numpy.random._pickle', '__randomstate_ctor'],
    ['numpy.random._mt19937', 'MT19937'],
    ['scipy.sparse._csr', 'csr_matrix'],
    ['sklearn.ensemble._forest', 'RandomForestClassifier'],
    ['sklearn.tree._tree', 'Tree'],
    ['pandas.core.frame', 'DataFrame'],
    ['pandas', 'DataFrame'],
    ['pandas._libs.internals', '_unpickle_block'],
    ['xgboost.core', 'Booster'],
    ['lightgbm.sklearn', 'LGBMClassifier'],
    ['torch._utils', '_rebuild_tensor_v2'],
    ['torch._utils', '_rebuild_parameter'],
    ['torch', 'FloatStorage'],
    ['collections', 'OrderedDict'],
    ['collections', 'defaultdict'],
    ['builtins', 'set'],
    ['builtins', 'frozenset'],
    ['builtins', 'slice'],
    ['builtins', 'complex'],
    ['builtins', 'bytearray'],
    ['builtins', 'object'],
    ['__builtin__', 'set'],
    ['__builtin__', 'object'],
    ['copyreg', '_reconstructor'],
    ['copy_reg', '_reconstructor'],
    ['_codecs', 'encode'],
    ['joblib.numpy_pickle', 'NumpyArrayWrapper']
  ])('%s.%s is safe', (module, name) => {
    expect(rating(module, name)).toBe('safe')
  })

  it.each([
    ['mypackage.model', 'ChurnModel'],
    ['__main__', 'Model'],
    ['functools', 'partial'],
    ['builtins', 'type'],
    ['sklearn.utils._joblib', 'load'],
    ['sklearn.utils.fixes', 'dump'],
    ['sklearn.tests.test_base', 'T'],
    ['numpy', 'save']
  ])('%s.%s is unknown', (module, name) => {
    expect(rating(module, name)).toBe('unknown')
  })

  it('reads Python 2 names as Python 3 loads them', () => {
    expect(policy.judge('commands', 'getoutput')).toMatchObject({
      rating: 'dangerous',
      reason: expect.stringContaining('loads as subprocess.getoutput')
    })
    expect(rating('__builtin__', 'reduce')).toBe('unknown')
    expect(rating('__builtin__', 'intern')).toBe('dangerous')
    expect(rating('urllib', 'urlopen')).toBe('dangerous')
    expect(rating('exceptions', 'ValueError')).toBe('unknown')
  })

  it('sees through dotted names, which protocol 4 resolves attribute by attribute', () => {
    expect(policy.judge('copyreg', '_reconstructor.__builtins__.get')).toMatchObject({
      rating: 'dangerous',
      reason: expect.stringContaining('dunder')
    })
    expect(rating('sklearn.utils._testing', 'os.system')).toBe('dangerous')
    expect(rating('sklearn.base', 'np.load')).toBe('dangerous')
    expect(rating('builtins', 'object.__subclasses__')).toBe('dangerous')
    // No wildcard covers a dotted name: only an exact entry does.
    expect(rating('sklearn.base', 'BaseEstimator.Inner')).toBe('unknown')
    expect(rating('mypkg', 'Outer.Inner', createPolicy({ allow: ['mypkg.Outer.Inner'] }))).toBe('safe')
    expect(rating('mypkg', 'Outer.Inner', createPolicy({ allow: ['mypkg.*'] }))).toBe('unknown')
  })

  it('does not let a module wildcard cover code-execution entry points', () => {
    expect(createPolicy({ allow: ['mypkg.*'] }).judge('mypkg.utils', 'load')).toMatchObject({
      rating: 'unknown',
      reason: expect.stringContaining('mypkg.*')
    })
  })

  it('admits classes of the model libraries by shape, never their functions', () => {
    expect(rating('sklearn.ensemble._forest', 'RandomForestClassifier')).toBe('safe')
    expect(rating('statsmodels.regression.linear_model', 'RegressionResultsWrapper')).toBe('safe')
    expect(rating('sklearn.tree._tree', '__pyx_unpickle_TreeBuilder')).toBe('safe')
    expect(policy.judge('sklearn.utils', 'load')).toMatchObject({ rating: 'unknown', reason: 'not on the allowlist' })
    expect(rating('sklearn.utils._show_versions', 'show_versions')).toBe('unknown')
    expect(rating('pandas.io.pytables', 'HDFStore')).toBe('unknown')
    expect(rating('xgboost.core', 'DMatrix')).toBe('unknown')
    expect(rating('statsmodels.iolib.smpickle', 'load_pickle')).toBe('unknown')
    expect(rating('sklearn.tests.test_base', 'T')).toBe('unknown')
  })
})

describe('allow patterns', () => {
  it('allows the user’s classes by exact name or glob', () => {
    const p = createPolicy({ allow: ['churnlib.features.*', 'mypkg.Model'] })
    expect(rating('churnlib.features.scaling', 'Clipper', p)).toBe('safe')
    expect(rating('churnlib.features', 'Clipper', p)).toBe('safe')
    expect(rating('churnlib.other', 'Clipper', p)).toBe('unknown')
    expect(rating('mypkg', 'Model', p)).toBe('safe')
    expect(rating('mypkg', 'Other', p)).toBe('unknown')
    expect(p.judge('mypkg', 'Model').reason).toBe('allowed by mypkg.Model')
  })

  it('never silently allows a dangerous import: the rating stays dangerous and names the overriding entry', () => {
    const p = createPolicy({ allow: ['cloudpickle.*', 'os.system', '*'] })
    expect(p.judge('cloudpickle.cloudpickle', '_make_function')).toMatchObject({
      rating: 'dangerous',
      overriddenBy: 'cloudpickle.*'
    })
    expect(p.judge('os', 'system')).toMatchObject({ rating: 'dangerous', overriddenBy: 'os.system' })
    // A bare '*' allows unknown imports, but names no module, so it overrides nothing dangerous.
    expect(p.judge('posix', 'system')).toEqual(expect.not.objectContaining({ overriddenBy: expect.anything() }))
    expect(rating('anything.at', 'all', p)).toBe('safe')
  })

  it.each([
    ['', 'non-empty'],
    ['mypackage', "write 'mypackage.*'"],
    ['my-package.*', 'not a dotted name'],
    ['pkg..Model', 'not a dotted name']
  ])('refuses the allow entry %j as a configuration error', (pattern, message) => {
    const error = configurationErrorOf(() => createPolicy({ allow: [pattern], source: '.modelgate.yml' }))
    expect(error.message).toContain(message.replace(/'/g, '"'))
    expect(error.place).toEqual({ source: '.modelgate.yml', path: 'allow[0]' })
  })
})
