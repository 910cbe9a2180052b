/** A run lock and a history store in memory, for tests of the hosted run. */
import type { HistoryEntry } from '../../lib/history/entry.js';
import type { HistoryRead, HistoryStore } from '../../lib/history/store.js';
import type { LockHandle, RunLock } from '../../lib/lock/lock.js';

/** A `RunLock` where `held` keys belong to another run; `taken` and `released` log this run's. */
export class MemoryLock implements RunLock {
  readonly taken: string[] = [];
  readonly released: string[] = [];
  constructor(readonly held: ReadonlySet<string> = new Set()) {}

  async acquire(key: string): Promise<LockHandle | null> {
    if (this.held.has(key)) return null;
    this.taken.push(key);
    return {
      key,
      heldFor: () => true,
      lostReason: () => null,
      release: async () => void this.released.push(key),
    };
  }
}

/** A `HistoryStore` in an array; `failing` makes every append throw. */
export class MemoryHistory implements HistoryStore {
  readonly location = 'memory';
  readonly entries: HistoryEntry[] = [];
  constructor(readonly failing = false) {}

  async append(entry: HistoryEntry): Promise<void> {
    if (this.failing) throw new Error('history storage unreachable');
    this.entries.push(entry);
  }

  async read(): Promise<HistoryRead> {
    return { entries: [...this.entries], skipped: [] };
  }
}
