import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { RegistryAuthError, RegistryUnavailableError, UsageError } from '../../lib/errors.js';
import type { Image } from '../../lib/model.js';
import { exitCodeFor, prune } from '../../lib/run/prune.js';
import { formatSummary } from '../../lib/report/summary.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const MiB = 1024 * 1024;

function configWith(fields: { dryRun?: boolean; registries?: string[]; repositoryConcurrency?: number } = {}) {
  return parseConfig({
    version: 1,
    dryRun: fields.dryRun ?? false,
    defaults: { keep: 1, minAge: '0s', pinned: ['latest'] },
    registries: (fields.registries ?? ['local']).map((name) => ({
      name,
      provider: 'oci',
      endpoint: `http://127.0.0.1:5000`,
      ...(fields.repositoryConcurrency !== undefined ? { repositoryConcurrency: fields.repositoryConcurrency } : {}),
      repositories: [{ match: 'app/**' }, { match: 'base/*', keep: 2 }],
    })),
  });
}

/** Three builds: `latest` on the newest, two older ones the policy (keep 1) deletes. */
function history(prefix: string): Image[] {
  return [
    image({ name: `${prefix}-3`, tags: ['latest', '3'], pushedAt: daysAgo(1) }),
    image({ name: `${prefix}-2`, tags: ['2'], pushedAt: daysAgo(2) }),
    image({ name: `${prefix}-1`, tags: ['1'], pushedAt: daysAgo(3) }),
  ];
}

function registryOf(repositories: Record<string, readonly Image[]>, name = 'local'): MemoryProvider {
  return new MemoryProvider({ name, repositories });
}

function providers(byName: Record<string, MemoryProvider>) {
  return async (registry: RegistryConfig) => {
    const provider = byName[registry.name];
    if (!provider) throw new Error(`no test provider for ${registry.name}`);
    return provider;
  };
}

describe('prune', () => {
  it('prunes every repository a rule matches and reports each', async () => {
    const provider = registryOf({ 'app/web': history('web'), 'app/api': history('api') });

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    expect(report.registries[0]!.repositories.map((r) => [r.name, r.images])).toEqual([
      ['app/api', { before: 3, kept: 2, deleted: 1, failed: 0, pending: 0 }],
      ['app/web', { before: 3, kept: 2, deleted: 1, failed: 0, pending: 0 }],
    ]);
    expect(provider.digests('app/web')).toHaveLength(2);
    expect(exitCodeFor(report)).toBe(0);
    expect(report.complete).toBe(true);
  });

  it('leaves a repository that matches no rule untouched and unlisted', async () => {
    const provider = registryOf({ 'app/web': history('web'), 'other/thing': history('other') });

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    expect(report.registries[0]!.repositories.map((r) => r.name)).toEqual(['app/web']);
    expect(provider.calls.filter((call) => call.repository === 'other/thing')).toEqual([]);
    expect(provider.digests('other/thing')).toHaveLength(3);
  });

  it('narrows to the repositories matching the filter', async () => {
    const provider = registryOf({ 'app/web': history('web'), 'app/api': history('api') });

    const report = await prune({
      config: configWith(),
      now: NOW,
      repositories: 'app/w*',
      providerFor: providers({ local: provider }),
    });

    expect(report.registries[0]!.repositories.map((r) => r.name)).toEqual(['app/web']);
    expect(provider.digests('app/api')).toHaveLength(3);
  });

  it('never widens past the config rules with the filter', async () => {
    const provider = registryOf({ 'other/thing': history('other') });

    const report = await prune({
      config: configWith(),
      now: NOW,
      repositories: '**',
      providerFor: providers({ local: provider }),
    });

    expect(report.registries[0]!.repositories).toEqual([]);
    expect(provider.deletedDigests()).toEqual([]);
  });

  it('rejects a bad filter before calling any registry', async () => {
    const provider = registryOf({ 'app/web': history('web') });

    const run = prune({
      config: configWith(),
      now: NOW,
      repositories: '/[/',
      providerFor: providers({ local: provider }),
    });

    await expect(run).rejects.toBeInstanceOf(UsageError);
    expect(provider.calls).toEqual([]);
  });

  it('runs only the named registries', async () => {
    const first = registryOf({ 'app/web': history('a') }, 'first');
    const second = registryOf({ 'app/web': history('b') }, 'second');

    const report = await prune({
      config: configWith({ registries: ['first', 'second'] }),
      now: NOW,
      registries: ['second'],
      providerFor: providers({ first, second }),
    });

    expect(report.registries.map((r) => r.name)).toEqual(['second']);
    expect(first.calls).toEqual([]);
  });

  it('reports an unreachable registry, goes on with the next, and exits 1', async () => {
    const down = registryOf({}, 'down');
    down.throwing.set(
      'listRepositories',
      new RegistryUnavailableError('cannot connect to http://127.0.0.1:5000 (ECONNREFUSED); is the registry running?'),
    );
    const up = registryOf({ 'app/web': history('web') }, 'up');

    const report = await prune({
      config: configWith({ registries: ['down', 'up'] }),
      now: NOW,
      providerFor: providers({ down, up }),
    });

    expect(report.registries[0]!.error).toBe(
      'registry "down" (http://127.0.0.1:5000): cannot connect to http://127.0.0.1:5000 (ECONNREFUSED); is the ' +
        'registry running?',
    );
    expect(report.registries[1]!.repositories[0]!.images.deleted).toBe(1);
    expect(exitCodeFor(report)).toBe(1);
    expect(down.closed && up.closed).toBe(true);
  });

  it('reports a registry whose provider cannot be built', async () => {
    const report = await prune({
      config: configWith(),
      now: NOW,
      providerFor: async () => {
        throw new RegistryAuthError('OCI_PASSWORD is not set; export it or remove auth from the config');
      },
    });

    expect(report.registries[0]!.error).toContain('OCI_PASSWORD is not set');
    expect(exitCodeFor(report)).toBe(1);
  });

  it('records a repository that cannot be listed and goes on with the others', async () => {
    const provider = registryOf({ 'app/api': history('api'), 'app/web': history('web') });
    provider.listImagesFailures.set('app/api', new RegistryAuthError('denied: pull access to app/api'));

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    const [api, web] = report.registries[0]!.repositories;
    expect(api!.error).toBe('could not list app/api: denied: pull access to app/api; nothing in it was deleted');
    expect(web!.images.deleted).toBe(1);
    expect(report.registries[0]!.error).toBeUndefined();
    expect(exitCodeFor(report)).toBe(1);
  });

  it('stops a registry that goes away while listing a repository', async () => {
    const provider = registryOf({ 'app/api': history('api'), 'app/web': history('web') });
    provider.listImagesFailures.set('app/api', new RegistryUnavailableError('connection reset'));

    // One at a time: with more, app/web would already be in flight and finish.
    const config = configWith({ repositoryConcurrency: 1 });
    const report = await prune({ config, now: NOW, providerFor: providers({ local: provider }) });

    expect(report.registries[0]!.repositories.map((r) => r.name)).toEqual(['app/api']);
    expect(report.registries[0]!.error).toContain('connection reset (stopped after 1 of 2 repositories)');
  });

  it('gives exit code 1 when a deletion fails, and still deletes the rest', async () => {
    const images = history('web');
    const provider = registryOf({ 'app/web': images, 'app/api': history('api') });
    provider.deleteFailures.set(images[2]!.digest, 'DENIED');

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    expect(report.totals.failed).toBe(1);
    expect(report.totals.deleted).toBe(1);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('deletes nothing in a dry run (the config default) and lists what a real run then deletes', async () => {
    const provider = registryOf({ 'app/web': history('web'), 'base/debian': history('deb') });
    const dryConfig = parseConfig({ ...configWith(), dryRun: undefined });

    const dry = await prune({ config: dryConfig, now: NOW, providerFor: providers({ local: provider }) });
    const deletesDuringDryRun = provider.deletedDigests().length;
    const real = await prune({
      config: dryConfig,
      dryRun: false,
      now: NOW,
      providerFor: providers({ local: provider }),
    });

    expect(dry.dryRun).toBe(true);
    expect(deletesDuringDryRun).toBe(0);
    const listed = (report: typeof dry) =>
      report.registries.flatMap((r) => r.repositories.flatMap((repo) => repo.deleted));
    expect(listed(real)).toEqual(listed(dry));
    expect(listed(dry)).toHaveLength(1);
  });

  it('leaves the rest pending and marks the report incomplete when the time budget runs out', async () => {
    const provider = registryOf({ 'app/web': history('web') });
    let remainingMs = 100_000;
    provider.before.set('listImages', () => {
      remainingMs = 0; // the budget runs out while the repository is listed
    });

    const report = await prune({
      config: configWith(),
      now: NOW,
      remainingMs: () => remainingMs,
      safetyMarginMs: 5_000,
      providerFor: providers({ local: provider }),
    });

    expect(report.complete).toBe(false);
    expect(report.totals.pending).toBe(1);
    expect(exitCodeFor(report)).toBe(0);
    expect(provider.deletedDigests()).toEqual([]);
  });

  it('marks the report incomplete when it runs out of time before examining a repository', async () => {
    const provider = registryOf({ 'app/web': history('web') });

    const report = await prune({
      config: configWith(),
      now: NOW,
      remainingMs: () => 1_000,
      safetyMarginMs: 5_000,
      providerFor: providers({ local: provider }),
    });

    expect(report.complete).toBe(false);
    expect(report.registries[0]!.repositories).toEqual([]);
  });

  it('counts the API calls of each registry and reclaims shared layers once', async () => {
    const base = { digest: `sha256:${'b'.repeat(64)}`, sizeBytes: 10 * MiB };
    const layer = (n: number) => ({ digest: `sha256:${String(n).repeat(64)}`, sizeBytes: MiB });
    const images = history('web').map((img, n) => ({ ...img, blobs: [base, layer(n + 1)] }));
    const provider = registryOf({ 'app/web': images });

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    expect(report.totals.bytesBefore).toBe(13 * MiB);
    expect(report.totals.bytesReclaimed).toBe(MiB);
    expect(report.totals.apiCalls).toBe(provider.stats.apiCalls);
    expect(report.registries[0]!.apiCalls).toBeGreaterThan(0);
  });

  it('puts what the provider noticed while listing into the repository report', async () => {
    class NoticingProvider extends MemoryProvider {
      override async listInventory(repository: string) {
        return {
          registry: this.name,
          repository,
          images: await this.listImages(repository),
          warnings: ['b0 has no known push time'],
        };
      }
    }
    const provider = new NoticingProvider({ repositories: { 'app/web': history('web') } });

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    expect(report.registries[0]!.repositories[0]!.warnings).toContain('b0 has no known push time');
  });

  it('counts a layer two repositories share once in the summary table', async () => {
    const base = { digest: `sha256:${'b'.repeat(64)}`, sizeBytes: 10 * MiB };
    const withBase = (images: Image[]) =>
      images.map((img, n) => ({ ...img, blobs: [base, { digest: `${img.digest.slice(0, 20)}${n}`, sizeBytes: MiB }] }));
    const provider = registryOf({ 'app/web': withBase(history('web')), 'app/api': withBase(history('api')) });

    const report = await prune({ config: configWith(), now: NOW, providerFor: providers({ local: provider }) });

    const table = formatSummary(report);
    expect(table).toMatch(/unique blobs\s+7\s+5\n/);
    expect(table).toMatch(/bytes\s+16\.0 MiB\s+14\.0 MiB\n/);
  });
});
