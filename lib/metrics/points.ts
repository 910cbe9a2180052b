/**
 * The figures a run publishes, once, for every metric backend: CloudWatch EMF (`aws.ts`) and Azure
 * Monitor (`azure.ts`) write the same points under the same names and dimensions.
 *
 * Per repository (dimensions registry, repository): ImagesBefore, ImagesKept, ImagesDeleted,
 * ImagesFailed, BytesBefore, BytesReclaimed. Per registry and run (dimension registry): ApiCalls,
 * DurationMs. In a dry run ImagesDeleted and BytesReclaimed are what would go; `dryRun` says which.
 */
import type { Report } from '../report/types.js';

/** What started a run: the CLI, a schedule (Azure timer, EventBridge) or an HTTP request. */
export type RunTrigger = 'cli' | 'schedule' | 'http';

type RepositoryMetricName =
  | 'ImagesBefore'
  | 'ImagesKept'
  | 'ImagesDeleted'
  | 'ImagesFailed'
  | 'BytesBefore'
  | 'BytesReclaimed';
type RegistryMetricName = 'ApiCalls' | 'DurationMs';

/** UCUM units, as OpenTelemetry writes them; the EMF writer maps them to CloudWatch's. */
export type MetricUnitName = '{image}' | '{call}' | 'By' | 'ms';

interface PointCommon {
  readonly value: number;
  readonly unit: MetricUnitName;
  /** When the run finished: the points describe its end state. */
  readonly timestamp: Date;
  /** Said of every point but not a dimension (it would split every metric in two). */
  readonly properties: { readonly dryRun: boolean; readonly trigger: RunTrigger };
}

/** One value to record, with its dimensions. */
export type MetricPoint =
  | (PointCommon & {
      readonly name: RepositoryMetricName;
      readonly dimensions: { readonly registry: string; readonly repository: string };
    })
  | (PointCommon & { readonly name: RegistryMetricName; readonly dimensions: { readonly registry: string } });

/** The run's wall time in ms, from the report's own timestamps. */
export function runDurationMs(report: Report): number {
  return Math.max(0, Date.parse(report.finishedAt) - Date.parse(report.startedAt));
}

/** Every metric value of a report, in report order: each repository's six, then its registry's two. */
export function metricPoints(report: Report, trigger: RunTrigger): MetricPoint[] {
  const common = { timestamp: new Date(report.finishedAt), properties: { dryRun: report.dryRun, trigger } };
  const points: MetricPoint[] = [];
  const durationMs = runDurationMs(report);
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      const dimensions = { registry: registry.name, repository: repository.name };
      const values: [RepositoryMetricName, number, MetricUnitName][] = [
        ['ImagesBefore', repository.images.before, '{image}'],
        ['ImagesKept', repository.images.kept, '{image}'],
        ['ImagesDeleted', repository.images.deleted, '{image}'],
        ['ImagesFailed', repository.images.failed, '{image}'],
        ['BytesBefore', repository.bytes.before, 'By'],
        ['BytesReclaimed', repository.bytes.reclaimed, 'By'],
      ];
      for (const [name, value, unit] of values) points.push({ ...common, name, value, unit, dimensions });
    }
    const dimensions = { registry: registry.name };
    points.push({ ...common, name: 'ApiCalls', value: registry.apiCalls, unit: '{call}', dimensions });
    points.push({ ...common, name: 'DurationMs', value: durationMs, unit: 'ms', dimensions });
  }
  return points;
}

/** The one structured log line of a run: totals and outcome, no digests, no secrets. */
export function runLogRecord(report: Report, trigger: RunTrigger): Record<string, string | number | boolean> {
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
