/** Wire tests: the OCI provider lists repositories, tags and images from a fake Distribution registry. */
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryProtocolError } from '../../lib/errors.js';
import type { Image } from '../../lib/model.js';
import { createOciProvider, type OciProviderOptions } from '../../lib/providers/oci/index.js';
import { nextLink } from '../../lib/providers/oci/paging.js';
import { COSIGN_SIGNATURE_LAYER, FakeOciRegistry, type FakeOciOptions, OCI_MANIFEST } from '../support/fake-oci.js';

let registry: FakeOciRegistry | undefined;

afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(options: FakeOciOptions = {}): Promise<FakeOciRegistry> {
  registry = await FakeOciRegistry.start(options);
  return registry;
}

function providerFor(fake: FakeOciRegistry, options: OciProviderOptions = {}) {
  return createOciProvider(
    { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [] },
    { env: {}, sleep: async () => {}, retry: { baseDelayMs: 1 }, ...options },
  );
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const items: string[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const byTag = (images: readonly Image[], tag: string): Image => {
  const image = images.find((candidate) => candidate.tags.includes(tag));
  if (!image) throw new Error(`no image tagged ${tag}`);
  return image;
};

describe('catalog and tag paging', () => {
  it.each([['relative' as const], ['absolute' as const]])(
    'follows %s Link headers through every catalog page',
    async (linkStyle) => {
      const fake = await start({ pageSize: 7, linkStyle });
      const names = Array.from({ length: 30 }, (_, index) => `team/app-${String(index).padStart(2, '0')}`);
      for (const name of names) fake.createRepository(name);
      const provider = providerFor(fake);

      const listed = await collect(provider.listRepositories());

      expect(listed).toEqual(names);
      expect(fake.requests.filter((request) => request.path === '/v2/_catalog')).toHaveLength(5);
    },
  );

  it(
    'follows an absolute Link that names our host with another scheme (a TLS-terminating proxy) on our ' + 'endpoint',
    async () => {
      const fake = await start({ pageSize: 1 });
      fake.createRepository('a');
      fake.createRepository('b');
      const host = new URL(fake.url).host;
      fake.fault({
        path: '/v2/_catalog',
        replies: [
          {
            status: 200,
            headers: { link: `<https://${host}/v2/_catalog?last=a&n=1>; rel="next"` },
            body: { repositories: ['a'] },
          },
        ],
      });
      const provider = providerFor(fake);

      const listed = await collect(provider.listRepositories());

      expect(listed).toEqual(['a', 'b']);
    },
  );

  it('never asks for more than 1000 entries a page (registry 2.8 refuses n > 1000)', async () => {
    const fake = await start({ maxN: 1000 });
    fake.createRepository('app');
    const provider = providerFor(fake);

    await collect(provider.listRepositories());
    await provider.listTags('app');

    for (const request of fake.requests) expect(Number(request.query.get('n') ?? '0')).toBeLessThanOrEqual(1000);
  });

  it(
    'asks again without n when a registry allows smaller pages than 1000 (400 ' + 'PAGINATION_NUMBER_INVALID)',
    async () => {
      const fake = await start({ maxN: 100, pageSize: 50 });
      const names = Array.from({ length: 120 }, (_, index) => `r${String(index).padStart(3, '0')}`);
      for (const name of names) fake.createRepository(name);
      const provider = providerFor(fake);

      const listed = await collect(provider.listRepositories());

      expect(listed).toEqual(names);
      expect(fake.requests.map((request) => request.query.get('n'))).toEqual(['1000', null, '50', '50']);
    },
  );

  it('pages tags when the registry sends smaller pages than asked, and stops at the page without a Link', async () => {
    const fake = await start({ pageSize: 4 });
    const tags = Array.from({ length: 10 }, (_, index) => `b${String(index).padStart(2, '0')}`);
    for (const tag of tags) fake.pushImage('app', { tags: [tag], created: '2024-05-01T00:00:00Z' });
    const provider = providerFor(fake);

    const listed = (await provider.listTags('app')).tags;

    expect(listed).toEqual(tags);
    expect(fake.requests.filter((request) => request.path === '/v2/app/tags/list')).toHaveLength(3);
  });

  it(
    'reads every tag from one answer when the registry ignores n and sends no Link (registry 2.8 ' + 'tags/list)',
    async () => {
      const fake = await start({ pageTags: false });
      for (let index = 0; index < 150; index++)
        fake.pushImage('app', { tags: [`t${index}`], created: '2024-05-01T00:00:00Z' });
      const provider = providerFor(fake);

      const listed = (await provider.listTags('app')).tags;

      expect(listed).toHaveLength(150);
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('lists no tags and no images for a repository without tags, or one that no longer exists', async () => {
    const fake = await start();
    fake.createRepository('empty');
    const provider = providerFor(fake);

    const emptyTags = (await provider.listTags('empty')).tags;
    const emptyImages = await provider.listImages('empty');
    const goneTags = (await provider.listTags('gone')).tags;

    expect(emptyTags).toEqual([]);
    expect(emptyImages).toEqual([]);
    expect(goneTags).toEqual([]);
  });
});

describe('images', () => {
  it('groups tags by digest into one image with its time, blobs and size from the manifest and config', async () => {
    const fake = await start();
    const pushed = fake.pushImage('app', {
      tags: ['v1', 'latest'],
      created: '2024-03-01T10:00:00Z',
      layers: ['aaaa', 'bbbbbb'],
    });
    fake.pushImage('app', { tags: ['v0'], created: '2024-02-01T10:00:00Z' });
    const provider = providerFor(fake);

    const images = await provider.listImages('app');

    expect(images).toHaveLength(2);
    const v1 = byTag(images, 'v1');
    expect(v1).toMatchObject({
      digest: pushed.digest,
      tags: ['latest', 'v1'],
      kind: 'image',
      mediaType: OCI_MANIFEST,
      pushedAtMs: Date.parse('2024-03-01T10:00:00Z'),
      timeSource: 'config',
      subject: null,
      children: [],
      locked: false,
    });
    expect(v1.blobs?.map((blob) => blob.digest)).toEqual([pushed.configDigest, ...pushed.layerDigests]);
    expect(v1.sizeBytes).toBe(v1.blobs!.reduce((sum, blob) => sum + blob.sizeBytes, 0));
  });

  it('takes the time from the org.opencontainers.image.created annotation without reading the config', async () => {
    const fake = await start();
    const pushed = fake.pushImage('app', {
      tags: ['v1'],
      created: '2020-01-01T00:00:00Z',
      annotations: { 'org.opencontainers.image.created': '2024-06-01T00:00:00Z' },
    });
    const provider = providerFor(fake);

    const [image] = await provider.listImages('app');

    expect(image).toMatchObject({ pushedAtMs: Date.parse('2024-06-01T00:00:00Z'), timeSource: 'annotation' });
    expect(fake.requestLines()).not.toContain(`GET /v2/app/blobs/${pushed.configDigest}`);
  });

  it.each([
    ['a reproducible-build epoch', '1970-01-01T00:00:00Z', 'repro: created 1970-01-01T00:00:00Z'],
    ["Go's zero time", '0001-01-01T00:00:00Z', 'repro: created 0001-01-01T00:00:00Z'],
    ['no created field', undefined, 'repro: config has no created'],
  ])(
    'reports %s as an unknown time with a warning saying what was found, not as very old',
    async (_label, created, found) => {
      const fake = await start();
      fake.pushImage('app', { tags: ['repro'], created });
      const provider = providerFor(fake);

      const inventory = await provider.listInventory('app');

      expect(inventory.images[0]).toMatchObject({ pushedAtMs: null, timeSource: 'unknown' });
      expect(inventory.warnings).toHaveLength(1);
      expect(inventory.warnings[0]).toContain(found);
      // The log and the report already file it under the repository; it does not say "app:" again.
      expect(inventory.warnings[0]).toMatch(/^1 tagged image/);
    },
  );

  it('names, in a warning, a listed tag that answers 404 (lost in a registry restart), and leaves it out', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v2'], created: '2024-01-01T00:00:00Z' });
    fake.repository('app').tags.set('v1', `sha256:${'0'.repeat(64)}`);
    const provider = providerFor(fake);

    const inventory = await provider.listInventory('app');

    expect(inventory.images.map((image) => image.tags)).toEqual([['v2']]);
    expect(inventory.warnings).toHaveLength(1);
    expect(inventory.warnings[0]).toMatch(/^1 listed tag\(s\) answer 404 \(v1\): .* left out/);
  });

  it('leaves out, with a warning, a manifest it cannot read (Docker schema 1), so it is never deleted', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v2'], created: '2024-01-01T00:00:00Z' });
    fake.putManifest('app', { schemaVersion: 1, name: 'app', tag: 'v1', fsLayers: [] }, ['v1']);
    const provider = providerFor(fake);

    const inventory = await provider.listInventory('app');

    expect(inventory.images.map((image) => image.tags)).toEqual([['v2']]);
    expect(inventory.warnings).toHaveLength(1);
    expect(inventory.warnings[0]).toMatch(/schema 1.*tags: v1.*will not be deleted/);
  });

  it('throws a protocol error when Docker-Content-Digest does not match the manifest bytes', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const wrong = `sha256:${'0'.repeat(64)}`;
    fake.fault({
      method: 'GET',
      path: '/v2/app/manifests/v1',
      replies: [
        {
          status: 200,
          headers: { 'docker-content-digest': wrong, 'content-type': OCI_MANIFEST },
          body: {
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: 'x', digest: wrong, size: 1 },
            layers: [],
          },
        },
      ],
    });
    const provider = providerFor(fake);

    const listing = provider.listImages('app');

    await expect(listing).rejects.toBeInstanceOf(RegistryProtocolError);
    await expect(listing).rejects.toThrow(/hashes to sha256:/);
  });
});

describe('indexes', () => {
  it(
    'lists an index with its children, reads a child shared by two indexes once, and dates the index by its newest ' +
      'child',
    async () => {
      const fake = await start();
      const amd = fake.pushImage('app', { created: '2024-04-01T00:00:00Z', salt: 'amd64' });
      const arm = fake.pushImage('app', { created: '2024-04-02T00:00:00Z', salt: 'arm64' });
      const armOld = fake.pushImage('app', { created: '2024-03-02T00:00:00Z', salt: 'arm64-old' });
      const current = fake.pushIndex('app', {
        tags: ['v2'],
        children: [fake.descriptorOf('app', amd.digest), fake.descriptorOf('app', arm.digest)],
      });
      const previous = fake.pushIndex('app', {
        tags: ['v1'],
        children: [fake.descriptorOf('app', amd.digest), fake.descriptorOf('app', armOld.digest)],
      });
      const provider = providerFor(fake);

      const images = await provider.listImages('app');

      expect(images).toHaveLength(5);
      expect(byTag(images, 'v2')).toMatchObject({
        digest: current.digest,
        kind: 'index',
        children: [amd.digest, arm.digest],
        pushedAtMs: Date.parse('2024-04-02T00:00:00Z'),
        timeSource: 'children',
        blobs: [],
      });
      expect(byTag(images, 'v1')).toMatchObject({
        digest: previous.digest,
        pushedAtMs: Date.parse('2024-04-01T00:00:00Z'),
      });
      expect(images.find((image) => image.digest === amd.digest)).toMatchObject({ tags: [], kind: 'image' });
      const lines = fake.requestLines();
      expect(lines.filter((line) => line === `GET /v2/app/manifests/${amd.digest}`)).toHaveLength(1);
      expect(lines.filter((line) => line === `GET /v2/app/blobs/${amd.configDigest}`)).toHaveLength(1);
    },
  );

  it(
    'treats a buildx attestation inside an index as an artifact about its sibling, not as a platform ' + 'image',
    async () => {
      const fake = await start();
      const platform = fake.pushImage('app', { created: '2024-04-01T00:00:00Z', salt: 'amd64' });
      const attestation = fake.pushImage('app', {
        created: '2030-01-01T00:00:00Z',
        salt: 'attestation',
        layerMediaType: 'application/vnd.in-toto+json',
      });
      fake.pushIndex('app', {
        tags: ['v1'],
        children: [
          fake.descriptorOf('app', platform.digest, { platform: { architecture: 'amd64', os: 'linux' } }),
          fake.descriptorOf('app', attestation.digest, {
            platform: { architecture: 'unknown', os: 'unknown' },
            annotations: {
              'vnd.docker.reference.type': 'attestation-manifest',
              'vnd.docker.reference.digest': platform.digest,
            },
          }),
        ],
      });
      const provider = providerFor(fake);

      const images = await provider.listImages('app');

      expect(images.find((image) => image.digest === attestation.digest)).toMatchObject({
        kind: 'artifact',
        subject: platform.digest,
      });
      expect(byTag(images, 'v1')).toMatchObject({ kind: 'index', pushedAtMs: Date.parse('2024-04-01T00:00:00Z') });
      expect(fake.requestLines()).not.toContain(`GET /v2/app/blobs/${attestation.configDigest}`);
    },
  );

  it('uses the index annotation for its time and then reads no child config', async () => {
    const fake = await start();
    const child = fake.pushImage('app', { created: '2024-04-01T00:00:00Z' });
    fake.pushIndex('app', {
      tags: ['v1'],
      children: [fake.descriptorOf('app', child.digest)],
      annotations: { 'org.opencontainers.image.created': '2024-05-05T00:00:00Z' },
    });
    const provider = providerFor(fake);

    const images = await provider.listImages('app');

    expect(byTag(images, 'v1')).toMatchObject({
      pushedAtMs: Date.parse('2024-05-05T00:00:00Z'),
      timeSource: 'annotation',
    });
    expect(fake.requestLines().some((line) => line.includes('/blobs/'))).toBe(false);
  });
});

describe('referrers', () => {
  it('links cosign signature, attestation and SBOM tags to their subject', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const hex = image.digest.slice('sha256:'.length);
    for (const suffix of ['sig', 'att', 'sbom']) {
      fake.pushImage('app', {
        tags: [`sha256-${hex}.${suffix}`],
        layerMediaType: COSIGN_SIGNATURE_LAYER,
        salt: suffix,
      });
    }
    const provider = providerFor(fake);

    const inventory = await provider.listInventory('app');

    const referrers = inventory.images.filter((candidate) => candidate.subject === image.digest);
    expect(referrers).toHaveLength(3);
    for (const referrer of referrers) expect(referrer.kind).toBe('artifact');
    expect(inventory.warnings).toEqual([]);
  });

  it('finds untagged referrers through the referrers API when the registry has it', async () => {
    const fake = await start({ referrersApi: true });
    const image = fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const sbom = fake.pushImage('app', {
      subject: image.digest,
      artifactType: 'application/spdx+json',
      configMediaType: 'application/vnd.oci.empty.v1+json',
      salt: 'sbom',
    });
    const signature = fake.pushImage('app', {
      subject: sbom.digest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      configMediaType: 'application/vnd.oci.empty.v1+json',
      salt: 'sig',
    });
    const provider = providerFor(fake);

    const images = await provider.listImages('app');

    expect(images.find((candidate) => candidate.digest === sbom.digest)).toMatchObject({
      tags: [],
      kind: 'artifact',
      artifactType: 'application/spdx+json',
      subject: image.digest,
    });
    expect(images.find((candidate) => candidate.digest === signature.digest)).toMatchObject({
      subject: sbom.digest,
      kind: 'artifact',
    });
    expect(fake.requestLines().filter((line) => line === `GET /v2/app/referrers/${image.digest}`)).toHaveLength(1);
  });

  it('follows every page of a paged referrers answer', async () => {
    const fake = await start({ referrersApi: true, referrersPageSize: 1 });
    const image = fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const attached = ['sbom', 'provenance', 'scan'].map(
      (salt) =>
        fake.pushImage('app', {
          subject: image.digest,
          artifactType: `application/x-${salt}`,
          configMediaType: 'application/vnd.oci.empty.v1+json',
          salt,
        }).digest,
    );
    const provider = providerFor(fake);

    const images = await provider.listImages('app');

    const found = images.filter((candidate) => candidate.subject === image.digest).map((candidate) => candidate.digest);
    expect(found.sort()).toEqual(attached.sort());
    expect(fake.requestLines().filter((line) => line.startsWith(`GET /v2/app/referrers/${image.digest}`))).toHaveLength(
      3,
    );
  });

  it('asks for referrers once per repository when the registry has no referrers API, then uses tags only', async () => {
    const fake = await start({ referrersApi: false });
    for (let index = 0; index < 5; index++)
      fake.pushImage('app', { tags: [`v${index}`], created: '2024-01-01T00:00:00Z' });
    const provider = providerFor(fake);

    const images = await provider.listImages('app');

    expect(images).toHaveLength(5);
    expect(fake.requestLines().filter((line) => line.includes('/referrers/'))).toHaveLength(1);
  });

  it('asks once per registry when repositories are listed side by side', async () => {
    const fake = await start({ referrersApi: false });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of names) fake.pushImage(name, { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const provider = providerFor(fake);

    const listed = await Promise.all(names.map((name) => provider.listImages(name)));

    expect(listed.map((images) => images.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(fake.requestLines().filter((line) => line.includes('/referrers/'))).toHaveLength(1);
  });

  it('lets each repository ask on its own when the shared probe failed', async () => {
    const fake = await start({ referrersApi: false });
    const names = ['a', 'b', 'c'];
    for (const name of names) fake.pushImage(name, { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    let probes = 0;
    const provider = providerFor(fake, {
      retry: { maxAttempts: 1, baseDelayMs: 1 },
      fetch: async (input, init) => {
        if (String(input).includes('/referrers/') && probes++ === 0)
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return fetch(input, init);
      },
    });

    const listed = await Promise.allSettled(names.map((name) => provider.listImages(name)));

    expect(listed.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    // The failed probe was not shared: another repository asked again (and may have shared that answer).
    expect(probes).toBeGreaterThanOrEqual(2);
  });
});

describe('API calls', () => {
  it(
    'counts exactly: tag pages, one manifest read per tag, one config read per image, one referrers ' + 'probe',
    async () => {
      const fake = await start({ pageSize: 3 });
      for (let index = 0; index < 7; index++)
        fake.pushImage('app', { tags: [`b${index}`], created: `2024-01-0${index + 1}T00:00:00Z` });
      const provider = providerFor(fake);

      await provider.listImages('app');

      // 3 tag pages + 7 manifests + 7 configs + 1 referrers probe.
      expect(provider.stats).toEqual({ apiCalls: 18, retries: 0, throttled: 0 });
      expect(fake.requests).toHaveLength(18);
    },
  );
});

describe('Link header', () => {
  it('finds rel="next" among several relations, and only the whole word', () => {
    expect(nextLink('</v2/_catalog?last=b&n=2>; rel="next"')).toBe('/v2/_catalog?last=b&n=2');
    expect(nextLink('</a>; rel="prev", </b>; rel="next"')).toBe('/b');
    expect(nextLink('</b>; rel="prev next"')).toBe('/b');
    expect(nextLink('</b>; rel=next')).toBe('/b');
    expect(nextLink('</b>; rel="nextfoo"')).toBeUndefined();
    expect(nextLink('</b>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});
