import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../lib/execute/types.js';
import type { Image } from '../../lib/model.js';
import type { Plan } from '../../lib/plan/types.js';
import { buildReport } from '../../lib/report/report.js';
import { exitCodeFor } from '../../lib/report/exit-code.js';
import { footprints } from '../../lib/report/footprint.js';
import { repositoryReport, unlistedRepositoryReport } from '../../lib/report/repository.js';
import { formatSummary } from '../../lib/report/summary.js';
import type { RegistryReport, RepositoryReport } from '../../lib/report/types.js';
import { formatBytes } from '../../lib/report/units.js';
import { image, index, inventory, NOW } from '../support/builders.js';

const MiB = 1024 * 1024;
const blob = (name: string, sizeBytes: number) => ({ digest: `sha256:${name.padEnd(64, '0')}`, sizeBytes });
const BASE = blob('base', 50 * MiB);

function withBlobs(img: Image, blobs: ReturnType<typeof blob>[]): Image {
  return { ...img, blobs };
}

const emptyPlan: Plan = { registry: 'local', repository: 'app/web', keep: [], delete: [], warnings: [] };

function outcome(fields: Partial<Outcome>): Outcome {
  return { kept: [], deleted: [], failed: [], pending: [], warnings: [], restoredTags: [], lostTags: [], ...fields };
}

function repositoryFixture(fields: Partial<RepositoryReport> = {}): RepositoryReport {
  return {
    name: 'app/web',
    images: { before: 0, kept: 0, deleted: 0, failed: 0, pending: 0 },
    bytes: { before: 0, reclaimed: 0 },
    kept: [],
    deleted: [],
    failed: [],
    pending: [],
    warnings: [],
    ...fields,
  };
}

function registry(repositories: RepositoryReport[], fields: Partial<RegistryReport> = {}): RegistryReport {
  return { name: 'local', provider: 'oci', repositories, apiCalls: 7, ...fields };
}

describe('byte accounting', () => {
  it('counts a layer shared by several images once', () => {
    const images = [1, 2, 3].map((n) => withBlobs(image({ name: `b${n}` }), [BASE, blob(`app${n}`, MiB)]));

    const { before } = footprints(images, new Set());

    expect(before).toEqual({ tags: 0, manifests: 3, blobs: 4, bytes: 50 * MiB + 3 * MiB });
  });

  it('reclaims only blobs no remaining manifest references', () => {
    const kept = withBlobs(image({ name: 'kept', tags: ['latest'] }), [BASE, blob('app1', MiB)]);
    const gone = withBlobs(image({ name: 'gone', tags: ['b1'] }), [BASE, blob('app2', 2 * MiB)]);

    const { before, after } = footprints([kept, gone], new Set([gone.digest]));

    expect(before.bytes - after.bytes).toBe(2 * MiB);
    expect(after).toEqual({ tags: 1, manifests: 1, blobs: 2, bytes: 51 * MiB });
  });

  it(
    'falls back to the reported size for an image without a blob list, and not for an index with listed ' + 'children',
    () => {
      const child = image({ name: 'child', sizeBytes: 3_000 });
      const multiArch = index({ name: 'index', children: [child], sizeBytes: 3_000 });
      const plain = image({ name: 'plain', sizeBytes: 500 });

      const { before } = footprints([child, multiArch, plain], new Set());

      expect(before.bytes).toBe(3_500);
    },
  );
});

describe('repository report', () => {
  it('fills report v1 from the listing, the plan and the outcome', () => {
    const kept = withBlobs(image({ name: 'kept', tags: ['latest'] }), [BASE]);
    const gone = withBlobs(image({ name: 'gone', tags: ['b1'] }), [BASE, blob('app', MiB)]);
    const listed = inventory([kept, gone], { repository: 'app/web' });

    const report = repositoryReport(
      listed,
      { ...emptyPlan, warnings: ['plan warning'] },
      outcome({
        kept: [{ digest: kept.digest, tags: ['latest'], reason: 'pinned' }],
        deleted: [{ digest: gone.digest, tags: ['b1'], action: 'delete-manifest' }],
      }),
    );

    expect(report.name).toBe('app/web');
    expect(report.images).toEqual({ before: 2, kept: 1, deleted: 1, failed: 0, pending: 0 });
    expect(report.bytes).toEqual({ before: 51 * MiB, reclaimed: MiB });
    expect(report.warnings).toEqual(['plan warning']);
    expect(report.error).toBeUndefined();
  });
});

describe('report', () => {
  const repository = unlistedRepositoryReport('app/web', 'could not list app/web: boom');
  const fine = repositoryFixture();

  it('is version 1 with totals summed over registries and repositories', () => {
    const a = repositoryFixture({
      images: { before: 10, kept: 4, deleted: 6, failed: 0, pending: 0 },
      bytes: { before: 100, reclaimed: 60 },
    });

    const report = buildReport({
      dryRun: false,
      startedAt: NOW,
      finishedAt: NOW,
      registries: [registry([a, a]), registry([a], { name: 'other', apiCalls: 3 })],
    });

    expect(report.version).toBe(1);
    expect(report.startedAt).toBe(NOW.toISOString());
    expect(report.complete).toBe(true);
    expect(report.totals).toEqual({
      repositories: 3,
      imagesBefore: 30,
      kept: 12,
      deleted: 18,
      failed: 0,
      pending: 0,
      bytesBefore: 300,
      bytesReclaimed: 180,
      apiCalls: 10,
    });
  });

  it('is incomplete when deletions are pending', () => {
    const pending = repositoryFixture({ images: { before: 2, kept: 0, deleted: 0, failed: 0, pending: 2 } });

    const report = buildReport({ dryRun: false, startedAt: NOW, finishedAt: NOW, registries: [registry([pending])] });

    expect(report.complete).toBe(false);
  });

  it.each([
    ['nothing failed', registry([fine]), 0],
    ['a registry error', registry([], { error: 'unreachable' }), 1],
    ['a repository error', registry([repository]), 1],
    [
      'a failed deletion',
      registry([repositoryFixture({ failed: [{ digest: 'sha256:x', tags: [], error: 'no' }] })]),
      1,
    ],
  ] as const)('gives exit code %s → %i', (_what, registryReport, code) => {
    const report = buildReport({ dryRun: false, startedAt: NOW, finishedAt: NOW, registries: [registryReport] });

    expect(exitCodeFor(report)).toBe(code);
  });
});

describe('human summary', () => {
  const kept = withBlobs(image({ name: 'kept', tags: ['latest'] }), [BASE]);
  const gone = withBlobs(image({ name: 'gone', tags: ['b1', 'b1-alias'] }), [BASE, blob('app', 3 * MiB)]);
  const repo = repositoryReport(
    inventory([kept, gone], { repository: 'app/web' }),
    emptyPlan,
    outcome({
      kept: [{ digest: kept.digest, tags: ['latest'], reason: 'pinned' }],
      deleted: [{ digest: gone.digest, tags: ['b1', 'b1-alias'], action: 'delete-manifest' }],
    }),
  );

  it('shows one line per repository, totals, the before/after table and the garbage-collect note', () => {
    const report = buildReport({ dryRun: false, startedAt: NOW, finishedAt: NOW, registries: [registry([repo])] });

    const text = formatSummary(report);

    expect(text).toContain('app/web  images 2, kept 1, deleted 1; bytes 53.0 MiB, reclaimed 3.0 MiB');
    expect(text).toMatch(/tags\s+3\s+1/);
    expect(text).toMatch(/manifests\s+2\s+1/);
    expect(text).toMatch(/unique blobs\s+2\s+1/);
    expect(text).toMatch(/bytes\s+53\.0 MiB\s+50\.0 MiB/);
    expect(text).toContain('garbage-collect');
    expect(text).not.toContain('would delete');
  });

  it('says "would delete" in a dry run', () => {
    const report = buildReport({ dryRun: true, startedAt: NOW, finishedAt: NOW, registries: [registry([repo])] });

    const text = formatSummary(report);

    expect(text).toContain('DRY RUN');
    expect(text).toContain('would delete 1');
    expect(text).toContain('after (would be)');
  });

  it('says ACR and ECR free storage themselves', () => {
    const report = buildReport({
      dryRun: false,
      startedAt: NOW,
      finishedAt: NOW,
      registries: [registry([repo], { provider: 'ecr' })],
    });

    const text = formatSummary(report);

    expect(text).toContain('ACR and ECR free the storage');
    expect(text).not.toContain('garbage-collect');
  });

  it('shows a registry error', () => {
    const report = buildReport({
      dryRun: false,
      startedAt: NOW,
      finishedAt: NOW,
      registries: [registry([], { error: 'registry "local" (http://127.0.0.1:1): connection refused' })],
    });

    expect(formatSummary(report)).toContain('error: registry "local" (http://127.0.0.1:1): connection refused');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * MiB, '5.0 MiB'],
    [150 * MiB, '150 MiB'],
    [3 * 1024 * 1024 * MiB, '3.0 TiB'],
  ])('formats %i as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
