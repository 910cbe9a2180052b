/**
 * History on the state store: one record per run, `history/<finishedAt>-<random>.json`, created
 * with create-if-absent. Concurrent runs write different keys, so none can lose another's entry;
 * reading lists the prefix (time order, as the key starts with the finish time) and gets each.
 */
import { randomUUID } from 'node:crypto';
import { describeError } from '../errors.js';
import { formatIssues } from '../config/load.js';
import { keySegment, type StateStore } from '../state/store.js';
import { HistoryEntrySchema, type HistoryEntry } from './entry.js';
import type { HistoryRead, HistoryStore } from './store.js';

export const HISTORY_PREFIX = 'history/';
/** Gets in flight at once while reading the history. */
const READ_CONCURRENCY = 8;

export interface StateHistoryStoreOptions {
  readonly store: StateStore;
  /** Key prefix ending in '/'; default `history/`. */
  readonly prefix?: string;
}

/** `HistoryStore` on a `StateStore`, one record per run. */
export class StateHistoryStore implements HistoryStore {
  readonly location: string;
  private readonly store: StateStore;
  private readonly prefix: string;

  constructor(options: StateHistoryStoreOptions) {
    this.store = options.store;
    this.prefix = options.prefix ?? HISTORY_PREFIX;
    this.location = `${options.store.location}${options.store.location.endsWith('/') ? '' : '/'}${this.prefix}`;
  }

  async append(entry: HistoryEntry): Promise<void> {
    const parsed = HistoryEntrySchema.parse(entry);
    // ISO time sorts lexicographically; ':' is encoded so the key is valid on every backend.
    const key = `${this.prefix}${keySegment(parsed.at)}-${randomUUID()}.json`;
    const write = await this.store.create(key, JSON.stringify(parsed));
    if (!write.ok)
      throw new Error(`history record ${key} already exists; a random id collided, which should not happen`);
  }

  async read(): Promise<HistoryRead> {
    const keys = await this.store.list(this.prefix);
    const results: ({ entry: HistoryEntry } | { skipped: string } | null)[] = new Array(keys.length).fill(null);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const index = next++;
        const key = keys[index] as string;
        results[index] = await this.readOne(key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
    const entries: HistoryEntry[] = [];
    const skipped: string[] = [];
    for (const result of results) {
      if (result === null) continue;
      if ('entry' in result) entries.push(result.entry);
      else skipped.push(result.skipped);
    }
    entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return { entries, skipped };
  }

  /** One run's record; null when it vanished meanwhile (expired by a lifecycle rule). */
  private async readOne(key: string): Promise<{ entry: HistoryEntry } | { skipped: string } | null> {
    const record = await this.store.read(key);
    if (record === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(record.value));
    } catch (error) {
      return { skipped: `${key}: not JSON (${describeError(error)}); skipped` };
    }
    const parsed = HistoryEntrySchema.safeParse(value);
    if (parsed.success) return { entry: parsed.data };
    return { skipped: `${key}: ${formatIssues(parsed.error.issues, value).join('; ')}; skipped` };
  }
}
