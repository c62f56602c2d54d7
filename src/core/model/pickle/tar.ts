/**
 * The members of a tar archive: torch.save's oldest format (before PyTorch 0.4) is a tar whose members `sys_info`,
 * `pickle`, `storages` and `tensors` torch.load unpickles, whatever the file is called.
 */
import type { Source } from './source.js'

export interface TarMember {
  readonly name: string
  /** Where the member's data starts in the archive. */
  readonly offset: number
  readonly size: number
}

const MAX_MEMBERS = 10_000

export function isTar(b: Uint8Array): boolean {
  return b.length >= 262 && Buffer.from(b.subarray(257, 262)).toString('latin1') === 'ustar'
}

function cstring(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start)
  return block.toString('utf8', start, end < 0 || end > start + length ? start + length : end)
}

function octal(block: Buffer, start: number, length: number): number {
  if (block[start]! & 0x80) {
    // GNU base-256: big-endian, high bit set on the first byte.
    let v = block[start]! & 0x7f
    for (let i = 1; i < length; i++) v = v * 256 + block[start + i]!
    return v
  }
  const text = cstring(block, start, length).trim()
  return text ? parseInt(text, 8) : 0
}

/** The archive's regular members, or why it cannot be read. */
export async function readTar(source: Source): Promise<TarMember[] | string> {
  const members: TarMember[] = []
  let pos = 0
  let paxPath: string | undefined
  while (pos + 512 <= source.size) {
    const block = await source.read(pos, 512)
    if (block.length < 512) return `tar header at offset ${pos} is truncated`
    if (block.every(v => v === 0)) return members
    const size = octal(block, 124, 12)
    if (!Number.isSafeInteger(size) || size < 0) return `tar member at offset ${pos} has an invalid size`
    const type = String.fromCharCode(block[156]!)
    const data = pos + 512
    if (data + size > source.size) return `tar member at offset ${pos} runs past the end of the file`
    if (type === 'x') {
      const pax = (await source.read(data, Math.min(size, 64 * 1024))).toString('utf8')
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(pax)?.[1]
    } else if (type === '0' || type === '\0' || type === '7') {
      const prefix = cstring(block, 345, 155)
      const name = paxPath ?? (prefix ? `${prefix}/${cstring(block, 0, 100)}` : cstring(block, 0, 100))
      members.push({ name, offset: data, size })
      paxPath = undefined
      if (members.length > MAX_MEMBERS) return `more than ${MAX_MEMBERS} members`
    } else if (type !== 'g') paxPath = undefined
    pos = data + Math.ceil(size / 512) * 512
  }
  return members
}
