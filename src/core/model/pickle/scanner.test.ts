import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { createPolicy } from './policy.js'
import { PickleScanner, scanPickleBytes, type PickleScanResult } from './scanner.js'

const policy = createPolicy()

/** Bytes from strings (latin-1), byte arrays and buffers, so opcodes read like pickletools listings. */
function bytes(...parts: Array<string | number[] | Uint8Array>): Buffer {
  return Buffer.concat(
    parts.map(p => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as number[] | Uint8Array)))
  )
}
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]
const u64 = (n: number): number[] => [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))]
const sbu = (s: string): Buffer => bytes([0x8c, Buffer.byteLength(s)], Buffer.from(s, 'utf8'))

function scan(data: Uint8Array, chunk?: number): PickleScanResult {
  if (!chunk) return scanPickleBytes(data, { policy })
  const scanner = new PickleScanner({ policy, totalSize: data.length })
  for (let i = 0; i < data.length; i += chunk) scanner.feed(data.subarray(i, i + chunk))
  return scanner.end()
}

const names = (r: PickleScanResult, rating?: string): string[] =>
  r.imports.filter(i => !rating || i.rating === rating).map(i => `${i.module}.${i.name}`)
const errors = (r: PickleScanResult): string[] => r.problems.filter(p => p.severity === 'error').map(p => p.message)

describe('opcode decoding', () => {
  it('reads protocol 0 text opcodes: GLOBAL, MARK, STRING, TUPLE, REDUCE', () => {
    const r = scan(bytes("cos\nsystem\n(S'echo hi'\ntR."))
    expect(r.problems).toEqual([])
    expect(r.imports).toEqual([
      expect.objectContaining({ module: 'os', name: 'system', opcode: 'GLOBAL', offset: 0, rating: 'dangerous' })
    ])
    expect(r.pickles).toBe(1)
    expect(r.protocol).toBe(0)
  })

  it('decodes every protocol 0/1 text argument without complaint', () => {
    const r = scan(
      bytes(
        '(I1\nI00\nI01\nI-0x1F\nL12345678901234567890L\nF1.5e3\nFnan\n',
        "S'a\\'b\\x41\\101\\n'\n",
        'S"double"\n',
        'Vcaf\\u00e9 \\U0001f600\n',
        'p0\ng0\nl.'
      )
    )
    expect(r.problems).toEqual([])
    expect(r.pickles).toBe(1)
  })

  it.each([
    ['I12x\n.', 'INT argument'],
    ['L1.5\n.', 'LONG argument'],
    ['Fabc\n.', 'FLOAT argument'],
    ["S'unterminated\n.", 'not quoted'],
    ["S'bad \\x4'\n.", 'invalid escape'],
    ['V\\u12\n.', 'invalid \\u escape'],
    ['g7\n.', 'memo key 7'],
    ['Np-1\n.', 'negative PUT'],
    ['pa\n.', 'PUT argument']
  ])('reports a malformed text argument (%j)', (text, message) => {
    const r = scan(bytes(text))
    expect(errors(r)).toEqual([expect.stringContaining(message)])
    expect(r.problems[0]!.offset).toBe(text.startsWith('N') ? 1 : 0)
  })

  it('resolves STACK_GLOBAL operands from every string opcode', () => {
    const binunicode = (s: string) => bytes('X', u32(s.length), s)
    const binunicode8 = (s: string) => bytes([0x8d], u64(s.length), s)
    const shortBinstring = (s: string) => bytes('U', [s.length], s)
    const binstring = (s: string) => bytes('T', u32(s.length), s)
    const cases: Array<[Buffer, Buffer]> = [
      [sbu('os'), sbu('system')],
      [binunicode('os'), binunicode8('system')],
      [shortBinstring('os'), binstring('system')],
      [bytes("S'o\\x73'\n"), bytes("S'sys\\164em'\n")],
      [bytes('V\\u006fs\n'), bytes('Vsystem\n')]
    ]
    for (const [module, name] of cases) {
      const r = scan(bytes('\x80\x04', module, name, '\x93.'))
      expect(r.problems).toEqual([])
      expect(names(r, 'dangerous')).toEqual(['os.system'])
    }
  })

  it('follows the memo: PUT/GET, BINPUT/BINGET, LONG_BINPUT/LONG_BINGET and MEMOIZE', () => {
    const viaText = bytes('\x80\x02', 'Vos\np3\n0', 'Vsystem\np9\n0', 'g3\ng9\n\x93.')
    const viaBin = bytes(
      '\x80\x02',
      sbu('os'),
      'q\x030',
      sbu('system'),
      'r',
      u32(70000),
      '0',
      'h\x03j',
      u32(70000),
      '\x93.'
    )
    const viaMemoize = bytes(
      '\x80\x04',
      sbu('x'),
      '\x94',
      sbu('os'),
      '\x94',
      sbu('system'),
      '\x9400',
      '0h\x01h\x02\x93.'
    )
    for (const data of [viaText, viaBin, viaMemoize]) {
      const r = scan(data)
      expect(r.problems).toEqual([])
      expect(names(r, 'dangerous')).toEqual(['os.system'])
    }
  })

  it('handles DUP, POP, POP_MARK and POP of a bare MARK like CPython', () => {
    const r = scan(bytes('\x80\x04', sbu('os'), '2', '\x8c\x06system', '\x93', '(N1', '(0', '0N.'))
    expect(r.problems).toEqual([])
    expect(names(r)).toEqual(['os.system'])
  })

  it('records INST, OBJ, NEWOBJ, NEWOBJ_EX, REDUCE and BUILD through their imports', () => {
    const r = scan(
      bytes(
        "(S'x'\nisubprocess\nPopen\n0",
        '(csubprocess\ncall\nN\x94o0',
        '\x80\x04',
        sbu('collections'),
        sbu('OrderedDict'),
        '\x93)\x81}b0',
        sbu('builtins'),
        sbu('set'),
        '\x93)}\x92',
        '0N.'
      )
    )
    expect(r.problems).toEqual([])
    expect(r.imports.map(i => [`${i.module}.${i.name}`, i.opcode, i.rating])).toEqual([
      ['subprocess.Popen', 'INST', 'dangerous'],
      ['subprocess.call', 'GLOBAL', 'dangerous'],
      ['collections.OrderedDict', 'STACK_GLOBAL', 'safe'],
      ['builtins.set', 'STACK_GLOBAL', 'safe']
    ])
  })

  it('decodes integers of every width and LONG1/LONG4', () => {
    const r = scan(
      bytes('\x80\x02(K\xffM\xff\xffJ\xff\xff\xff\xff\x8a\x02\x00\x80\x8b', u32(3), [1, 2, 3], '\x8a\x00l.')
    )
    expect(r.problems).toEqual([])
    expect(errors(scan(bytes('\x80\x02\x8b\xff\xff\xff\xff.')))).toEqual([expect.stringContaining('negative')])
  })

  it('steps over protocol 4 FRAMEs and protocol 5 buffers', () => {
    const body = bytes('\x96', u64(3), 'abc', '\x97\x98\x86.')
    const r = scan(bytes('\x80\x05\x95', u64(body.length), body))
    expect(r.problems).toEqual([])
    expect(r.protocol).toBe(5)
    expect(r.notes.join()).toMatch(/out-of-band/)
  })

  it('treats every EXT code as a dangerous import and rejects code 0 or below', () => {
    for (const ext of [bytes('\x82\x05'), bytes('\x83\x05\x01'), bytes('\x84', u32(123456))]) {
      const r = scan(bytes('\x80\x02', ext, '.'))
      expect(r.imports).toEqual([
        expect.objectContaining({ rating: 'dangerous', reason: expect.stringContaining('extension code') })
      ])
    }
    expect(errors(scan(bytes('\x80\x02\x84\xff\xff\xff\xff.')))).toEqual([expect.stringContaining('must be positive')])
  })

  it('scans every pickle of a file of concatenated pickles', () => {
    const r = scan(bytes('\x80\x02N.', '\x80\x04', sbu('os'), sbu('system'), '\x93.'))
    expect(r.pickles).toBe(2)
    expect(names(r, 'dangerous')).toEqual(['os.system'])
  })

  it('flags a STACK_GLOBAL whose strings are computed at load time', () => {
    // builtins.str(b'os', 'ascii') is 'os' only once Python runs it.
    const r = scan(
      bytes('\x80\x04', sbu('builtins'), sbu('str'), '\x93C\x02os', sbu('ascii'), '\x86R', sbu('system'), '\x93.')
    )
    const unresolved = r.imports.filter(i => i.module === '?')
    expect(unresolved).toEqual([
      expect.objectContaining({ name: 'system', rating: 'dangerous', reason: expect.stringMatching(/unresolvable/) })
    ])
  })

  it('rejects STACK_GLOBAL operands that cannot be str, as Python does', () => {
    expect(errors(scan(bytes('\x80\x04K\x01K\x02\x93.')))).toEqual([expect.stringContaining('requires str')])
  })

  it('scans a pickle embedded in a bytes argument, and says where it was', () => {
    const inner = bytes('\x80\x04', sbu('os'), sbu('system'), '\x93', sbu('id'), '\x85R.')
    const r = scan(bytes('\x80\x04', sbu('_pickle'), sbu('loads'), '\x93B', u32(inner.length), inner, '\x85R.'))
    expect(r.imports.map(i => [`${i.module}.${i.name}`, i.offset, i.context ?? ''])).toEqual([
      ['_pickle.loads', 18, ''],
      ['os.system', 38, expect.stringContaining('embedded at offset 24 (a BINBYTES argument)')]
    ])
  })

  it('knows torch.save legacy files: five pickles, then raw storage bytes', () => {
    const magic = bytes('\x80\x02\x8a\x0a', [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], '.')
    const data = bytes(magic, '\x80\x02M\xe9\x03.', '\x80\x02}.', '\x80\x02}.', '\x80\x02].', [9, 9, 0xff, 0xee, 0x00])
    const r = scan(data)
    expect(r.layout).toBe('legacy-torch')
    expect(r.problems).toEqual([])
  })
})

describe('corrupt and hostile input', () => {
  it.each([
    ['an unknown opcode', bytes('\x80\x02\xff.'), 'unknown opcode 0xff', 2],
    ['a truncated argument', bytes('\x80\x04\x8c\x10abc'), 'truncated', 2],
    ['a missing STOP', bytes('\x80\x02N'), 'without STOP', 3],
    ['a stack underflow', bytes('\x80\x02NR.'), 'stack underflow', 3],
    ['POP_MARK without MARK', bytes('\x80\x021.'), 'without a MARK', 2],
    ['an odd DICT', bytes('(N.'.replace('.', 'd.')), 'odd number', 2],
    ['an empty file', bytes(''), 'empty', 0],
    ['an unsupported protocol', bytes('\x80\x06N.'), 'protocol 6', 0]
  ])('reports %s with its offset', (_what, data, message, offset) => {
    const r = scan(data)
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'error', offset, message: expect.stringContaining(message) })
    ])
  })

  it('never allocates from a length field: 4 GiB and 2^62-byte arguments are reported, not read', () => {
    const huge = [
      bytes('\x80\x03X\xff\xff\xff\xffabc.'),
      bytes('\x80\x04\x8e', u64(2 ** 50), 'abc.'),
      bytes('\x80\x04\x8e', [0, 0, 0, 0, 0, 0, 0, 0x40], 'abc.'),
      bytes('\x80\x04\x95', u64(2 ** 40), 'N.')
    ]
    for (const data of huge) {
      const before = process.memoryUsage().arrayBuffers
      const whole = scan(data)
      const streamed = new PickleScanner({ policy })
      streamed.feed(data)
      const r = streamed.end()
      expect(errors(whole)).toHaveLength(1)
      expect(errors(r)).toHaveLength(1)
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
    }
  })

  it('calls garbage after a complete pickle a warning, since pickle.load stops at STOP', () => {
    const r = scan(bytes('\x80\x02N.\xff\xff'))
    expect(r.problems).toEqual([expect.objectContaining({ severity: 'warning', offset: 4 })])
  })
})

// ---- a small pickler for generated values ----------------------------------------------------------------------

type Value = null | boolean | number | { f: number } | string | Value[] | { t: Value[] } | { d: Array<[string, Value]> }

/** Writes pickles the way CPython does for these types, recording where each opcode starts. */
class Writer {
  readonly out: number[] = []
  readonly starts: number[] = []
  private memo = 0
  constructor(readonly proto: number) {}

  op(...parts: Array<string | number[] | Uint8Array>): void {
    this.starts.push(this.out.length)
    for (const b of bytes(...parts)) this.out.push(b)
  }

  put(): void {
    if (this.proto >= 4) this.op('\x94')
    else if (this.proto >= 1) this.op('q', [this.memo & 0xff])
    else this.op(`p${this.memo}\n`)
    this.memo++
  }

  value(v: Value): void {
    const p = this.proto
    if (v === null) this.op('N')
    else if (typeof v === 'boolean') this.op(p >= 2 ? (v ? '\x88' : '\x89') : v ? 'I01\n' : 'I00\n')
    else if (typeof v === 'number') {
      if (p === 0) this.op(`I${v}\n`)
      else if (v >= 0 && v < 256) this.op('K', [v])
      else if (v >= 0 && v < 65536) this.op('M', [v & 0xff, v >> 8])
      else {
        const b = Buffer.alloc(4)
        b.writeInt32LE(v)
        this.op('J', b)
      }
    } else if (typeof v === 'string') {
      if (p === 0) {
        const escaped = [...v].map(c =>
          c.charCodeAt(0) > 0xff || c === '\\' || c === '\n' ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c
        )
        this.op('V', Buffer.from(escaped.join(''), 'latin1'), '\n')
      } else {
        const b = Buffer.from(v, 'utf8')
        if (p >= 4 && b.length < 256) this.op('\x8c', [b.length], b)
        else this.op('X', u32(b.length), b)
      }
      this.put()
    } else if (Array.isArray(v)) {
      if (p === 0) {
        this.op('(l')
        this.put()
        for (const item of v) {
          this.value(item)
          this.op('a')
        }
      } else {
        this.op(']')
        this.put()
        if (v.length) {
          this.op('(')
          v.forEach(item => this.value(item))
          this.op('e')
        }
      }
    } else if ('f' in v) {
      if (p === 0) this.op(`F${v.f}\n`)
      else {
        const b = Buffer.alloc(8)
        b.writeDoubleBE(v.f)
        this.op('G', b)
      }
    } else if ('t' in v) {
      if (p >= 2 && v.t.length >= 1 && v.t.length <= 3) {
        v.t.forEach(item => this.value(item))
        this.op([0x84 + v.t.length])
      } else if (p >= 1 && v.t.length === 0) this.op(')')
      else {
        this.op('(')
        v.t.forEach(item => this.value(item))
        this.op('t')
      }
      this.put()
    } else {
      if (p === 0) {
        this.op('(d')
        this.put()
        for (const [k, item] of v.d) {
          this.value(k)
          this.value(item)
          this.op('s')
        }
      } else {
        this.op('}')
        this.put()
        if (v.d.length) {
          this.op('(')
          for (const [k, item] of v.d) {
            this.value(k)
            this.value(item)
          }
          this.op('u')
        }
      }
    }
  }

  /** The pickle, and the offsets of opcode boundaries where extra stack-neutral opcodes may go. */
  finish(v: Value): { data: Buffer; boundaries: number[] } {
    if (this.proto >= 2) this.op('\x80', [this.proto])
    this.value(v)
    this.op('.')
    return { data: Buffer.from(this.out), boundaries: [...this.starts.slice(this.proto >= 2 ? 1 : 0)] }
  }
}

const valueArb: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(f => ({ f })),
    fc.string({ maxLength: 20, unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 4 }).map(t => ({ t })),
    fc.array(fc.tuple(fc.string({ maxLength: 6 }), tie('value')), { maxLength: 4 }).map(d => ({ d }))
  )
})).value

describe('properties', () => {
  it('never throws or hangs on random bytes, with or without a pickle header, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(bytes(''), bytes('\x80\x02'), bytes('\x80\x04'), bytes('\x80\x05\x95', u64(40))),
        fc.integer({ min: 1, max: 64 }),
        (random, header, chunk) => {
          const data = bytes(header, random)
          const whole = scan(data)
          const pieces = scan(data, chunk)
          expect(pieces.problems).toEqual(whole.problems)
          expect(pieces.imports).toEqual(whole.imports)
        }
      ),
      { numRuns: 400 }
    )
  })

  it('survives opcode soup: valid opcodes, memo traffic and joblib wrapper pieces in random order', () => {
    const words = ['os', 'system', 'numpy', 'dtype', 'shape', 'f8', 'O8', '<', 'subclass', 'order', 'C', 'x']
    const token = fc.oneof(
      fc
        .constantFrom(...'N\x88\x89]})(te\x85\x86\x87lda0s2u1\x94\x93Rbo\x81\x92.\x8f\x90\x91\x97\x98Q'.split(''))
        .map(c => bytes(c)),
      fc.constantFrom(
        bytes('cjoblib.numpy_pickle\nNumpyArrayWrapper\n'),
        bytes('cnumpy\ndtype\n'),
        bytes('ccopyreg\n_reconstructor\n'),
        bytes('numpy_array_alignment_bytes'.replace(/^/, '\x8c\x1b')),
        bytes('I1\n'),
        bytes('g0\n'),
        bytes('p1\n'),
        bytes("S'\x80\x02N.'\n")
      ),
      fc.constantFrom(...words).map(sbu),
      fc
        .tuple(fc.constantFrom('K', 'h', 'q', 'C', '\x80', '\x82'), fc.integer({ min: 0, max: 255 }))
        .map(([op, n]) => bytes(op, [n])),
      fc.integer({ min: -5, max: 70000 }).map(n => bytes('J', u32(n >>> 0))),
      fc.uint8Array({ maxLength: 24 }).map(b => bytes('B', u32(b.length), b)),
      fc.uint8Array({ maxLength: 24 }).map(b => bytes('\x8e', u64(b.length), b)),
      fc.integer({ min: 0, max: 64 }).map(n => bytes('\x95', u64(n))),
      fc.uint8Array({ minLength: 1, maxLength: 3 }).map(b => bytes(b))
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), fc.integer({ min: 1, max: 9 }), (tokens, chunk) => {
        const data = bytes('\x80\x04', ...tokens)
        const whole = scan(data)
        const pieces = scan(data, chunk)
        expect(pieces.problems).toEqual(whole.problems)
        expect(pieces.imports).toEqual(whole.imports)
      }),
      { numRuns: 1500 }
    )
  })

  it('reads generated pickles of protocols 0 to 5 cleanly, in any chunking', () => {
    fc.assert(
      fc.property(valueArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 17 }), (value, proto, chunk) => {
        const { data } = new Writer(proto).finish(value)
        for (const r of [scan(data), scan(data, chunk)]) {
          expect(r.problems).toEqual([])
          expect(r.imports).toEqual([])
          expect(r.pickles).toBe(1)
        }
      }),
      { numRuns: 300 }
    )
  })

  it('flags os.system injected at any opcode boundary, as GLOBAL or as STACK_GLOBAL', () => {
    fc.assert(
      fc.property(
        valueArb,
        fc.integer({ min: 0, max: 5 }),
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 1, max: 33 }),
        (value, proto, at, stackGlobal, chunk) => {
          const { data, boundaries } = new Writer(proto).finish(value)
          const cut = boundaries[at % boundaries.length]!
          // Stack-neutral: push the import, then POP it. STACK_GLOBAL needs protocol 4's opcodes, but any
          // unpickler accepts them in an older stream.
          const injected = stackGlobal ? bytes(sbu('os'), sbu('system'), '\x930') : bytes('cos\nsystem\n0')
          const evil = Buffer.concat([data.subarray(0, cut), injected, data.subarray(cut)])
          const r = scan(evil, chunk)
          expect(r.problems).toEqual([])
          expect(r.imports).toEqual([
            expect.objectContaining({
              module: 'os',
              name: 'system',
              rating: 'dangerous',
              opcode: stackGlobal ? 'STACK_GLOBAL' : 'GLOBAL',
              offset: stackGlobal ? cut + 12 : cut
            })
          ])
        }
      ),
      { numRuns: 300 }
    )
  })
})
