/**
 * The OCI provider against the real registry 2.8 (Debian's docker-registry): what the fake models
 * is what the real one does. Skips where the binary is missing, except under CI where it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import type { Provider } from '../../lib/providers/provider.js';
import { e2eSkipReason } from '../e2e/harness.js';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { makeLayer, RegistryPusher, type PushedImage } from '../support/seed.js';

const skipReason = e2eSkipReason();

describe.skipIf(skipReason !== null)('the OCI provider on a real registry 2.8', () => {
  let registry: RunningRegistry;
  let provider: Provider;
  let index: PushedImage;
  let single: PushedImage;
  let signature: PushedImage;

  beforeAll(async () => {
    registry = await startRegistry();
    const pusher = new RegistryPusher(registry.url);
    const base = makeLayer('base', 2048);
    index = await pusher.pushIndex('team/app', {
      tags: ['v2', 'latest'],
      created: '2025-03-02T00:00:00Z',
      platforms: [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
      ],
      platformLayers: (platform) => [base, makeLayer(`app ${platform}`, 512)],
    });
    single = await pusher.pushImage('team/app', {
      tags: ['v1'],
      created: '2025-03-01T00:00:00Z',
      layers: [base, makeLayer('v1', 512)],
      format: 'docker',
    });
    signature = await pusher.pushCosignSignature('team/app', index.manifest);
    provider = createOciProvider(
      { name: 'real', provider: 'oci', endpoint: registry.url, repositories: [] },
      { env: {} },
    );
  });

  afterAll(async () => {
    await registry?.dispose();
  });

  it(
    'lists the index with its children, the docker image and the signature, each read once, with one probe of the ' +
      'referrers API',
    async () => {
      const callsBefore = registry.requestCount();

      const inventory = await provider.listInventory('team/app');

      const byDigest = new Map(inventory.images.map((image) => [image.digest, image]));
      expect(byDigest.get(index.digest)).toMatchObject({
        kind: 'index',
        tags: ['latest', 'v2'],
        children: index.children.map((child) => child.digest),
        pushedAtMs: Date.parse('2025-03-02T00:00:00Z'),
      });
      expect(byDigest.get(single.digest)).toMatchObject({
        kind: 'image',
        tags: ['v1'],
        pushedAtMs: Date.parse('2025-03-01T00:00:00Z'),
        timeSource: 'config',
      });
      expect(byDigest.get(signature.digest)).toMatchObject({ kind: 'artifact', subject: index.digest });
      for (const child of index.children) expect(byDigest.get(child.digest)).toMatchObject({ kind: 'image', tags: [] });
      expect(inventory.images).toHaveLength(5);
      expect(inventory.warnings).toEqual([]);
      // tags/list (one page) + 4 tags (v2 and latest both read) + 2 children + 1 config (v1) + 1 referrers probe
      expect(provider.stats.apiCalls).toBe(9);
      expect(registry.requestCount() - callsBefore).toBe(9);
    },
  );

  it('deletes by digest (202), then reports the same delete as already gone (404)', async () => {
    const request = { digest: single.digest, tags: ['v1'], action: 'delete-manifest' as const };

    const [first] = await provider.delete('team/app', [request]);
    const [again] = await provider.delete('team/app', [request]);

    expect(first).toMatchObject({ ok: true });
    expect(again).toMatchObject({ ok: true, alreadyGone: true });
    expect(await provider.resolveTags('team/app', ['v1', 'latest'])).toEqual(
      new Map([
        ['v1', null],
        ['latest', index.digest],
      ]),
    );
  });

  it('puts a tag back onto the deleted docker image with the bytes it listed, and it pulls completely', async () => {
    await provider.restoreTag?.('team/app', 'v1', single.digest);

    expect(await provider.resolveTags('team/app', ['v1'])).toEqual(new Map([['v1', single.digest]]));
    const pulled = await new RegistryReader(registry.url).pull('team/app', 'v1');
    expect(pulled.digest).toBe(single.digest);
  });
});
