/**
 * The esbuild package itself, not the sources: the bundled HTTP handler, with the bundled Azure
 * SDKs (container-registry, storage-blob for the lock), prunes the fake ACR; and the package holds
 * no AWS code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAzure } from '../../scripts/bundle-azure.js';
import type { Report } from '../../lib/report/types.js';
import { FakeAcr, fakeAadCredential } from '../support/fake-acr.js';
import { startAzurite, type Azurite } from '../support/azurite.js';

type BundleExports = typeof import('../support/azure-bundle-entry.js');

let fake: FakeAcr;
let azurite: Azurite;
let outdir: string;
let bundled: BundleExports;
let metafile: Metafile;

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'regprune-azure-bundle-test-'));
  const built = await bundleAzure({
    outdir,
    minify: false,
    extraEntries: { 'test-entry': join(process.cwd(), 'test/support/azure-bundle-entry.ts') },
  });
  metafile = built.metafile;
  [fake, azurite, bundled] = await Promise.all([
    FakeAcr.start(),
    startAzurite(),
    import(pathToFileURL(join(outdir, 'test-entry.mjs')).href) as Promise<BundleExports>,
  ]);
});

afterAll(async () => {
  await Promise.all([fake?.close(), azurite?.stop()]);
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
});
