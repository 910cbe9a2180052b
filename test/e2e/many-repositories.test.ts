/**
 * A registry with well over 100 repositories, more than registry 2.8's default catalog page (100):
 * every repository a rule matches is pruned, none forgotten. (regprune asks for pages of 1,000, the
 * most 2.8 allows, so the CLI run gets the catalog in one page; the last test makes the provider
 * page at 25 so the real registry's `Link` headers are followed too.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../lib/concurrency.js';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import type { Report } from '../../lib/report/types.js';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher, type PushedImage } from '../support/seed.js';
import {
  SETUP_TIMEOUT_MS,
  e2eSkipReason,
  parseReport,
  runCli,
  tempDir,
  writeConfig,
  type CliResult,
} from './harness.js';

const skipReason = e2eSkipReason();
const REPOSITORY_COUNT = 130;
const names = Array.from({ length: REPOSITORY_COUNT }, (_, i) => `fleet/svc-${String(i + 1).padStart(3, '0')}`);

describe.skipIf(skipReason !== null)('pruning a registry with more than 100 repositories', () => {
  let registry: RunningRegistry;
  let configDir: { dir: string; cleanup: () => Promise<void> };
  let reader: RegistryReader;
  const builds = new Map<string, PushedImage[]>();
  let run: CliResult;
  let report: Report;

  beforeAll(async () => {
    registry = await startRegistry();
    configDir = await tempDir();
    reader = new RegistryReader(registry.url);
    const pusher = new RegistryPusher(registry.url);
    const now = new Date();
    const base = [makeLayer('alpine rootfs', 2048)];
    await mapConcurrent(names, 4, async (name) => {
      builds.set(
        name,
        await pushBuildHistory(pusher, name, {
          builds: 3,
          firstCreated: daysBefore(now, 30),
          lastCreated: daysBefore(now, 10),
          baseLayers: base,
          appLayer: false,
          concurrency: 3,
        }),
      );
    });
    const configPath = await writeConfig(
      configDir.dir,
      'regprune.yaml',
      [
        'version: 1',
        'dryRun: false',
        'defaults:',
        '  minAge: 1d',
        'registries:',
        '  - name: fleet',
        '    provider: oci',
        `    endpoint: ${registry.url}`,
        '    repositories:',
        '      - match: "fleet/**"',
        '        keep: 1',
        '',
      ].join('\n'),
    );
    run = await runCli(['prune', '--config', configPath, '--json']);
    report = parseReport(run);
    await registry.garbageCollect();
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
    await configDir?.cleanup();
  });

  it('prunes every one of the 130 repositories the rule matches', async () => {
    const reported = report.registries[0]?.repositories.map((repository) => repository.name).sort();

    expect(run.code).toBe(0);
    expect(reported).toEqual(names);
    expect(report.totals.deleted).toBe(2 * REPOSITORY_COUNT);
    expect(await reader.catalog()).toEqual(expect.arrayContaining(names));
  });

  it('leaves each repository with only its most recent build, which pulls completely', async () => {
    const remaining = await mapConcurrent(names, 4, async (name) => ({ name, tags: await reader.tags(name) }));

    for (const { name, tags } of remaining) expect(tags, name).toEqual(['b3']);
    await mapConcurrent(names, 4, async (name) => {
      const pulled = await reader.pull(name, 'b3');
      expect(pulled.digest).toBe(builds.get(name)![2]!.digest);
    });
  });

  it('answers 404 for the older builds in every repository', async () => {
    const stillThere: string[] = [];

    await mapConcurrent(names, 4, async (name) => {
      for (const image of builds.get(name)!.slice(0, 2)) {
        if ((await reader.resolve(name, image.digest)) !== null) stillThere.push(`${name}@${image.digest}`);
      }
    });

    expect(stillThere).toEqual([]);
  });

  it("follows the real registry's Link headers through every catalog page", async () => {
    const provider = createOciProvider(
      { provider: 'oci', name: 'fleet', endpoint: registry.url, repositories: [] },
      { pageSize: 25 },
    );

    const listed: string[] = [];
    for await (const name of provider.listRepositories()) listed.push(name);

    expect(listed.sort()).toEqual(names);
    // 130 names at 25 a page: 6 pages, each one request.
    expect(provider.stats.apiCalls).toBe(Math.ceil(REPOSITORY_COUNT / 25));
  });
});
