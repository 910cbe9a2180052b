import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { publishAwsMetrics } from '../../lib/metrics/aws.js';
import { metricPoints } from '../../lib/metrics/points.js';
import type { RegistryReport, Report, RepositoryReport } from '../../lib/report/types.js';

interface EmfBlob {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

let stdout: MockInstance<typeof process.stdout.write>;

function emfLines(): EmfBlob[] {
  return stdout.mock.calls
    .map(([chunk]) => String(chunk))
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EmfBlob)
    .filter((blob) => blob._aws !== undefined);
}

function repository(
  name: string,
  figures: Partial<{
    before: number;
    kept: number;
    deleted: number;
    failed: number;
    bytesBefore: number;
    reclaimed: number;
  }> = {},
): RepositoryReport {
  return {
    name,
    images: {
      before: figures.before ?? 10,
      kept: figures.kept ?? 4,
      deleted: figures.deleted ?? 5,
      failed: figures.failed ?? 1,
      pending: 0,
    },
    bytes: { before: figures.bytesBefore ?? 5_000, reclaimed: figures.reclaimed ?? 2_000 },
    kept: [],
    deleted: [],
    failed: [],
    pending: [],
    warnings: [],
  };
}

// CloudWatch drops EMF whose timestamp is over 14 days old, and Powertools warns about it: keep
// the fixture's run a minute in the past of the real clock.
const FINISHED_MS = Date.now() - 60_000;
const STARTED_MS = FINISHED_MS - 12_500;

function report(registries: RegistryReport[], dryRun = false): Report {
  return {
    version: 1,
    dryRun,
    startedAt: new Date(STARTED_MS).toISOString(),
    finishedAt: new Date(FINISHED_MS).toISOString(),
    complete: true,
    registries,
    totals: {
      repositories: 0,
      imagesBefore: 0,
      kept: 0,
      deleted: 0,
      failed: 0,
      pending: 0,
      bytesBefore: 0,
      bytesReclaimed: 0,
      apiCalls: 0,
    },
  };
}

beforeEach(() => {
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  stdout.mockRestore();
});

describe('AWS metrics (EMF through Powertools)', () => {
  it('emits per-repository image and byte figures with registry and repository dimensions', () => {
    const run = report([
      {
        name: 'prod',
        provider: 'ecr',
        apiCalls: 31,
        repositories: [
          repository('app/web', { before: 40, kept: 4, deleted: 35, failed: 1, bytesBefore: 9_000, reclaimed: 7_000 }),
        ],
      },
    ]);

    publishAwsMetrics(metricPoints(run, 'schedule'));

    const [perRepository] = emfLines();
    const directive = perRepository!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('regprune');
    expect(directive.Dimensions).toEqual([['registry', 'repository']]);
    expect(directive.Metrics.map((m) => `${m.Name}:${m.Unit}`)).toEqual([
      'ImagesBefore:Count',
      'ImagesKept:Count',
      'ImagesDeleted:Count',
      'ImagesFailed:Count',
      'BytesBefore:Bytes',
      'BytesReclaimed:Bytes',
    ]);
    expect(perRepository).toMatchObject({
      registry: 'prod',
      repository: 'app/web',
      ImagesBefore: 40,
      ImagesKept: 4,
      ImagesDeleted: 35,
      ImagesFailed: 1,
      BytesBefore: 9_000,
      BytesReclaimed: 7_000,
      dryRun: 'false',
    });
    expect(perRepository!._aws.Timestamp).toBe(FINISHED_MS);
  });

  it('emits API calls and run duration per registry with the registry dimension only', () => {
    const run = report([
      { name: 'prod', provider: 'ecr', apiCalls: 31, repositories: [repository('a')] },
      { name: 'staging', provider: 'ecr', apiCalls: 7, repositories: [] },
    ]);

    publishAwsMetrics(metricPoints(run, 'schedule'));

    const perRun = emfLines().filter((blob) => 'ApiCalls' in blob);
    expect(perRun.map((blob) => [blob.registry, blob.ApiCalls, blob.DurationMs])).toEqual([
      ['prod', 31, 12_500],
      ['staging', 7, 12_500],
    ]);
    expect(perRun.every((blob) => blob.repository === undefined && !('service' in blob))).toBe(true);
    expect(perRun[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['registry']]);
  });

  it('flushes one blob per repository so no blob exceeds 100 metrics', () => {
    const repositories = Array.from({ length: 150 }, (_, i) => repository(`team/app-${i}`));
    const run = report([{ name: 'prod', provider: 'ecr', apiCalls: 300, repositories }]);

    publishAwsMetrics(metricPoints(run, 'schedule'));

    const blobs = emfLines();
    expect(blobs).toHaveLength(151);
    expect(Math.max(...blobs.map((blob) => blob._aws.CloudWatchMetrics[0]!.Metrics.length))).toBeLessThanOrEqual(100);
    expect(new Set(blobs.map((blob) => blob.repository)).size).toBe(151); // 150 names + the run blob's undefined
  });

  it('marks the figures of a dry run', () => {
    publishAwsMetrics(
      metricPoints(
        report([{ name: 'prod', provider: 'ecr', apiCalls: 1, repositories: [repository('a')] }], true),
        'schedule',
      ),
    );

    expect(emfLines().every((blob) => blob.dryRun === 'true')).toBe(true);
  });
});
