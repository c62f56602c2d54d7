/**
 * Maps key paths of a YAML (or JSON) document to line numbers, so a schema error can say "line 12" and not only
 * "metrics.accuracy.min". js-yaml's AST carries no positions, but its event stream does; we walk the events once
 * and only when an error needs a line.
 */
import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml'

export type KeyPath = ReadonlyArray<string | number>

interface Frame {
  kind: 'mapping' | 'sequence'
  path: KeyPath
  /** mapping: the key whose value comes next (undefined while a key is awaited); sequence: next index. */
  pendingKey?: string | undefined
  index: number
  awaitingKey: boolean
}

/** Returns a function giving the 1-based line of the key at `path` (or of its nearest located ancestor). */
export function createLocator(source: string): (path: KeyPath) => number | undefined {
  let positions: Map<string, number> | undefined
  const lineStarts = computeLineStarts(source)

  return (path: KeyPath) => {
    positions ??= collectPositions(source)
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = positions.get(pathKey(path.slice(0, depth)))
      if (offset !== undefined) return lineOf(lineStarts, offset)
    }
    return undefined
  }
}

function collectPositions(source: string): Map<string, number> {
  const positions = new Map<string, number>()
  let events: Event[]
  try {
    events = parseEvents(source, {})
  } catch {
    return positions
  }
  const stack: Frame[] = []

  // Where the value about to start lives, and records the offset for it if it is a keyed child.
  const enterValue = (offset: number): KeyPath | undefined => {
    const top = stack[stack.length - 1]
    if (!top) return []
    if (top.kind === 'sequence') {
      const path = [...top.path, top.index++]
      if (!positions.has(pathKey(path))) positions.set(pathKey(path), offset)
      return path
    }
    if (top.awaitingKey) return undefined
    const path = [...top.path, top.pendingKey ?? '']
    top.awaitingKey = true
    return path
  }

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const top = stack[stack.length - 1]
        if (top?.kind === 'mapping' && top.awaitingKey) {
          // A complex (non-scalar) key: positions inside it are meaningless; track it so POP stays balanced.
          top.awaitingKey = false
          top.pendingKey = undefined
          stack.push({
            kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence',
            path: [...top.path, '?'],
            index: 0,
            awaitingKey: true
          })
          break
        }
        const path = enterValue(event.start) ?? []
        if (path.length === 0) positions.set(pathKey(path), event.start)
        stack.push({
          kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence',
          path,
          index: 0,
          awaitingKey: true
        })
        break
      }
      case EVENT_ID.SCALAR:
      case EVENT_ID.ALIAS: {
        const top = stack[stack.length - 1]
        const start = event.type === EVENT_ID.SCALAR ? event.valueStart : event.anchorStart
        if (top?.kind === 'mapping' && top.awaitingKey) {
          const key = event.type === EVENT_ID.SCALAR ? getScalarValue(source, event) : '*'
          top.pendingKey = key
          top.awaitingKey = false
          const keyPath = pathKey([...top.path, key])
          if (!positions.has(keyPath)) positions.set(keyPath, start)
        } else {
          enterValue(start)
        }
        break
      }
      case EVENT_ID.POP:
        stack.pop()
        break
      default:
        break
    }
  }
  return positions
}

function pathKey(path: KeyPath): string {
  return JSON.stringify(path)
}

function computeLineStarts(source: string): number[] {
  const starts = [0]
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function lineOf(lineStarts: number[], offset: number): number {
  let low = 0
  let high = lineStarts.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (lineStarts[mid]! <= offset) low = mid
    else high = mid - 1
  }
  return low + 1
}

/** `metrics["per_class.*.recall"].min`: dotted where unambiguous, bracketed where a key holds dots or spaces. */
export function formatKeyPath(path: KeyPath): string {
  let text = ''
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`
    else if (/^[A-Za-z_][\w-]*$/.test(part)) text += text ? `.${part}` : part
    else text += `[${JSON.stringify(part)}]`
  }
  return text
}
