/**
 * In-use protection on a real registry (docker-registry 2.8) through the real CLI: a Deployment's
 * pod template (served by a Kubernetes API fake) pins an old build below the keep line; the prune
 * keeps it, naming the Deployment; a run whose usage source cannot be read deletes nothing and
 * exits 1; once the Deployment moves on, the next prune deletes the old build.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubernetes, podSpec } from '../support/fake-kubernetes.js';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher } from '../support/seed.js';
import { e2eSkipReason, parseReport, runCli, SETUP_TIMEOUT_MS, tempDir, writeConfig } from './harness.js';

const skipReason = e2eSkipReason();

describe.skipIf(skipReason !== null)('in-use protection on a real registry', () => {
  let registry: RunningRegistry;
  let kube: FakeKubernetes;
  let dir: { dir: string; cleanup: () => Promise<void> };
  let configPath: string;
  let reader: RegistryReader;
  const builds = new Map<string, string>(); // tag → digest

  beforeAll(async () => {
    registry = await startRegistry();
    kube = await FakeKubernetes.start();
    dir = await tempDir();
    reader = new RegistryReader(registry.url);
    const now = new Date();
    const pushed = await pushBuildHistory(new RegistryPusher(registry.url), 'app/web', {
      builds: 6,
      firstCreated: daysBefore(now, 30),
      lastCreated: daysBefore(now, 5),
      baseLayers: [makeLayer('in-use base', 2048)],
      format: 'oci',
    });
    for (const image of pushed) builds.set(image.tags[0]!, image.digest);
    const kubeconfig = join(dir.dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeconfig());
    // b2 is far below keep 2 (b5, b6), but the web Deployment still runs it.
    kube.put('deployments', 'shop', 'web', {
      spec: { replicas: 2, template: { spec: podSpec(`${registry.host}/app/web:b2`) } },
    });
    configPath = await writeConfig(dir.dir, 'regprune.yaml', {
      version: 1,
      dryRun: false,
      defaults: { keep: 2, minAge: '0s' },
      registries: [{ name: 'local', provider: 'oci', endpoint: registry.url, repositories: [{ match: 'app/**' }] }],
      inUse: [{ name: 'prod', kind: 'kubernetes', kubeconfig }],
    });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await kube?.close();
    await registry?.stop();
    await dir?.cleanup();
  });

  it(
    'deletes nothing and exits 1 while the cluster cannot be read, naming the source',
    async () => {
      kube.forbidden.add('deployments');
      try {
        const result = await runCli(['prune', '-c', configPath, '--json']);
        expect(result.code).toBe(1);
        const report = parseReport(result);
        expect(report.registries[0]!.error).toMatch(/in-use source "prod".*403 Forbidden.*onSourceError: warn/);
        expect((await reader.tags('app/web')).sort()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
      } finally {
        kube.forbidden.clear();
      }
    },
    SETUP_TIMEOUT_MS,
  );

  it(
    'keeps the build the Deployment runs, naming it, and deletes the other old ones',
    async () => {
      const result = await runCli(['prune', '-c', configPath, '--json']);
      expect(result.code).toBe(0);
      const web = parseReport(result).registries[0]!.repositories[0]!;
      expect(web.kept).toContainEqual(
        expect.objectContaining({
          digest: builds.get('b2'),
          tags: ['b2'],
          reason: 'in-use',
          usedBy: ['prod: shop/Deployment/web'],
        }),
      );
      expect(web.deleted.map((entry) => entry.tags[0]).sort()).toEqual(['b1', 'b3', 'b4']);
      expect((await reader.tags('app/web')).sort()).toEqual(['b2', 'b5', 'b6']);
    },
    SETUP_TIMEOUT_MS,
  );

  it(
    'deletes the old build once the Deployment has moved on to a new one',
    async () => {
      // A new build c1 rolls out; in use, it does not count toward keep: b6 and b5 stay as recent.
      await pushBuildHistory(new RegistryPusher(registry.url), 'app/web', {
        builds: 1,
        prefix: 'c',
        firstCreated: daysBefore(new Date(), 1),
        lastCreated: daysBefore(new Date(), 1),
        baseLayers: [makeLayer('in-use base', 2048)],
        format: 'oci',
      });
      kube.put('deployments', 'shop', 'web', {
        spec: { replicas: 2, template: { spec: podSpec(`${registry.host}/app/web:c1`) } },
      });
      const result = await runCli(['prune', '-c', configPath, '--json']);
      expect(result.code).toBe(0);
      const web = parseReport(result).registries[0]!.repositories[0]!;
      expect(web.deleted.map((entry) => entry.tags[0])).toEqual(['b2']);
      expect((await reader.tags('app/web')).sort()).toEqual(['b5', 'b6', 'c1']);
    },
    SETUP_TIMEOUT_MS,
  );
});
