/**
 * The production meter: the Azure Monitor OpenTelemetry distro, set up once per process when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set. Loaded on demand: the distro is large and a run
 * needs it only after its work is done.
 */
import type { Meter } from '@opentelemetry/api';
import { AZURE_METER_NAME } from './azure.js';

export interface MetricSink {
  readonly meter: Meter;
  /** Exports what was recorded now, not at the next 60 s interval (the host may freeze after the invocation). */
  flush(): Promise<void>;
}

let sink: Promise<MetricSink> | null = null;

/** The process's Azure Monitor metric sink, or `null` when no connection string is configured. */
export function azureMonitorSink(env: NodeJS.ProcessEnv = process.env): Promise<MetricSink> | null {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return null;
  sink ??= (async () => {
    const [{ useAzureMonitor }, { metrics }] = await Promise.all([
      import('@azure/monitor-opentelemetry'),
      import('@opentelemetry/api'),
    ]);
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString },
      // Only our metrics: the Functions host already reports requests, traces and dependencies.
      instrumentationOptions: {
        http: { enabled: false },
        azureSdk: { enabled: false },
        mongoDb: { enabled: false },
        mySql: { enabled: false },
        postgreSql: { enabled: false },
        redis: { enabled: false },
        redis4: { enabled: false },
      },
      enableLiveMetrics: false,
    });
    const provider = metrics.getMeterProvider() as ReturnType<typeof metrics.getMeterProvider> & {
      forceFlush?: () => Promise<void>;
    };
    return {
      meter: provider.getMeter(AZURE_METER_NAME),
      flush: async () => {
        await provider.forceFlush?.();
      },
    };
  })();
  return sink;
}
