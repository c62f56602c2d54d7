/**
 * The pickle virtual machine's instruction set, as CPython's `Lib/pickletools.py` documents it (protocols 0 to 5).
 *
 * `Op` names every opcode byte for the interpreter's dispatch; the table (checked against `pickletools.opcodes` from
 * the project's Python by a test) gives each one's argument encoding and protocol, and names opcodes in reports.
 */

/**
 * How an opcode's argument is encoded in the stream, named after pickletools' ArgumentDescriptor.
 * - `*nl` kinds are text up to a newline (protocol 0 and 1).
 * - `uintN` / `int4` / `float8` are fixed-size little-endian fields (`float8` is big-endian, as in pickle).
 * - `*1`, `*4`, `*8` kinds are a little-endian length of that many bytes followed by the payload.
 */
export type ArgKind =
  | 'none'
  | 'uint1'
  | 'uint2'
  | 'int4'
  | 'uint4'
  | 'uint8'
  | 'float8'
  | 'decimalnl_short'
  | 'decimalnl_long'
  | 'floatnl'
  | 'stringnl'
  | 'stringnl_noescape'
  | 'stringnl_noescape_pair'
  | 'unicodestringnl'
  | 'long1'
  | 'long4'
  | 'string1'
  | 'string4'
  | 'bytes1'
  | 'bytes4'
  | 'bytes8'
  | 'bytearray8'
  | 'unicodestring1'
  | 'unicodestring4'
  | 'unicodestring8'

export interface OpcodeInfo {
  readonly code: number
  readonly name: string
  readonly arg: ArgKind
  /** The protocol that introduced it. */
  readonly proto: number
}

/** Opcode bytes by name: the decoder dispatches on these. */
export const Op = {
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG: 0x4c,
  LONG1: 0x8a,
  LONG4: 0x8b,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  BINBYTES8: 0x8e,
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  UNICODE: 0x56,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE: 0x58,
  BINUNICODE8: 0x8d,
  FLOAT: 0x46,
  BINFLOAT: 0x47,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  APPENDS: 0x65,
  LIST: 0x6c,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_DICT: 0x7d,
  DICT: 0x64,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  POP: 0x30,
  DUP: 0x32,
  MARK: 0x28,
  POP_MARK: 0x31,
  GET: 0x67,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  MEMOIZE: 0x94,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  BUILD: 0x62,
  INST: 0x69,
  OBJ: 0x6f,
  NEWOBJ: 0x81,
  NEWOBJ_EX: 0x92,
  PROTO: 0x80,
  STOP: 0x2e,
  FRAME: 0x95,
  PERSID: 0x50,
  BINPERSID: 0x51
} as const

export type OpName = keyof typeof Op

const TABLE: ReadonlyArray<readonly [number, ArgKind, number]> = [
  [Op.INT, 'decimalnl_short', 0],
  [Op.BININT, 'int4', 1],
  [Op.BININT1, 'uint1', 1],
  [Op.BININT2, 'uint2', 1],
  [Op.LONG, 'decimalnl_long', 0],
  [Op.LONG1, 'long1', 2],
  [Op.LONG4, 'long4', 2],
  [Op.STRING, 'stringnl', 0],
  [Op.BINSTRING, 'string4', 1],
  [Op.SHORT_BINSTRING, 'string1', 1],
  [Op.BINBYTES, 'bytes4', 3],
  [Op.SHORT_BINBYTES, 'bytes1', 3],
  [Op.BINBYTES8, 'bytes8', 4],
  [Op.BYTEARRAY8, 'bytearray8', 5],
  [Op.NEXT_BUFFER, 'none', 5],
  [Op.READONLY_BUFFER, 'none', 5],
  [Op.NONE, 'none', 0],
  [Op.NEWTRUE, 'none', 2],
  [Op.NEWFALSE, 'none', 2],
  [Op.UNICODE, 'unicodestringnl', 0],
  [Op.SHORT_BINUNICODE, 'unicodestring1', 4],
  [Op.BINUNICODE, 'unicodestring4', 1],
  [Op.BINUNICODE8, 'unicodestring8', 4],
  [Op.FLOAT, 'floatnl', 0],
  [Op.BINFLOAT, 'float8', 1],
  [Op.EMPTY_LIST, 'none', 1],
  [Op.APPEND, 'none', 0],
  [Op.APPENDS, 'none', 1],
  [Op.LIST, 'none', 0],
  [Op.EMPTY_TUPLE, 'none', 1],
  [Op.TUPLE, 'none', 0],
  [Op.TUPLE1, 'none', 2],
  [Op.TUPLE2, 'none', 2],
  [Op.TUPLE3, 'none', 2],
  [Op.EMPTY_DICT, 'none', 1],
  [Op.DICT, 'none', 0],
  [Op.SETITEM, 'none', 0],
  [Op.SETITEMS, 'none', 1],
  [Op.EMPTY_SET, 'none', 4],
  [Op.ADDITEMS, 'none', 4],
  [Op.FROZENSET, 'none', 4],
  [Op.POP, 'none', 0],
  [Op.DUP, 'none', 0],
  [Op.MARK, 'none', 0],
  [Op.POP_MARK, 'none', 1],
  [Op.GET, 'decimalnl_short', 0],
  [Op.BINGET, 'uint1', 1],
  [Op.LONG_BINGET, 'uint4', 1],
  [Op.PUT, 'decimalnl_short', 0],
  [Op.BINPUT, 'uint1', 1],
  [Op.LONG_BINPUT, 'uint4', 1],
  [Op.MEMOIZE, 'none', 4],
  [Op.EXT1, 'uint1', 2],
  [Op.EXT2, 'uint2', 2],
  [Op.EXT4, 'int4', 2],
  [Op.GLOBAL, 'stringnl_noescape_pair', 0],
  [Op.STACK_GLOBAL, 'none', 4],
  [Op.REDUCE, 'none', 0],
  [Op.BUILD, 'none', 0],
  [Op.INST, 'stringnl_noescape_pair', 0],
  [Op.OBJ, 'none', 1],
  [Op.NEWOBJ, 'none', 2],
  [Op.NEWOBJ_EX, 'none', 4],
  [Op.PROTO, 'uint1', 2],
  [Op.STOP, 'none', 0],
  [Op.FRAME, 'uint8', 4],
  [Op.PERSID, 'stringnl_noescape', 0],
  [Op.BINPERSID, 'none', 1]
]

const NAME_BY_CODE = new Map<number, string>(Object.entries(Op).map(([name, code]) => [code, name]))

export const OPCODES: readonly OpcodeInfo[] = TABLE.map(([code, arg, proto]) => ({
  code,
  name: NAME_BY_CODE.get(code)!,
  arg,
  proto
}))

/** Indexed by opcode byte; `undefined` for the 188 bytes that are not opcodes. */
export const OPCODE_BY_BYTE: ReadonlyArray<OpcodeInfo | undefined> = (() => {
  const byByte: Array<OpcodeInfo | undefined> = new Array<OpcodeInfo | undefined>(256).fill(undefined)
  for (const op of OPCODES) byByte[op.code] = op
  return byByte
})()

export function opcodeName(code: number): string {
  return OPCODE_BY_BYTE[code]?.name ?? `0x${code.toString(16).padStart(2, '0')}`
}

/** The highest protocol this table (and CPython 3.8+) knows. */
export const HIGHEST_PROTOCOL = 5
