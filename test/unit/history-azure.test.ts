import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppendBlobHistoryStore, type HistoryEntry } from '../../lib/history/index.js';
import { startAzurite, type Azurite } from '../support/azurite.js';

function entry(at: string, bytesBefore: number): HistoryEntry {
  return {
    version: 1,
    at,
    dryRun: true,
    complete: true,
    totals: {
      repositories: 1,
      imagesBefore: 3,
      deleted: 1,
      failed: 0,
      bytesBefore,
      bytesAfter: bytesBefore - 1,
      bytesReclaimed: 1,
      bytesUntagged: 0,
      accuracy: 'exact',
      currency: 'USD',
      costBefore: 1,
      costAfter: 0.5,
      costSaved: 0.5,
    },
    registries: [],
  };
}

let azurite: Azurite;
let service: BlobServiceClient;
beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
});
afterAll(async () => {
  await azurite?.stop();
});

describe('append blob history store (Azurite)', () => {
  it('reads nothing before the first run', async () => {
    const store = new AppendBlobHistoryStore({ service, blob: 'empty.jsonl' });

    expect(await store.read()).toEqual({ entries: [], skipped: [] });
  });

  it('appends runs, concurrent ones included, without losing a line', async () => {
    const store = new AppendBlobHistoryStore({ service });

    await store.append(entry('2026-11-01T00:00:00.000Z', 10));
    await Promise.all([
      store.append(entry('2026-11-02T00:00:00.000Z', 20)),
      store.append(entry('2026-11-03T00:00:00.000Z', 30)),
    ]);

    const read = await store.read();
    expect(read.skipped).toEqual([]);
    expect(read.entries.map((recorded) => recorded.totals.bytesBefore).sort((a, b) => a - b)).toEqual([10, 20, 30]);
    expect(store.location).toBe('regprune-history/history.jsonl');
  });
});
