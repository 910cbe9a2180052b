/**
 * Many small repositories (issue 12, docs/design.md "Request budget"), two shapes measured in one run:
 *   1. docker-registry 2.8, 300 repositories × 4 tags, keep 1: regprune `prune()` (in a child
 *      process) against a raw fetch client doing the same job's minimum (catalog, tags/list,
 *      manifest + config GET per tag, DELETE per doomed digest) at concurrency 8; each on an
 *      identical copy of one seeded storage.
 *   2. A wire-level ECR fake with a quota of 20 requests a second, 40 repositories × 250 images,
 *      keep 5: regprune's wall time against the job's minimum calls divided by the quota.
 * Prints Markdown.
 *
 *   npx tsx bench/prune-many.ts [repositories] [tags]     (or `ecr`: the ECR shape alone)
 */
import { runChildJson } from './support/child.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { mapConcurrent } from '../lib/concurrency.js';
import { parseConfig } from '../lib/config/load.js';
import { createEcrProvider } from '../lib/providers/ecr/index.js';
import { prune } from '../lib/run/prune.js';
import { digestOf, startFakeEcr } from '../test/support/fake-ecr.js';
import { RegistryReader } from '../test/support/pull.js';
import { registryUnavailableReason, startRegistry, type RunningRegistry } from '../test/support/registry.js';
import { makeLayer, MANIFEST_ACCEPT, pushBuildHistory, RegistryPusher } from '../test/support/seed.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RAW_CONCURRENCY = 8;
const DAY_MS = 86_400_000;

interface Figures {
  readonly wallMs: number;
  readonly apiCalls: number;
  readonly deleted: number;
  readonly failed: number;
}

/** Child mode: `prune()` in-process against the config; prints the figures as JSON. */
async function childMain(configPath: string): Promise<void> {
  const { loadConfigFile } = await import('../lib/config/load.js');
  const config = await loadConfigFile(configPath);
  // The provider's modules are loaded lazily on first use: load them before the clock starts, so the
  // figure is the run's (a warm function instance), not module compilation (bench/azure-bundle.ts
  // and aws-bundle.ts measure cold imports).
  await import('../lib/providers/oci/index.js');
  const started = performance.now();
  const report = await prune({ config, now: new Date(), dryRun: false });
  const figures: Figures = {
    wallMs: performance.now() - started,
    apiCalls: report.totals.apiCalls,
    deleted: report.totals.deleted,
    failed: report.totals.failed,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function runChild(configPath: string): Promise<Figures> {
  return runChildJson<Figures>(ROOT, fileURLToPath(import.meta.url), [configPath]);
}

/** The raw client: the job's minimum requests, `RAW_CONCURRENCY` repositories (so requests) in flight. */
async function rawPrune(registry: RunningRegistry, keep: number): Promise<Figures> {
  let calls = 0;
  let deleted = 0;
  let failed = 0;
  const get = async (path: string, accept?: string) => {
    calls++;
    const response = await fetch(`${registry.url}${path}`, accept ? { headers: { accept } } : {});
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response;
  };
  const started = performance.now();
  const catalog = (await (await get('/v2/_catalog?n=1000')).json()) as { repositories: string[] };
  await mapConcurrent(catalog.repositories, RAW_CONCURRENCY, async (repository) => {
    const { tags } = (await (await get(`/v2/${repository}/tags/list?n=1000`)).json()) as { tags: string[] };
    const images: Array<{ digest: string; created: string }> = [];
    for (const tag of tags) {
      const response = await get(`/v2/${repository}/manifests/${tag}`, MANIFEST_ACCEPT);
      const digest = response.headers.get('docker-content-digest')!;
      const manifest = (await response.json()) as { config: { digest: string } };
      const config = (await (await get(`/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as {
        created: string;
      };
      images.push({ digest, created: config.created });
    }
    images.sort((a, b) => b.created.localeCompare(a.created));
    for (const { digest } of images.slice(keep)) {
      calls++;
      const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
      await response.arrayBuffer();
      if (response.status === 202) deleted++;
      else failed++;
    }
  });
  return { wallMs: performance.now() - started, apiCalls: calls, deleted, failed };
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');

/** Shape 1: registry 2.8. Returns Markdown lines. */
async function registryShape(repositoryCount: number, tagCount: number, keep: number): Promise<string[]> {
  const unavailable = registryUnavailableReason();
  if (unavailable !== null) return [`Not run: ${unavailable}`];
  const names = Array.from({ length: repositoryCount }, (_, i) => `fleet/svc-${String(i + 1).padStart(3, '0')}`);
  const seed = await startRegistry({ accessLog: false });
  const work = await mkdtemp(join(tmpdir(), 'regprune-bench-many-'));
  try {
    const pusher = new RegistryPusher(seed.url, 8);
    const now = Date.now();
    const base = [makeLayer('bench many base', 2048)];
    await mapConcurrent(names, 8, (name) =>
      pushBuildHistory(pusher, name, {
        builds: tagCount,
        firstCreated: new Date(now - 30 * DAY_MS).toISOString(),
        lastCreated: new Date(now - 10 * DAY_MS).toISOString(),
        baseLayers: base,
        appLayer: false,
        concurrency: tagCount,
      }),
    );
    await seed.stop();
    const deleteCount = repositoryCount * (tagCount - keep);

    const runRegprune = async (): Promise<Figures> => {
      const registry = await startRegistry({ accessLog: false, copyStorageFrom: seed.storageDir });
      try {
        const configPath = join(work, 'regprune.json');
        await writeFile(
          configPath,
          JSON.stringify({
            version: 1,
            dryRun: false,
            defaults: { pinned: [], minAge: '1d' },
            registries: [
              { name: 'bench', provider: 'oci', endpoint: registry.url, repositories: [{ match: 'fleet/**', keep }] },
            ],
          }),
        );
        const figures = await runChild(configPath);
        const left = await new RegistryReader(registry.url).tags(names[0]!);
        if (figures.deleted !== deleteCount || left.length !== keep)
          throw new Error(`regprune deleted ${figures.deleted} (expected ${deleteCount}), ${left.length} tags left`);
        return figures;
      } finally {
        await registry.dispose();
      }
    };
    const runRaw = async (): Promise<Figures> => {
      const registry = await startRegistry({ accessLog: false, copyStorageFrom: seed.storageDir });
      try {
        const figures = await rawPrune(registry, keep);
        if (figures.deleted !== deleteCount || figures.failed > 0)
          throw new Error(`raw client deleted ${figures.deleted} of ${deleteCount}, ${figures.failed} failed`);
        return figures;
      } finally {
        await registry.dispose();
      }
    };
    // Bracketed (regprune, raw, regprune, raw): on a shared machine the load drifts; the better of two each.
    const runs = { regprune: [] as Figures[], raw: [] as Figures[] };
    for (let round = 0; round < 2; round++) {
      runs.regprune.push(await runRegprune());
      runs.raw.push(await runRaw());
    }
    const best = (list: Figures[]) => list.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const regprune = best(runs.regprune);
    const raw = best(runs.raw);
    const minimumCalls = raw.apiCalls;
    return [
      `| client | wall (s) | API calls |`,
      '|---|---:|---:|',
      `| regprune \`prune()\` (list, plan, re-check, delete; ${repositoryCount} repositories), better of ` +
        `${runs.regprune.map((run) => seconds(run.wallMs)).join(' and ')} s | ${seconds(regprune.wallMs)} | ` +
        `${regprune.apiCalls} |`,
      `| raw fetch client (catalog, tags/list, manifest + config GET per tag, DELETE), concurrency ` +
        `${RAW_CONCURRENCY}, better of ${runs.raw.map((run) => seconds(run.wallMs)).join(' and ')} s | ` +
        `${seconds(raw.wallMs)} | ${raw.apiCalls} |`,
      '',
      `- regprune / raw client, wall: **${ratio(regprune.wallMs, raw.wallMs)}×** (target ≤ 1.15)`,
      `- API calls: regprune ${regprune.apiCalls} vs the job's minimum ${minimumCalls}: ` +
        `**${ratio(regprune.apiCalls, minimumCalls)}×** (target ≤ 1.05)`,
    ];
  } finally {
    await seed.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

/** One ECR run against a fresh fake: with a quota (and regprune told it), or without either. */
async function ecrRun(
  repositoryCount: number,
  imageCount: number,
  keep: number,
  quota: number | null,
): Promise<{ wallMs: number; sent: number; throttled: number }> {
  const fake = await startFakeEcr();
  try {
    fake.requestsPerSecond = quota;
    const now = Date.now();
    for (let r = 0; r < repositoryCount; r++) {
      for (let i = 0; i < imageCount; i++) {
        fake.addImage(`team/svc-${r}`, {
          digest: digestOf(`svc-${r}-${i}`),
          tags: [`b${i}`],
          pushedAtMs: now - 10 * DAY_MS - (imageCount - i) * 60_000,
        });
      }
    }
    const config = parseConfig({
      version: 1,
      dryRun: false,
      defaults: { pinned: [], minAge: '1d' },
      registries: [
        {
          name: 'ecr',
          provider: 'ecr',
          endpoint: fake.registryHost,
          // The quota, as a user who knows it configures it (docs/design.md, "Request budget").
          ...(quota !== null ? { rateLimit: { requestsPerSecond: quota } } : {}),
          repositories: [{ match: 'team/**', keep }],
        },
      ],
    });
    const started = performance.now();
    const report = await prune({
      config,
      now: new Date(now),
      providerFor: async (registry) =>
        createEcrProvider(registry as Extract<typeof registry, { provider: 'ecr' }>, {
          client: {
            endpoint: fake.url,
            credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-for-tests' },
          },
        }),
    });
    const wallMs = performance.now() - started;
    const expected = repositoryCount * (imageCount - keep);
    if (report.totals.deleted !== expected) throw new Error(`ECR run deleted ${report.totals.deleted} of ${expected}`);
    return { wallMs, sent: fake.count(), throttled: fake.throttledCount };
  } finally {
    await fake.close();
  }
}

/** Shape 2: the quota-limited ECR fake, and the same job without a quota (this machine's own floor). */
async function ecrShape(repositoryCount: number, imageCount: number, keep: number, quota: number): Promise<string[]> {
  // The minimum: one repository listing page, one DescribeImages page (≤ 1,000) and one
  // BatchDeleteImage (≤ 100) per hundred deletions, per repository.
  const minimumCalls = 1 + repositoryCount * (Math.ceil(imageCount / 1000) + Math.ceil((imageCount - keep) / 100));
  const limited = await ecrRun(repositoryCount, imageCount, keep, quota);
  const free = await ecrRun(repositoryCount, imageCount, keep, null);
  const floorMs = (minimumCalls / quota) * 1000;
  return [
    `| run | wall (s) | requests sent | throttled |`,
    '|---|---:|---:|---:|',
    `| regprune \`prune()\`, quota ${quota}/s (config \`rateLimit.requestsPerSecond: ${quota}\`) | ` +
      `${seconds(limited.wallMs)} | ${limited.sent} | ${limited.throttled} |`,
    `| regprune \`prune()\`, no quota (the SDK and this machine's own pace) | ${seconds(free.wallMs)} | ` +
      `${free.sent} | – |`,
    `| the job's minimum at the quota (${minimumCalls} calls / ${quota} per s) | ${seconds(floorMs)} | ` +
      `${minimumCalls} | – |`,
    '',
    `- wall / (minimum calls / quota): **${ratio(limited.wallMs, floorMs)}×** (target ≤ 1.15)`,
    `- requests sent / minimum: **${ratio(limited.sent, minimumCalls)}×**`,
  ];
}

async function main(): Promise<void> {
  const ecrOnly = process.argv[2] === 'ecr';
  const repositoryCount = ecrOnly ? 0 : Number(process.argv[2] ?? 300);
  const tagCount = Number(process.argv[3] ?? 4);
  const loadStart = load();
  const registryLines = ecrOnly ? ['Not run (ecr only).'] : await registryShape(repositoryCount, tagCount, 1);
  const ecrLines = await ecrShape(40, 250, 5, 20);
  process.stdout.write(
    [
      `## Many repositories: ${repositoryCount} × ${tagCount} tags, keep 1, on docker-registry 2.8`,
      '',
      `Load average ${loadStart} at the start, ${load()} at the end (1 / 5 / 15 min; 2 cores shared with other work).`,
      '',
      ...registryLines,
      '',
      '## Many repositories on a quota-limited ECR (wire fake, 20 requests a second): 40 × 250 images, keep 5',
      '',
      ...ecrLines,
      '',
    ].join('\n'),
  );
}

if (process.argv[2] === '--child') await childMain(process.argv[3]!);
else await main();
