/**
 * One run per registry at a time. A `RunLock` is the seam: Azure implements it with a blob lease in
 * the function app's own storage account (`blob-lease.ts`); another host can implement it with
 * whatever mutual exclusion it has (a DynamoDB conditional write, a file lock for the CLI).
 */

/** A held lock; `release` is idempotent and never throws. */
export interface LockHandle {
  readonly key: string;
  release(): Promise<void>;
}

export interface RunLock {
  /** Takes the lock for `key` (a registry name), or returns `null` when another run holds it. */
  acquire(key: string): Promise<LockHandle | null>;
}

export type Locked<T> = { readonly ran: true; readonly value: T } | { readonly ran: false };

/** Runs `task` while holding `key`; does nothing and returns `{ ran: false }` when the lock is taken. */
export async function withLock<T>(lock: RunLock, key: string, task: () => Promise<T>): Promise<Locked<T>> {
  const handle = await lock.acquire(key);
  if (handle === null) return { ran: false };
  try {
    return { ran: true, value: await task() };
  } finally {
    await handle.release();
  }
}
