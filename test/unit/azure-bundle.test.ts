/**
 * The esbuild package itself, not the sources: the bundled HTTP handler, with the bundled Azure
 * SDKs (container-registry, storage-blob for the lock), prunes the fake ACR; the bundled metrics
 * sink reaches a local Application Insights endpoint; and the package holds no AWS code and no
 * OpenTelemetry Node SDK, OTLP, gRPC or protobuf.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordAzureMetrics } from '../../lib/metrics/azure.js';
import { metricPoints } from '../../lib/metrics/points.js';
import { bundleAzure } from '../../scripts/bundle-azure.js';
import type { Report } from '../../lib/report/types.js';
import { FAKE_AAD_TOKEN, FakeAcr, fakeAadCredential } from '../support/fake-acr.js';
import { startAzurite, type Azurite } from '../support/azurite.js';
import { FakeBreeze } from '../support/fake-breeze.js';

type BundleExports = typeof import('../support/azure-bundle-entry.js');
type BundledMetrics = typeof import('../../lib/metrics/azure-monitor.js');

let fake: FakeAcr;
let azurite: Azurite;
let outdir: string;
let bundled: BundleExports;
let bundledMetrics: BundledMetrics;
let breeze: FakeBreeze;
let metafile: Metafile;

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'regprune-azure-bundle-test-'));
  const built = await bundleAzure({
    outdir,
    minify: false,
    extraEntries: {
      'test-entry': join(process.cwd(), 'test/support/azure-bundle-entry.ts'),
      'metrics-entry': join(process.cwd(), 'lib/metrics/azure-monitor.ts'),
    },
  });
  metafile = built.metafile;
  [fake, azurite, breeze, bundled, bundledMetrics] = await Promise.all([
    FakeAcr.start(),
    startAzurite(),
    FakeBreeze.start(),
    import(pathToFileURL(join(outdir, 'test-entry.mjs')).href) as Promise<BundleExports>,
    import(pathToFileURL(join(outdir, 'metrics-entry.mjs')).href) as Promise<BundledMetrics>,
  ]);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([fake?.close(), azurite?.stop(), breeze?.close()]);
  await rm(outdir, { recursive: true, force: true });
});

describe('Azure package (esbuild bundle)', () => {
  it('prunes the fake ACR through the bundled HTTP handler, SDK and the run lock on the state store', async () => {
    for (let i = 0; i < 4; i++)
      fake.push('svc/api', { tags: [`v${i}`], updatedAt: new Date(Date.UTC(2026, 0, 1 + i)) });
    const config = JSON.stringify({
      version: 1,
      dryRun: false,
      defaults: { keep: 1, pinned: [], minAge: '0m' },
      registries: [{ name: 'prod', provider: 'acr', endpoint: fake.endpoint, repositories: [{ match: 'svc/**' }] }],
    });
    const handler = bundled.httpHandler({
      env: { REGPRUNE_CONFIG: config, AzureWebJobsStorage: azurite.connectionString },
      now: () => new Date('2026-06-01T00:00:00Z'),
      providerFor: (registry) =>
        bundled.createAcrProvider(registry as Parameters<BundleExports['createAcrProvider']>[0], {
          credential: fakeAadCredential,
          ca: fake.ca,
        }),
      metrics: () => null,
    });

    const response = await handler(
      new bundled.HttpRequest({ method: 'POST', url: 'http://localhost/api/prune', body: { string: '{}' } }),
      new bundled.InvocationContext({ invocationId: 'bundle', functionName: 'prune', logHandler: () => {} }),
    );

    expect(response.status).toBe(200);
    expect((response.jsonBody as Report).totals.deleted).toBe(3);
    expect(fake.tags('svc/api')).toEqual(['v3']);
  });

  it('builds DefaultAzureCredential from the bundled @azure/identity when no credential is given', async () => {
    const provider = bundled.createAcrProvider({
      name: 'prod',
      provider: 'acr',
      endpoint: 'https://example.azurecr.io',
      repositories: [],
    });

    await expect(provider).resolves.toMatchObject({ kind: 'acr', name: 'prod' });
  });

  it('refuses an ECR registry with a clear message: the AWS SDK is not in the package', async () => {
    const creating = bundled.createProvider({
      name: 'aws',
      provider: 'ecr',
      endpoint: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      repositories: [],
    });

    await expect(creating).rejects.toThrow(/no ECR provider/);
    expect(
      Object.keys(metafile.inputs).filter((input) => input.includes('@aws-sdk/') || input.includes('providers/ecr/')),
    ).toEqual([]);
  });

  it('sends the run metrics from the bundled sink to Application Insights, signed in with Entra ID', async () => {
    // Statsbeat (the exporter's own telemetry) would go to Microsoft's endpoints: only loopback here.
    vi.stubEnv('APPLICATION_INSIGHTS_NO_STATSBEAT', 'true');
    const agent = new Agent({ ca: breeze.ca });
    const sink = await bundledMetrics.createAzureMonitorSink({
      connectionString: `InstrumentationKey=00000000-0000-4000-8000-00000000c0de;IngestionEndpoint=${breeze.endpoint}`,
      credential: fakeAadCredential,
      serviceName: 'regprune',
      agent,
    });
    const report = {
      version: 1,
      dryRun: true,
      startedAt: '2026-06-01T03:00:00.000Z',
      finishedAt: '2026-06-01T03:00:01.000Z',
      complete: true,
      registries: [{ name: 'prod', provider: 'acr', apiCalls: 5, repositories: [] }],
      totals: {
        repositories: 0,
        imagesBefore: 0,
        kept: 0,
        deleted: 0,
        failed: 0,
        pending: 0,
        bytesBefore: 0,
        bytesReclaimed: 0,
        apiCalls: 5,
      },
    } satisfies Report;

    recordAzureMetrics(metricPoints(report, 'schedule'), sink.meter);
    await sink.flush();
    await sink.shutdown();
    agent.destroy();

    expect(breeze.tracked.flatMap((item) => item.data.baseData.metrics?.map((m) => [m.name, m.value]))).toEqual([
      ['ApiCalls', 5],
      ['DurationMs', 1000],
    ]);
    expect(breeze.requests.every((request) => request.authorization === `Bearer ${FAKE_AAD_TOKEN}`)).toBe(true);
  });

  /** The distro's load: OpenTelemetry's Node SDK, its OTLP exporters, gRPC and protobuf. */
  const HEAVY_PACKAGES =
    /node_modules\/(@grpc\/|protobufjs\/|@opentelemetry\/(sdk-node|otlp-|exporter-)|@azure\/monitor-opentelemetry\/)/;

  it('holds no OpenTelemetry Node SDK, OTLP, gRPC or protobuf: only the metrics SDK and the exporter', () => {
    const inputs = Object.keys(metafile.inputs);

    const heavy = inputs.filter((input) => HEAVY_PACKAGES.test(input));

    expect(heavy).toEqual([]);
    expect(inputs.some((input) => input.includes('node_modules/@azure/monitor-opentelemetry-exporter/'))).toBe(true);
  });
});
