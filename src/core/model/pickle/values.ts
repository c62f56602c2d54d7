/**
 * The values the pickle interpreter tracks in place of Python objects, the memo that holds them, and what it needs
 * to know of joblib's array wrapper to find the end of the raw array bytes after it.
 *
 * Primitives stand for themselves; everything else is a box with a type tag, and only the few shapes that decide
 * where the stream goes next (tuples, the wrapper's state dict, dtypes, classes) keep their contents.
 */

/** Items of a tuple or dict tracked before it collapses to its type. */
export const TRACK_ITEMS = 64
/** Characters of memoized strings kept; past it only names that could be imports, up to the hard budget. */
const MEMO_CHAR_BUDGET = 64 * 1024 * 1024
const MEMO_NAME_BUDGET = 128 * 1024 * 1024
const NAME_LIKE = /^[\p{L}_][\p{L}\p{N}_.]{0,255}$/u
const MEMO_DENSE_LIMIT = 1 << 24

// string = str); boxes carry a type tag and, for the few shapes that matter, contents.
export const T_FLOAT = 1
export const T_STR = 2 // a str whose text was not kept
export const T_BYTES = 3
export const T_BYTEARRAY = 4
export const T_BUFFER = 5
export const T_LIST = 6
export const T_TUPLE = 7
export const T_DICT = 8
export const T_SET = 9
export const T_FROZENSET = 10
export const T_GLOBAL = 11
export const T_OBJ = 12
export const T_ANY = 13 // could be anything: memo entries we did not keep, persistent objects, extension objects
export const T_INT = 14 // an int too large to keep
export const T_INST = 15 // an object made by a class or function the built-in allowlist names, which is never an exact str

export interface Box {
  readonly t: number
}
export type V = null | boolean | number | bigint | string | Box

export class Sentinel implements Box {
  constructor(
    readonly t: number,
    readonly label: string
  ) {}
}

export const FLOAT_V = new Sentinel(T_FLOAT, 'float')
export const LONGSTR_V = new Sentinel(T_STR, 'str (long)')
export const UNKEPT_STR_V = new Sentinel(T_STR, 'str (not kept in memo)')
export const BYTES_V = new Sentinel(T_BYTES, 'bytes')
export const BYTEARRAY_V = new Sentinel(T_BYTEARRAY, 'bytearray')
export const BUFFER_V = new Sentinel(T_BUFFER, 'buffer')
export const LIST_V = new Sentinel(T_LIST, 'list')
export const TUPLE_V = new Sentinel(T_TUPLE, 'tuple')
export const DICT_V = new Sentinel(T_DICT, 'dict')
export const SET_V = new Sentinel(T_SET, 'set')
export const FROZENSET_V = new Sentinel(T_FROZENSET, 'frozenset')
export const OBJ_V = new Sentinel(T_OBJ, 'object')
export const ANY_V = new Sentinel(T_ANY, 'value')
export const BIGINT_V = new Sentinel(T_INT, 'int')
export const INSTANCE_V = new Sentinel(T_INST, 'object (not a str)')

// What a class is to the scanner.
export const G_PLAIN = 0
export const G_WRAPPER = 1 // joblib.numpy_pickle.NumpyArrayWrapper
export const G_DTYPE = 2 // numpy.dtype
export const G_RECONSTRUCTOR = 3 // copyreg._reconstructor / __newobj__: the instance's class is the first argument

export class GlobalVal implements Box {
  readonly t = T_GLOBAL
  constructor(
    readonly module: string,
    readonly name: string,
    readonly role: number,
    /**
     * Whether calling it may return an exact str (which STACK_GLOBAL accepts as a module or name): false only for
     * what the built-in allowlist names, except str itself and the codecs' encode.
     */
    readonly makesStr: boolean
  ) {}
}

export class TupleVal implements Box {
  readonly t = T_TUPLE
  constructor(readonly items: V[]) {}
}

/** A dict whose str-keyed entries are tracked (only for joblib wrapper states). */
export class DictVal implements Box {
  readonly t = T_DICT
  entries: Map<string, V> | null = new Map()
}

/** An instance of a class the scanner cares about (dtype, joblib wrapper); others are OBJ_V. */
export class ObjVal implements Box {
  readonly t = T_OBJ
  state: V | undefined = undefined
  attrs: Map<string, V> | null = null
  unresolved: string | undefined = undefined
  constructor(
    readonly cls: GlobalVal,
    readonly args: V | undefined,
    readonly role: number
  ) {}
}

export const EMPTY_TUPLE_V = new TupleVal([])

export function tag(v: V): number {
  return typeof v === 'object' && v !== null ? v.t : 0
}

export function describe(v: V): string {
  if (v === null) return 'None'
  switch (typeof v) {
    case 'boolean':
      return 'bool'
    case 'number':
    case 'bigint':
      return 'int'
    case 'string':
      return 'str'
  }
  if (v instanceof Sentinel) return v.label
  if (v instanceof GlobalVal) return `${v.module}.${v.name}`
  if (v instanceof ObjVal) return `${v.cls.module}.${v.cls.name} instance`
  if (v instanceof TupleVal) return 'tuple'
  if (v instanceof DictVal) return 'dict'
  return 'value'
}

/** Values Python computes at load time (we cannot know them, they can be anything, str included). */
export function isComputed(v: V): boolean {
  const t = tag(v)
  return t === T_ANY || t === T_OBJ || t === T_GLOBAL || t === T_INST
}

/** Whether a value may be an exact str at load time (STACK_GLOBAL refuses str subclasses and everything else). */
export function couldBeStr(v: V): boolean {
  if (typeof v === 'string') return true
  const t = tag(v)
  return t === T_STR || t === T_ANY || t === T_GLOBAL || (t === T_OBJ && !(v instanceof ObjVal))
}

export function couldBeCallable(v: V): boolean {
  return isComputed(v)
}

export function unhashable(v: V): boolean {
  const t = tag(v)
  return t === T_LIST || t === T_DICT || t === T_SET || t === T_BYTEARRAY
}

// ---- memo -----------------------------------------------------------------------------------------------------------

export interface MemoLike {
  get(key: number): V | undefined
  set(key: number, value: V): void
  readonly size: number
}

const ABSENT: unique symbol = Symbol('absent')

/** What the memo keeps of a value: cheap primitives and the boxes that matter; type tags for the rest. */
function memoValue(v: V): V {
  if (typeof v !== 'object' || v === null) return v
  if (v instanceof TupleVal) return v === EMPTY_TUPLE_V ? v : TUPLE_V
  if (v instanceof DictVal) return v.entries ? v : DICT_V
  return v
}

export class Memo implements MemoLike {
  private readonly dense: Array<V | undefined> = []
  private readonly sparse = new Map<number, V>()
  private chars = 0
  size = 0
  readonly watchers = new Set<MemoOverlay>()

  get(key: number): V | undefined {
    return (key < this.dense.length ? this.dense[key] : undefined) ?? this.sparse.get(key)
  }

  set(key: number, value: V): void {
    const dense = this.dense
    const old = key < dense.length ? dense[key] : this.sparse.size ? this.sparse.get(key) : undefined
    if (this.watchers.size) for (const w of this.watchers) w.stash(key, old)
    if (old === undefined) this.size++
    let kept = typeof value === 'object' && value !== null ? memoValue(value) : value
    if (typeof kept === 'string') {
      const total = this.chars + kept.length
      if (total <= MEMO_CHAR_BUDGET || (total <= MEMO_NAME_BUDGET && NAME_LIKE.test(kept))) this.chars = total
      else kept = UNKEPT_STR_V
    }
    // Keys arrive in order from every real pickler; a far key would make a holey array, so it goes to the map.
    if (key < this.dense.length || (key === this.dense.length && key < MEMO_DENSE_LIMIT && !this.sparse.has(key))) {
      this.dense[key] = kept
    } else this.sparse.set(key, kept)
  }
}

/** A copy-on-write view of another memo, for a view forked mid-stream. */
export class MemoOverlay implements MemoLike {
  private readonly own = new Map<number, V | typeof ABSENT>()
  size: number
  constructor(private readonly base: Memo) {
    this.size = base.size
    base.watchers.add(this)
  }

  stash(key: number, old: V | undefined): void {
    if (!this.own.has(key)) this.own.set(key, old === undefined ? ABSENT : old)
  }

  get(key: number): V | undefined {
    const mine = this.own.get(key)
    if (mine === ABSENT) return undefined
    return mine !== undefined ? mine : this.base.get(key)
  }

  set(key: number, value: V): void {
    if (this.get(key) === undefined) this.size++
    this.own.set(key, memoValue(value))
  }

  detach(): void {
    this.base.watchers.delete(this)
  }
}

export interface ArrayLayout {
  readonly nbytes: number
  readonly hasObject: boolean
  readonly padded: boolean
}

export const WRAPPER_INIT_ARGS = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes']

export function dtypeLayout(v: V): { itemsize: number; hasObject: boolean } | string {
  if (!(v instanceof ObjVal) || v.role !== G_DTYPE) return `dtype is ${describe(v)}, not a numpy.dtype`
  const args = v.args instanceof TupleVal ? v.args.items : undefined
  const typestr = args?.[0]
  if (typeof typestr !== 'string') return 'dtype type string is not a literal'
  const state = v.state instanceof TupleVal ? v.state.items : undefined
  const elsize = state?.[5]
  const flags = state?.[7]
  const hasObject = typeof flags === 'number' ? (flags & 1) !== 0 : /^[<>|=]?O/.test(typestr)
  if (typeof elsize === 'number' && elsize > 0) return { itemsize: elsize, hasObject }
  const m = /^[<>|=]?([a-zA-Z])(\d+)/.exec(typestr)
  if (!m) return `dtype ${JSON.stringify(typestr)} has no item size`
  const digits = Number(m[2])
  return { itemsize: m[1] === 'U' ? digits * 4 : digits, hasObject }
}

/** The byte layout joblib reads after a NumpyArrayWrapper's BUILD, from its attributes; a string says why not. */
export function wrapperLayout(w: ObjVal): ArrayLayout | string {
  if (w.unresolved) return w.unresolved
  const attrs = w.attrs ?? new Map<string, V>()
  const dtype = dtypeLayout(attrs.get('dtype') ?? null)
  if (typeof dtype === 'string') return dtype
  const align = attrs.has('numpy_array_alignment_bytes') ? attrs.get('numpy_array_alignment_bytes') : null
  if (align !== null && typeof align !== 'number' && typeof align !== 'boolean') {
    return `alignment is ${describe(align as V)}`
  }
  if (dtype.hasObject) return { nbytes: 0, hasObject: true, padded: false }
  const shape = attrs.get('shape')
  if (!(shape instanceof TupleVal)) return `shape is ${describe(shape ?? null)}, not a tuple literal`
  let count = 1
  for (const d of shape.items) {
    if (typeof d !== 'number' || d < 0) return `shape has ${describe(d)}`
    count *= d
  }
  const nbytes = count * dtype.itemsize
  if (!Number.isSafeInteger(nbytes)) return `array of ${count} items of ${dtype.itemsize} bytes is absurdly large`
  return { nbytes, hasObject: false, padded: align !== null && align !== false }
}
export function setEntry(dict: DictVal, key: V, value: V): void {
  if (!dict.entries) return
  if (typeof key !== 'string' || dict.entries.size >= TRACK_ITEMS) {
    dict.entries = null
    return
  }
  dict.entries.set(key, value)
}

export function canAppend(v: V): boolean {
  const t = tag(v)
  return t === T_LIST || isComputed(v)
}

export function canSetItem(v: V): boolean {
  const t = tag(v)
  return t === T_DICT || isComputed(v)
}

export function couldBeIterable(v: V): boolean {
  return v !== null && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint' && tag(v) !== T_FLOAT
}

/** BUILD: Python sets instance attributes from a dict state, or (dict, slots) pair. */
export function applyState(inst: ObjVal, state: V): void {
  inst.state = state
  if (inst.role !== G_WRAPPER) return
  const attrs = (inst.attrs ??= new Map())
  const merge = (d: V, slots: boolean): boolean => {
    if (d === null) return true
    if (!(d instanceof DictVal) || !d.entries) {
      inst.unresolved = `wrapper state is ${describe(d)} the scanner could not follow`
      return false
    }
    for (const [k, v] of d.entries) {
      if (slots && k === '__class__') {
        inst.unresolved = 'wrapper state reassigns __class__'
        return false
      }
      attrs.set(k, v)
    }
    return true
  }
  if (state instanceof TupleVal && state.items.length === 2) {
    if (merge(state.items[0]!, false)) merge(state.items[1]!, true)
  } else merge(state, false)
}
