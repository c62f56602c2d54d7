import { describe, expect, it } from '@jest/globals'
import { setTimeout as sleep } from 'node:timers/promises'
import { forEachConcurrently, mapConcurrently } from './concurrency.js'

describe('mapConcurrently', () => {
  it('returns results in the items’ order, running at most `limit` at once, each lane one item at a time', async () => {
    let running = 0
    let most = 0
    const busy = new Set<number>()
    const results = await mapConcurrently([30, 5, 20, 1, 10, 2], 3, async (ms, lane) => {
      expect(busy.has(lane)).toBe(false)
      busy.add(lane)
      most = Math.max(most, ++running)
      await sleep(ms)
      running--
      busy.delete(lane)
      return ms * 2
    })
    expect(results).toEqual([60, 10, 40, 2, 20, 4])
    expect(most).toBe(3)
  })

  it('starts nothing after a failure, waits for what started, then throws the first failure', async () => {
    const started: number[] = []
    const finished: number[] = []
    const failing = forEachConcurrently([1, 2, 3, 4, 5], 2, async item => {
      started.push(item)
      if (item === 2) throw new Error('two failed')
      await sleep(20)
      finished.push(item)
    })
    await expect(failing).rejects.toThrow('two failed')
    expect(started).toEqual([1, 2])
    expect(finished).toEqual([1])
  })

  it('does nothing for no items', async () => {
    await expect(mapConcurrently([], 4, async () => 1)).resolves.toEqual([])
  })
})
