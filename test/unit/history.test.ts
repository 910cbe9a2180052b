import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileHistoryStore,
  historyEntryOf,
  parseHistoryLines,
  trendOf,
  type HistoryEntry,
} from '../../lib/history/index.js';
import type { Report } from '../../lib/report/types.js';

function entry(at: string, bytesBefore: number, costBefore: number | null = 1): HistoryEntry {
  return {
    version: 1,
    at,
    dryRun: false,
    complete: true,
    totals: {
      repositories: 1,
      imagesBefore: 10,
      deleted: 2,
      failed: 0,
      bytesBefore,
      bytesAfter: Math.floor(bytesBefore / 2),
      bytesReclaimed: bytesBefore - Math.floor(bytesBefore / 2),
      bytesUntagged: 0,
      accuracy: 'exact',
      currency: 'USD',
      costBefore,
      costAfter: costBefore === null ? null : costBefore / 2,
      costSaved: costBefore === null ? null : costBefore / 2,
    },
    registries: [],
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-history-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('file history store', () => {
  it('reads nothing from a file that does not exist yet', async () => {
    const store = new FileHistoryStore(join(dir, 'missing.jsonl'));

    expect(await store.read()).toEqual({ entries: [], skipped: [] });
  });

  it('appends one JSON line per run and reads them back in order', async () => {
    const path = join(dir, 'nested', 'history.jsonl');
    const store = new FileHistoryStore(path);

    await store.append(entry('2026-11-01T00:00:00.000Z', 100));
    await store.append(entry('2026-11-02T00:00:00.000Z', 80));

    const text = await readFile(path, 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect((await store.read()).entries.map((read) => read.totals.bytesBefore)).toEqual([100, 80]);
  });

  it('skips a torn or foreign line, says where, and keeps the rest', async () => {
    const path = join(dir, 'damaged.jsonl');
    await writeFile(
      path,
      `${JSON.stringify(entry('2026-11-01T00:00:00.000Z', 100))}\n` +
        `{"version":1,"at":\n${JSON.stringify({ version: 2 })}\n`,
    );

    const read = await new FileHistoryStore(path).read();

    expect(read.entries).toHaveLength(1);
    expect(read.skipped[0]).toBe(`${path}:2: not JSON; skipped`);
    expect(read.skipped[1]).toMatch(new RegExp(`^${path}:3: version: `));
  });

  it('keeps fields a newer regprune added', () => {
    const line = JSON.stringify({ ...entry('2026-11-01T00:00:00.000Z', 1), future: 'field' });

    const read = parseHistoryLines(line, 'h.jsonl');

    expect(read.entries[0]).toMatchObject({ future: 'field' });
  });
});

describe('history entries and trend', () => {
  it('summarises a report without its storage section from the report totals', () => {
    const report: Report = {
      version: 1,
      dryRun: true,
      startedAt: '2026-11-23T10:00:00.000Z',
      finishedAt: '2026-11-23T10:01:00.000Z',
      complete: true,
      registries: [],
      totals: {
        repositories: 2,
        imagesBefore: 5,
        kept: 3,
        deleted: 2,
        failed: 0,
        pending: 0,
        bytesBefore: 1000,
        bytesReclaimed: 300,
        apiCalls: 4,
      },
    };

    const summary = historyEntryOf(report);

    expect(summary.at).toBe('2026-11-23T10:01:00.000Z');
    expect(summary.totals).toMatchObject({
      bytesBefore: 1000,
      bytesAfter: 700,
      bytesReclaimed: 300,
      accuracy: 'estimate',
      costBefore: null,
    });
  });

  it('orders runs by time, keeps the most recent ones, and gives the change from first to last', () => {
    const entries = [
      entry('2026-11-03T00:00:00.000Z', 300, 3),
      entry('2026-11-01T00:00:00.000Z', 100, 1),
      entry('2026-11-02T00:00:00.000Z', 200, 2),
    ];

    const trend = trendOf(entries, 2);

    expect(trend.points.map((point) => point.at)).toEqual(['2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z']);
    expect(trend.bytesChange).toBe(100);
    expect(trend.costChange).toBe(1);
    expect(trend.currency).toBe('USD');
  });

  it('gives no change with a single run', () => {
    expect(trendOf([entry('2026-11-01T00:00:00.000Z', 1)]).bytesChange).toBeNull();
  });
});
