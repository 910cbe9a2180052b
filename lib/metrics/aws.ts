/**
 * CloudWatch metrics for a run, through Powertools for AWS Lambda Metrics: Embedded Metric Format
 * lines on stdout, which Lambda's log pipeline turns into metrics (no API call, no extra latency).
 *
 * Namespace `regprune`. Per repository (dimensions registry, repository): ImagesBefore,
 * ImagesKept, ImagesDeleted, ImagesFailed, BytesBefore, BytesReclaimed. Per registry and run
 * (dimension registry): ApiCalls, DurationMs. One EMF blob per repository and per registry keeps
 * each far below EMF's 100 metrics and 30 dimensions per blob.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Report } from '../report/types.js';

export const AWS_METRICS_NAMESPACE = 'regprune';

/** A Metrics instance emitting only our dimensions (Powertools adds `service` by default). */
export function createAwsMetrics(): Metrics {
  const metrics = new Metrics({ namespace: AWS_METRICS_NAMESPACE, serviceName: 'regprune' });
  metrics.clearDefaultDimensions();
  return metrics;
}

/**
 * Writes the report's figures as EMF, flushing once per repository and once per registry. In a
 * dry run ImagesDeleted and BytesReclaimed are what would go; the `dryRun` property says which.
 */
export function publishAwsMetrics(report: Report, metrics: Metrics = createAwsMetrics()): void {
  const timestamp = new Date(report.finishedAt);
  const durationMs = Math.max(0, timestamp.getTime() - new Date(report.startedAt).getTime());
  const dryRun = String(report.dryRun);
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      metrics.setTimestamp(timestamp);
      metrics.addDimensions({ registry: registry.name, repository: repository.name });
      metrics.addMetadata('dryRun', dryRun);
      metrics.addMetric('ImagesBefore', MetricUnit.Count, repository.images.before);
      metrics.addMetric('ImagesKept', MetricUnit.Count, repository.images.kept);
      metrics.addMetric('ImagesDeleted', MetricUnit.Count, repository.images.deleted);
      metrics.addMetric('ImagesFailed', MetricUnit.Count, repository.images.failed);
      metrics.addMetric('BytesBefore', MetricUnit.Bytes, repository.bytes.before);
      metrics.addMetric('BytesReclaimed', MetricUnit.Bytes, repository.bytes.reclaimed);
      metrics.publishStoredMetrics();
    }
    metrics.setTimestamp(timestamp);
    metrics.addDimensions({ registry: registry.name });
    metrics.addMetadata('dryRun', dryRun);
    metrics.addMetric('ApiCalls', MetricUnit.Count, registry.apiCalls);
    metrics.addMetric('DurationMs', MetricUnit.Milliseconds, durationMs);
    metrics.publishStoredMetrics();
  }
}
