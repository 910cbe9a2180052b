/**
 * Renders a sample HTML report (three registries, a year of history) and photographs it with
 * headless Chromium, to look at the report as a user would: `npx tsx scripts/screenshot.ts [OUT.png]`
 * (default docs/report.png). Pass `--report FILE.json` to photograph a real `regprune report
 * --format json` output instead of the sample. Needs Debian's `chromium`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { costSection } from '../lib/cost/index.js';
import { historyEntryOf, type HistoryEntry } from '../lib/history/index.js';
import type { BlobRef, Image, Inventory } from '../lib/model.js';
import type { ProviderKind } from '../lib/providers/provider.js';
import { renderHtml } from '../lib/render/index.js';
import type { RegistryReport, Report } from '../lib/report/types.js';
import { accountRegistry, storageSection, type RepositoryAccountInput } from '../lib/storage/index.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-11-23T09:00:00Z');

interface RepositorySpec {
  readonly name: string;
  readonly builds: number;
  readonly keep: number;
  /** Shared base layers (by name, so repositories can share them). */
  readonly base: readonly string[];
  readonly ownMiB: number;
  /** Without a blob list: only a registry-reported size (ECR, ACR). */
  readonly sizedOnly?: boolean;
  readonly untagged?: number;
}

const BASE_MIB: Record<string, number> = { debian: 48, node: 140, python: 320, dotnet: 210, cuda: 2600 };

function buildImages(spec: RepositorySpec): Image[] {
  const images: Image[] = [];
  for (let build = 1; build <= spec.builds + (spec.untagged ?? 0); build++) {
    const tagged = build <= spec.builds;
    const blobs: BlobRef[] = [
      ...spec.base.map((name) => ({ digest: `sha256:base-${name}`, sizeBytes: (BASE_MIB[name] ?? 50) * MiB })),
      {
        digest: `sha256:${spec.name}-${build}`,
        sizeBytes: Math.round(spec.ownMiB * MiB * (0.8 + ((build * 37) % 40) / 100)),
      },
    ];
    const sizeBytes = blobs.reduce((sum, blob) => sum + blob.sizeBytes, 0);
    images.push({
      digest: `sha256:${Buffer.from(`${spec.name}-${build}`).toString('hex').padEnd(64, '0').slice(0, 64)}`,
      tags: tagged ? [build === spec.builds ? 'latest' : `1.${build}.0`] : [],
      kind: 'image',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      pushedAtMs: NOW - (spec.builds + 2 - build) * 3 * DAY_MS,
      timeSource: 'registry',
      lastPulledAtMs: null,
      sizeBytes,
      ...(spec.sizedOnly ? {} : { blobs }),
      children: [],
      subject: null,
      locked: false,
    });
  }
  return images;
}

function sampleRegistry(name: string, provider: ProviderKind, specs: readonly RepositorySpec[]) {
  const accounted: RepositoryAccountInput[] = [];
  const repositories: RegistryReport['repositories'] = [];
  for (const spec of specs) {
    const images = buildImages(spec);
    const inventory: Inventory = { registry: name, repository: spec.name, images, warnings: [] };
    const byAge = [...images]
      .filter((image) => image.tags.length > 0)
      .sort((a, b) => (b.pushedAtMs ?? 0) - (a.pushedAtMs ?? 0));
    const deleted = new Set(byAge.slice(spec.keep).map((image) => image.digest));
    for (const image of images) if (image.tags.length === 0) deleted.add(image.digest);
    accounted.push({ inventory, deleted });
    repositories.push({
      name: spec.name,
      images: {
        before: images.length,
        kept: images.length - deleted.size,
        deleted: deleted.size,
        failed: 0,
        pending: 0,
      },
      bytes: { before: 0, reclaimed: 0 },
      kept: [],
      deleted: [...deleted].map((digest) => ({ digest, tags: [], action: 'delete-manifest' as const })),
      failed: [],
      pending: [],
      warnings: [],
    });
  }
  const apiCalls = accounted.reduce((sum, input) => sum + input.inventory.images.length, 0) + specs.length;
  const report: RegistryReport = { name, provider, repositories, apiCalls };
  return { report, storage: accountRegistry({ registry: name, provider, repositories: accounted }) };
}

/** A plausible organisation: a self-hosted registry, an ECR account (sizes only) and an ACR Standard registry. */
export function sampleReport(): Report {
  const registries = [
    sampleRegistry('build-cache', 'oci', [
      { name: 'app/web', builds: 60, keep: 10, base: ['debian', 'node'], ownMiB: 22, untagged: 14 },
      { name: 'app/api', builds: 45, keep: 10, base: ['debian', 'node'], ownMiB: 35 },
      { name: 'app/<worker>', builds: 18, keep: 5, base: ['debian', 'python'], ownMiB: 60 },
      { name: 'base/node', builds: 8, keep: 8, base: ['debian', 'node'], ownMiB: 2 },
    ]),
    sampleRegistry('prod-ecr', 'ecr', [
      { name: 'services/payments', builds: 80, keep: 20, base: ['debian', 'dotnet'], ownMiB: 90, sizedOnly: true },
      { name: 'services/search', builds: 40, keep: 20, base: ['debian', 'python'], ownMiB: 150, sizedOnly: true },
    ]),
    sampleRegistry('ml-acr', 'acr', [
      { name: 'ml/trainer', builds: 50, keep: 10, base: ['cuda', 'python'], ownMiB: 900 },
      { name: 'ml/inference', builds: 30, keep: 10, base: ['cuda', 'python'], ownMiB: 400 },
    ]),
  ];
  const storage = storageSection(registries.map((registry) => registry.storage));
  const cost = costSection(storage.registries, { acr: { sku: 'Basic' } });
  const totals = {
    repositories: 8,
    imagesBefore: 0,
    kept: 0,
    deleted: 0,
    failed: 0,
    pending: 0,
    bytesBefore: storage.totals.bytesBefore,
    bytesReclaimed: storage.totals.bytesReclaimed,
    apiCalls: 0,
  };
  for (const { report } of registries) {
    totals.apiCalls += report.apiCalls;
    for (const repository of report.repositories) {
      totals.imagesBefore += repository.images.before;
      totals.kept += repository.images.kept;
      totals.deleted += repository.images.deleted;
    }
  }
  return {
    version: 1,
    dryRun: true,
    startedAt: new Date(NOW - 95_000).toISOString(),
    finishedAt: new Date(NOW).toISOString(),
    complete: true,
    registries: registries.map((registry) => registry.report),
    totals,
    storage,
    cost,
  };
}

/** Weekly read-only reports: the registries keep growing; what the rules would leave grows slowly. */
function sampleHistory(report: Report): HistoryEntry[] {
  const current = historyEntryOf(report);
  const entries: HistoryEntry[] = [];
  const costPerByte = (current.totals.costBefore ?? 0) / Math.max(1, current.totals.bytesBefore);
  for (let week = 12; week >= 1; week--) {
    const before = Math.round(current.totals.bytesBefore * (1 - week * 0.035));
    const after = Math.round(current.totals.bytesAfter * (1 - week * 0.01));
    entries.push({
      ...current,
      at: new Date(NOW - week * 7 * DAY_MS).toISOString(),
      totals: {
        ...current.totals,
        bytesBefore: before,
        bytesAfter: after,
        costBefore: before * costPerByte,
        costAfter: after * costPerByte,
      },
    });
  }
  return [...entries, current];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const reportFlag = args.indexOf('--report');
  const reportPath = reportFlag >= 0 ? args[reportFlag + 1] : undefined;
  const out = resolve(
    args.find((arg, index) => !arg.startsWith('--') && args[index - 1] !== '--report') ?? 'docs/report.png',
  );
  const report = reportPath ? (JSON.parse(await readFile(reportPath, 'utf8')) as Report) : sampleReport();
  const html = renderHtml(report, { command: 'report', ...(reportPath ? {} : { history: sampleHistory(report) }) });

  const work = await mkdtemp(join(tmpdir(), 'regprune-screenshot-'));
  try {
    const page = join(work, 'report.html');
    await writeFile(page, html);
    const result = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${join(work, 'profile')}`,
        `--screenshot=${out}`,
        '--window-size=1200,1600',
        pathToFileURL(page).href,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (result.error || result.status !== 0) {
      throw new Error(
        `chromium failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.slice(-600)}; ` +
          `install Debian's chromium or set CHROMIUM`,
      );
    }
    process.stdout.write(`wrote ${out} (${html.length} bytes of HTML)\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`screenshot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
