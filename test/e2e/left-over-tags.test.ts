/**
 * Registry 2.8 deletes a manifest, then untags it tag by tag. Killed in between, it keeps tags that
 * name nothing: they list, they answer 404, and the retried DELETE answers 404 without untagging.
 * The run that sees a planned tag still listed after its digest's delete deletes the digest again
 * (docs/design.md, section 5, "Left-over tags"). The half-done delete is made on disk, as the killed
 * registry leaves it: the manifest's revision link removed, its tag links left.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../lib/config/schema.js';
import type { Report } from '../../lib/report/types.js';
import { prune } from '../../lib/run/prune.js';
import { storeState } from '../support/blob-store.js';
import { realProviderWith } from '../support/intercept.js';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher, type PushedImage } from '../support/seed.js';
import { SETUP_TIMEOUT_MS, e2eSkipReason, keepNewest } from './harness.js';

const skipReason = e2eSkipReason();
const REPOSITORY = 'app/api';

describe.skipIf(skipReason !== null)('a delete the registry did not finish', () => {
  let registry: RunningRegistry;
  let reader: RegistryReader;
  let builds: PushedImage[];
  let report: Report;
  let halfDone = '';

  beforeAll(async () => {
    registry = await startRegistry();
    reader = new RegistryReader(registry.url);
    const now = new Date();
    builds = await pushBuildHistory(new RegistryPusher(registry.url), REPOSITORY, {
      builds: 5,
      firstCreated: daysBefore(now, 20),
      lastCreated: daysBefore(now, 3),
      baseLayers: [makeLayer('left-over base', 2048)],
      extraTags: { 1: ['release-1'] },
    });
    const config = keepNewest(registry.url, REPOSITORY, 2);
    const providerFor = (registryConfig: RegistryConfig) =>
      realProviderWith(registryConfig, (inner) => ({
        delete: async (repository, requests) => {
          // The oldest build (tags b1 and release-1) was already half deleted when this batch arrives.
          const first = requests.find((request) => request.digest === builds[0]!.digest);
          if (first !== undefined && halfDone === '') {
            halfDone = first.digest;
            await rm(revisionLink(registry.storageDir, REPOSITORY, first.digest), { recursive: true });
          }
          return inner.delete(repository, requests);
        },
      }));
    report = await prune({ config, now, dryRun: false, providerFor });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
  });

  it('removes the tags the half-done delete left, which named nothing', async () => {
    expect(halfDone).toBe(builds[0]!.digest);
    expect((await reader.tags(REPOSITORY)).sort()).toEqual(['b4', 'b5']);
    const onDisk = await storeState(registry.storageDir);
    expect([...onDisk.tags.values()]).not.toContain(halfDone);
    expect([...(onDisk.revisions.get(REPOSITORY) ?? [])]).not.toContain(halfDone);
  });

  it('says so in the report, and the kept builds still pull', async () => {
    const repository = report.registries[0]!.repositories[0]!;
    expect(repository.warnings.join('\n')).toMatch(/"b1", "release-1" still named .* deleted again/);
    expect(repository.deleted.map((entry) => entry.digest).sort()).toEqual(
      builds
        .slice(0, 3)
        .map((build) => build.digest)
        .sort(),
    );
    for (const tag of ['b4', 'b5']) expect((await reader.pull(REPOSITORY, tag)).digest).toBeTruthy();
  });
});

function revisionLink(storageDir: string, repository: string, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const revisions = join(storageDir, 'docker', 'registry', 'v2', 'repositories', repository, '_manifests', 'revisions');
  return join(revisions, algorithm, hex);
}
