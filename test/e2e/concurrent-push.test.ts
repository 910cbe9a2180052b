/**
 * A CI pipeline pushes while regprune runs: between listing and deleting, a new tag lands on an
 * image the plan meant to delete, and a kept tag moves onto another. On a real registry
 * (docker-registry 2.8), deleting those manifests would delete the new tags with them; the
 * re-verification just before deleting must keep them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { prune } from '../../lib/run/prune.js';
import type { Report } from '../../lib/report/types.js';
import { realProviderWith } from '../support/intercept.js';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher, type PushedImage } from '../support/seed.js';
import { SETUP_TIMEOUT_MS, e2eSkipReason, keepNewest } from './harness.js';

const skipReason = e2eSkipReason();
const REPOSITORY = 'app/web';

describe.skipIf(skipReason !== null)('pruning while a pipeline pushes', () => {
  let registry: RunningRegistry;
  let reader: RegistryReader;
  let builds: Array<PushedImage & { readonly bytes: Uint8Array }>;
  let report: Report;
  let pushedDuringRun = false;

  beforeAll(async () => {
    registry = await startRegistry();
    reader = new RegistryReader(registry.url);
    const pusher = new RegistryPusher(registry.url);
    const now = new Date();
    builds = await pushBuildHistory(pusher, REPOSITORY, {
      builds: 8,
      firstCreated: daysBefore(now, 20),
      lastCreated: daysBefore(now, 3),
      baseLayers: [makeLayer('concurrent base', 2048)],
    });
    const config = keepNewest(registry.url, REPOSITORY, 2);
    // The plan keeps b7, b8 and deletes b1..b6. Once listing is done, the "pipeline" tags b1's
    // image as hotfix (a new tag) and moves the kept tag b8 onto b2's image.
    const providerFor = (registryConfig: RegistryConfig) =>
      realProviderWith(registryConfig, (inner) => ({
        listInventory: async (repository) => {
          const listed = await inner.listInventory(repository);
          await pusher.tag(REPOSITORY, builds[0]!.bytes, builds[0]!.manifest.mediaType, ['hotfix']);
          await pusher.tag(REPOSITORY, builds[1]!.bytes, builds[1]!.manifest.mediaType, ['b8']);
          pushedDuringRun = true;
          return listed;
        },
      }));
    report = await prune({ config, now, dryRun: false, providerFor });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
  });

  const repositoryReport = () =>
    report.registries[0]!.repositories.find((repository) => repository.name === REPOSITORY)!;

  it('does not delete an image a new tag points at, and the new tag still pulls', async () => {
    const b1 = builds[0]!;

    expect(pushedDuringRun).toBe(true);
    expect(await reader.resolve(REPOSITORY, 'hotfix')).toBe(b1.digest);
    expect((await reader.pull(REPOSITORY, 'hotfix')).digest).toBe(b1.digest);
    expect(repositoryReport().deleted.map((entry) => entry.digest)).not.toContain(b1.digest);
  });

  it('does not delete an image a kept tag moved onto', async () => {
    const b2 = builds[1]!;

    expect(await reader.resolve(REPOSITORY, 'b8')).toBe(b2.digest);
    expect((await reader.pull(REPOSITORY, 'b8')).digest).toBe(b2.digest);
    expect(repositoryReport().deleted.map((entry) => entry.digest)).not.toContain(b2.digest);
  });

  it('reports the protected images as kept because something references them', () => {
    const kept = new Map(repositoryReport().kept.map((entry) => [entry.digest, entry.reason]));

    expect(kept.get(builds[0]!.digest)).toBe('referenced');
    expect(kept.get(builds[1]!.digest)).toBe('referenced');
  });

  it('still deletes the rest of the plan', async () => {
    const rest = builds.slice(2, 6);

    for (const image of rest) expect(await reader.resolve(REPOSITORY, image.digest)).toBeNull();
    expect(report.totals.deleted).toBe(rest.length);
    expect(report.totals.failed).toBe(0);
  });
});
