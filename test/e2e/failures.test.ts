/**
 * What the CLI does when things are wrong: a bad config or bad flags (exit 2, and not one request
 * reaches the registry), an unreachable registry (exit 1, a clear message), and a registry that
 * refuses deletes (exit 1, nothing lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryReader } from '../support/pull.js';
import { freePort, startRegistry, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher } from '../support/seed.js';
import { SETUP_TIMEOUT_MS, e2eSkipReason, parseReport, runCli, tempDir, writeConfig } from './harness.js';

const skipReason = e2eSkipReason();
const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)$/m;

describe.skipIf(skipReason !== null)('the CLI when something is wrong', () => {
  let registry: RunningRegistry;
  let configDir: { dir: string; cleanup: () => Promise<void> };
  let reader: RegistryReader;
  let seededTags: Record<string, string>;

  const registryEntry = (extra: Record<string, unknown> = {}) => ({
    name: 'local',
    provider: 'oci',
    endpoint: registry.url,
    repositories: [{ match: 'app/**', keep: 2 }],
    ...extra,
  });

  beforeAll(async () => {
    // storage.delete.enabled: false — every manifest DELETE answers 405, as on a registry whose
    // operator never turned deletes on.
    registry = await startRegistry({ deleteEnabled: false });
    configDir = await tempDir();
    reader = new RegistryReader(registry.url);
    const now = new Date();
    await pushBuildHistory(new RegistryPusher(registry.url), 'app/api', {
      builds: 6,
      firstCreated: daysBefore(now, 30),
      lastCreated: daysBefore(now, 5),
      baseLayers: [makeLayer('distroless base', 2048)],
      extraTags: { 6: ['latest'] },
    });
    seededTags = await reader.snapshot('app/api');
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
    await configDir?.cleanup();
  });

  const badConfigs: Array<[string, () => unknown, RegExp]> = [
    [
      'a negative keep',
      () => ({
        version: 1,
        dryRun: false,
        registries: [registryEntry({ repositories: [{ match: 'app/**', keep: -1 }] })],
      }),
      /registries\[0\]\.repositories\[0\]\.keep/,
    ],
    ['an unknown key', () => ({ version: 1, dryRun: false, registries: [registryEntry({ kep: 3 })] }), /kep/],
    [
      'a bad regex',
      () => ({ version: 1, dryRun: false, defaults: { pinned: ['/v[0-9/'] }, registries: [registryEntry()] }),
      /pinned/,
    ],
    [
      'an unknown provider',
      () => ({ version: 1, dryRun: false, registries: [registryEntry({ provider: 'quay' })] }),
      /provider/,
    ],
    [
      'broken YAML',
      () =>
        `version: 1\ndryRun: false\nregistries:\n  - name: local\n    endpoint: ${registry.url}\n   provider: oci\n`,
      /YAML|JSON|line/i,
    ],
  ];

  it.each(badConfigs)(
    'exits 2 on %s, names the problem, and sends no request to the registry',
    async (label, config, mentions) => {
      const configPath = await writeConfig(configDir.dir, `bad-${label.replace(/\W+/g, '-')}.yaml`, config());
      const requestsBefore = registry.requestCount();

      const result = await runCli(['prune', '--config', configPath, '--no-dry-run']);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(mentions);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(registry.requestCount()).toBe(requestsBefore);
      expect(await reader.snapshot('app/api')).toEqual(seededTags);
    },
  );

  it('exits 2 on an unknown flag and sends no request to the registry', async () => {
    const configPath = await writeConfig(configDir.dir, 'good.json', {
      version: 1,
      dryRun: false,
      registries: [registryEntry()],
    });
    const requestsBefore = registry.requestCount();

    const result = await runCli(['prune', '--config', configPath, '--no-dry-run', '--keep-everything-please']);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/keep-everything-please/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(registry.requestCount()).toBe(requestsBefore);
  });

  it('exits 1 with a message naming the endpoint when the registry is unreachable', async () => {
    const closedPort = await freePort();
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const configPath = await writeConfig(configDir.dir, 'unreachable.json', {
      version: 1,
      dryRun: false,
      registries: [{ name: 'gone', provider: 'oci', endpoint, repositories: [{ match: '**', keep: 1 }] }],
    });

    const result = await runCli(['prune', '--config', configPath, '--no-dry-run']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`127.0.0.1:${closedPort}`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 1 and loses nothing when the registry refuses every delete', async () => {
    const configPath = await writeConfig(configDir.dir, 'refused.json', {
      version: 1,
      dryRun: false,
      registries: [registryEntry()],
    });

    const result = await runCli(['prune', '--config', configPath, '--json']);
    const report = parseReport(result);

    expect(result.code).toBe(1);
    expect(report.totals.deleted).toBe(0);
    const repositoryFailures = report.totals.failed;
    const registryError = report.registries[0]?.error;
    expect(repositoryFailures > 0 || registryError !== undefined).toBe(true);
    expect(await reader.snapshot('app/api')).toEqual(seededTags);
  });
});
