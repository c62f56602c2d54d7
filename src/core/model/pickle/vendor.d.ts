// Types for the decompressors compression.ts imports lazily (the packages ship none, or none that resolve here).
declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream'
  export default function unbzip2Stream(): Duplex
}
