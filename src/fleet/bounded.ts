/**
 * Working through the files of a repository a few at a time.
 *
 * Why: a repo-wide command spends most of its wall time waiting, not computing:
 * every file is a stat, a read, a lock taken and released, and an atomic write with
 * two fsyncs, each a round trip to libuv's thread pool (issue 14: 1,000 files, a
 * third of the time idle). With several files in flight, one file's waits overlap
 * another's parsing and crypto. The limit keeps open files and memory small.
 *
 * What callers see stays sequential: results come back in input order, and
 * `inOrder` is called for item i only after it has been called for every item
 * before it, so progress lines and error reports read exactly as one-by-one
 * processing printed them.
 */

/** How many files a repo-wide command works on at once. */
export const FILES_IN_FLIGHT = 8

/**
 * Run `work` on every item, at most `limit` at a time, and hand each result to
 * `inOrder` in input order. `work` must not throw: it returns its failure as a
 * result (a throw would stop the other workers mid-run).
 */
export async function forEachBounded<T, R>(
    items: readonly T[],
    limit: number,
    work: (item: T, index: number) => Promise<R>,
    inOrder: (result: R, index: number) => void = () => undefined,
): Promise<R[]> {
    const results: R[] = new Array<R>(items.length)
    const done: boolean[] = new Array<boolean>(items.length).fill(false)
    let next = 0
    let reported = 0
    const flush = (): void => {
        while (reported < items.length && done[reported] === true) {
            inOrder(results[reported] as R, reported)
            reported++
        }
    }
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const i = next++
            results[i] = await work(items[i] as T, i)
            done[i] = true
            flush()
        }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
    return results
}
