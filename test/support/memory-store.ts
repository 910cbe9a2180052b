/** A `StateStore` in memory with the contract's compare-and-swap, for tests that count or damage records. */
import {
  assertStatePrefix,
  assertStateKey,
  type StateRecord,
  type StateStore,
  toBytes,
} from '../../lib/state/store.js';

/** Records in a Map; every call is counted in `operations`. */
export class MemoryStateStore implements StateStore {
  readonly location = 'memory:';
  readonly records = new Map<string, StateRecord>();
  readonly operations: Array<{ readonly op: 'read' | 'create' | 'replace' | 'delete' | 'list'; readonly key: string }> =
    [];
  private writes = 0;

  async read(key: string): Promise<StateRecord | null> {
    assertStateKey(key);
    this.operations.push({ op: 'read', key });
    return this.records.get(key) ?? null;
  }

  async create(key: string, value: Uint8Array | string) {
    assertStateKey(key);
    this.operations.push({ op: 'create', key });
    if (this.records.has(key)) return { ok: false } as const;
    return this.put(key, value);
  }

  async replace(key: string, value: Uint8Array | string, version: string) {
    assertStateKey(key);
    this.operations.push({ op: 'replace', key });
    if (this.records.get(key)?.version !== version) return { ok: false } as const;
    return this.put(key, value);
  }

  async delete(key: string, version?: string) {
    this.operations.push({ op: 'delete', key });
    const current = this.records.get(key);
    if (version !== undefined && current?.version !== version) return { ok: false };
    this.records.delete(key);
    return { ok: true };
  }

  async list(prefix: string): Promise<string[]> {
    assertStatePrefix(prefix);
    this.operations.push({ op: 'list', key: prefix });
    return [...this.records.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  /** Overwrites a record behind the store's back (a corrupt file, another writer). */
  poke(key: string, value: Uint8Array | string): void {
    this.put(key, value);
  }

  /** The record's text, or undefined. */
  text(key: string): string | undefined {
    const record = this.records.get(key);
    return record === undefined ? undefined : new TextDecoder().decode(record.value);
  }

  private put(key: string, value: Uint8Array | string) {
    const version = String(++this.writes);
    this.records.set(key, { value: toBytes(value), version });
    return { ok: true, version } as const;
  }
}
