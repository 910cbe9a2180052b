/**
 * The retention rules users rely on, proven on a real registry (docker-registry 2.8): one seeded
 * registry, a default (dry) prune, `plan`, a real prune, garbage-collect, then every kept tag is
 * pulled completely and every deleted one answers 404.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../lib/report/types.js';
import { RegistryReader, skopeoCopyAll, skopeoManifestDigest, skopeoUnavailableReason } from '../support/pull.js';
import { startRegistry, type DiskUsage, type RunningRegistry } from '../support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher, type PushedImage } from '../support/seed.js';
import {
  SETUP_TIMEOUT_MS,
  deletedLines,
  e2eSkipReason,
  IN_CI,
  parseReport,
  runCli,
  tempDir,
  writeConfig,
  type CliResult,
} from './harness.js';

const skipReason = e2eSkipReason();
const skopeoMissing = IN_CI ? null : skopeoUnavailableReason();
if (skopeoMissing !== null && skipReason === null) console.error(`\n!!! skopeo checks SKIPPED: ${skopeoMissing}\n`);

const PLATFORMS = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux', variant: 'v8' },
];

interface Seeded {
  web: PushedImage[]; // b1..b12 (index 0 = b1)
  multi: PushedImage[]; // m1..m5
  multiSignatures: PushedImage[]; // the .sig of m1..m5
  multiSboms: Array<{ artifact: PushedImage; fallbackTag: string } | null>; // m1 and m5 have one
  graceOld: PushedImage[]; // g1..g6
  graceYoung: PushedImage[]; // y1 (12 h old), y2 (6 h), y3 (2 h)
  graceEpoch: PushedImage; // created 1970 (reproducible build)
}

describe.skipIf(skipReason !== null)('pruning a real registry', () => {
  let registry: RunningRegistry;
  let seeded: Seeded;
  let configDir: { dir: string; cleanup: () => Promise<void> };
  const before: Record<string, Record<string, string>> = {};
  const afterDry: Record<string, Record<string, string>> = {};
  const after: Record<string, Record<string, string>> = {};
  let dryRun: CliResult;
  let planRun: CliResult;
  let realRun: CliResult;
  let dryReport: Report;
  let planReport: Report;
  let realReport: Report;
  let secondPlanReport: Report;
  let narrowedReport: Report;
  let widenedReport: Report;
  let diskBefore: DiskUsage;
  let diskAfter: DiskUsage;
  let reader: RegistryReader;
  const REPOSITORIES = ['app/web', 'app/multi', 'app/grace', 'legacy/tool'];

  beforeAll(async () => {
    registry = await startRegistry();
    configDir = await tempDir();
    const now = new Date();
    const pusher = new RegistryPusher(registry.url);
    reader = new RegistryReader(registry.url);
    const base = [makeLayer('debian:bookworm rootfs', 8192), makeLayer('node:20 runtime', 4096)];

    // app/web: 12 builds (Docker v2 manifests), v1.2.3 released from b3, latest rolled back to b5.
    const web = await pushBuildHistory(pusher, 'app/web', {
      builds: 12,
      firstCreated: daysBefore(now, 40),
      lastCreated: daysBefore(now, 5),
      baseLayers: base,
      format: 'docker',
      extraTags: { 3: ['v1.2.3'], 12: ['latest'] },
    });
    await pusher.tag('app/web', web[4]!.bytes, web[4]!.manifest.mediaType, ['latest']);

    // app/multi: 5 multi-arch releases, each cosign-signed; m1 and m5 carry an SBOM (OCI 1.1 subject).
    const multi: PushedImage[] = [];
    const multiSignatures: PushedImage[] = [];
    const multiSboms: Seeded['multiSboms'] = [];
    for (let n = 1; n <= 5; n++) {
      const created = daysBefore(now, 30 - (n - 1) * 5);
      // m2 and m3 are Docker manifest lists (older docker buildx); m1 and m4 carry buildx
      // provenance attestations next to their platform images.
      const index = await pusher.pushIndex('app/multi', {
        tags: n === 5 ? [`m${n}`, 'latest'] : [`m${n}`],
        created,
        ...(n === 2 || n === 3 ? { format: 'docker' as const } : {}),
        attestations: n === 1 || n === 4,
        platforms: PLATFORMS,
        label: `m${n}`,
        platformLayers: (platform) => [base[0]!, makeLayer(`app/multi m${n} ${platform}`, 512)],
      });
      multi.push(index);
      multiSignatures.push(await pusher.pushCosignSignature('app/multi', index.manifest));
      multiSboms.push(n === 1 || n === 5 ? await pusher.pushReferrer('app/multi', index.manifest, { created }) : null);
    }

    // app/grace: 6 old builds, 3 young ones, and a reproducible build stamped 1970.
    const graceOld = await pushBuildHistory(pusher, 'app/grace', {
      builds: 6,
      prefix: 'g',
      firstCreated: daysBefore(now, 20),
      lastCreated: daysBefore(now, 10),
      baseLayers: base,
    });
    const graceYoung: PushedImage[] = [];
    for (const [n, hours] of [
      [1, 12],
      [2, 6],
      [3, 2],
    ] as const) {
      graceYoung.push(
        await pusher.pushImage('app/grace', {
          tags: [`y${n}`],
          created: daysBefore(now, hours / 24),
          layers: [...base, makeLayer(`app/grace y${n}`, 256)],
          label: `y${n}`,
        }),
      );
    }
    const graceEpoch = await pusher.pushImage('app/grace', {
      tags: ['repro'],
      created: '1970-01-01T00:00:00Z',
      layers: [...base, makeLayer('app/grace repro', 256)],
      label: 'repro',
    });

    // legacy/tool: matches no rule.
    await pushBuildHistory(pusher, 'legacy/tool', {
      builds: 5,
      firstCreated: daysBefore(now, 400),
      lastCreated: daysBefore(now, 300),
      baseLayers: base,
      extraTags: { 5: ['latest'] },
    });
    seeded = { web, multi, multiSignatures, multiSboms, graceOld, graceYoung, graceEpoch };
    for (const repository of REPOSITORIES) before[repository] = await reader.snapshot(repository);

    const config = {
      version: 1,
      defaults: { pinned: ['latest'], minAge: '1d', untagged: 'keep' },
      registries: [
        {
          name: 'local',
          provider: 'oci',
          endpoint: registry.url,
          repositories: [
            { match: 'app/web', keep: 3, pinned: ['/^v\\d+\\.\\d+\\.\\d+$/'] },
            { match: 'app/multi', keep: 2 },
            { match: 'app/grace', keep: 1 },
          ],
        },
      ],
    };
    const configPath = await writeConfig(configDir.dir, 'regprune.json', config);

    dryRun = await runCli(['prune', '--config', configPath, '--json']);
    dryReport = parseReport(dryRun);
    for (const repository of REPOSITORIES) afterDry[repository] = await reader.snapshot(repository);
    planRun = await runCli(['plan', '--config', configPath, '--json']);
    planReport = parseReport(planRun);
    narrowedReport = parseReport(await runCli(['plan', '--config', configPath, '--json', '--repository', 'app/web']));
    widenedReport = parseReport(await runCli(['plan', '--config', configPath, '--json', '--repository', 'legacy/**']));
    diskBefore = await registry.diskUsage();
    realRun = await runCli(['prune', '--config', configPath, '--no-dry-run', '--json']);
    realReport = parseReport(realRun);
    await registry.garbageCollect();
    diskAfter = await registry.diskUsage();
    for (const repository of REPOSITORIES) after[repository] = await reader.snapshot(repository);
    secondPlanReport = parseReport(await runCli(['plan', '--config', configPath, '--json']));
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
    await configDir?.cleanup();
  });

  const tagsOf = (images: readonly PushedImage[]) => images.flatMap((image) => image.tags);
  const digestsOf = (images: readonly PushedImage[]) => images.map((image) => image.digest);
  const keptReason = (report: Report, repository: string, digest: string) =>
    report.registries[0]?.repositories.find((r) => r.name === repository)?.kept.find((k) => k.digest === digest)
      ?.reason;

  it('deletes nothing when the config leaves dryRun at its default', () => {
    expect(dryRun.code).toBe(0);
    expect(dryReport.dryRun).toBe(true);
    expect(dryReport.totals.deleted).toBeGreaterThan(0);
    expect(afterDry).toEqual(before);
  });

  it('deletes in a real run exactly what plan --json listed', () => {
    expect(planRun.code).toBe(0);
    expect(realRun.code).toBe(0);
    expect(realReport.dryRun).toBe(false);
    expect(realReport.totals.failed).toBe(0);
    expect(deletedLines(realReport)).toEqual(deletedLines(planReport));
    expect(deletedLines(realReport).length).toBeGreaterThan(0);
  });

  it('narrows a run to the repositories --repository names, and never widens it past the rules', () => {
    const names = (report: Report) =>
      report.registries.flatMap((registry) => registry.repositories.map((repository) => repository.name));

    expect(names(narrowedReport)).toEqual(['app/web']);
    expect(narrowedReport.totals.deleted).toBe(7);
    expect(names(widenedReport)).toEqual([]);
    expect(widenedReport.totals.deleted).toBe(0);
  });

  it('plans no further deletion when run again over what the prune left', () => {
    expect(secondPlanReport.totals.deleted).toBe(0);
    expect(secondPlanReport.totals.kept).toBe(realReport.totals.kept);
  });

  it('keeps an old build whose digest latest was rolled back to, with both tags', () => {
    const rolledBack = seeded.web[4]!;

    expect(after['app/web']!['latest']).toBe(rolledBack.digest);
    expect(after['app/web']!['b5']).toBe(rolledBack.digest);
    expect(keptReason(realReport, 'app/web', rolledBack.digest)).toBe('pinned');
  });

  it('keeps exactly the pinned tags and the keep most recent builds of app/web', () => {
    const expected = ['b3', 'v1.2.3', 'b5', 'latest', 'b10', 'b11', 'b12'].sort();

    expect(Object.keys(after['app/web']!).sort()).toEqual(expected);
    for (const n of [1, 2, 4, 6, 7, 8, 9]) expect(after['app/web']![`b${n}`]).toBeUndefined();
  });

  it('answers 404 for every deleted tag and manifest', async () => {
    const goneTags = Object.keys(before['app/web']!).filter((tag) => !(tag in after['app/web']!));
    const goneDigests = [0, 1, 3, 5, 6, 7, 8].map((i) => seeded.web[i]!.digest);

    for (const tag of goneTags) expect(await reader.resolve('app/web', tag)).toBeNull();
    for (const digest of goneDigests) expect(await reader.resolve('app/web', digest)).toBeNull();
    expect(goneTags.length).toBe(7);
  });

  it('keeps multi-arch indexes with their platform manifests, signatures and SBOMs', async () => {
    const kept = seeded.multi.slice(2); // m3, m4 recent; m5 pinned by latest
    const keptChildren = kept.flatMap((index) => digestsOf(index.children));
    const sbom = seeded.multiSboms[4]!;

    expect(Object.keys(after['app/multi']!).sort()).toEqual(
      [...tagsOf(kept), ...tagsOf(seeded.multiSignatures.slice(2)), sbom.fallbackTag].sort(),
    );
    for (const digest of keptChildren) expect(await reader.resolve('app/multi', digest)).toBe(digest);
    expect(await reader.resolve('app/multi', sbom.artifact.digest)).toBe(sbom.artifact.digest);
    expect(keptChildren).toHaveLength(8); // 3 × 2 platforms + m4's 2 attestations
  });

  it('deletes an index together with its platform manifests, its signature and its SBOM', async () => {
    const deleted = seeded.multi.slice(0, 2);
    const sbom = seeded.multiSboms[0]!;
    const gone = [
      ...digestsOf(deleted),
      ...deleted.flatMap((index) => digestsOf(index.children)),
      ...digestsOf(seeded.multiSignatures.slice(0, 2)),
      sbom.artifact.digest,
    ];

    for (const tag of [...tagsOf(deleted), ...tagsOf(seeded.multiSignatures.slice(0, 2)), sbom.fallbackTag]) {
      expect(await reader.resolve('app/multi', tag)).toBeNull();
    }
    for (const digest of gone) expect(await reader.resolve('app/multi', digest)).toBeNull();
    expect(gone).toHaveLength(11); // 2 indexes, 4 platform images, m1's 2 attestations, 2 signatures, 1 SBOM
  });

  it('keeps images younger than minAge beyond keep, and ranks a 1970 build as oldest', () => {
    const [y1, y2, y3] = seeded.graceYoung;
    const graceWarnings = realReport.registries[0]?.repositories.find((r) => r.name === 'app/grace')?.warnings ?? [];

    expect(Object.keys(after['app/grace']!).sort()).toEqual(['y1', 'y2', 'y3']);
    expect(keptReason(realReport, 'app/grace', y3!.digest)).toBe('recent');
    expect(keptReason(realReport, 'app/grace', y2!.digest)).toBe('grace');
    expect(keptReason(realReport, 'app/grace', y1!.digest)).toBe('grace');
    expect(after['app/grace']!['repro']).toBeUndefined();
    // The 1970 timestamp is a reproducible build's, not a real push time: the report says so.
    expect(graceWarnings.some((warning) => warning.includes(seeded.graceEpoch.digest))).toBe(true);
  });

  it('leaves a repository that matches no rule untouched, tag for tag and digest for digest', async () => {
    const touched = realReport.registries.flatMap((r) => r.repositories.map((repository) => repository.name));

    expect(after['legacy/tool']).toEqual(before['legacy/tool']);
    expect(Object.keys(after['legacy/tool']!)).toHaveLength(6);
    expect(touched).not.toContain('legacy/tool');
    for (const tag of Object.keys(after['legacy/tool']!)) await reader.pull('legacy/tool', tag);
  });

  it('pulls every kept tag completely after garbage-collect, every digest verified', async () => {
    let pulled = 0;

    for (const repository of REPOSITORIES) {
      for (const [tag, digest] of Object.entries(after[repository]!)) {
        const result = await reader.pull(repository, tag);
        expect(result.digest).toBe(digest);
        pulled++;
      }
    }

    expect(pulled).toBeGreaterThan(20);
  });

  it('frees the blobs of deleted images on garbage-collect and keeps the shared base layers', async () => {
    const deletedAppLayer = seeded.web[0]!.blobs.at(-1)!;
    const sharedBase = seeded.web[11]!.blobs[1]!;

    expect(diskAfter.blobBytes).toBeLessThan(diskBefore.blobBytes);
    expect(diskAfter.blobCount).toBeLessThan(diskBefore.blobCount);
    const gone = await fetch(`${registry.url}/v2/app/web/blobs/${deletedAppLayer}`);
    await gone.arrayBuffer();
    expect(gone.status).toBe(404);
    await reader.pullBlob('app/web', sharedBase);
  });

  it.skipIf(skopeoMissing !== null)(
    'lets skopeo, an independent client, copy a kept multi-arch index with every platform',
    async () => {
      const kept = seeded.multi[4]!;
      const destination = await mkdtemp(join(tmpdir(), 'regprune-skopeo-'));

      try {
        const files = await skopeoCopyAll(registry.host, 'app/multi', 'latest', destination);
        const digest = await skopeoManifestDigest(registry.host, 'app/multi', 'latest');

        expect(digest).toBe(kept.digest);
        for (const child of kept.children)
          expect(files).toContain(`${child.digest.slice('sha256:'.length)}.manifest.json`);
        for (const blob of kept.blobs) expect(files).toContain(blob.slice('sha256:'.length));
      } finally {
        await rm(destination, { recursive: true, force: true });
      }
    },
  );
});
