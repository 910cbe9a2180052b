/**
 * Bounded concurrency that stops cleanly: once a task fails no new task starts, and the ones in
 * flight are waited for. Nothing keeps running after the call has returned or thrown, so a
 * deletion can never happen after the run has reported.
 */

/**
 * Repositories of one registry pruned at once (config `repositoryConcurrency`), all drawing on the
 * registry's one request budget (docs/design.md, "Request budget").
 */
export const DEFAULT_REPOSITORY_CONCURRENCY = 8;

/** What `mapUntilFailure` finished: a result per task that completed, and the first failure. */
export interface PartialResults<R> {
  /** By input position; `undefined` where the task failed or never started. */
  readonly results: ReadonlyArray<R | undefined>;
  readonly failure: { readonly error: unknown } | undefined;
}

/** Runs `task` over `items` with at most `limit` in flight, until the first failure; never throws. */
export async function mapUntilFailure<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<PartialResults<R>> {
  const results = new Array<R | undefined>(items.length).fill(undefined);
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { results, failure };
}

/**
 * Runs `task` over `items` with at most `limit` in flight; results keep the input order. Throws
 * the first failure, after the tasks already in flight have settled.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const { results, failure } = await mapUntilFailure(items, limit, task);
  if (failure) throw failure.error;
  return results as R[];
}

/** Splits `items` into runs of at most `size` (at least 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const step = Math.max(1, Math.floor(size));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += step) chunks.push(items.slice(i, i + step));
  return chunks;
}
