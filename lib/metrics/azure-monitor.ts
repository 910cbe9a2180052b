/**
 * The production meter: an OpenTelemetry MeterProvider whose one reader exports to Application
 * Insights with `@azure/monitor-opentelemetry-exporter`, signed in with Microsoft Entra ID. The
 * Application Insights resource has local authentication off, so the connection string only says
 * where to send (ingestion endpoint, instrumentation key) and the app's managed identity, holding
 * Monitoring Metrics Publisher, says who sends. Loaded on demand, after a run's work is done.
 *
 * Not the Azure Monitor distro (`@azure/monitor-opentelemetry`): it brought OpenTelemetry's whole
 * Node SDK, OTLP, gRPC and protobuf (about 2 MB of the package) to send eight metrics.
 */
import type { Agent } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Meter } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { describeError } from '../errors.js';
import { AZURE_METER_NAME } from './azure.js';

export interface MetricSink {
  readonly meter: Meter;
  /** Exports what was recorded now, not at the next 60 s interval (the host may freeze after the invocation). */
  flush(): Promise<void>;
}

/** A sink that owns its MeterProvider: `shutdown` stops its export timer. */
export interface AzureMonitorSink extends MetricSink {
  shutdown(): Promise<void>;
}

export interface AzureMonitorSinkOptions {
  /** `APPLICATIONINSIGHTS_CONNECTION_STRING`: the ingestion endpoint and instrumentation key. */
  readonly connectionString: string;
  /** Who sends: the function app's managed identity in Azure. */
  readonly credential: TokenCredential;
  /** `service.name`, which Application Insights shows as the cloud role name. */
  readonly serviceName: string;
  /** The HTTPS agent for the ingestion endpoint (tests: one that trusts their local server's certificate). */
  readonly agent?: Agent;
}

/**
 * Ingestion's HTTP statuses that mean "not you": the exporter counts them as retriable and reports
 * the export a success, so without this the run would never learn its metrics were refused.
 */
const REFUSED_STATUSES = new Set([401, 403]);

/** What went wrong in the exports since the last flush began. */
interface ExportTrouble {
  refusedStatus?: number;
  failure?: unknown;
}

/** Notes in `trouble` that the ingestion endpoint refused a request. */
function refusalWatcher(trouble: ExportTrouble): PipelinePolicy {
  return {
    name: 'regpruneIngestionRefusal',
    async sendRequest(request, next) {
      const response = await next(request);
      if (REFUSED_STATUSES.has(response.status)) trouble.refusedStatus = response.status;
      return response;
    },
  };
}

/** `exporter`, noting in `trouble` an export that failed: the reader itself only logs it to OpenTelemetry's diag. */
function watchedExporter(exporter: PushMetricExporter, trouble: ExportTrouble): PushMetricExporter {
  return {
    export: (metrics, done) =>
      exporter.export(metrics, (result: ExportResult) => {
        // 0 is ExportResultCode.SUCCESS (@opentelemetry/core).
        if (result.code !== 0) trouble.failure = result.error ?? new Error('the exporter reported a failure');
        done(result);
      }),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality
      ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) }
      : {}),
  };
}

/** A meter whose `flush` sends what was recorded to Application Insights, signed in with `credential`. */
export async function createAzureMonitorSink(options: AzureMonitorSinkOptions): Promise<AzureMonitorSink> {
  const { AzureMonitorMetricExporter, MeterProvider, PeriodicExportingMetricReader, resourceFromAttributes } =
    await import('./azure-monitor-sdk.js');
  const trouble: ExportTrouble = {};
  let exporter: InstanceType<typeof AzureMonitorMetricExporter>;
  try {
    exporter = new AzureMonitorMetricExporter({
      connectionString: options.connectionString,
      credential: options.credential,
      // One small batch per run on an instance that may be recycled at any time: a batch the
      // pipeline's own retries could not send is reported in the run's log, not parked in the
      // instance's temp dir (the exporter's default) for a later process that may never come.
      disableOfflineStorage: true,
      additionalPolicies: [{ policy: refusalWatcher(trouble), position: 'perRetry' }],
      ...(options.agent ? { agent: options.agent } : {}),
    });
  } catch (error) {
    throw new Error(
      `The Azure Monitor exporter refused APPLICATIONINSIGHTS_CONNECTION_STRING (${describeError(error)}). Set it to ` +
        'the connection string on the Application Insights resource’s Overview page.',
      { cause: error },
    );
  }
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [new PeriodicExportingMetricReader({ exporter: watchedExporter(exporter, trouble) })],
  });
  return {
    meter: provider.getMeter(AZURE_METER_NAME),
    flush: async () => {
      delete trouble.refusedStatus;
      delete trouble.failure;
      await provider.forceFlush();
      if (trouble.refusedStatus !== undefined) {
        throw new Error(
          `Application Insights refused the run's metrics (HTTP ${trouble.refusedStatus}): its local ` +
            'authentication is off, so grant the identity regprune runs as (the function app’s managed identity) ' +
            'the Monitoring Metrics Publisher role on the Application Insights resource.',
        );
      }
      if (trouble.failure !== undefined) {
        throw new Error(`Application Insights did not get the run's metrics: ${describeError(trouble.failure)}`, {
          cause: trouble.failure,
        });
      }
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The managed identity to sign in with: the `ClientId` of APPLICATIONINSIGHTS_AUTHENTICATION_STRING
 * (`Authorization=AAD;ClientId=…`, the setting the Functions host reads for its own telemetry) for
 * a user-assigned identity; none for the system-assigned one.
 */
export function managedIdentityClientId(env: NodeJS.ProcessEnv): string | undefined {
  for (const part of (env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '').split(';')) {
    const [key, ...value] = part.split('=');
    if (key?.trim().toLowerCase() === 'clientid' && value.join('=').trim()) return value.join('=').trim();
  }
  return undefined;
}

let sink: Promise<MetricSink> | null = null;

/**
 * The process's Azure Monitor metric sink, or `null` when no connection string is configured. It
 * signs in with `DefaultAzureCredential` (the managed identity in Azure, `az login` on a laptop).
 */
export function azureMonitorSink(env: NodeJS.ProcessEnv = process.env): Promise<MetricSink> | null {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return null;
  sink ??= (async () => {
    const { DefaultAzureCredential } = await import('@azure/identity');
    const clientId = managedIdentityClientId(env);
    return createAzureMonitorSink({
      connectionString,
      credential: new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
      serviceName: env.WEBSITE_SITE_NAME?.trim() || 'regprune',
    });
  })().catch((error: unknown) => {
    // Try again on the next run rather than keeping a broken sink for the life of the process.
    sink = null;
    throw error;
  });
  return sink;
}
