/** Azure Monitor metrics: what a run records on the OpenTelemetry meter, read back from an in-memory exporter. */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { recordAzureMetrics } from '../../lib/metrics/azure.js';
import { metricPoints, runLogRecord } from '../../lib/metrics/points.js';
import type { RepositoryReport, Report } from '../../lib/report/types.js';

function repository(
  name: string,
  images: Partial<RepositoryReport['images']>,
  bytes: Partial<RepositoryReport['bytes']> = {},
): RepositoryReport {
  return {
    name,
    images: { before: 0, kept: 0, deleted: 0, failed: 0, pending: 0, ...images },
    bytes: { before: 0, reclaimed: 0, ...bytes },
    kept: [],
    deleted: [],
    failed: [],
    pending: [],
    warnings: [],
  };
}

const REPORT: Report = {
  version: 1,
  dryRun: false,
  startedAt: '2026-06-01T03:00:00.000Z',
  finishedAt: '2026-06-01T03:00:04.250Z',
  complete: true,
  registries: [
    {
      name: 'prod',
      provider: 'acr',
      apiCalls: 42,
      repositories: [
        repository('app/web', { before: 12, kept: 4, deleted: 7, failed: 1 }, { before: 9000, reclaimed: 5000 }),
        repository('app/api', { before: 3, kept: 3 }, { before: 1200 }),
      ],
    },
  ],
  totals: {
    repositories: 2,
    imagesBefore: 15,
    kept: 7,
    deleted: 7,
    failed: 1,
    pending: 0,
    bytesBefore: 10200,
    bytesReclaimed: 5000,
    apiCalls: 42,
  },
};

async function exported(report: Report) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  recordAzureMetrics(metricPoints(report, 'schedule'), provider.getMeter('regprune'));
  await provider.forceFlush();
  const metrics = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics)) as HistogramMetricData[];
  await provider.shutdown();
  return metrics.flatMap((metric) =>
    metric.dataPoints.map((point) => ({
      name: metric.descriptor.name,
      unit: metric.descriptor.unit,
      attributes: point.attributes,
      sum: point.value.sum,
      count: point.value.count,
    })),
  );
}

describe('Azure Monitor metrics', () => {
  it('records the six per-repository metrics with registry and repository dimensions', async () => {
    const sent = await exported(REPORT);

    const web = sent.filter((m) => m.attributes.repository === 'app/web');
    expect(Object.fromEntries(web.map((m) => [m.name, m.sum]))).toEqual({
      ImagesBefore: 12,
      ImagesKept: 4,
      ImagesDeleted: 7,
      ImagesFailed: 1,
      BytesBefore: 9000,
      BytesReclaimed: 5000,
    });
    expect(web.every((m) => m.count === 1 && m.attributes.registry === 'prod')).toBe(true);
    expect(sent.find((m) => m.name === 'BytesBefore')?.unit).toBe('By');
  });

  it('records ApiCalls and DurationMs per registry with only the registry dimension', async () => {
    const sent = await exported(REPORT);

    const run = sent.filter((m) => m.name === 'ApiCalls' || m.name === 'DurationMs');
    expect(run).toEqual([
      { name: 'ApiCalls', unit: '{call}', attributes: { registry: 'prod' }, sum: 42, count: 1 },
      { name: 'DurationMs', unit: 'ms', attributes: { registry: 'prod' }, sum: 4250, count: 1 },
    ]);
  });

  it('sends nothing but the shared metric names', async () => {
    const sent = await exported(REPORT);

    expect([...new Set(sent.map((m) => m.name))].sort()).toEqual([
      'ApiCalls',
      'BytesBefore',
      'BytesReclaimed',
      'DurationMs',
      'ImagesBefore',
      'ImagesDeleted',
      'ImagesFailed',
      'ImagesKept',
    ]);
    expect(sent).toHaveLength(2 * 6 + 2);
  });

  it('emits one point per repository and run metric, and none for a registry with no repositories', () => {
    const empty: Report = { ...REPORT, registries: [{ name: 'idle', provider: 'acr', apiCalls: 3, repositories: [] }] };

    const points = metricPoints(empty, 'schedule');

    expect(points.map((p) => p.name)).toEqual(['ApiCalls', 'DurationMs']);
  });

  it('writes one structured log record with the run totals and no digests', () => {
    const record = runLogRecord(REPORT, 'schedule');

    expect(record).toEqual({
      event: 'regprune.run',
      trigger: 'schedule',
      dryRun: false,
      complete: true,
      registries: 'prod',
      registryErrors: 0,
      repositories: 2,
      imagesBefore: 15,
      imagesKept: 7,
      imagesDeleted: 7,
      imagesFailed: 1,
      imagesPending: 0,
      bytesBefore: 10200,
      bytesReclaimed: 5000,
      apiCalls: 42,
      durationMs: 4250,
    });
  });
});
