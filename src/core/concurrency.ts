/**
 * The one concurrency limiter: a model's files uploaded, downloaded, copied, hashed or scanned a few at a time.
 *
 * Items start in order on `limit` lanes. After a failure no new item starts, and the call settles only when every
 * started item has, then throws the first failure: the caller may remove the directory being filled, and work still
 * running would write into it. `work` is told its lane (0 to limit - 1), so a caller that holds one resource per lane,
 * such as a worker thread, uses the lane's own.
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, lane: number) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { error: unknown } | undefined
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async (_, lane) => {
    while (!failure && next < items.length) {
      const index = next++
      try {
        results[index] = await work(items[index]!, lane)
      } catch (error) {
        failure ??= { error }
      }
    }
  })
  await Promise.all(lanes)
  if (failure) throw failure.error
  return results
}

/** mapConcurrently for work that returns nothing. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, lane: number) => Promise<void>
): Promise<void> {
  await mapConcurrently(items, limit, work)
}
