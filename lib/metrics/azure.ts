/**
 * Azure Monitor metrics for a run, recorded on an OpenTelemetry meter (the Azure Monitor distro
 * exports them to Application Insights `customMetrics`; tests read them from an in-memory exporter).
 * The points come from `metricPoints()` (points.ts), shared with the AWS metrics. Each is a
 * histogram recorded once per run: in `customMetrics`, `value` is the sum over the export interval
 * and `valueCount` the number of runs in it. The run's log line says which kind of run it was.
 */
import type { Meter } from '@opentelemetry/api';
import type { MetricPoint } from './points.js';

export const AZURE_METER_NAME = 'regprune';

/** Records the points on `meter` (one histogram per metric name, the dimensions as attributes). */
export function recordAzureMetrics(points: readonly MetricPoint[], meter: Meter): void {
  const histograms = new Map<string, ReturnType<Meter['createHistogram']>>();
  for (const point of points) {
    let histogram = histograms.get(point.name);
    if (!histogram) {
      histogram = meter.createHistogram(point.name, { unit: point.unit, description: `regprune ${point.name}` });
      histograms.set(point.name, histogram);
    }
    histogram.record(point.value, point.dimensions);
  }
}
