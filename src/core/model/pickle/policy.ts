/**
 * The rating of one import a pickle makes (a `module.name` the unpickler resolves with `find_class`).
 *
 * Importing is where a pickle gains power: every call a pickle makes (REDUCE, NEWOBJ, BUILD's `__setstate__`, INST,
 * OBJ) calls something it imported first. So the policy judges imports, not calls: a callable is judged as soon as it
 * is imported, whatever the stream later does with it.
 *
 * Deny by default. Three ratings:
 * - `safe`: named by the allowlist of what model libraries really pickle (numpy, scipy, pandas, scikit-learn,
 *   xgboost, lightgbm, catboost, statsmodels, torch tensors and storages, joblib's wrappers, standard containers), or
 *   by the user's `allow-imports`. The allowlist names functions exactly; inside the libraries' model modules it
 *   admits classes (CapWords names, whose unpickling runs `__new__` and `__setstate__`) and Cython's
 *   `__pyx_unpickle_*` reconstructors, never a function by package prefix: those packages also hold functions that
 *   run code or touch files.
 * - `dangerous`: known to run commands or code, touch files or the network, load another pickle, walk attributes to
 *   reach such things, or rewire the unpickler. The check fails, and says why.
 * - `unknown`: everything else. The check fails too: a denylist never ends (well over a hundred standard-library
 *   functions run code or touch files when a pickle calls them).
 */
import { ConfigurationError, describeValue } from '../../errors.js'

export type ImportRating = 'safe' | 'unknown' | 'dangerous'

export interface Judgement {
  readonly rating: ImportRating
  /** Why, in a few words, for the finding. */
  readonly reason: string
  /**
   * Set when the built-in rules say dangerous but a user allow pattern names the import: the rating stays
   * `dangerous` and the check reports a warning instead of an error, never a silent pass.
   */
  readonly overriddenBy?: string
  /** The user's allow entry that made an import `safe` that the built-in allowlist does not name. */
  readonly allowedBy?: string
}

export interface PicklePolicy {
  judge(module: string, name: string): Judgement
  readonly allow: readonly string[]
}

export interface PolicyOptions {
  /** Extra allowed imports: exact `module.Name` or globs such as `mypackage.*` (`*` spans dots). */
  readonly allow?: readonly string[]
  /** Where the patterns came from, for error messages (`.modelgate.yml`). */
  readonly source?: string
  /** Their key path in that source (`validation.allow-imports`); entries are reported as `<path>[i]`. */
  readonly path?: string
}

// Modules whose every attribute is dangerous to import: process and code execution, file and network access,
// loaders of further serialized data, and the unpickler's own machinery.
const DANGEROUS_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['os', 'operating-system access (commands, files, environment)'],
  ['posix', 'operating-system access (os.system and friends pickle as posix.*)'],
  ['nt', 'operating-system access (os functions pickle as nt.* on Windows)'],
  ['_posixsubprocess', 'spawns processes'],
  ['subprocess', 'spawns processes'],
  ['pty', 'spawns processes'],
  ['pexpect', 'spawns processes'],
  ['multiprocessing', 'spawns processes'],
  ['_multiprocessing', 'spawns processes'],
  ['asyncio.subprocess', 'spawns processes'],
  ['signal', 'signals processes'],
  ['runpy', 'runs Python modules and files'],
  ['code', 'runs Python source'],
  ['codeop', 'compiles Python source'],
  ['compileall', 'compiles Python source'],
  ['py_compile', 'compiles Python source'],
  ['timeit', 'runs Python source passed as a string'],
  ['profile', 'runs Python source passed as a string'],
  ['cProfile', 'runs Python source passed as a string'],
  ['trace', 'runs Python source passed as a string'],
  ['pdb', 'runs Python source passed as a string'],
  ['bdb', 'runs Python source passed as a string'],
  ['doctest', 'runs Python source from docstrings'],
  ['idlelib', 'runs Python source'],
  ['importlib', 'imports arbitrary modules'],
  ['imp', 'imports arbitrary modules'],
  ['pkgutil', 'resolves arbitrary names to objects'],
  ['zipimport', 'imports arbitrary modules'],
  ['sys', 'interpreter internals (modules, hooks, exit)'],
  ['ctypes', 'calls native code'],
  ['_ctypes', 'calls native code'],
  ['cffi', 'calls native code'],
  ['marshal', 'loads Python bytecode'],
  ['pickle', 'loads a nested pickle'],
  ['_pickle', 'loads a nested pickle'],
  ['cPickle', 'loads a nested pickle'],
  ['shelve', 'loads pickles from a database file'],
  ['dill', 'rebuilds functions from bytecode and imports modules by name'],
  ['cloudpickle', 'rebuilds functions from bytecode and imports modules by name'],
  ['srsly', 'loads nested pickles'],
  ['shutil', 'copies, moves and deletes files'],
  ['tempfile', 'creates files'],
  ['glob', 'lists the file system'],
  ['socket', 'network access'],
  ['_socket', 'network access'],
  ['socketserver', 'network access'],
  ['ssl', 'network access'],
  ['select', 'network access'],
  ['selectors', 'network access'],
  ['http.client', 'network access'],
  ['http.server', 'network access'],
  ['urllib.request', 'network access'],
  ['urllib3', 'network access'],
  ['requests', 'network access'],
  ['httpx', 'network access'],
  ['aiohttp', 'network access'],
  ['ftplib', 'network access'],
  ['smtplib', 'network access'],
  ['telnetlib', 'network access'],
  ['poplib', 'network access'],
  ['imaplib', 'network access'],
  ['nntplib', 'network access'],
  ['xmlrpc', 'network access'],
  ['webbrowser', 'opens URLs and runs the browser'],
  ['logging.config', 'evaluates configuration as code'],
  ['distutils', 'spawns processes'],
  ['setuptools', 'spawns processes and runs setup code'],
  ['pip', 'installs packages'],
  ['ensurepip', 'installs packages'],
  ['venv', 'spawns processes'],
  ['numpy.f2py', 'compiles and imports native code'],
  ['numpy.distutils', 'spawns processes'],
  ['numpy.testing', 'runs Python source (runstring)'],
  ['torch.hub', 'downloads and runs code'],
  ['torch.package', 'imports code packaged in the archive'],
  ['pandas.io.pickle', 'loads a nested pickle'],
  // Corners of allowlisted packages that are not model classes
  ['sklearn.utils._testing', 'runs Python scripts (assert_run_python_script_without_output)'],
  ['sklearn.utils.estimator_checks', 'runs arbitrary estimator checks'],
  ['sklearn.datasets', 'downloads data and reads arbitrary files'],
  ['sklearn.externals', 'vendored loaders of nested pickles'],
  ['sklearn._build_utils', 'compiles and spawns processes'],
  ['pandas.core.computation', 'evaluates expressions']
]

// builtins (and Python 2's __builtin__) callables.
const BUILTINS_DANGEROUS: ReadonlyMap<string, string> = new Map([
  ...['eval', 'exec', 'execfile', 'compile', 'apply', 'reload'].map(n => [n, 'runs Python code'] as const),
  ...['open', 'file', 'input', 'raw_input'].map(n => [n, 'file or console access'] as const),
  ...['getattr', 'setattr', 'delattr'].map(n => [n, 'attribute access gadget: reaches any attribute by name'] as const),
  ['__import__', 'imports arbitrary modules'],
  ['__build_class__', 'builds classes by running code'],
  ...['globals', 'locals', 'vars'].map(n => [n, 'exposes namespaces (reaches every builtin)'] as const),
  ['breakpoint', 'starts the debugger'],
  ['help', 'starts the interactive help pager']
])

const DANGEROUS_EXACT: ReadonlyMap<string, string> = new Map([
  ['io.open', 'file access'],
  ['io.open_code', 'file access'],
  ['io.FileIO', 'file access'],
  ['_io.open', 'file access'],
  ['_io.open_code', 'file access'],
  ['_io.FileIO', 'file access'],
  ['operator.attrgetter', 'attribute-walk gadget: reaches any attribute by name'],
  ['operator.methodcaller', 'calls any method by name'],
  ['_operator.attrgetter', 'attribute-walk gadget: reaches any attribute by name'],
  ['_operator.methodcaller', 'calls any method by name'],
  ['types.FunctionType', 'builds a function from a code object'],
  ['types.LambdaType', 'builds a function from a code object'],
  ['types.CodeType', 'builds Python bytecode'],
  ['types.CellType', 'builds function closures'],
  ['copyreg.add_extension', "rewires the loader's extension registry"],
  ['copyreg.remove_extension', "rewires the loader's extension registry"],
  ['copyreg.clear_extension_cache', "rewires the loader's extension registry"],
  ['copyreg.pickle', "rewires the loader's reducer registry"],
  ['copyreg.constructor', "rewires the loader's reducer registry"],
  ['platform.popen', 'spawns processes'],
  ['platform._syscmd_ver', 'spawns processes'],
  ['platform._syscmd_file', 'spawns processes'],
  ['platform._syscmd_uname', 'spawns processes'],
  ['asyncio.create_subprocess_exec', 'spawns processes'],
  ['asyncio.create_subprocess_shell', 'spawns processes'],
  ['asyncio.base_events.BaseEventLoop', 'its subprocess methods spawn processes'],
  ['_thread.start_new_thread', 'runs a callable in a new thread'],
  ['_thread.start_new', 'runs a callable in a new thread'],
  ['numpy.load', 'loads a nested pickle (allow_pickle)'],
  ['numpy.lib.npyio.load', 'loads a nested pickle (allow_pickle)'],
  ['numpy.lib._npyio_impl.load', 'loads a nested pickle (allow_pickle)'],
  ['numpy.fromfile', 'reads arbitrary files'],
  ['numpy.memmap', 'maps arbitrary files'],
  ['joblib.load', 'loads a nested pickle'],
  ['joblib.numpy_pickle.load', 'loads a nested pickle'],
  ['joblib.numpy_pickle.NDArrayWrapper', 'loads another file with numpy.load(allow_pickle=True)'],
  ['joblib.numpy_pickle_compat.NDArrayWrapper', 'loads another file with numpy.load(allow_pickle=True)'],
  ['torch.load', 'loads a nested pickle'],
  ['torch.serialization.load', 'loads a nested pickle'],
  ['torch.serialization._load', 'loads a nested pickle'],
  ['torch.jit.load', 'loads a nested TorchScript archive'],
  ['torch.jit._serialization.load', 'loads a nested TorchScript archive'],
  ['torch.storage._load_from_bytes', 'loads a nested pickle (torch.load of embedded bytes)'],
  ['torch._C._jit_load', 'loads a nested TorchScript archive'],
  ['pandas.read_pickle', 'loads a nested pickle'],
  ['pandas.eval', 'evaluates expressions'],
  ['yaml.load', 'PyYAML load can construct arbitrary objects'],
  ['yaml.load_all', 'PyYAML load can construct arbitrary objects'],
  ['yaml.unsafe_load', 'PyYAML load can construct arbitrary objects'],
  ['yaml.unsafe_load_all', 'PyYAML load can construct arbitrary objects'],
  ['yaml.full_load', 'PyYAML load can construct arbitrary objects'],
  ['yaml.full_load_all', 'PyYAML load can construct arbitrary objects'],
  ['gc.get_objects', 'reaches every live object'],
  ['gc.get_referrers', 'reaches every live object'],
  ['gc.get_referents', 'reaches every live object']
])

// Module roots that, met as a component of a dotted name, mean the walk reaches that module through an attribute
// (`sklearn.utils._testing` + `os.system`).
const DANGEROUS_ROOTS = new Set([
  'os',
  'posix',
  'nt',
  'sys',
  'subprocess',
  'builtins',
  '__builtins__',
  'shutil',
  'socket',
  'pickle',
  '_pickle',
  'importlib',
  'runpy',
  'ctypes',
  'marshal',
  'pty',
  'multiprocessing',
  'webbrowser',
  'code',
  'codeop'
])

/**
 * Names that are code-execution entry points in the modules that have them. A wildcard allow entry (`pkg.*`) never
 * covers them: the user lists them exactly if they really are harmless in their package.
 */
const SUSPICIOUS_NAMES = new Set([
  'system',
  'popen',
  'Popen',
  'spawn',
  'spawnl',
  'spawnv',
  'spawnve',
  'spawnlp',
  'spawnvp',
  'execl',
  'execv',
  'execve',
  'execlp',
  'execvp',
  'fork',
  'kill',
  'call',
  'check_call',
  'check_output',
  'getoutput',
  'getstatusoutput',
  'run',
  'run_path',
  'run_module',
  'runstring',
  'exec_command',
  'eval',
  'exec',
  'execfile',
  'compile',
  'load',
  'loads',
  'load_module',
  'import_module',
  'resolve_name',
  'open',
  'remove',
  'unlink',
  'rmtree',
  'urlopen',
  'urlretrieve',
  'dump',
  'dumps',
  'save',
  'write_text',
  'write_bytes',
  'mkdir',
  'makedirs',
  'rename',
  'chmod',
  'symlink',
  'copyfile',
  'getattr',
  'setattr',
  'delattr',
  'attrgetter',
  'methodcaller',
  '__import__'
])

/** Harmless things to import: constructors and reconstruction helpers model pickles are made of. */
const SAFE_EXACT = new Set([
  // builtins: value types and their constructors
  ...[
    'object',
    'set',
    'frozenset',
    'slice',
    'complex',
    'bytearray',
    'bytes',
    'range',
    'int',
    'float',
    'str',
    'bool',
    'tuple',
    'list',
    'dict',
    'Ellipsis',
    'NotImplemented'
  ].map(n => `builtins.${n}`),
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'copyreg.__newobj_ex__',
  '_codecs.encode',
  'codecs.encode',
  'collections.OrderedDict',
  'collections.defaultdict',
  'collections.Counter',
  'collections.deque',
  'collections.ChainMap',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'fractions.Fraction',
  'uuid.UUID',
  'array.array',
  'array._array_reconstructor',
  're._compile',
  // numpy 1.x and 2.x (numpy.core moved to numpy._core)
  ...['core', '_core'].flatMap(core => [
    `numpy.${core}.multiarray._reconstruct`,
    `numpy.${core}.multiarray.scalar`,
    `numpy.${core}.numeric._frombuffer`,
    `numpy.${core}.multiarray.ndarray`,
    `numpy.${core}.multiarray.dtype`,
    `numpy.${core}.records.recarray`,
    `numpy.${core}.records.record`,
    `numpy.${core}.defchararray.chararray`
  ]),
  'numpy.ndarray',
  'numpy.dtype',
  'numpy.matrix',
  'numpy.matrixlib.defmatrix.matrix',
  'numpy.ma.core._mareconstruct',
  'numpy.ma.core.MaskedArray',
  'numpy.recarray',
  'numpy.random.mtrand.RandomState',
  'numpy.random.mtrand._rand',
  'numpy.random._generator.Generator',
  'numpy.random._mt19937.MT19937',
  'numpy.random._pcg64.PCG64',
  'numpy.random._pcg64.PCG64DXSM',
  'numpy.random._philox.Philox',
  'numpy.random._sfc64.SFC64',
  'numpy.random.bit_generator.SeedSequence',
  'numpy.random._pickle.__randomstate_ctor',
  'numpy.random._pickle.__generator_ctor',
  'numpy.random._pickle.__bit_generator_ctor',
  // joblib's placeholder for arrays written after it (the scanner skips the array bytes)
  'joblib.numpy_pickle.NumpyArrayWrapper',
  // torch checkpoints (data.pkl): tensor and storage rebuilders
  ...[
    '_rebuild_tensor',
    '_rebuild_tensor_v2',
    '_rebuild_tensor_v3',
    '_rebuild_parameter',
    '_rebuild_parameter_with_state',
    '_rebuild_qtensor',
    '_rebuild_sparse_tensor',
    '_rebuild_nested_tensor',
    '_rebuild_device_tensor_from_numpy',
    '_rebuild_meta_tensor_no_storage',
    '_rebuild_wrapper_subclass'
  ].map(n => `torch._utils.${n}`),
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  'torch.Size',
  'torch.device',
  'torch.dtype',
  'torch.layout',
  'torch.memory_format',
  'torch.strided',
  'torch.sparse_coo',
  'torch.sparse_csr',
  'torch.contiguous_format',
  'torch.channels_last',
  'torch.preserve_format',
  'torch.nn.parameter.Parameter',
  'torch.nn.parameter.UninitializedParameter',
  'torch.nn.parameter.Buffer',
  'torch.storage.TypedStorage',
  'torch.storage.UntypedStorage',
  'torch.serialization._get_layout',
  ...[
    'float32',
    'float64',
    'float16',
    'bfloat16',
    'complex64',
    'complex128',
    'uint8',
    'int8',
    'int16',
    'int32',
    'int64',
    'bool',
    'float8_e4m3fn',
    'float8_e5m2',
    'uint16',
    'uint32',
    'uint64',
    'half',
    'float',
    'double',
    'long',
    'int',
    'short',
    'qint8',
    'quint8',
    'qint32'
  ].map(n => `torch.${n}`),
  ...[
    'FloatStorage',
    'DoubleStorage',
    'HalfStorage',
    'BFloat16Storage',
    'LongStorage',
    'IntStorage',
    'ShortStorage',
    'CharStorage',
    'ByteStorage',
    'BoolStorage',
    'ComplexFloatStorage',
    'ComplexDoubleStorage',
    'QInt8Storage',
    'QUInt8Storage',
    'QInt32Storage',
    'QUInt4x2Storage',
    'QUInt2x4Storage',
    'UntypedStorage'
  ].map(n => `torch.${n}`),
  // the tensor types torch.save's tar format (before 0.4) names in its tensors member, for CPU and CUDA tensors
  ...['Float', 'Double', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool'].flatMap(t => [
    `torch.${t}Tensor`,
    `torch.cuda.${t}Tensor`
  ]),
  // pandas 2/3 pickle their public classes by top-level name; string columns go through pyarrow
  ...[
    'DataFrame',
    'Series',
    'Index',
    'RangeIndex',
    'MultiIndex',
    'DatetimeIndex',
    'TimedeltaIndex',
    'PeriodIndex',
    'CategoricalIndex',
    'IntervalIndex',
    'Categorical',
    'CategoricalDtype',
    'DatetimeTZDtype',
    'PeriodDtype',
    'IntervalDtype',
    'SparseDtype',
    'StringDtype',
    'ArrowDtype',
    'BooleanDtype',
    'Int8Dtype',
    'Int16Dtype',
    'Int32Dtype',
    'Int64Dtype',
    'UInt8Dtype',
    'UInt16Dtype',
    'UInt32Dtype',
    'UInt64Dtype',
    'Float32Dtype',
    'Float64Dtype',
    'Timestamp',
    'Timedelta',
    'Period',
    'Interval',
    'NaT',
    'NA'
  ].map(n => `pandas.${n}`),
  ...[
    '_restore_array',
    'type_for_alias',
    'py_buffer',
    'chunked_array',
    'schema',
    'field',
    'timestamp',
    'duration',
    'list_',
    'large_list',
    'struct',
    'dictionary'
  ].map(n => `pyarrow.lib.${n}`),
  // scipy.sparse matrices and arrays (lowercase classes), under the private modules scipy 1.8+ pickles them from
  // and the public aliases older versions used
  ...['csr', 'csc', 'coo', 'bsr', 'dia', 'dok', 'lil'].flatMap(f =>
    [`scipy.sparse._${f}`, `scipy.sparse.${f}`, 'scipy.sparse._arrays', 'scipy.sparse'].flatMap(m => [
      `${m}.${f}_matrix`,
      `${m}.${f}_array`
    ])
  ),
  // pandas' reconstructors for indexes, blocks and scalars
  'pandas.core.indexes.base._new_Index',
  'pandas.core.indexes.datetimes._new_DatetimeIndex',
  'pandas.core.indexes.timedeltas._new_TimedeltaIndex',
  'pandas.core.indexes.period._new_PeriodIndex',
  'pandas.core.indexes.interval._new_IntervalIndex',
  'pandas._libs.internals._unpickle_block',
  'pandas._libs.tslibs.timestamps._unpickle_timestamp',
  'pandas._libs.tslibs.timedeltas._timedelta_unpickle',
  'pandas._libs.tslibs.nattype.__nat_unpickle',
  // scikit-learn's Cython reconstructors of its neighbour trees and distance metrics
  'sklearn.neighbors._kd_tree.newObj',
  'sklearn.neighbors._ball_tree.newObj',
  'sklearn.metrics._dist_metrics.newObj',
  // MLflow's pyfunc base class and signature helpers, referenced by pickled python_model objects
  'mlflow.pyfunc.model.PythonModel',
  'mlflow.pyfunc.model.PythonModelContext',
  'mlflow.models.signature.ModelSignature',
  'mlflow.models.signature._TypeHints',
  // xgboost and lightgbm boosters restore from their own binary format in __setstate__
  'xgboost.core.Booster',
  'lightgbm.basic.Booster'
])

/** Numpy scalar types, pickled by reference when an estimator stores `dtype=np.float64`. */
const NUMPY_SCALARS = [
  'bool_',
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'intc',
  'uintc',
  'intp',
  'uintp',
  'longlong',
  'ulonglong',
  'float16',
  'float32',
  'float64',
  'longdouble',
  'half',
  'single',
  'double',
  'complex64',
  'complex128',
  'clongdouble',
  'object_',
  'str_',
  'bytes_',
  'void',
  'datetime64',
  'timedelta64',
  'number',
  'integer',
  'floating',
  'generic'
]
for (const n of NUMPY_SCALARS) SAFE_EXACT.add(`numpy.${n}`)

/**
 * Where the allowlist admits classes by their shape instead of one by one: the model modules of the libraries whose
 * estimators, arrays and results are pickled. Only CapWords names (classes, by Python's convention) and Cython's
 * `__pyx_unpickle_*` reconstructors match; functions never do, however harmless their module looks. Unpickling a
 * class runs its `__new__` and `__setstate__`, which in these libraries restore state and nothing else.
 */
const CLASS_MODULES = [
  'sklearn',
  'numpy.random',
  'numpy.ma',
  'numpy.dtypes',
  'numpy.polynomial',
  'scipy.sparse',
  'scipy.stats',
  'scipy.interpolate',
  'scipy.spatial',
  'pandas.core',
  'pandas._libs',
  'pandas.arrays',
  'pandas.tseries',
  'xgboost.core',
  'xgboost.sklearn',
  'xgboost.callback',
  'lightgbm.basic',
  'lightgbm.sklearn',
  'catboost.core',
  'statsmodels',
  'torch.nn.modules',
  'mlflow.types.schema'
]

/** Inside CLASS_MODULES, modules that are not model code: loaders, I/O, test helpers, expression evaluators. */
const NOT_MODEL_MODULES = [
  'sklearn.datasets',
  'sklearn.externals',
  'sklearn._build_utils',
  'sklearn.utils._testing',
  'sklearn.utils.estimator_checks',
  'pandas.core.computation',
  'pandas.io',
  'statsmodels.iolib',
  'statsmodels.datasets',
  'statsmodels.sandbox',
  'scipy.sparse.linalg'
]

/** Classes in CLASS_MODULES whose unpickling can read files: their constructors take a path. */
const NOT_MODEL_CLASSES = new Set([
  'xgboost.core.DMatrix',
  'xgboost.core.QuantileDMatrix',
  'xgboost.core.ExtMemQuantileDMatrix',
  'xgboost.core.DataIter',
  'lightgbm.basic.Dataset',
  'lightgbm.basic.Sequence',
  'catboost.core.Pool'
])

const CLASS_NAME = /^_*[A-Z][A-Za-z0-9_]*$/
const CYTHON_RECONSTRUCTOR = /^__pyx_unpickle_[A-Za-z0-9_]+$/

function builtinClass(module: string, name: string): string | undefined {
  if (!CLASS_NAME.test(name) && !CYTHON_RECONSTRUCTOR.test(name)) return undefined
  if (NOT_MODEL_CLASSES.has(`${module}.${name}`)) return undefined
  const root = CLASS_MODULES.find(r => inModule(module, r))
  if (!root || NOT_MODEL_MODULES.some(r => inModule(module, r))) return undefined
  return root
}

/**
 * Python 2 names that Python 3's unpickler renames before importing (`_compat_pickle`, used for protocols 0-2).
 * A pickle can say `commands.getoutput` and get `subprocess.getoutput`, so both spellings are judged.
 */
const IMPORT_MAPPING: Readonly<Record<string, string>> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  SocketServer: 'socketserver',
  ConfigParser: 'configparser',
  repr: 'reprlib',
  markupbase: '_markupbase',
  _winreg: 'winreg',
  thread: '_thread',
  dummy_thread: '_dummy_thread',
  dbhash: 'dbm.bsd',
  dumbdbm: 'dbm.dumb',
  dbm: 'dbm.ndbm',
  gdbm: 'dbm.gnu',
  xmlrpclib: 'xmlrpc.client',
  SimpleXMLRPCServer: 'xmlrpc.server',
  DocXMLRPCServer: 'xmlrpc.server',
  httplib: 'http.client',
  htmlentitydefs: 'html.entities',
  HTMLParser: 'html.parser',
  Cookie: 'http.cookies',
  cookielib: 'http.cookiejar',
  BaseHTTPServer: 'http.server',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  'test.test_support': 'test.support',
  commands: 'subprocess',
  urlparse: 'urllib.parse',
  robotparser: 'urllib.robotparser',
  urllib2: 'urllib.request',
  anydbm: 'dbm',
  whichdb: 'dbm',
  _abcoll: 'collections.abc',
  cPickle: 'pickle',
  _elementtree: 'xml.etree.ElementTree',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  StringIO: 'io',
  cStringIO: 'io'
}
const NAME_MAPPING: Readonly<Record<string, string>> = {
  '__builtin__.xrange': 'builtins.range',
  '__builtin__.reduce': 'functools.reduce',
  '__builtin__.intern': 'sys.intern',
  '__builtin__.unichr': 'builtins.chr',
  '__builtin__.unicode': 'builtins.str',
  '__builtin__.long': 'builtins.int',
  '__builtin__.basestring': 'builtins.str',
  'itertools.izip': 'builtins.zip',
  'itertools.imap': 'builtins.map',
  'itertools.ifilter': 'builtins.filter',
  'itertools.ifilterfalse': 'itertools.filterfalse',
  'itertools.izip_longest': 'itertools.zip_longest',
  '_socket.fromfd': 'socket.fromfd',
  '_multiprocessing.Connection': 'multiprocessing.connection.Connection',
  'multiprocessing.process.Process': 'multiprocessing.context.Process',
  'multiprocessing.forking.Popen': 'multiprocessing.popen_fork.Popen',
  'urllib.getproxies': 'urllib.request.getproxies',
  'urllib.urlopen': 'urllib.request.urlopen',
  'urllib.urlretrieve': 'urllib.request.urlretrieve',
  'urllib.urlcleanup': 'urllib.request.urlcleanup',
  'urllib.pathname2url': 'urllib.request.pathname2url',
  'urllib.url2pathname': 'urllib.request.url2pathname',
  'exceptions.StandardError': 'builtins.Exception'
}

function inModule(module: string, root: string): boolean {
  return module === root || (module.startsWith(root) && module.charCodeAt(root.length) === 46) /* . */
}

const DUNDER = /^__.+__$/
/** Test suites inside allowlisted packages: helpers there run scripts and touch files. */
const TEST_MODULE = /(^|\.)(tests?|testing|_testing|conftest)(\.|$)/

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
  return new RegExp(`^${escaped}$`)
}

interface AllowEntry {
  readonly pattern: string
  readonly regex: RegExp
  readonly wildcard: boolean
  /** May override a built-in dangerous rating: it names a module before any `*`. */
  readonly canOverride: boolean
}

const ALLOW_SYNTAX = /^[\p{L}\p{N}_.*]+$/u

function compileAllow(patterns: readonly string[], source: string, path = 'allow'): AllowEntry[] {
  return patterns.map((pattern, index) => {
    const place = { source, path: `${path}[${index}]` }
    if (typeof pattern !== 'string' || pattern.trim() === '') {
      throw new ConfigurationError(
        `pickle allow entry must be a non-empty string, got ${describeValue(pattern)}`,
        place
      )
    }
    const p = pattern.trim()
    if (!ALLOW_SYNTAX.test(p) || p.includes('..')) {
      throw new ConfigurationError(
        `pickle allow entry ${describeValue(p)} is not a dotted name or glob (letters, digits, _, . and *)`,
        place
      )
    }
    if (p !== '*' && !p.includes('.')) {
      throw new ConfigurationError(
        `pickle allow entry ${describeValue(p)} matches no import: entries are matched against module.Name, ` +
          `write ${describeValue(`${p}.*`)} for a whole package`,
        place
      )
    }
    const wildcard = p.includes('*')
    const firstStar = p.indexOf('*')
    const literalHead = firstStar < 0 ? p : p.slice(0, firstStar)
    return { pattern: p, regex: globToRegExp(p), wildcard, canOverride: /^[\p{L}\p{N}_]/u.test(literalHead) }
  })
}

const RANK: Readonly<Record<ImportRating, number>> = { safe: 0, unknown: 1, dangerous: 2 }

function builtinDanger(module: string, name: string): string | undefined {
  const full = `${module}.${name}`
  const exact = DANGEROUS_EXACT.get(full)
  if (exact) return exact
  for (const [root, why] of DANGEROUS_MODULES) if (inModule(module, root)) return why
  if (module === 'builtins' || module === '__builtin__') {
    const why = BUILTINS_DANGEROUS.get(name)
    if (why) return why
  }
  const parts = name.split('.')
  if (parts.some(p => DUNDER.test(p)) && !SAFE_EXACT.has(full)) {
    return parts.length > 1
      ? 'walks through a dunder attribute (reaches function globals, builtins or classes)'
      : 'reaches a Python internal (dunder) attribute'
  }
  if (parts.length > 1) {
    // Protocol 4+ resolves dotted names attribute by attribute, so `pkg.mod` + `os.system` is os.system.
    for (let i = 0; i < parts.length - 1; i++) {
      if (DANGEROUS_ROOTS.has(parts[i]!)) return `walks attributes into ${parts[i]}`
    }
    const last = parts[parts.length - 1]!
    if (BUILTINS_DANGEROUS.has(last) || SUSPICIOUS_NAMES.has(last)) {
      return `walks attributes to ${last}, a code-execution entry point`
    }
  }
  return undefined
}

function evaluate(module: string, name: string, user: readonly AllowEntry[]): Judgement {
  const full = `${module}.${name}`
  const danger = builtinDanger(module, name)
  if (danger !== undefined) {
    const override = user.find(e => e.canOverride && e.regex.test(full))
    return override
      ? { rating: 'dangerous', reason: danger, overriddenBy: override.pattern }
      : { rating: 'dangerous', reason: danger }
  }
  if (SAFE_EXACT.has(full)) return { rating: 'safe', reason: 'on the built-in allowlist' }
  const dotted = name.includes('.')
  const exactUser = user.find(e => !e.wildcard && e.pattern === full)
  if (exactUser) return { rating: 'safe', reason: `allowed by ${exactUser.pattern}`, allowedBy: exactUser.pattern }
  if (dotted) {
    return {
      rating: 'unknown',
      reason: 'dotted name walks attributes at load time; only an exact allow entry covers it'
    }
  }
  if (!TEST_MODULE.test(module)) {
    const root = builtinClass(module, name)
    if (root) return { rating: 'safe', reason: `a class of ${root} on the built-in allowlist` }
  }
  const wild = user.find(e => e.wildcard && e.regex.test(full))
  if (wild && TEST_MODULE.test(module)) {
    return { rating: 'unknown', reason: `test code is not model code; ${wild.pattern} does not cover ${module}` }
  }
  if (wild) {
    if (SUSPICIOUS_NAMES.has(name)) {
      return {
        rating: 'unknown',
        reason: `${name} is a code-execution entry point elsewhere; ${wild.pattern} does not cover it, list it exactly`
      }
    }
    return { rating: 'safe', reason: `allowed by ${wild.pattern}`, allowedBy: wild.pattern }
  }
  return { rating: 'unknown', reason: 'not on the allowlist' }
}

/** Python 2 modules absent from Python 3: under their own name they can only fail to import. */
const PY2_ONLY = new Set([...Object.keys(IMPORT_MAPPING).filter(m => m !== 'dbm'), 'exceptions'])

/**
 * The name Python 3 imports instead of a Python 2 one (protocols 0-2), and whether the original spelling is
 * importable at all in Python 3.
 */
function renamed(
  module: string,
  name: string
): { module: string; name: string; originalImportable: boolean } | undefined {
  const mapped = NAME_MAPPING[`${module}.${name}`]
  if (mapped) {
    const dot = mapped.lastIndexOf('.')
    return {
      module: mapped.slice(0, dot),
      name: mapped.slice(dot + 1),
      originalImportable: !PY2_ONLY.has(module) && module !== 'itertools' && module !== 'urllib'
    }
  }
  if (module === 'exceptions') return { module: 'builtins', name, originalImportable: false }
  if (Object.hasOwn(IMPORT_MAPPING, module)) {
    return { module: IMPORT_MAPPING[module]!, name, originalImportable: !PY2_ONLY.has(module) }
  }
  return undefined
}

export function createPolicy(options: PolicyOptions = {}): PicklePolicy {
  const allow = options.allow ?? []
  const user = compileAllow(allow, options.source ?? 'pickle allow', options.path)
  const cache = new Map<string, Judgement>()
  return {
    allow,
    judge(module: string, name: string): Judgement {
      const key = `${module}\n${name}`
      const hit = cache.get(key)
      if (hit) return hit
      const own = evaluate(module, name, user)
      const alias = renamed(module, name)
      let judgement = own
      if (alias) {
        // Both spellings can be imported depending on the protocol: the worse rating wins, except that a name
        // Python 3 cannot import under its Python 2 spelling is judged by what it loads as.
        const loaded = evaluate(alias.module, alias.name, user)
        const viaAlias = { ...loaded, reason: `${loaded.reason} (loads as ${alias.module}.${alias.name})` }
        if (own.rating === 'dangerous') judgement = own
        else if (loaded.rating === 'dangerous' || !alias.originalImportable) judgement = viaAlias
        else judgement = RANK[loaded.rating] > RANK[own.rating] ? viaAlias : own
      }
      // A pickle can repeat imports; judging is pure, so memoize (bounded: a hostile stream has many names).
      if (cache.size < 10000) cache.set(key, judgement)
      return judgement
    }
  }
}
