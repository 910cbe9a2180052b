/**
 * The ECR provider against a wire-level fake ECR: the real @aws-sdk/client-ecr, real awsJson1_1
 * requests, real retries. Each scenario also checks the API calls against the minimum
 * ⌈images/1000⌉ DescribeImages + ⌈deletions/100⌉ BatchDeleteImage + index reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EcrRegistryConfig } from '../../lib/config/schema.js';
import { NotFoundError, RegistryAuthError, RegistryUnavailableError } from '../../lib/errors.js';
import { execute } from '../../lib/execute/index.js';
import { plan } from '../../lib/plan/index.js';
import { createEcrClient, ECR_MAX_ATTEMPTS } from '../../lib/providers/ecr/client.js';
import { createEcrProvider } from '../../lib/providers/ecr/index.js';
import { finishJournal } from '../../lib/execute/journal-recovery.js';
import { StateJournal } from '../../lib/execute/journal-store.js';
import { silentLogger } from '../../lib/log.js';
import { MemoryStateStore } from '../support/memory-store.js';
import type { Provider } from '../../lib/providers/provider.js';
import type { Policy } from '../../lib/config/policy.js';
import { repositoryReport } from '../../lib/report/repository.js';
import { totalsOf } from '../../lib/report/totals.js';
import { DAY_MS, policy } from '../support/builders.js';
import { digestOf, fakeEcrClientHooks, indexManifest, MEDIA, startFakeEcr, type FakeEcr } from '../support/fake-ecr.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const MINUTE_MS = 60_000;

let fake: FakeEcr;
let provider: Provider;

function registryConfig(overrides: Partial<EcrRegistryConfig> = {}): EcrRegistryConfig {
  return {
    provider: 'ecr',
    name: 'aws-prod',
    endpoint: fake.registryHost,
    repositories: [{ match: '**' }],
    ...overrides,
  };
}

function ecrProvider(options: { maxAttempts?: number } = {}): Provider {
  return createEcrProvider(registryConfig(), { client: fakeEcrClientHooks(fake, options) });
}

/** List, plan and execute one repository the way prune() does. */
async function pruneRepository(repository: string, retention: Policy) {
  const images = await provider.listImages(repository);
  const inventory = { registry: provider.name, repository, images, warnings: [] };
  const planned = plan(inventory, retention, NOW);
  const outcome = await execute({ plan: planned, inventory, provider, dryRun: false });
  return { planned, outcome };
}

function tagsLeft(repository: string): string[] {
  return fake
    .images(repository)
    .flatMap((image) => image.tags)
    .sort();
}

function daysBefore(days: number): number {
  return NOW.getTime() - days * DAY_MS;
}

beforeEach(async () => {
  fake = await startFakeEcr();
  provider = ecrProvider();
});

afterEach(async () => {
  await provider.close?.();
  await fake.close();
});

describe('listing', () => {
  it('lists every repository across DescribeRepositories pages', async () => {
    for (let i = 0; i < 1200; i++) fake.addRepository(`team/app-${String(i).padStart(4, '0')}`);

    const names: string[] = [];
    for await (const name of provider.listRepositories()) names.push(name);

    expect(names).toHaveLength(1200);
    expect(fake.count('DescribeRepositories')).toBe(2);
    expect(fake.requests.every((r) => r.body.registryId === fake.registryId)).toBe(true);
  });

  it('maps DescribeImages fields to images: time, pulls, size, kind, subject', async () => {
    const subject = digestOf('app');
    fake.addImage('app', {
      digest: subject,
      tags: ['v1', 'latest'],
      pushedAtMs: daysBefore(3),
      lastPulledAtMs: daysBefore(1),
      sizeBytes: 4242,
    });
    fake.addImage('app', {
      digest: digestOf('sbom'),
      subject,
      artifactMediaType: 'application/spdx+json',
      pushedAtMs: daysBefore(2),
    });
    fake.addImage('app', {
      digest: digestOf('helm'),
      tags: ['chart-1'],
      artifactMediaType: 'application/vnd.cncf.helm.config.v1+json',
    });

    const images = await provider.listImages('app');

    const byDigest = new Map(images.map((image) => [image.digest, image]));
    expect(byDigest.get(subject)).toMatchObject({
      tags: ['latest', 'v1'],
      kind: 'image',
      pushedAtMs: daysBefore(3),
      timeSource: 'registry',
      lastPulledAtMs: daysBefore(1),
      sizeBytes: 4242,
      subject: null,
      children: [],
    });
    expect(byDigest.get(digestOf('sbom'))).toMatchObject({ kind: 'artifact', subject, tags: [] });
    expect(byDigest.get(digestOf('helm'))).toMatchObject({ kind: 'artifact', subject: null });
    expect(fake.requests[0]!.body).toMatchObject({ maxResults: 1000, filter: { tagStatus: 'ANY' } });
  });

  it('reads index children with BatchGetImage for index manifests only, 100 per call', async () => {
    for (let i = 0; i < 150; i++) {
      const children = [digestOf(`amd64-${i}`), digestOf(`arm64-${i}`)];
      for (const child of children) fake.addImage('multi', { digest: child });
      fake.addImage('multi', {
        digest: digestOf(`index-${i}`),
        tags: [`v${i}`],
        manifestMediaType: MEDIA.ociIndex,
        manifest: indexManifest(children),
      });
    }

    const images = await provider.listImages('multi');

    expect(images.find((image) => image.digest === digestOf('index-7'))).toMatchObject({
      kind: 'index',
      children: [digestOf('amd64-7'), digestOf('arm64-7')],
    });
    const reads = fake.requests.filter((r) => r.operation === 'BatchGetImage');
    expect(reads.map((r) => (r.body.imageIds as unknown[]).length)).toEqual([100, 50]);
    expect(reads[0]!.body.acceptedMediaTypes).toEqual([MEDIA.ociIndex, MEDIA.dockerList]);
    expect(fake.count('DescribeImages')).toBe(1);
  });

  it.each([
    ['a cosign signature tag', '.sig', true],
    ['a cosign SBOM tag', '.sbom', true],
    ['an OCI 1.1 referrers tag schema tag', '', true],
    ['a tag with another suffix', '.txt', false],
  ])('reads %s on sha256-<hex> as a referrer of that subject: %s', async (_name, suffix, isReferrer) => {
    const subject = digestOf('signed');
    fake.addImage('app', { digest: subject, tags: ['v1'] });
    fake.addImage('app', { digest: digestOf('sig'), tags: [`sha256-${subject.slice(7)}${suffix}`] });

    const images = await provider.listImages('app');

    expect(images.find((image) => image.digest === digestOf('sig'))).toMatchObject(
      isReferrer ? { kind: 'artifact', subject } : { kind: 'image', subject: null },
    );
  });

  it('resolves tags to their current digests and unknown tags to null', async () => {
    fake.addImage('app', { digest: digestOf('a'), tags: ['v1', 'latest'] });
    fake.addImage('app', { digest: digestOf('b') });

    const resolved = await provider.resolveTags('app', ['v1', 'latest', 'gone']);

    expect(resolved).toEqual(
      new Map([
        ['v1', digestOf('a')],
        ['latest', digestOf('a')],
        ['gone', null],
      ]),
    );
    expect(fake.requests[0]!.body).toMatchObject({ filter: { tagStatus: 'TAGGED' } });
  });

  it('lists each tag with its digest, and resolves a tag moved since that listing afresh', async () => {
    const first = fake.addImage('app', { digest: digestOf('a'), tags: ['v1'] });
    const second = fake.addImage('app', { digest: digestOf('b'), tags: ['v2'] });
    const listing = await provider.listTags('app');
    first.tags = [];
    second.tags = ['v1', 'v2'];

    const resolved = await provider.resolveTags('app', ['v1']);

    expect(listing).toEqual({
      tags: ['v1', 'v2'],
      targets: new Map([
        ['v1', digestOf('a')],
        ['v2', digestOf('b')],
      ]),
    });
    expect(resolved.get('v1')).toBe(digestOf('b'));
    expect(fake.count('DescribeImages')).toBe(2);
  });

  it('lists an inventory with no warnings', async () => {
    fake.addImage('app', { digest: digestOf('a'), tags: ['v1'] });

    const inventory = await provider.listInventory('app');

    expect(inventory).toMatchObject({ registry: 'aws-prod', repository: 'app', warnings: [] });
    expect(inventory.images.map((image) => image.digest)).toEqual([digestOf('a')]);
  });
});

describe("finishing an interrupted run's journal", () => {
  it('deletes a follower by digest: a tag it was recorded with, pushed since onto a new image, stays', async () => {
    const store = new MemoryStateStore();
    // A referrer recorded with its tag by a run that was killed; the tag has since been pushed onto
    // a new image, which has no other tag.
    fake.addImage('rec', { digest: digestOf('old-sig'), tags: [], pushedAtMs: daysBefore(20) });
    fake.addImage('rec', { digest: digestOf('new'), tags: ['sig'], pushedAtMs: daysBefore(0) });
    const journal = new StateJournal({ store, lockKey: 'ecr', runId: 'killed-run', runStartedAt: NOW });
    await journal.write('rec', [
      { digest: digestOf('old-sig'), tags: ['sig'], action: 'delete-manifest', wave: 0, follows: digestOf('gone') },
    ]);

    const finished = await finishJournal({ store, lockKey: 'ecr', provider, dryRun: false, log: silentLogger });

    expect(fake.images('rec').map((image) => [image.digest, image.tags])).toEqual([[digestOf('new'), ['sig']]]);
    expect(finished[0]?.finished).toEqual([{ digest: digestOf('old-sig'), tags: ['sig'], action: 'delete-manifest' }]);
    const sent = fake.requests.filter((r) => r.operation === 'BatchDeleteImage').map((r) => r.body.imageIds);
    expect(sent).toEqual([[{ imageDigest: digestOf('old-sig') }]]);
  });
});

describe('retention scenarios, with API calls against the minimum', () => {
  it('keeps the newest N and pinned images across DescribeImages pages (2,500 images)', async () => {
    for (let i = 0; i < 2500; i++) {
      const tags = i === 0 ? ['b-0000', 'latest'] : [`b-${String(i).padStart(4, '0')}`];
      fake.addImage('app/web', { digest: digestOf(`web-${i}`), tags, pushedAtMs: daysBefore(30) + i * MINUTE_MS });
    }

    const { outcome } = await pruneRepository('app/web', policy({ keep: 5, pinned: ['latest'] }));

    expect(tagsLeft('app/web')).toEqual(['b-0000', 'b-2495', 'b-2496', 'b-2497', 'b-2498', 'b-2499', 'latest']);
    expect(outcome.deleted).toHaveLength(2494);
    expect(outcome.failed).toEqual([]);
    const minimum = Math.ceil(2500 / 1000) + Math.ceil(2494 / 100);
    // listing + the re-verification listing of tags + one tag listing after each of the first 24 batches
    // (none after the last: deleting by tag cannot take a protected tag along), of ⌈tags left / 1000⌉
    // pages (4 × 3 + 10 × 2 + 10 × 1): docs/design.md, section 5
    const perBatchListings = 4 * 3 + 10 * 2 + 10 * 1;
    expect(fake.count('DescribeImages')).toBe(3 + 3 + perBatchListings);
    expect(fake.count('BatchDeleteImage')).toBe(25);
    expect(fake.count()).toBe(minimum + 3 + perBatchListings);
    expect(provider.stats.apiCalls).toBe(fake.count());
  });

  it('deletes more than 100 images in BatchDeleteImage calls of at most 100 ids', async () => {
    for (let i = 0; i < 250; i++)
      fake.addImage('batch', { digest: digestOf(`batch-${i}`), tags: [`t${i}`], pushedAtMs: daysBefore(10) + i });

    const { outcome } = await pruneRepository('batch', policy({ keep: 0 }));

    const batches = fake.requests.filter((r) => r.operation === 'BatchDeleteImage');
    expect(batches.map((r) => (r.body.imageIds as unknown[]).length)).toEqual([100, 100, 50]);
    expect(outcome.deleted).toHaveLength(250);
    expect(fake.images('batch')).toEqual([]);
    // minimum 1 + 3, plus the re-verification listing and one tag listing between batches
    expect(fake.count()).toBe(1 + 3 + 1 + 2);
  });

  it('treats tags sharing a digest as one image and deletes it by its tags', async () => {
    fake.addImage('app', { digest: digestOf('release'), tags: ['build-1', 'v1.0.0'], pushedAtMs: daysBefore(20) });
    fake.addImage('app', { digest: digestOf('old'), tags: ['build-2', 'build-3'], pushedAtMs: daysBefore(15) });
    fake.addImage('app', { digest: digestOf('new'), tags: ['build-4'], pushedAtMs: daysBefore(1) });

    const { outcome } = await pruneRepository('app', policy({ keep: 1, pinned: ['/^v\\d/'] }));

    expect(tagsLeft('app')).toEqual(['build-1', 'build-4', 'v1.0.0']);
    expect(outcome.deleted).toEqual([
      { digest: digestOf('old'), tags: ['build-2', 'build-3'], action: 'delete-manifest' },
    ]);
    const deleteCall = fake.requests.find((r) => r.operation === 'BatchDeleteImage')!;
    // By its tags only, never tag and digest in one id: a tag moved onto it meanwhile would keep it.
    expect(deleteCall.body.imageIds).toEqual([{ imageTag: 'build-2' }, { imageTag: 'build-3' }]);
    // minimum 1 + 1, plus the re-verification listing (none after the batch: it went by tag)
    expect(fake.count()).toBe(1 + 1 + 1);
  });

  it('deletes an old multi-arch index before its children and keeps a child a kept index shares', async () => {
    const shared = digestOf('shared-arm64');
    const oldOnly = digestOf('old-amd64');
    const newOnly = digestOf('new-amd64');
    for (const child of [shared, oldOnly, newOnly])
      fake.addImage('multi', { digest: child, pushedAtMs: daysBefore(30) });
    fake.addImage('multi', {
      digest: digestOf('old-index'),
      tags: ['v1'],
      pushedAtMs: daysBefore(30),
      manifestMediaType: MEDIA.ociIndex,
      manifest: indexManifest([oldOnly, shared]),
    });
    fake.addImage('multi', {
      digest: digestOf('new-index'),
      tags: ['v2'],
      pushedAtMs: daysBefore(1),
      manifestMediaType: MEDIA.dockerList,
      manifest: indexManifest([newOnly, shared], MEDIA.dockerList),
    });

    const { outcome } = await pruneRepository('multi', policy({ keep: 1 }));

    expect(
      fake
        .images('multi')
        .map((i) => i.digest)
        .sort(),
    ).toEqual([digestOf('new-index'), newOnly, shared].sort());
    expect(outcome.failed).toEqual([]);
    const deletes = fake.requests.filter((r) => r.operation === 'BatchDeleteImage').map((r) => r.body.imageIds);
    // The tagged index by its tag, its untagged child by digest.
    expect(deletes).toEqual([[{ imageTag: 'v1' }], [{ imageDigest: oldOnly }]]);
    // minimum 1 + 1 + 1 index read; one more BatchDeleteImage per wave, one re-verification listing,
    // one tag listing after each batch
    expect(fake.count('BatchGetImage')).toBe(1);
    expect(fake.count()).toBe(1 + 1 + 2 + 1 + 2);
  });

  it('deletes signatures with their subject and keeps those of kept images', async () => {
    const oldImage = digestOf('old');
    const newImage = digestOf('new');
    fake.addImage('signed', { digest: oldImage, tags: ['v1'], pushedAtMs: daysBefore(10) });
    fake.addImage('signed', { digest: newImage, tags: ['v2'], pushedAtMs: daysBefore(1) });
    fake.addImage('signed', {
      digest: digestOf('old-sig'),
      subject: oldImage,
      artifactMediaType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      pushedAtMs: daysBefore(10),
    });
    fake.addImage('signed', {
      digest: digestOf('new-sig'),
      subject: newImage,
      artifactMediaType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      pushedAtMs: daysBefore(1),
    });

    const { outcome } = await pruneRepository('signed', policy({ keep: 1 }));

    expect(
      fake
        .images('signed')
        .map((i) => i.digest)
        .sort(),
    ).toEqual([newImage, digestOf('new-sig')].sort());
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: digestOf('new-sig'), reason: 'subject' }));
    // minimum 1 + 1; the signature goes in a wave before its subject, plus the re-verification listing
    // and one tag listing between the batches
    expect(fake.count('BatchDeleteImage')).toBe(2);
    expect(fake.count()).toBe(1 + 2 + 1 + 1);
  });

  it('keeps images pulled within keepPulledWithin, however old', async () => {
    fake.addImage('pulled', {
      digest: digestOf('old-pulled'),
      tags: ['a'],
      pushedAtMs: daysBefore(90),
      lastPulledAtMs: daysBefore(1),
    });
    fake.addImage('pulled', {
      digest: digestOf('old-idle'),
      tags: ['b'],
      pushedAtMs: daysBefore(80),
      lastPulledAtMs: daysBefore(40),
    });
    fake.addImage('pulled', { digest: digestOf('never'), tags: ['c'], pushedAtMs: daysBefore(70) });
    fake.addImage('pulled', { digest: digestOf('newest'), tags: ['d'], pushedAtMs: daysBefore(1) });

    const { outcome } = await pruneRepository('pulled', policy({ keep: 1, keepPulledWithin: '7d' }));

    expect(tagsLeft('pulled')).toEqual(['a', 'd']);
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: digestOf('old-pulled'), reason: 'pulled' }));
    expect(fake.count()).toBe(1 + 1 + 1); // listing, re-verification, delete (by tag: no listing after it)
  });

  it('rides out throttling in the middle of deleting, counting every attempt', async () => {
    for (let i = 0; i < 300; i++)
      fake.addImage('busy', { digest: digestOf(`busy-${i}`), tags: [`t${i}`], pushedAtMs: daysBefore(10) + i });
    fake.inject('BatchDeleteImage', { status: 400, type: 'ThrottlingException', message: 'Rate exceeded', times: 3 });

    const { outcome } = await pruneRepository('busy', policy({ keep: 10 }));

    expect(outcome.deleted).toHaveLength(290);
    expect(outcome.failed).toEqual([]);
    expect(tagsLeft('busy')).toHaveLength(10);
    expect(provider.stats.throttled).toBe(3);
    expect(provider.stats.retries).toBe(3);
    expect(fake.count('BatchDeleteImage')).toBe(3 + 3);
    // minimum 1 + 3, plus 3 throttled attempts, the re-verification listing and a tag listing between batches
    expect(fake.count()).toBe(1 + 1 + 6 + 2);
    expect(provider.stats.apiCalls).toBe(fake.count());
  });

  it('retries transient 500 and 503 answers', async () => {
    fake.addImage('flaky', { digest: digestOf('flaky'), tags: ['v1'] });
    fake.inject('DescribeImages', { status: 503, type: 'ServiceUnavailableException', times: 1 });
    fake.inject('DescribeImages', { status: 500, type: 'ServerException', times: 1 });

    const images = await provider.listImages('flaky');

    expect(images).toHaveLength(1);
    expect(provider.stats).toMatchObject({ apiCalls: 3, retries: 2, throttled: 0 });
  });
});

describe('deleting', () => {
  it('retries a child refused before its index once the rest of the batch is done', async () => {
    const child = digestOf('child');
    fake.addImage('multi', { digest: child });
    fake.addImage('multi', {
      digest: digestOf('index'),
      tags: ['v1'],
      manifestMediaType: MEDIA.ociIndex,
      manifest: indexManifest([child]),
    });

    const results = await provider.delete('multi', [
      { digest: child, tags: [], action: 'delete-manifest' },
      { digest: digestOf('index'), tags: ['v1'], action: 'delete-manifest' },
    ]);

    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(fake.images('multi')).toEqual([]);
    expect(fake.count('BatchDeleteImage')).toBe(2);
  });

  it('reports a child that a remaining index still lists, after one retry', async () => {
    const child = digestOf('child');
    fake.addImage('multi', { digest: child });
    fake.addImage('multi', {
      digest: digestOf('index'),
      tags: ['v1'],
      manifestMediaType: MEDIA.ociIndex,
      manifest: indexManifest([child]),
    });

    const [result] = await provider.delete('multi', [{ digest: child, tags: [], action: 'delete-manifest' }]);

    expect(result).toMatchObject({ ok: false, code: 'ImageReferencedByManifestList' });
    expect(result!.ok === false && result!.error).toMatch(/multi-arch index still lists it/);
    expect(fake.count('BatchDeleteImage')).toBe(2);
  });

  it('handles each failure in a partly failed batch by its code', async () => {
    fake.addImage('app', { digest: digestOf('ok'), tags: ['a'] });
    fake.addImage('app', { digest: digestOf('kms'), tags: ['b'] });
    fake.failDelete(digestOf('kms'), 'KmsError', { reason: 'KMS key disabled' });

    const results = await provider.delete('app', [
      { digest: digestOf('ok'), tags: ['a'], action: 'delete-manifest' },
      { digest: digestOf('gone'), tags: [], action: 'delete-manifest' },
      { digest: digestOf('kms'), tags: ['b'], action: 'delete-manifest' },
    ]);

    expect(results).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: true, alreadyGone: true }),
      expect.objectContaining({ ok: false, code: 'KmsError', error: expect.stringMatching(/KMS key disabled/) }),
    ]);
    expect(tagsLeft('app')).toEqual(['b']);
  });
});

describe('client', () => {
  it("uses the SDK's adaptive retry mode with a bounded number of attempts by default", async () => {
    const client = createEcrClient({
      region: 'eu-west-1',
      endpoint: fake.url,
      hooks: {},
      stats: { apiCalls: 0, retries: 0, throttled: 0 },
    });

    const strategy = (await client.config.retryStrategy()) as { mode?: string };

    expect(strategy.mode).toBe('adaptive');
    expect(await client.config.maxAttempts()).toBe(ECR_MAX_ATTEMPTS);
    client.destroy();
  });
});

describe('errors', () => {
  it('turns AccessDeniedException into an auth error that names the permission to grant', async () => {
    fake.addRepository('app');
    fake.inject('DescribeImages', {
      status: 400,
      type: 'AccessDeniedException',
      message: 'User is not authorized',
      times: 1,
    });

    const error = await provider.listImages('app').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toMatch(/Grant ecr:DescribeImages to the role/);
    expect(provider.stats.apiCalls).toBe(1);
  });

  it('turns RepositoryNotFoundException into a not-found error', async () => {
    const error = await provider.listImages('missing').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/missing/);
  });

  it('turns an unreachable endpoint into an unavailable error after retrying', async () => {
    const quick = ecrProvider({ maxAttempts: 2 });
    await fake.close();

    const error = await quick.listImages('app').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(quick.stats.apiCalls).toBe(2);
    await quick.close?.();
  });

  it('finds the API endpoint through AWS_ENDPOINT_URL_ECR when the config has none', async () => {
    fake.addImage('app', { digest: digestOf('a'), tags: ['v1'] });
    const saved = process.env.AWS_ENDPOINT_URL_ECR;
    process.env.AWS_ENDPOINT_URL_ECR = fake.url;
    try {
      const { endpoint: _unused, ...hooks } = fakeEcrClientHooks(fake);
      const fromEnv = createEcrProvider(registryConfig(), { client: hooks });

      const images = await fromEnv.listImages('app');

      expect(images).toHaveLength(1);
      await fromEnv.close?.();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_ECR;
      else process.env.AWS_ENDPOINT_URL_ECR = saved;
    }
  });
});

describe('deleting by tag (docs/design.md, section 5)', () => {
  it('keeps an image a tag was moved onto after the last check: only the planned tags go', async () => {
    fake.addImage('app', { digest: digestOf('old'), tags: ['b1', 'latest'], pushedAtMs: daysBefore(20) });

    const [result] = await provider.delete('app', [
      { digest: digestOf('old'), tags: ['b1'], action: 'delete-manifest' },
    ]);

    expect(result).toMatchObject({ ok: true });
    expect(tagsLeft('app')).toEqual(['latest']);
    const sent = fake.requests.find((request) => request.operation === 'BatchDeleteImage')!;
    expect(sent.body.imageIds).toEqual([{ imageTag: 'b1' }]);
  });

  it('never sends a planned tag that was moved onto another image before its batch', async () => {
    fake.addImage('app', { digest: digestOf('current'), tags: ['latest'], pushedAtMs: daysBefore(1) });
    fake.addImage('app', { digest: digestOf('old'), tags: ['b1'], pushedAtMs: daysBefore(20) });
    const images = await provider.listImages('app');
    const inventory = { registry: provider.name, repository: 'app', images, warnings: [] };
    const planned = plan(inventory, policy({ keep: 0, pinned: ['latest'] }), NOW);
    // After the listing, someone moves b1 onto the kept build (the old one is untagged now).
    fake.images('app').find((image) => image.digest === digestOf('old'))!.tags = [];
    fake
      .images('app')
      .find((image) => image.digest === digestOf('current'))!
      .tags.push('b1');

    await execute({ plan: planned, inventory, provider, dryRun: false });

    expect(tagsLeft('app')).toEqual(['b1', 'latest']);
    const sent = fake.requests.filter((request) => request.operation === 'BatchDeleteImage');
    expect(sent.map((request) => request.body.imageIds)).toEqual([[{ imageDigest: digestOf('old') }]]);
  });
});

describe('a planned tag pushed again before its delete', () => {
  it('is a loud failure naming the image it was taken from, never a deletion of the planned digest', async () => {
    fake.addImage('app', { digest: digestOf('old'), tags: ['dev'], pushedAtMs: daysBefore(20) });
    fake.addImage('app', { digest: digestOf('new'), tags: [], pushedAtMs: daysBefore(0) });
    // CI pushes `dev` again, onto the new build, after the run's last check of the tags.
    fake.images('app').find((image) => image.digest === digestOf('old'))!.tags = [];
    fake.images('app').find((image) => image.digest === digestOf('new'))!.tags = ['dev'];

    const [result] = await provider.delete('app', [
      { digest: digestOf('old'), tags: ['dev'], action: 'delete-manifest' },
    ]);

    expect(result).toMatchObject({ ok: false, code: 'TagPushedAgain' });
    expect(result && !result.ok ? result.error : '').toContain(`pushed again onto ${digestOf('new')}`);
    // What ECR did (a tag delete takes the tag wherever it points): the report must not hide it.
    expect(fake.images('app').map((image) => image.digest)).toEqual([digestOf('old')]);
  });
});

describe('archived images (ECR archive storage class)', () => {
  const SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';

  /** v1..v4 active, a1 archived and a2 activating (both older than every active image), a signature of a1. */
  function seedArchive(): void {
    for (let i = 1; i <= 4; i++)
      fake.addImage('arch', { digest: digestOf(`v${i}`), tags: [`v${i}`], pushedAtMs: daysBefore(10 - i) });
    fake.addImage('arch', {
      digest: digestOf('a1'),
      tags: ['a1'],
      pushedAtMs: daysBefore(1),
      status: 'ARCHIVED',
      archivedAtMs: daysBefore(1),
      sizeBytes: 7000,
    });
    fake.addImage('arch', { digest: digestOf('a2'), pushedAtMs: daysBefore(2), status: 'ACTIVATING', sizeBytes: 3000 });
    fake.addImage('arch', {
      digest: digestOf('a1-sig'),
      subject: digestOf('a1'),
      artifactMediaType: SIG,
      pushedAtMs: daysBefore(30),
    });
  }

  it('lists archived and activating images (filter.imageStatus ANY) with their storage status', async () => {
    seedArchive();

    const images = await provider.listImages('arch');

    expect(images).toHaveLength(7);
    expect(images.find((image) => image.digest === digestOf('a1'))?.storage).toBe('archived');
    expect(images.find((image) => image.digest === digestOf('a2'))?.storage).toBe('activating');
    expect(images.find((image) => image.digest === digestOf('v1'))?.storage).toBeUndefined();
    expect(fake.requests.filter((r) => r.operation === 'DescribeImages').map((r) => r.body.filter)).toEqual([
      { tagStatus: 'ANY', imageStatus: 'ANY' },
    ]);
  });

  it('keeps archived images by default, without counting them toward keep, and the signature of one', async () => {
    seedArchive();

    const { outcome } = await pruneRepository('arch', policy({ keep: 2, untagged: 'delete' }));

    // The two newest active images are kept as recent: the newer archived image does not push v3 out.
    expect(
      outcome.kept
        .filter((entry) => entry.reason === 'recent')
        .map((entry) => entry.tags[0])
        .sort(),
    ).toEqual(['v3', 'v4']);
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: digestOf('a1'), reason: 'archived' }));
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: digestOf('a2'), reason: 'archived' }));
    // Its subject archived, the signature is not a stray orphan: it follows its subject.
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: digestOf('a1-sig'), reason: 'subject' }));
    expect(outcome.deleted.map((entry) => entry.tags[0]).sort()).toEqual(['v1', 'v2']);
  });

  it('deletes archived images under archived: delete, still without counting them toward keep', async () => {
    seedArchive();

    const { outcome } = await pruneRepository('arch', {
      ...policy({ keep: 2, untagged: 'delete' }),
      archived: 'delete',
    });

    expect(outcome.kept.map((entry) => entry.tags[0]).sort()).toEqual(['v3', 'v4']);
    expect(outcome.deleted.map((entry) => entry.digest).sort()).toEqual(
      ['v1', 'v2', 'a1', 'a2', 'a1-sig'].map(digestOf).sort(),
    );
    expect(outcome.failed).toEqual([]);
  });

  it('counts archived images and their bytes apart in the repository report', async () => {
    seedArchive();
    const images = await provider.listImages('arch');
    const inventory = { registry: provider.name, repository: 'arch', images, warnings: [] };
    const planned = plan(inventory, policy({ keep: 2 }), NOW);
    const outcome = await execute({ plan: planned, inventory, provider, dryRun: true });

    const report = repositoryReport(inventory, planned, outcome);

    expect(report.archived).toEqual({ images: 2, bytes: 10_000, deleted: 0 });
    expect(totalsOf([{ name: 'aws-prod', provider: 'ecr', apiCalls: 0, repositories: [report] }])).toMatchObject({
      archivedImages: 2,
      archivedBytes: 10_000,
    });
  });
});
