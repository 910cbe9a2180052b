/**
 * Azure Monitor metrics: what a run records on the OpenTelemetry meter, read back from an in-memory
 * exporter, and what the production sink sends on the wire to a local Application Insights endpoint.
 */
import { Agent } from 'node:https';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordAzureMetrics } from '../../lib/metrics/azure.js';
import {
  type AzureMonitorSink,
  azureMonitorSink,
  createAzureMonitorSink,
  managedIdentityClientId,
} from '../../lib/metrics/azure-monitor.js';
import { metricPoints, runLogRecord } from '../../lib/metrics/points.js';
import type { RepositoryReport, Report } from '../../lib/report/types.js';
import { FakeBreeze } from '../support/fake-breeze.js';

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

const IKEY = '00000000-0000-4000-8000-00000000c0de';

/** A TokenCredential that hands out a fixed token and remembers the scopes it was asked for. */
function fakeCredential(token = 'fake-entra-token'): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: async (scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> => {
      scopes.push(...[scope].flat());
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

describe('Azure Monitor sink on the wire (a local Application Insights ingestion endpoint)', () => {
  let breeze: FakeBreeze;
  let agent: Agent;
  const sinks: AzureMonitorSink[] = [];

  beforeAll(async () => {
    // Statsbeat (the exporter's own telemetry) would go to Microsoft's endpoints: only loopback here.
    vi.stubEnv('APPLICATION_INSIGHTS_NO_STATSBEAT', 'true');
    breeze = await FakeBreeze.start();
    agent = new Agent({ ca: breeze.ca });
  });

  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((sink) => sink.shutdown()));
    breeze.requests.length = 0;
    breeze.status = 200;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    agent?.destroy();
    await breeze?.close();
  });

  async function sink(credential: TokenCredential, serviceName = 'regprune-test'): Promise<AzureMonitorSink> {
    const created = await createAzureMonitorSink({
      connectionString: `InstrumentationKey=${IKEY};IngestionEndpoint=${breeze.endpoint}`,
      credential,
      serviceName,
      agent,
    });
    sinks.push(created);
    return created;
  }

  it('sends every metric of the run to POST /v2.1/track with its value, count and dimensions', async () => {
    const metrics = await sink(fakeCredential());

    recordAzureMetrics(metricPoints(REPORT, 'schedule'), metrics.meter);
    await metrics.flush();

    const items = breeze.tracked;
    expect(items).toHaveLength(2 * 6 + 2);
    expect(items.every((item) => item.name === 'Microsoft.ApplicationInsights.Metric')).toBe(true);
    expect(items.every((item) => item.iKey === IKEY && item.data.baseType === 'MetricData')).toBe(true);
    const sent = items.flatMap((item) =>
      (item.data.baseData.metrics ?? []).map((metric) => ({ ...metric, dimensions: item.data.baseData.properties })),
    );
    const web = sent.filter((metric) => metric.dimensions?.repository === 'app/web');
    expect(Object.fromEntries(web.map((metric) => [metric.name, metric.value]))).toEqual({
      ImagesBefore: 12,
      ImagesKept: 4,
      ImagesDeleted: 7,
      ImagesFailed: 1,
      BytesBefore: 9000,
      BytesReclaimed: 5000,
    });
    expect(web.every((metric) => metric.count === 1 && metric.dimensions?.registry === 'prod')).toBe(true);
    expect(sent.filter((metric) => metric.name === 'ApiCalls' || metric.name === 'DurationMs')).toEqual([
      expect.objectContaining({ name: 'ApiCalls', value: 42, count: 1, dimensions: { registry: 'prod' } }),
      expect.objectContaining({ name: 'DurationMs', value: 4250, count: 1, dimensions: { registry: 'prod' } }),
    ]);
  });

  it('signs in with Microsoft Entra ID: a bearer token for Azure Monitor on every request', async () => {
    const credential = fakeCredential('token-from-the-managed-identity');
    const metrics = await sink(credential);

    recordAzureMetrics(metricPoints(REPORT, 'http'), metrics.meter);
    await metrics.flush();

    expect(breeze.requests.length).toBeGreaterThan(0);
    expect(breeze.requests.map((request) => request.authorization)).toEqual(
      breeze.requests.map(() => 'Bearer token-from-the-managed-identity'),
    );
    expect(new Set(credential.scopes)).toEqual(new Set(['https://monitor.azure.com/.default']));
  });

  it('names the function app as the cloud role of its metrics', async () => {
    const metrics = await sink(fakeCredential(), 'regprune-prod-func');

    recordAzureMetrics(metricPoints(REPORT, 'schedule'), metrics.meter);
    await metrics.flush();

    expect(new Set(breeze.tracked.map((item) => item.tags?.['ai.cloud.role']))).toEqual(
      new Set(['regprune-prod-func']),
    );
  });

  it('fails the flush with the role to grant when ingestion refuses the identity (403)', async () => {
    breeze.status = 403;
    const metrics = await sink(fakeCredential());

    recordAzureMetrics(metricPoints(REPORT, 'schedule'), metrics.meter);
    const flushing = metrics.flush();

    await expect(flushing).rejects.toThrow(/HTTP 403.*Monitoring Metrics Publisher/s);
  });

  it('fails the flush, naming the cause, when no token can be had', async () => {
    const metrics = await sink({
      getToken: async () => {
        throw new Error('ManagedIdentityCredential: no managed identity endpoint');
      },
    });

    recordAzureMetrics(metricPoints(REPORT, 'schedule'), metrics.meter);
    const flushing = metrics.flush();

    await expect(flushing).rejects.toThrow(/did not get the run's metrics.*no managed identity endpoint/s);
    expect(breeze.requests).toEqual([]);
  });

  it('refuses a connection string without an instrumentation key, saying where to find the right one', async () => {
    const creating = createAzureMonitorSink({
      connectionString: `IngestionEndpoint=${breeze.endpoint}`,
      credential: fakeCredential(),
      serviceName: 'regprune',
    });

    await expect(creating).rejects.toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING.*Overview page/s);
  });
});

describe('Azure Monitor sink settings', () => {
  it('sends no metrics when APPLICATIONINSIGHTS_CONNECTION_STRING is not set', () => {
    const sink = azureMonitorSink({ APPLICATIONINSIGHTS_CONNECTION_STRING: ' ' });

    expect(sink).toBeNull();
  });

  it.each([
    ['Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555', '11111111-2222-3333-4444-555555555555'],
    ['clientid=abc ; Authorization=AAD', 'abc'],
    ['Authorization=AAD', undefined],
    [undefined, undefined],
  ])('signs in as the user-assigned identity APPLICATIONINSIGHTS_AUTHENTICATION_STRING=%s names', (value, clientId) => {
    const env = value === undefined ? {} : { APPLICATIONINSIGHTS_AUTHENTICATION_STRING: value };

    expect(managedIdentityClientId(env)).toBe(clientId);
  });
});
