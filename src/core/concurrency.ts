/**
 * Runs `work` on at most `limit` items at a time (a model's files, uploaded, downloaded or copied). After a failure
 * no new item starts, and the call settles only when every started item has, then throws the first failure: the
 * caller may remove the directory being filled, and work still running would write into it.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      try {
        await work(items[next++]!)
      } catch (error) {
        failure ??= { error }
      }
    }
  })
  await Promise.all(lanes)
  if (failure) throw failure.error
}
