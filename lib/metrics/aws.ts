/**
 * CloudWatch metrics for a run, through Powertools for AWS Lambda Metrics: Embedded Metric Format
 * lines on stdout, which Lambda's log pipeline turns into metrics (no API call, no extra latency).
 * The points come from `metricPoints()` (points.ts), shared with Azure Monitor, in namespace
 * `regprune`. One EMF blob per dimension set (a repository, then its registry) keeps each far below
 * EMF's 100 metrics and 30 dimensions per blob.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricPoint, MetricUnitName } from './points.js';

const AWS_METRICS_NAMESPACE = 'regprune';

const CLOUDWATCH_UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  '{image}': MetricUnit.Count,
  '{call}': MetricUnit.Count,
  By: MetricUnit.Bytes,
  ms: MetricUnit.Milliseconds,
};

/** A Metrics instance emitting only our dimensions (Powertools adds `service` by default). */
export function createAwsMetrics(): Metrics {
  const metrics = new Metrics({ namespace: AWS_METRICS_NAMESPACE, serviceName: 'regprune' });
  metrics.clearDefaultDimensions();
  return metrics;
}

/** Writes the points as EMF, one blob per run of consecutive points with the same dimensions. */
export function publishAwsMetrics(points: readonly MetricPoint[], metrics: Metrics = createAwsMetrics()): void {
  let open: string | null = null;
  for (const point of points) {
    const key = JSON.stringify(point.dimensions);
    if (open !== key) {
      if (open !== null) metrics.publishStoredMetrics();
      open = key;
      metrics.setTimestamp(point.timestamp);
      metrics.addDimensions({ ...point.dimensions });
      metrics.addMetadata('dryRun', String(point.properties.dryRun));
      metrics.addMetadata('trigger', point.properties.trigger);
    }
    metrics.addMetric(point.name, CLOUDWATCH_UNITS[point.unit], point.value);
  }
  if (open !== null) metrics.publishStoredMetrics();
}
