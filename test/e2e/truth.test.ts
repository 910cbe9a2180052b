/**
 * The bytes regprune reports are the bytes the registry frees. On a real registry (docker-registry
 * 2.8) seeded with heavy layer sharing, within repositories and across them, `regprune report`
 * says what the rules would reclaim, `regprune prune` deletes, `garbage-collect` sweeps, and the
 * reported reclaimed bytes must match the change in the blob store (files under
 * docker/registry/v2/blobs) within 1%.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../lib/report/types.js';
import { startRegistry, type DiskUsage, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, RegistryPusher, type Layer } from '../support/seed.js';
import { e2eSkipReason, parseReport, runCli, tempDir, writeConfig } from './harness.js';

const skipReason = e2eSkipReason();

const KiB = 1024;
/** Each build's own layer: large next to its manifest and config (≈1 KiB, which are blobs too). */
const APP_LAYER_BYTES = 192 * KiB;
const TOLERANCE = 0.01;

describe.skipIf(skipReason !== null)('reported bytes match the registry disk', () => {
  let registry: RunningRegistry;
  let configDir: { dir: string; cleanup: () => Promise<void> };
  let planned: Report;
  let pruned: Report;
  let diskBefore: DiskUsage;
  let diskAfter: DiskUsage;

  beforeAll(async () => {
    registry = await startRegistry();
    configDir = await tempDir();
    const now = new Date();
    const pusher = new RegistryPusher(registry.url);
    // Shared by every repository: stored once by registry:2.
    const os = makeLayer('truth: debian rootfs', 512 * KiB);
    const runtime = makeLayer('truth: node runtime', 256 * KiB);
    // Dependency layers, each shared by a run of builds, and dependencies v1 also by another repository.
    const deps = [1, 2, 3].map((version) => makeLayer(`truth: node_modules v${version}`, 128 * KiB));
    const depsOf = (build: number): Layer => deps[Math.min(2, Math.floor((build - 1) / 4))] as Layer;

    // app/web: 12 builds; keep 2 deletes b1..b10, so deps v1 and v2 go, deps v3 stays.
    for (let build = 1; build <= 12; build++) {
      await pusher.pushImage('app/web', {
        tags: [`b${build}`],
        created: daysBefore(now, 30 - build),
        layers: [os, runtime, depsOf(build), makeLayer(`truth: web b${build}`, APP_LAYER_BYTES)],
        label: `web b${build}`,
      });
    }
    // app/api: 6 builds on the same base; its newest builds still use deps v1, so v1 is not freed.
    for (let build = 1; build <= 6; build++) {
      await pusher.pushImage('app/api', {
        tags: [`v${build}`],
        created: daysBefore(now, 20 - build),
        layers: [os, runtime, deps[0] as Layer, makeLayer(`truth: api v${build}`, APP_LAYER_BYTES)],
        label: `api v${build}`,
      });
    }
    // app/multi: 4 two-platform indexes sharing the base; keep 1 deletes 3 indexes and their 6 children.
    for (let build = 1; build <= 4; build++) {
      await pusher.pushIndex('app/multi', {
        tags: [`m${build}`],
        created: daysBefore(now, 10 - build),
        platforms: [
          { architecture: 'amd64', os: 'linux' },
          { architecture: 'arm64', os: 'linux', variant: 'v8' },
        ],
        platformLayers: (platform) => [os, makeLayer(`truth: multi m${build} ${platform}`, APP_LAYER_BYTES)],
      });
    }
    // legacy/tool: kept whole (keep 100), and it uses the same runtime and one web build's own layer.
    await pusher.pushImage('legacy/tool', {
      tags: ['1.0'],
      created: daysBefore(now, 100),
      layers: [runtime, makeLayer('truth: web b3', APP_LAYER_BYTES)],
      label: 'tool 1.0',
    });

    // Start from a swept store, so the only garbage after the prune is what regprune deleted.
    await registry.garbageCollect();
    diskBefore = await registry.diskUsage();

    const configPath = await writeConfig(configDir.dir, 'truth.json', {
      version: 1,
      dryRun: true,
      defaults: { keep: 2, minAge: '0s', untagged: 'keep' },
      registries: [
        {
          name: 'local',
          provider: 'oci',
          endpoint: registry.url,
          repositories: [{ match: 'app/multi', keep: 1 }, { match: 'app/**' }, { match: 'legacy/*', keep: 100 }],
        },
      ],
    });
    planned = parseReport(await runCli(['report', '--config', configPath, '--format', 'json']));
    pruned = parseReport(await runCli(['prune', '--config', configPath, '--no-dry-run', '--json']));
    await registry.garbageCollect();
    diskAfter = await registry.diskUsage();
  });

  afterAll(async () => {
    await registry?.dispose();
    await configDir?.cleanup();
  });

  it('deletes what the rules say and fails nothing', () => {
    expect(pruned.totals.failed).toBe(0);
    expect(pruned.totals.deleted).toBe(10 + 4 + 3 * 3);
    // registry 2.8 cannot list untagged manifests: the figures are right here, but never called exact.
    expect(pruned.storage?.totals.accuracy).toBe('estimate');
    expect(pruned.storage?.registries[0]?.listsUntagged).toBe(false);
  });

  it('reports reclaimed bytes within 1% of what garbage-collect freed on disk', () => {
    const freedOnDisk = diskBefore.blobBytes - diskAfter.blobBytes;
    const reported = pruned.totals.bytesReclaimed;

    const difference = Math.abs(reported - freedOnDisk) / freedOnDisk;
    console.error(
      `truth: reported reclaimed ${reported} B, blob store freed ${freedOnDisk} B ` +
        `(${diskBefore.blobCount - diskAfter.blobCount} blobs), difference ${(difference * 100).toFixed(3)}%`,
    );
    expect(freedOnDisk).toBeGreaterThan(0);
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('counts shared layers once: reclaimed is far below the sum of the deleted images', () => {
    const web = pruned.storage?.registries[0]?.repositories.find((repository) => repository.name === 'app/web');

    // 10 deleted web builds are 10 × (512 + 256 + 128 + 192) KiB as images; only their own layers,
    // deps v2 and configs are freed (deps v1 stays for app/api, b3's layer stays for legacy/tool).
    expect(web?.bytes.reclaimed).toBeLessThan(10 * (192 + 20) * KiB + 128 * KiB);
    expect(web?.bytes.reclaimed).toBeGreaterThan(9 * 192 * KiB + 128 * KiB);
  });

  it('says beforehand, read-only, what the prune then reclaimed', () => {
    expect(planned.dryRun).toBe(true);
    expect(planned.storage?.totals.bytesReclaimed).toBe(pruned.totals.bytesReclaimed);
    expect(planned.storage?.registries[0]?.scopeComplete).toBe(true);
  });

  it('reports stored bytes within 1% of the blob store before the prune', () => {
    const stored = pruned.storage?.totals.bytesBefore ?? 0;

    const difference = Math.abs(stored - diskBefore.blobBytes) / diskBefore.blobBytes;
    console.error(
      `truth: reported stored ${stored} B, blob store ${diskBefore.blobBytes} B, difference ` +
        `${(difference * 100).toFixed(3)}%`,
    );
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
