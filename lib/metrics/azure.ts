/**
 * Azure Monitor metrics for a run, recorded on an OpenTelemetry meter (the Azure Monitor distro
 * exports them to Application Insights `customMetrics`; tests read them from an in-memory exporter).
 *
 * Names and dimensions are shared with the AWS metrics. Per repository (dimensions registry,
 * repository): ImagesBefore, ImagesKept, ImagesDeleted, ImagesFailed, BytesBefore, BytesReclaimed.
 * Per registry and run (dimension registry): ApiCalls, DurationMs. Each is a histogram recorded once
 * per run: in `customMetrics`, `value` is the sum over the export interval and `valueCount` the
 * number of runs in it. In a dry run ImagesDeleted and BytesReclaimed are what would go; the run's
 * log line says which kind of run it was.
 */
import type { Meter } from '@opentelemetry/api';
import type { Report } from '../report/types.js';

export const AZURE_METER_NAME = 'regprune';

export type RepositoryMetricName =
  | 'ImagesBefore'
  | 'ImagesKept'
  | 'ImagesDeleted'
  | 'ImagesFailed'
  | 'BytesBefore'
  | 'BytesReclaimed';
export type RunMetricName = 'ApiCalls' | 'DurationMs';

/** One value to record, with its dimensions. */
export type MetricPoint =
  | {
      readonly name: RepositoryMetricName;
      readonly value: number;
      readonly unit: string;
      readonly dimensions: { registry: string; repository: string };
    }
  | {
      readonly name: RunMetricName;
      readonly value: number;
      readonly unit: string;
      readonly dimensions: { registry: string };
    };

const UNITS: Record<RepositoryMetricName | RunMetricName, string> = {
  ImagesBefore: '{image}',
  ImagesKept: '{image}',
  ImagesDeleted: '{image}',
  ImagesFailed: '{image}',
  BytesBefore: 'By',
  BytesReclaimed: 'By',
  ApiCalls: '{call}',
  DurationMs: 'ms',
};

/** The run's wall time in ms, from the report's own timestamps. */
export function runDurationMs(report: Report): number {
  return Math.max(0, Date.parse(report.finishedAt) - Date.parse(report.startedAt));
}

/** Every metric value of a report, in report order. */
export function metricPoints(report: Report): MetricPoint[] {
  const points: MetricPoint[] = [];
  const durationMs = runDurationMs(report);
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      const dimensions = { registry: registry.name, repository: repository.name };
      const values: [RepositoryMetricName, number][] = [
        ['ImagesBefore', repository.images.before],
        ['ImagesKept', repository.images.kept],
        ['ImagesDeleted', repository.images.deleted],
        ['ImagesFailed', repository.images.failed],
        ['BytesBefore', repository.bytes.before],
        ['BytesReclaimed', repository.bytes.reclaimed],
      ];
      for (const [name, value] of values) points.push({ name, value, unit: UNITS[name], dimensions });
    }
    points.push({
      name: 'ApiCalls',
      value: registry.apiCalls,
      unit: UNITS.ApiCalls,
      dimensions: { registry: registry.name },
    });
    points.push({
      name: 'DurationMs',
      value: durationMs,
      unit: UNITS.DurationMs,
      dimensions: { registry: registry.name },
    });
  }
  return points;
}

/** Records a report's metrics on `meter` (one histogram per metric name). */
export function recordAzureMetrics(report: Report, meter: Meter): void {
  const histograms = new Map<string, ReturnType<Meter['createHistogram']>>();
  for (const point of metricPoints(report)) {
    let histogram = histograms.get(point.name);
    if (!histogram) {
      histogram = meter.createHistogram(point.name, { unit: point.unit, description: `regprune ${point.name}` });
      histograms.set(point.name, histogram);
    }
    histogram.record(point.value, point.dimensions);
  }
}

/** The one structured log line of a run: totals and outcome, no digests, no secrets. */
export function runLogRecord(report: Report, trigger: 'timer' | 'http'): Record<string, string | number | boolean> {
  return {
    event: 'regprune.run',
    trigger,
    dryRun: report.dryRun,
    complete: report.complete,
    registries: report.registries.map((r) => r.name).join(','),
    registryErrors: report.registries.filter((r) => r.error !== undefined).length,
    repositories: report.totals.repositories,
    imagesBefore: report.totals.imagesBefore,
    imagesKept: report.totals.kept,
    imagesDeleted: report.totals.deleted,
    imagesFailed: report.totals.failed,
    imagesPending: report.totals.pending,
    bytesBefore: report.totals.bytesBefore,
    bytesReclaimed: report.totals.bytesReclaimed,
    apiCalls: report.totals.apiCalls,
    durationMs: runDurationMs(report),
  };
}
