/**
 * The inventory cache on the OCI provider, against a fake Distribution registry: a repeat run reads no
 * manifest or config it knows, the cache is bounded, survives corruption and concurrent writers, and
 * never changes a plan. docs/design.md, "Inventory cache".
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKeyOf, InventoryCache } from '../../lib/cache/inventory-cache.js';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import type { Logger } from '../../lib/log.js';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import type { InventoryCachePort } from '../../lib/providers/provider.js';
import { prune } from '../../lib/run/prune.js';
import type { Report } from '../../lib/report/types.js';
import { FakeOciRegistry, OCI_MANIFEST } from '../support/fake-oci.js';
import { MemoryStateStore } from '../support/memory-store.js';

const NOW = new Date('2026-03-15T12:00:00.000Z');
const DAY_MS = 86_400_000;

let registry: FakeOciRegistry | undefined;

afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(options: Parameters<typeof FakeOciRegistry.start>[0] = {}): Promise<FakeOciRegistry> {
  registry = await FakeOciRegistry.start(options);
  return registry;
}

function configFor(fake: FakeOciRegistry, keep = 2) {
  return parseConfig({
    version: 1,
    dryRun: true,
    defaults: { pinned: [], minAge: '0m' },
    registries: [{ name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [{ match: '**', keep }] }],
  });
}

function recordingLogger(): Logger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  return { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {}, warnings };
}

/** A plan (dry run) through `prune()` with the state store; `cache: false` is `--no-cache`. */
async function planRun(
  fake: FakeOciRegistry,
  store: MemoryStateStore | undefined,
  options: { cache?: boolean; log?: Logger; keep?: number } = {},
): Promise<Report> {
  return prune({
    config: configFor(fake, options.keep),
    now: NOW,
    dryRun: true,
    ...(store ? { state: store } : {}),
    ...(options.cache === false ? { inventoryCache: false } : {}),
    providerFor: async (config: RegistryConfig, extras) =>
      createOciProvider(config as Extract<RegistryConfig, { provider: 'oci' }>, {
        env: {},
        sleep: async () => {},
        ...(options.log ? { log: options.log } : {}),
        ...(extras?.cache ? { cache: extras.cache } : {}),
      }),
    ...(options.log ? { log: options.log } : {}),
  });
}

/** What a plan decided, without run figures (times, API calls). */
function decisions(report: Report) {
  return report.registries.map((entry) => ({
    name: entry.name,
    error: entry.error,
    repositories: entry.repositories.map((repository) => ({
      name: repository.name,
      images: repository.images,
      bytes: repository.bytes,
      kept: repository.kept,
      deleted: repository.deleted,
      warnings: repository.warnings,
    })),
  }));
}

function seed(fake: FakeOciRegistry, repositories: number, builds: number): void {
  for (let r = 0; r < repositories; r++) {
    for (let b = 0; b < builds; b++) {
      fake.pushImage(`team/app-${r}`, {
        tags: [`b${b}`],
        created: new Date(NOW.getTime() - (builds - b + 1) * DAY_MS).toISOString(),
        salt: `${r}-${b}`,
      });
    }
  }
}

const count = (fake: FakeOciRegistry, since: number, test: (method: string, path: string) => boolean) =>
  fake.requests.slice(since).filter((request) => test(request.method, request.path)).length;

describe('inventory cache on an OCI registry', () => {
  it(
    'makes a second plan over an unchanged registry cost catalog and tag pages and one HEAD per tag ' + '(call budget)',
    async () => {
      const fake = await start();
      seed(fake, 3, 4);
      const store = new MemoryStateStore();
      const first = await planRun(fake, store);
      const since = fake.requests.length;

      const second = await planRun(fake, store);

      const requests = fake.requests.slice(since);
      expect(decisions(second)).toEqual(decisions(first));
      expect(requests.filter((request) => request.method === 'HEAD')).toHaveLength(12);
      expect(count(fake, since, (method, path) => method === 'GET' && path.includes('/manifests/'))).toBe(0);
      expect(count(fake, since, (_, path) => path.includes('/blobs/'))).toBe(0);
      expect(count(fake, since, (_, path) => path.includes('/referrers/'))).toBe(0);
      // 1 catalog page + 3 tag pages + 12 HEADs: the floor.
      expect(requests).toHaveLength(1 + 3 + 12);
    },
  );

  it('reads only the new build’s manifest and config after a push', async () => {
    const fake = await start();
    seed(fake, 2, 3);
    const store = new MemoryStateStore();
    await planRun(fake, store);
    const pushed = fake.pushImage('team/app-1', { tags: ['b9'], created: NOW.toISOString(), salt: 'new' });
    const since = fake.requests.length;

    const report = await planRun(fake, store);

    const reads = fake.requests.slice(since).filter((request) => request.method === 'GET');
    expect(
      reads.map((request) => request.path).filter((path) => !path.endsWith('/tags/list') && path !== '/v2/_catalog'),
    ).toEqual([`/v2/team/app-1/manifests/${pushed.digest}`, `/v2/team/app-1/blobs/${pushed.configDigest}`]);
    expect(report.registries[0]!.repositories[1]!.kept.map((kept) => kept.tags)).toContainEqual(['b9']);
  });

  it('reads every manifest with --no-cache and leaves the cache alone', async () => {
    const fake = await start();
    seed(fake, 1, 3);
    const store = new MemoryStateStore();
    await planRun(fake, store);
    const written = store.operations.length;
    const since = fake.requests.length;

    await planRun(fake, store, { cache: false });

    expect(count(fake, since, (method, path) => method === 'GET' && path.includes('/manifests/'))).toBe(3);
    expect(count(fake, since, (_, path) => path.includes('/blobs/'))).toBe(3);
    expect(store.operations.slice(written).filter((operation) => operation.key.startsWith('cache/'))).toEqual([]);
  });

  it('keys the cache by the registry endpoint and the repository, and keeps no credentials', async () => {
    const fake = await start();
    seed(fake, 1, 1);
    const store = new MemoryStateStore();

    await planRun(fake, store);

    const key = cacheKeyOf(lockKeyFor(configFor(fake).registries[0]!), 'team/app-0');
    expect([...store.records.keys()].filter((name) => name.startsWith('cache/'))).toEqual([key]);
    expect(key).toContain(encodeURIComponent(new URL(fake.url).host));
  });

  it('rebuilds a corrupt cache record with a warning, and plans the same', async () => {
    const fake = await start();
    seed(fake, 1, 3);
    const store = new MemoryStateStore();
    const first = await planRun(fake, store);
    const key = [...store.records.keys()].find((name) => name.startsWith('cache/'))!;
    store.poke(key, '{"version":1,"run":');
    const log = recordingLogger();
    const since = fake.requests.length;

    const second = await planRun(fake, store, { log });

    expect(decisions(second)).toEqual(decisions(first));
    expect(log.warnings.some((warning) => warning.includes('is corrupt') && warning.includes('rebuilt'))).toBe(true);
    expect(count(fake, since, (method, path) => method === 'GET' && path.includes('/manifests/'))).toBe(3);
    expect(JSON.parse(store.text(key)!)).toMatchObject({ version: 1 });
    const third = fake.requests.length;
    await planRun(fake, store);
    expect(count(fake, third, (method, path) => method === 'GET' && path.includes('/manifests/'))).toBe(0);
  });

  it('reads a manifest again when its cached bytes no longer match its digest', async () => {
    const fake = await start();
    const pushed = fake.pushImage('app', { tags: ['v1'], created: '2026-03-01T00:00:00Z' });
    const store = new MemoryStateStore();
    const first = await planRun(fake, store);
    const key = [...store.records.keys()].find((name) => name.startsWith('cache/'))!;
    const record = JSON.parse(store.text(key)!) as { manifests: Record<string, { b: string }> };
    record.manifests[pushed.digest]!.b = `${record.manifests[pushed.digest]!.b} `;
    store.poke(key, JSON.stringify(record));
    const since = fake.requests.length;

    const second = await planRun(fake, store);

    expect(decisions(second)).toEqual(decisions(first));
    expect(count(fake, since, (method, path) => method === 'GET' && path.endsWith(`/manifests/${pushed.digest}`))).toBe(
      1,
    );
  });

  it('drops entries no listing used for the configured number of runs', async () => {
    const fake = await start();
    const old = fake.pushImage('app', { tags: ['old'], created: '2026-03-01T00:00:00Z' });
    fake.pushImage('app', { tags: ['new'], created: '2026-03-02T00:00:00Z' });
    const store = new MemoryStateStore();
    const cache = new InventoryCache({ store, registryKey: 'reg.example', maxIdleRuns: 2 });
    const provider = createOciProvider(
      { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [] },
      { env: {}, cache },
    );
    const key = cacheKeyOf('reg.example', 'app');
    await provider.listInventory('app');
    await provider.close?.();
    fake.repository('app').tags.delete('old');

    const held: boolean[] = [];
    for (let run = 0; run < 3; run++) {
      await provider.listInventory('app');
      await provider.close?.();
      held.push(old.digest in (JSON.parse(store.text(key)!) as { manifests: object }).manifests);
    }

    // Unused in the second listing it stays; unused in two, it goes.
    expect(held).toEqual([true, false, false]);
  });

  it('keeps the entries of two runs that write one record at the same time', async () => {
    const store = new MemoryStateStore();
    const cache = new InventoryCache({ store, registryKey: 'reg.example' });
    const a = await cache.open('app');
    const b = await cache.open('app');
    a.rememberConfig('sha256:aaa', '2026-01-01T00:00:00Z');
    b.rememberConfig('sha256:bbb', undefined);

    await a.save();
    await b.save();

    const reopened = await cache.open('app');
    expect(reopened.config('sha256:aaa')).toEqual({ created: '2026-01-01T00:00:00Z' });
    expect(reopened.config('sha256:bbb')).toEqual({ created: undefined });
  });

  it('drops the records of repositories the registry no longer has, after a complete listing only', async () => {
    const fake = await start();
    seed(fake, 2, 2);
    const store = new MemoryStateStore();
    const registryKey = lockKeyFor(configFor(fake).registries[0]!);
    const gone = await new InventoryCache({ store, registryKey }).open('team/deleted-since');
    gone.rememberConfig('sha256:aaa', '2026-01-01T00:00:00Z');
    await gone.save();
    const other = await new InventoryCache({ store, registryKey: 'other.example' }).open('team/deleted-since');
    other.rememberConfig('sha256:bbb', '2026-01-01T00:00:00Z');
    await other.save();

    await prune({
      config: configFor(fake),
      now: NOW,
      dryRun: true,
      state: store,
      repositories: 'team/app-0',
      providerFor: async (config: RegistryConfig, extras) =>
        createOciProvider(config as Extract<RegistryConfig, { provider: 'oci' }>, {
          env: {},
          sleep: async () => {},
          ...(extras?.cache ? { cache: extras.cache } : {}),
        }),
    });
    // A narrowed run did not see every repository: it forgets nothing.
    expect(await store.list('cache/v1/')).toContain(cacheKeyOf(registryKey, 'team/deleted-since'));

    await planRun(fake, store);

    expect((await store.list('cache/v1/')).sort()).toEqual(
      [
        cacheKeyOf(registryKey, 'team/app-0'),
        cacheKeyOf(registryKey, 'team/app-1'),
        cacheKeyOf('other.example', 'team/deleted-since'),
      ].sort(),
    );
  });

  it('stops dropping stale records when told to, and a later run drops the rest', async () => {
    const store = new MemoryStateStore();
    const log = recordingLogger();
    const cache = new InventoryCache({ store, registryKey: 'one.example', log });
    for (const name of ['kept', ...Array.from({ length: 20 }, (_, i) => `gone-${i}`)]) {
      const record = await cache.open(name);
      record.rememberConfig('sha256:aaa', 'x');
      await record.save();
    }
    let checks = 0;

    // The budget runs out after five deletions.
    expect(await cache.forgetAllBut(['kept'], () => ++checks > 5)).toBe(5);

    expect(await store.list('cache/v1/')).toHaveLength(1 + 15);
    expect(log.warnings).toEqual([expect.stringContaining('dropped 5 of 20 inventory cache records')]);
    expect(await cache.forgetAllBut(['kept'])).toBe(15);
    expect(await store.list('cache/v1/')).toEqual([cacheKeyOf('one.example', 'kept')]);
  });

  it('gives runs against two registries records of their own', async () => {
    const store = new MemoryStateStore();
    const one: InventoryCachePort = new InventoryCache({ store, registryKey: 'one.example' });
    const two: InventoryCachePort = new InventoryCache({ store, registryKey: 'two.example:5000' });
    const a = await one.open('app');
    const b = await two.open('app');
    a.rememberConfig('sha256:aaa', 'x');
    b.rememberConfig('sha256:bbb', 'y');

    await Promise.all([a.save(), b.save()]);

    expect((await one.open('app')).config('sha256:bbb')).toBeUndefined();
    expect((await two.open('app')).config('sha256:bbb')).toEqual({ created: 'y' });
  });

  it('goes on without the cache, with a warning, when the store cannot be read', async () => {
    const fake = await start();
    seed(fake, 1, 2);
    const store = new MemoryStateStore();
    store.read = async () => {
      throw new Error('disk on fire');
    };
    const log = recordingLogger();

    const report = await planRun(fake, store, { log });

    expect(report.registries[0]!.error).toBeUndefined();
    expect(report.registries[0]!.repositories[0]!.images.before).toBe(2);
    expect(log.warnings.some((warning) => warning.includes('cannot be read'))).toBe(true);
  });
});

/** One generated registry change: a push (image or index), a tag moved, a tag deleted. */
type Step =
  | { kind: 'push'; repository: number; tag: number; hoursAgo: number; platforms: number; annotated: boolean }
  | { kind: 'move'; repository: number; from: number; to: number }
  | { kind: 'untag'; repository: number; tag: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      repository: fc.nat(2),
      tag: fc.nat(5),
      hoursAgo: fc.nat(24 * 30),
      platforms: fc.nat(2),
      annotated: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('move' as const), repository: fc.nat(2), from: fc.nat(5), to: fc.nat(5) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('untag' as const), repository: fc.nat(2), tag: fc.nat(5) }), weight: 1 },
);

function apply(fake: FakeOciRegistry, step: Step, salt: string): void {
  const repository = `repo-${step.repository}`;
  const tags = fake.repository(repository).tags;
  switch (step.kind) {
    case 'push': {
      const created = new Date(NOW.getTime() - step.hoursAgo * 3_600_000).toISOString();
      const tag = `t${step.tag}`;
      if (step.platforms === 0) {
        fake.pushImage(repository, {
          tags: [tag],
          ...(step.annotated ? { annotations: { 'org.opencontainers.image.created': created } } : { created }),
          salt,
        });
        return;
      }
      const children = Array.from({ length: step.platforms }, (_, platform) => {
        const child = fake.pushImage(repository, { created, salt: `${salt}-${platform}` });
        return { ...fake.descriptorOf(repository, child.digest), mediaType: OCI_MANIFEST };
      });
      fake.pushIndex(repository, { tags: [tag], children });
      return;
    }
    case 'move': {
      const target = tags.get(`t${step.from}`);
      if (target !== undefined) tags.set(`t${step.to}`, target);
      return;
    }
    case 'untag':
      tags.delete(`t${step.tag}`);
      return;
  }
}

describe('inventory cache equivalence (property)', () => {
  it('never changes a plan: cached and uncached runs decide the same after any changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }),
        fc.array(stepArbitrary, { maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        async (before, between, keep) => {
          const fake = await FakeOciRegistry.start();
          try {
            for (let r = 0; r < 3; r++) fake.createRepository(`repo-${r}`);
            for (const [index, step] of before.entries()) apply(fake, step, `a${index}`);
            const store = new MemoryStateStore();
            const warm = await planRun(fake, store, { keep });
            expect(decisions(warm)).toEqual(decisions(await planRun(fake, undefined, { keep })));
            for (const [index, step] of between.entries()) apply(fake, step, `b${index}`);

            const cached = await planRun(fake, store, { keep });
            const uncached = await planRun(fake, undefined, { keep });

            expect(decisions(cached)).toEqual(decisions(uncached));
          } finally {
            await fake.close();
          }
        },
      ),
      { numRuns: 25, seed: 20261127 },
    );
  });
});
