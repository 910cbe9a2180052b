/**
 * The SDK classes the Azure Monitor sink uses, loaded together by one dynamic import. Re-exported
 * from an ES module on purpose: in the esbuild package, a dynamic import of a CommonJS package
 * (`@opentelemetry/sdk-metrics`, `@opentelemetry/resources`) yields only `default`, while these
 * static re-exports keep their names.
 */
export { AzureMonitorMetricExporter } from '@azure/monitor-opentelemetry-exporter';
export { resourceFromAttributes } from '@opentelemetry/resources';
export { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
