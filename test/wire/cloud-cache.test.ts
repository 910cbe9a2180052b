/**
 * ACR and ECR storage accounting reuse the inventory cache: a manifest a listing read once (an ACR
 * untagged root, an ECR index) is not read again while it exists, and the listing is the same.
 * docs/design.md, "Inventory cache".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryCache } from '../../lib/cache/inventory-cache.js';
import type { AcrRegistryConfig, EcrRegistryConfig } from '../../lib/config/schema.js';
import { createAcrProvider } from '../../lib/providers/acr/index.js';
import { createEcrProvider } from '../../lib/providers/ecr/index.js';
import { FakeAcr, fakeAadCredential } from '../support/fake-acr.js';
import { digestOf, fakeEcrClientHooks, indexManifest, MEDIA, startFakeEcr } from '../support/fake-ecr.js';
import { MemoryStateStore } from '../support/memory-store.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

describe('ACR listing with the inventory cache', () => {
  let fake: FakeAcr;
  beforeAll(async () => {
    fake = await FakeAcr.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('reads an untagged root manifest once across runs and lists the same images', async () => {
    const image = fake.push('app/signed', { tags: ['v1'], updatedAt: daysAgo(3) });
    fake.push('app/signed', { kind: 'signature', subject: image, updatedAt: daysAgo(3) });
    const store = new MemoryStateStore();
    const config: AcrRegistryConfig = { name: 'prod', provider: 'acr', endpoint: fake.endpoint, repositories: [] };
    const run = async () => {
      const provider = await createAcrProvider(config, {
        credential: fakeAadCredential,
        ca: fake.ca,
        cache: new InventoryCache({ store, registryKey: 'acr.example' }),
      });
      const inventory = await provider.listInventory('app/signed');
      await provider.close?.();
      return inventory;
    };
    const uncached = await (
      await createAcrProvider(config, { credential: fakeAadCredential, ca: fake.ca })
    ).listInventory('app/signed');
    const first = await run();
    fake.resetLog();

    const second = await run();

    expect(second.images).toEqual(uncached.images);
    expect(first.images).toEqual(uncached.images);
    expect(fake.count('GET', /^\/v2\/app\/signed\/manifests\//)).toBe(0);
  });
});

describe('ECR listing with the inventory cache', () => {
  it('sends no BatchGetImage for an index an earlier run read, and lists the same children', async () => {
    const fake = await startFakeEcr();
    try {
      const children = [digestOf('amd64'), digestOf('arm64')];
      for (const child of children) fake.addImage('multi', { digest: child });
      fake.addImage('multi', {
        digest: digestOf('index'),
        tags: ['v1'],
        manifestMediaType: MEDIA.ociIndex,
        manifest: indexManifest(children),
      });
      const store = new MemoryStateStore();
      const config: EcrRegistryConfig = {
        name: 'aws',
        provider: 'ecr',
        endpoint: fake.registryHost,
        repositories: [],
      };
      const run = async (cached: boolean) => {
        const provider = createEcrProvider(config, {
          client: fakeEcrClientHooks(fake),
          ...(cached ? { cache: new InventoryCache({ store, registryKey: fake.registryHost }) } : {}),
        });
        return provider.listInventory('multi');
      };
      const uncached = await run(false);
      await run(true);
      fake.resetRequests();

      const second = await run(true);

      expect(second.images).toEqual(uncached.images);
      expect(fake.count('BatchGetImage')).toBe(0);
      expect(second.images.find((image) => image.digest === digestOf('index'))?.children).toEqual(children);
    } finally {
      await fake.close();
    }
  });
});
