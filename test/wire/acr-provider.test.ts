/**
 * The ACR provider, driving the real @azure/container-registry SDK against the fake ACR data plane
 * over HTTPS. Every scenario also pins the number of requests ACR sees against the minimum the
 * SDK's protocol allows (auth: 401 + exchange + token; one 401 + token per change of token scope).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, resolvePolicy, type AcrRegistryConfig } from '../../lib/config/index.js';
import { RegistryAuthError } from '../../lib/errors.js';
import { execute } from '../../lib/execute/index.js';
import type { Inventory } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import { createAcrProvider, type AcrProviderOptions } from '../../lib/providers/acr/index.js';
import type { Provider } from '../../lib/providers/provider.js';
import { FakeAcr, fakeAadCredential } from '../support/fake-acr.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
/** 401 challenge + /oauth2/exchange + /oauth2/token: the first call of a fresh client. */
const AUTH = 3;
/** 401 + /oauth2/token: each switch of token scope (metadata_read → pull → delete, or another repository). */
const SCOPE = 2;
/** One page of the tag listing (`_tags`, for tag-level locks) in every listing of a repository with tags. */
const TAGS = 1;

let fake: FakeAcr;
const throttleDelays: number[] = [];

function config(retention: Record<string, unknown> = {}, registry: Record<string, unknown> = {}) {
  return parseConfig({
    version: 1,
    dryRun: false,
    defaults: { keep: 3, pinned: ['latest'], minAge: '0m', untagged: 'delete', ...retention },
    registries: [
      { name: 'prod', provider: 'acr', endpoint: fake.endpoint, repositories: [{ match: '**' }], ...registry },
    ],
  });
}

function providerOptions(extra: Partial<AcrProviderOptions> = {}): AcrProviderOptions {
  return {
    credential: fakeAadCredential,
    ca: fake.ca,
    retry: { retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    throttle: { sleep: async (ms) => void throttleDelays.push(ms) },
    ...extra,
  };
}

async function provider(
  extra: Partial<AcrProviderOptions> = {},
  registry: { concurrency?: number } = {},
): Promise<Provider> {
  return createAcrProvider(config({}, registry).registries[0] as AcrRegistryConfig, providerOptions(extra));
}

/** List, plan and execute one repository, as prune() does. */
async function pruneRepository(target: Provider, repository: string, retention: Record<string, unknown> = {}) {
  const cfg = config(retention);
  const inventory: Inventory = {
    registry: 'prod',
    repository,
    images: await target.listImages(repository),
    warnings: [],
  };
  const decided = plan(inventory, resolvePolicy(cfg, cfg.registries[0]!.repositories[0]!), NOW);
  const outcome = await execute({ plan: decided, inventory, provider: target, dryRun: false });
  return { inventory, plan: decided, outcome };
}

beforeAll(async () => {
  fake = await FakeAcr.start();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.resetLog();
  fake.maxPageSize = 1000;
  fake.circularLinks = false;
  throttleDelays.length = 0;
});

describe('ACR provider against the fake ACR', () => {
  it('lists every repository across catalog pages', async () => {
    for (let i = 0; i < 7; i++) fake.push(`catalog/r${i}`, { tags: ['v1'], updatedAt: daysAgo(1) });
    fake.maxPageSize = 3;
    const target = await provider();

    const names: string[] = [];
    for await (const name of target.listRepositories()) names.push(name);

    expect(names.filter((n) => n.startsWith('catalog/'))).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `catalog/r${i}`));
    const pages = Math.ceil(fake.count('GET', /^\/acr\/v1\/_catalog$/) - 1); // the first catalog request is the 401
    expect(target.stats.apiCalls).toBe(AUTH + pages);
    await target.close?.();
  });

  it('keeps the N most recent plus pinned across several manifest pages and deletes the rest', async () => {
    const digests = Array.from({ length: 12 }, (_, i) =>
      fake.push('app/web', { tags: [`b${i + 1}`], updatedAt: daysAgo(30 - i) }),
    );
    fake.tag('app/web', 'latest', digests[2]!); // latest rolled back to an old build: shares b3's digest
    fake.maxPageSize = 5;
    const target = await provider();

    const { outcome } = await pruneRepository(target, 'app/web');

    expect(fake.tags('app/web')).toEqual(['b10', 'b11', 'b12', 'b3', 'latest']);
    expect(outcome.deleted.map((d) => d.tags[0]).sort()).toEqual(['b1', 'b2', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    expect(outcome.failed).toEqual([]);
    const pages = 3; // 12 manifests, 5 per page
    // listing + one re-check listing (listTags: its targets answer the re-check) + delete scope + 8 deletes
    // (no tag listing after the batch: deleting by tag takes no protected tag along); by tag: 8 tag
    // deletes, and 8 reads of what still tags each manifest by a client of their own (its own sign-in)
    // + the tag listing (13 tags, 5 a page) for tag-level locks
    expect(target.stats.apiCalls).toBe(AUTH + pages + pages + pages + SCOPE + 8 + 8 + (AUTH + 8));
    await target.close?.();
  });

  it('deletes a multi-arch index with its children and signature, and keeps the newer index whole', async () => {
    const [c1, c2, c3, c4] = ['amd64', 'arm64', 'amd64', 'arm64'].map((architecture, i) =>
      fake.push('app/multi', { updatedAt: daysAgo(20 - (i >= 2 ? 10 : 0)), architecture }),
    );
    const oldIndex = fake.push('app/multi', {
      kind: 'index',
      tags: ['v1'],
      children: [c1!, c2!],
      updatedAt: daysAgo(20),
    });
    const newIndex = fake.push('app/multi', {
      kind: 'index',
      tags: ['v2'],
      children: [c3!, c4!],
      updatedAt: daysAgo(10),
    });
    const oldSignature = fake.push('app/multi', { kind: 'signature', subject: oldIndex, updatedAt: daysAgo(20) });
    const newSignature = fake.push('app/multi', {
      kind: 'signature',
      subject: newIndex,
      tags: [`${newIndex.replace(':', '-')}.sig`],
      updatedAt: daysAgo(10),
    });
    const images = await (await provider()).listImages('app/multi');
    const byDigest = new Map(images.map((image) => [image.digest, image]));
    fake.resetLog();
    const target = await provider();

    const { outcome } = await pruneRepository(target, 'app/multi', { keep: 1 });

    expect(byDigest.get(oldIndex)).toMatchObject({ kind: 'index', children: [c1, c2] });
    expect(byDigest.get(c1!)).toMatchObject({ kind: 'image', tags: [] });
    expect(byDigest.get(oldSignature)).toMatchObject({ kind: 'artifact', subject: oldIndex });
    expect(byDigest.get(newSignature)).toMatchObject({ kind: 'artifact', subject: newIndex });
    expect(fake.digests('app/multi').sort()).toEqual([c3, c4, newIndex, newSignature].sort());
    expect(outcome.failed).toEqual([]);
    // Only the untagged manifest no index lists (the OCI signature) is read, by a content client
    // with its own sign-in (the SDK gives each client its own token): 3 + 1 requests.
    expect(fake.count('GET', /^\/v2\/app\/multi\/manifests\//)).toBe(2);
    // list 1 page + read 1 manifest + re-check 1 page + delete scope + index, 2 children, signature
    // (already removed by ACR with its subject: a 404 the SDK treats as done); after each of the 3
    // batches (one per wave) a tag listing in read scope, and the delete scope again for the next
    const afterBatches = 3 * (1 + SCOPE) + 2 * SCOPE;
    // the tagged index by its tag: a tag delete and a read (by the check client, with its own sign-in)
    expect(target.stats.apiCalls).toBe(AUTH + 1 + TAGS + (AUTH + 1) + 1 + SCOPE + 4 + afterBatches + 1 + (AUTH + 1));
  });

  it('reports locked images as locked and never sends a delete for them', async () => {
    const locked = fake.push('app/locked', { tags: ['old'], updatedAt: daysAgo(50), locked: true });
    for (let i = 0; i < 3; i++) fake.push('app/locked', { tags: [`new${i}`], updatedAt: daysAgo(5 - i) });
    const target = await provider();

    const { inventory, outcome } = await pruneRepository(target, 'app/locked');

    expect(inventory.images.find((image) => image.digest === locked)?.locked).toBe(true);
    expect(outcome.kept.find((entry) => entry.digest === locked)?.reason).toBe('locked');
    expect(fake.count('DELETE')).toBe(0);
    expect(fake.digests('app/locked')).toContain(locked);
  });

  it('retries 429 with and without Retry-After, and 503, in the middle of a run', async () => {
    for (let i = 0; i < 6; i++) fake.push('app/throttled', { tags: [`t${i}`], updatedAt: daysAgo(10 - i) });
    fake.fail({ method: 'GET', path: /\/_manifests/, status: 429, times: 1, headers: { 'retry-after': '0' } });
    fake.fail({ method: 'DELETE', status: 429, times: 2 });
    fake.fail({ method: 'DELETE', status: 503, times: 1 });
    const target = await provider();

    const { outcome } = await pruneRepository(target, 'app/throttled');

    expect(outcome.failed.map((f) => f.error)).toEqual([]);
    expect(outcome.deleted).toHaveLength(3);
    expect(outcome.failed).toEqual([]);
    expect(fake.tags('app/throttled')).toEqual(['t3', 't4', 't5']);
    expect(target.stats.throttled).toBe(3);
    expect(target.stats.retries).toBe(4);
    expect(throttleDelays).toHaveLength(2); // only the two bare 429s went through our backoff
    // (no listing after the batch: it went by tag), and by tag: 3 tag deletes and 3 reads by the check client
    expect(target.stats.apiCalls).toBe(AUTH + 1 + TAGS + 1 + SCOPE + 3 + 4 + 3 + (AUTH + 3));
  });

  it(
    'stops with a clear error when ACR hands back a continuation it already gave, instead of paging ' + 'forever',
    async () => {
      for (let i = 0; i < 3; i++) fake.push('app/loop', { tags: [`l${i}`], updatedAt: daysAgo(3) });
      fake.maxPageSize = 1;
      fake.circularLinks = true;
      const target = await provider();

      const listing = target.listImages('app/loop');

      await expect(listing).rejects.toThrow(/same Link continuation twice/);
    },
  );

  it('caps the wait a Retry-After asks for, so an hour-long Retry-After cannot outlast the invocation', async () => {
    fake.push('app/slow', { tags: ['a'], updatedAt: daysAgo(3) });
    // Without the cap the SDK would sleep 3,600 s here and the test would time out.
    const target = await provider({ retryAfterCapMs: 5 });
    fake.fail({ method: 'GET', path: /\/_manifests/, status: 429, times: 1, headers: { 'retry-after': '3600' } });

    const images = await target.listImages('app/slow');

    expect(images.map((image) => image.tags)).toEqual([['a']]);
    expect(target.stats.throttled).toBe(1);
    expect(throttleDelays).toEqual([]); // the SDK's Retry-After path waited, not our bare-429 backoff
  });

  it('gives up on a delete ACR keeps throttling and reports it failed, without stopping the others', async () => {
    for (let i = 0; i < 5; i++) fake.push('app/storm', { tags: [`s${i}`], updatedAt: daysAgo(10 - i) });
    const target = await provider({ throttle: { maxRetries: 2, sleep: async () => {} } }, { concurrency: 1 });
    // The first delete request (before the scope 401) is the one ACR throttles every time.
    fake.fail({ method: 'DELETE', path: /s0|sha256/, status: 429, times: 3 });

    const { outcome } = await pruneRepository(target, 'app/storm');

    expect(outcome.failed).toHaveLength(1);
    expect(outcome.failed[0]!.error).toMatch(/throttling/);
    expect(outcome.deleted).toHaveLength(1);
  });

  it('survives an access token expiring mid-run (new token from the cached refresh token)', async () => {
    for (let i = 0; i < 8; i++) fake.push('app/expiry', { tags: [`e${i}`], updatedAt: daysAgo(10 - i) });
    const target = await provider({}, { concurrency: 1 });
    fake.at(AUTH + 1 + TAGS + 1 + SCOPE + 2, () => fake.expireAccessTokens()); // during the deletes

    const { outcome } = await pruneRepository(target, 'app/expiry');

    expect(outcome.deleted).toHaveLength(5);
    expect(outcome.failed).toEqual([]);
    // One sign-in per client (the main one and the one that checks tags between deletes): an expired
    // access token is renewed from the cached refresh token, not by signing in again.
    expect(fake.count('POST', /exchange/)).toBe(2);
    // (no tag listing after the batch: it went by tag); by tag: 5 tag deletes, and 5 checks by the
    // check client (it signs in after the expiry)
    expect(target.stats.apiCalls).toBe(AUTH + 1 + TAGS + 1 + SCOPE + 5 + SCOPE + 5 + (AUTH + 5));
  });

  it('survives the refresh token expiring mid-run by authenticating again from the AAD token', async () => {
    for (let i = 0; i < 8; i++) fake.push('app/refresh', { tags: [`r${i}`], updatedAt: daysAgo(10 - i) });
    const target = await provider({}, { concurrency: 1 });
    fake.at(AUTH + 1 + 1 + SCOPE + 2, () => fake.expireRefreshTokens());

    const { outcome } = await pruneRepository(target, 'app/refresh');

    expect(outcome.deleted).toHaveLength(5);
    expect(outcome.failed).toEqual([]);
    // The main client and the tag-checking client each sign in, and one signs in again.
    expect(fake.count('POST', /exchange/)).toBe(3);
  });

  it('reads a bare sha256-<hex> tag (OCI 1.1 referrers tag schema) as a referrer of that subject', async () => {
    const subject = fake.push('app/referrers', { tags: ['v1'], updatedAt: daysAgo(3) });
    const tagged = fake.push('app/referrers', {
      kind: 'signature',
      subject,
      tags: [subject.replace(':', '-')],
      updatedAt: daysAgo(3),
    });

    const images = await (await provider()).listImages('app/referrers');

    expect(images.find((image) => image.digest === tagged)).toMatchObject({ kind: 'artifact', subject });
  });

  it('resolves tags to their current digests and a missing tag to null', async () => {
    const first = fake.push('app/resolve', { tags: ['a'], updatedAt: daysAgo(3) });
    const second = fake.push('app/resolve', { tags: ['b'], updatedAt: daysAgo(2) });
    const target = await provider();

    const resolved = await target.resolveTags('app/resolve', ['a', 'b', 'gone']);

    expect(resolved).toEqual(
      new Map([
        ['a', first],
        ['b', second],
        ['gone', null],
      ]),
    );
  });

  it('lists each tag with its digest, and resolves a tag moved since that listing afresh', async () => {
    const first = fake.push('app/moved', { tags: ['a'], updatedAt: daysAgo(3) });
    const second = fake.push('app/moved', { tags: ['b'], updatedAt: daysAgo(2) });
    const target = await provider();
    const listing = await target.listTags('app/moved');
    fake.tag('app/moved', 'a', second);

    const resolved = await target.resolveTags('app/moved', ['a']);

    expect(listing).toEqual({
      tags: ['a', 'b'],
      targets: new Map([
        ['a', first],
        ['b', second],
      ]),
    });
    expect(resolved.get('a')).toBe(second);
  });

  it('reports a manifest it cannot read as a warning of the inventory', async () => {
    const orphan = fake.push('app/unreadable', { tags: [], updatedAt: daysAgo(3) });
    const target = await provider();
    fake.fail({ method: 'GET', path: /^\/v2\/app\/unreadable\/manifests\//, status: 403, times: 10 });

    const inventory = await target.listInventory('app/unreadable');

    expect(inventory.images.map((image) => image.digest)).toEqual([orphan]);
    expect(inventory.warnings).toEqual([expect.stringMatching(new RegExp(`^${orphan}: manifest unreadable`))]);
  });

  it('resolves a long tag list with one fresh manifest listing instead of one request per tag', async () => {
    const digests = Array.from({ length: 6 }, (_, i) =>
      fake.push('app/many', { tags: [`m${i}`], updatedAt: daysAgo(9 - i) }),
    );
    const target = await provider();
    await target.listImages('app/many');
    fake.resetLog();

    const resolved = await target.resolveTags('app/many', ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);

    expect([...resolved.values()]).toEqual(digests);
    expect(fake.count('GET', /\/_tags\//)).toBe(0);
    expect(fake.count('GET', /\/_manifests$/)).toBe(1);
  });

  it('asks the credential for the scope of the configured audience (sovereign clouds)', async () => {
    fake.push('app/audience', { tags: ['a'], updatedAt: daysAgo(1) });
    const scopes: string[] = [];
    const credential = {
      getToken: async (scope: string | string[]) => {
        scopes.push(String(scope));
        return fakeAadCredential.getToken();
      },
    };
    const cfg = config({}, { audience: 'https://management.usgovcloudapi.net' });

    const target = await createAcrProvider(cfg.registries[0] as AcrRegistryConfig, providerOptions({ credential }));
    await target.listImages('app/audience');

    expect(scopes).toEqual(['https://management.usgovcloudapi.net/.default']);
  });

  it('fails with RegistryAuthError naming the roles when ACR refuses the AAD token', async () => {
    fake.push('app/denied', { tags: ['x'], updatedAt: daysAgo(3) });
    const target = await provider({
      credential: { getToken: async () => ({ token: 'wrong', expiresOnTimestamp: Date.now() + 60_000 }) },
    });

    const listing = target.listImages('app/denied');

    await expect(listing).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(listing).rejects.toThrow(/AcrPull \+ AcrDelete/);
  });

  it('deletes a tagged manifest by its tags, and keeps it when a tag was moved onto it meanwhile', async () => {
    const old = fake.push('app/by-tag', { tags: ['b1'], updatedAt: daysAgo(20) });
    const older = fake.push('app/by-tag', { tags: ['b0'], updatedAt: daysAgo(30) });
    fake.tag('app/by-tag', 'latest', old); // latest rolled back onto a build the plan deletes
    const target = await provider();

    const [kept, gone] = await target.delete('app/by-tag', [
      { digest: old, tags: ['b1'], action: 'delete-manifest' },
      { digest: older, tags: ['b0'], action: 'delete-manifest' },
    ]);

    expect(kept).toMatchObject({ ok: true, stillTaggedBy: ['latest'] });
    expect(gone).toMatchObject({ ok: true });
    expect(fake.tags('app/by-tag')).toEqual(['latest']);
    expect(fake.digests('app/by-tag')).toEqual([old]);
  });
});

describe('ACR locks (writeEnabled and deleteEnabled, on the image or a tag)', () => {
  it('keeps an image whose writeEnabled is false as locked (deleteEnabled true), naming the attribute', async () => {
    const locked = fake.push('lock/write', { tags: ['old'], updatedAt: daysAgo(50), writeEnabled: false });
    for (let i = 0; i < 3; i++) fake.push('lock/write', { tags: [`new${i}`], updatedAt: daysAgo(5 - i) });
    const target = await provider();

    const { inventory, outcome } = await pruneRepository(target, 'lock/write');

    expect(inventory.images.find((image) => image.digest === locked)).toMatchObject({
      locked: true,
      locks: [{ level: 'image', attribute: 'writeEnabled' }],
    });
    expect(outcome.kept.find((entry) => entry.digest === locked)).toMatchObject({
      reason: 'locked',
      locks: [{ level: 'image', attribute: 'writeEnabled' }],
    });
    expect(fake.count('DELETE')).toBe(0);
    expect(outcome.failed).toEqual([]);
    await target.close?.();
  });

  it('keeps an image with a locked tag as locked, naming the tag, from the whole tag listing', async () => {
    // The locked tag sits on an old manifest, not on the newest one the tag listing is asked through.
    const old = fake.push('lock/tag', { tags: ['old', 'old-alias'], updatedAt: daysAgo(50) });
    fake.push('lock/tag', { tags: ['older'], updatedAt: daysAgo(60) });
    for (let i = 0; i < 3; i++) fake.push('lock/tag', { tags: [`new${i}`], updatedAt: daysAgo(5 - i) });
    fake.lockTag('lock/tag', 'old-alias', { deleteEnabled: false });
    fake.lockTag('lock/tag', 'old', { writeEnabled: false });
    const target = await provider();

    const { outcome } = await pruneRepository(target, 'lock/tag');

    expect(outcome.kept.find((entry) => entry.digest === old)).toMatchObject({
      reason: 'locked',
      locks: [
        { level: 'tag', attribute: 'writeEnabled', tag: 'old' },
        { level: 'tag', attribute: 'deleteEnabled', tag: 'old-alias' },
      ],
    });
    expect(fake.tags('lock/tag')).toEqual(['new0', 'new1', 'new2', 'old', 'old-alias']);
    expect(fake.count('DELETE', /\/_tags\/old(-alias)?$/)).toBe(0);
    expect(fake.count('DELETE', new RegExp(old))).toBe(0);
    expect(outcome.failed).toEqual([]);
    await target.close?.();
  });

  it('reports a lock set after the listing (405 REGISTRY_DISALLOWED_OPERATION) with the unlock hint', async () => {
    const stray = fake.push('lock/late', { updatedAt: daysAgo(40) });
    fake.push('lock/late', { tags: ['v1'], updatedAt: daysAgo(1) });
    const target = await provider();
    const cfg = config();
    const images = await target.listImages('lock/late');
    const inventory: Inventory = { registry: 'prod', repository: 'lock/late', images, warnings: [] };
    const decided = plan(inventory, resolvePolicy(cfg, cfg.registries[0]!.repositories[0]!), NOW);
    fake.lockManifest('lock/late', stray, { writeEnabled: false });

    const outcome = await execute({ plan: decided, inventory, provider: target, dryRun: false });

    expect(outcome.failed).toHaveLength(1);
    const error = outcome.failed[0]!.error;
    expect(error).toMatch(/^locked: .*405 REGISTRY_DISALLOWED_OPERATION.*writeEnabled or deleteEnabled/);
    expect(error).toContain(`--image lock/late@${stray} --write-enabled true --delete-enabled true`);
    expect(fake.digests('lock/late')).toContain(stray);
    await target.close?.();
  });
});

describe('fake ACR paging, as the data-plane swagger says', () => {
  it('continues a manifest listing after a `last` deleted between pages, instead of restarting at page 1', async () => {
    const digests = Array.from({ length: 6 }, (_, i) =>
      fake.push('page/vanish', { tags: [`p${i}`], updatedAt: daysAgo(10 - i) }),
    );
    fake.maxPageSize = 2;
    const target = await provider();
    // Requests: the 401, exchange, token, page 1 (the two newest), then page 2: page 1's last goes before it.
    fake.at(AUTH + 2, () => fake.drop('page/vanish', digests[4]!));

    const images = await target.listImages('page/vanish');

    // Each manifest once: page 2 starts after where `last` was, not back at page 1 (which would hand
    // back page 1's Link again: an endless loop the provider refuses).
    expect(images.map((image) => image.digest).sort()).toEqual([...digests].sort());
    await target.close?.();
  });

  it('continues the catalog lexically after a repository that vanished between pages', async () => {
    const shared = fake;
    fake = await FakeAcr.start(); // a registry of its own: page 1 must end with the repository that vanishes
    try {
      const gone = fake.push('vanish/c', { updatedAt: daysAgo(1) });
      for (const name of ['vanish/a', 'vanish/b', 'vanish/d', 'vanish/e']) fake.push(name, { updatedAt: daysAgo(1) });
      fake.maxPageSize = 3;
      const target = await provider();
      // Requests: the 401, exchange, token, page 1 (a, b, c), then page 2 after c, which goes before it.
      fake.at(AUTH + 2, () => fake.drop('vanish/c', gone));

      const names: string[] = [];
      for await (const name of target.listRepositories()) names.push(name);

      expect(names).toEqual(['vanish/a', 'vanish/b', 'vanish/c', 'vanish/d', 'vanish/e']);
      await target.close?.();
    } finally {
      await fake.close();
      fake = shared;
    }
  });
});
