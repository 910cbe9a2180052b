/** A finished repository's entry lists held packed (lib/report/packed.ts; issue 12, "Memory"). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { Image } from '../../lib/model.js';
import { isPacked, PACK_MIN_ENTRIES, packEntries, withReportFields } from '../../lib/report/packed.js';
import type { RepositoryReport } from '../../lib/report/types.js';
import { prune } from '../../lib/run/prune.js';
import { daysAgo, digestOf, image, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

function repository(kept: number, deleted: number, fields: Partial<RepositoryReport> = {}): RepositoryReport {
  return {
    name: 'app/web',
    images: { before: kept + deleted, kept, deleted, failed: 0, pending: 1 },
    bytes: { before: 100, reclaimed: 40 },
    kept: Array.from({ length: kept }, (_, n) => ({
      digest: digestOf(`kept-${n}`),
      tags: [`k${n}`],
      reason: 'recent' as const,
      pushedAt: null,
      rank: n + 1,
      why: `recent: ${n + 1} of ${kept}`,
      locks: [{ level: 'tag' as const, attribute: 'deleteEnabled' as const, tag: `k${n}` }],
    })),
    deleted: Array.from({ length: deleted }, (_, n) => ({
      digest: digestOf(`gone-${n}`),
      tags: n % 2 === 0 ? [] : [`g${n}`, 'ünïcode-✓'],
      action: 'delete-manifest' as const,
      pushedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    })),
    failed: [{ digest: digestOf('failed'), tags: ['f'], error: 'HTTP 500' }],
    pending: [{ digest: digestOf('pending'), tags: [], action: 'delete-manifest', reason: 'stopped by SIGTERM' }],
    warnings: ['a warning'],
    footprint: {
      before: { tags: 3, manifests: 3, blobs: 9, bytes: 100 },
      after: { tags: 1, manifests: 1, blobs: 3, bytes: 60 },
    },
    ...fields,
  };
}

describe('packed entry lists', () => {
  it('reads back exactly what was packed, and serializes to the same JSON in the same key order', () => {
    const plain = repository(10, 200);
    const packed = packEntries(plain);

    expect(isPacked(packed)).toBe(true);
    expect(packed).toEqual(plain);
    expect(JSON.stringify(packed)).toBe(JSON.stringify(plain));
    expect(JSON.stringify(packed, null, 2)).toBe(JSON.stringify(plain, null, 2));
    expect({ ...packed }).toEqual({ ...plain });
  });

  it('leaves short lists as they are', () => {
    const plain = repository(1, PACK_MIN_ENTRIES - 3); // with the one pending entry: one short of packing
    expect(packEntries(plain)).toBe(plain);
    expect(isPacked(packEntries(repository(1, PACK_MIN_ENTRIES - 2)))).toBe(true);
  });

  it('gives a list read back frozen: a change to it would be lost, so it throws instead', () => {
    const packed = packEntries(repository(10, 200));
    const deleted = packed.deleted;

    expect(Object.isFrozen(deleted)).toBe(true);
    expect(() => deleted.push(deleted[0]!)).toThrow(TypeError);
    expect(packed.deleted).toHaveLength(200);
    expect(() => {
      (packed as { deleted: unknown }).deleted = [];
    }).toThrow(TypeError);
  });

  it('holds only the last few lists read back, so reading every repository in one loop holds one at a time', () => {
    const reports = Array.from({ length: 6 }, () => packEntries(repository(10, 200)));
    const first = reports[0]!.deleted;
    expect(reports[0]!.deleted).toBe(first); // read again at once: inflated once

    for (const report of reports.slice(1)) void report.deleted; // five other lists read since

    const again = reports[0]!.deleted;
    expect(again).not.toBe(first); // let go, read back anew
    expect(again).toEqual(first);
  });

  it('keeps a list read again among the recent ones (least recently read goes first)', () => {
    const reports = Array.from({ length: 5 }, () => packEntries(repository(10, 200)));
    const first = reports[0]!.deleted;
    for (const report of reports.slice(1, 4)) void report.deleted; // four lists held: 0, 1, 2, 3
    expect(reports[0]!.deleted).toBe(first); // read again: now the most recent

    void reports[4]!.deleted; // a fifth: the least recently read (1) goes, not 0

    expect(reports[0]!.deleted).toBe(first);
  });

  it('copies with new fields and stays packed (a spread would hold every entry as an object again)', () => {
    const plain = repository(10, 200);
    const packed = packEntries(plain);
    const bytes = { before: 500, reclaimed: 300 };

    const copy = withReportFields(packed, { bytes });

    expect(isPacked(copy)).toBe(true);
    expect(copy).toEqual({ ...plain, bytes });
    expect(JSON.stringify(copy)).toBe(JSON.stringify({ ...plain, bytes }));
    expect(withReportFields(plain, { bytes })).toEqual({ ...plain, bytes });
    expect(isPacked(withReportFields(plain, { bytes }))).toBe(false);
  });
});

describe('prune() packs each finished repository', () => {
  it('reports a big repository packed, with the same entries an unpacked report lists', async () => {
    const images: Image[] = Array.from({ length: 120 }, (_, n) =>
      image({ name: `build-${n}`, tags: [`${n}`], pushedAt: daysAgo(120 - n) }),
    );
    const small: Image[] = images.slice(0, 3).map((img, n) => ({ ...img, tags: [`small-${n}`] }));
    const provider = new MemoryProvider({ name: 'local', repositories: { 'app/big': images, 'app/small': small } });
    const config = parseConfig({
      version: 1,
      dryRun: false,
      defaults: { keep: 5, minAge: '0s', pinned: [] },
      registries: [
        { name: 'local', provider: 'oci', endpoint: 'http://127.0.0.1:5000', repositories: [{ match: 'app/**' }] },
      ],
    });

    const report = await prune({ config, now: NOW, providerFor: async () => provider });

    const [big, smallReport] = report.registries[0]!.repositories;
    expect(big!.name).toBe('app/big');
    expect(isPacked(big!)).toBe(true);
    expect(isPacked(smallReport!)).toBe(false);
    expect(big!.images).toMatchObject({ before: 120, kept: 5, deleted: 115 });
    expect(big!.deleted.map((entry) => Number(entry.tags[0])).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 115 }, (_, n) => n),
    );
    const byRank = [...big!.kept].sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
    expect(byRank.map((entry) => [entry.tags[0], entry.reason, entry.why])).toEqual(
      [119, 118, 117, 116, 115].map((n, rank) => [`${n}`, 'recent', `recent: ${rank + 1} of 5`]),
    );
    expect(provider.digests('app/big')).toHaveLength(5);
    // The registry's byte figures were applied to the packed report.
    expect(big!.bytes.before).toBeGreaterThan(0);
  });
});
