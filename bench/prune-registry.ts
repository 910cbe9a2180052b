/**
 * Pruning benchmark on a real registry (docker-registry 2.8): one repository with 1,100 tags
 * (distinct small images sharing base layers), prune 1,000 of them (keep 100). Measured in one
 * run, each on an identical freshly seeded registry (one seeding, copied storage):
 *   - regprune: `prune()` in-process in a child process (wall time of the call, API calls, peak RSS),
 *   - a bare fetch client doing one manifest HEAD then one DELETE per tag, at concurrency
 *     1 (= (a), the sequential loop done by hand), 2, 4, 8, 16; the best of them is the bound (b).
 * Prints Markdown.
 *
 *   npx tsx bench/prune-registry.ts [tags] [keep]
 */
import { runChildJson } from './support/child.js';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { mapConcurrent } from '../lib/concurrency.js';
import type { Provider } from '../lib/providers/provider.js';
import { intercept } from '../test/support/intercept.js';
import { RegistryReader } from '../test/support/pull.js';
import { registryUnavailableReason, startRegistry, type RunningRegistry } from '../test/support/registry.js';
import { makeLayer, MANIFEST_ACCEPT, pushBuildHistory, RegistryPusher } from '../test/support/seed.js';

const REPOSITORY = 'bench/app';
const CONCURRENCIES = [1, 2, 4, 8, 16];
const LIST_CONCURRENCY = 4; // regprune's default for OCI registries
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOUR_MS = 3_600_000;

interface RegpruneFigures {
  readonly wallMs: number;
  /** Time inside the provider, by what regprune was doing (the rest is planning and bookkeeping). */
  readonly listMs: number;
  readonly reverifyMs: number;
  readonly deleteMs: number;
  readonly apiCalls: number;
  readonly deleted: number;
  readonly failed: number;
  readonly maxRssBytes: number;
}

/** Child mode: run `prune()` in-process against the config and print the figures as JSON. */
async function childMain(configPath: string): Promise<void> {
  const { loadConfigFile } = await import('../lib/config/load.js');
  const { prune } = await import('../lib/run/prune.js');
  const { createProvider } = await import('../lib/providers/index.js');
  const config = await loadConfigFile(configPath);
  const phases = { listMs: 0, reverifyMs: 0, deleteMs: 0 };
  const timed = async <T>(phase: keyof typeof phases, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      phases[phase] += performance.now() - start;
    }
  };
  const providerFor = async (registry: Parameters<typeof createProvider>[0]): Promise<Provider> => {
    const inner = await createProvider(registry);
    return intercept(inner, {
      listInventory: (repository) => timed('listMs', () => inner.listInventory(repository)),
      listImages: (repository) => timed('listMs', () => inner.listImages(repository)),
      listTags: (repository) => timed('reverifyMs', () => inner.listTags(repository)),
      resolveTags: (repository, tags) => timed('reverifyMs', () => inner.resolveTags(repository, tags)),
      delete: (repository, requests) => timed('deleteMs', () => inner.delete(repository, requests)),
    });
  };
  const now = new Date();
  const started = performance.now();
  const report = await prune({ config, now, dryRun: false, providerFor });
  const wallMs = performance.now() - started;
  const figures: RegpruneFigures = {
    wallMs,
    ...phases,
    apiCalls: report.totals.apiCalls,
    deleted: report.totals.deleted,
    failed: report.totals.failed,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(figures) + '\n');
}

function runChild(configPath: string): Promise<RegpruneFigures> {
  return runChildJson<RegpruneFigures>(ROOT, fileURLToPath(import.meta.url), [configPath]);
}

/** HEAD then DELETE per tag with plain fetch, `concurrency` tags in flight. */
async function bareDelete(
  registry: RunningRegistry,
  tags: readonly string[],
  concurrency: number,
): Promise<{ wallMs: number; calls: number; failed: number }> {
  let calls = 0;
  let failed = 0;
  const started = performance.now();
  await mapConcurrent(tags, concurrency, async (tag) => {
    calls++;
    const head = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
    });
    const digest = head.headers.get('docker-content-digest');
    if (!head.ok || digest === null) {
      failed++;
      return;
    }
    calls++;
    const del = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${digest}`, { method: 'DELETE' });
    await del.arrayBuffer();
    if (del.status !== 202) failed++;
  });
  return { wallMs: performance.now() - started, calls, failed };
}

/** What listing costs a bare client: GET every tag's manifest and its config blob, `concurrency` in flight. */
async function bareList(
  registry: RunningRegistry,
  tags: readonly string[],
  concurrency: number,
): Promise<{ wallMs: number; calls: number }> {
  let calls = 0;
  const started = performance.now();
  await mapConcurrent(tags, concurrency, async (tag) => {
    calls++;
    const response = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${tag}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    const manifest = (await response.json()) as { config: { digest: string } };
    calls++;
    const config = await fetch(`${registry.url}/v2/${REPOSITORY}/blobs/${manifest.config.digest}`);
    await config.arrayBuffer();
  });
  return { wallMs: performance.now() - started, calls };
}

async function remainingTags(registry: RunningRegistry): Promise<string[]> {
  return new RegistryReader(registry.url).tags(REPOSITORY);
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const cpuSeconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(2);
const cpuDelta = (before: number | null, after: number | null) =>
  before === null || after === null ? null : after - before;
const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');
const ratio = (a: number, b: number) => (a / b).toFixed(2);

async function main(): Promise<void> {
  const tagCount = Number(process.argv[2] ?? 1_100);
  const keep = Number(process.argv[3] ?? 100);
  const deleteCount = tagCount - keep;
  const unavailable = registryUnavailableReason();
  if (unavailable !== null) {
    process.stdout.write(`## Prune benchmark (registry)\n\nNot run: ${unavailable}\n`);
    process.exitCode = 1;
    return;
  }

  const loadStart = load();
  // Seed once; every measured run starts from a copy of this storage.
  const seed = await startRegistry({ accessLog: false });
  const work = await mkdtemp(join(tmpdir(), 'regprune-bench-'));
  try {
    const pusher = new RegistryPusher(seed.url, 8);
    const now = Date.now();
    const seedStarted = performance.now();
    await pushBuildHistory(pusher, REPOSITORY, {
      builds: tagCount,
      prefix: 't',
      firstCreated: new Date(now - 2 * 24 * HOUR_MS - tagCount * HOUR_MS).toISOString(),
      lastCreated: new Date(now - 2 * 24 * HOUR_MS).toISOString(),
      baseLayers: [makeLayer('bench base os', 4096), makeLayer('bench runtime', 2048)],
      appLayer: false,
      concurrency: 8,
    });
    const seedMs = performance.now() - seedStarted;
    const reader = new RegistryReader(seed.url);
    const before = reader.requests;
    await reader.catalog();
    const catalogPages = reader.requests - before;
    const tags = await reader.tags(REPOSITORY);
    const tagPages = reader.requests - before - catalogPages;
    if (tags.length !== tagCount) throw new Error(`seeded ${tags.length} tags, expected ${tagCount}`);
    await seed.stop();
    // Oldest first: t1 … t<deleteCount> are the ones keep N does not cover.
    const doomed = Array.from({ length: deleteCount }, (_, i) => `t${i + 1}`);

    // regprune runs first and again last: on a shared machine the load drifts, and the better of
    // two runs bracketing the bare runs is a fairer figure than one.
    const runRegprune = async (): Promise<RegpruneFigures & { registryCpuMs: number | null }> => {
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
              { name: 'bench', provider: 'oci', endpoint: registry.url, repositories: [{ match: REPOSITORY, keep }] },
            ],
          }),
        );
        const cpuBefore = registry.cpuMs();
        const figures = await runChild(configPath);
        const registryCpuMs = cpuDelta(cpuBefore, registry.cpuMs());
        const left = await remainingTags(registry);
        if (left.length !== keep || figures.deleted !== deleteCount) {
          throw new Error(
            `regprune left ${left.length} tags and deleted ${figures.deleted}; expected ${keep} and ${deleteCount}`,
          );
        }
        return { ...figures, registryCpuMs };
      } finally {
        await registry.dispose();
      }
    };
    const regpruneRuns = [await runRegprune()];

    // The bare client at each concurrency; concurrency 1 is the sequential loop (a).
    const bare: Array<{ concurrency: number; wallMs: number; calls: number; registryCpuMs: number | null }> = [];
    for (const concurrency of CONCURRENCIES) {
      const registry = await startRegistry({ accessLog: false, copyStorageFrom: seed.storageDir });
      try {
        const cpuBefore = registry.cpuMs();
        const result = await bareDelete(registry, doomed, concurrency);
        const registryCpuMs = cpuDelta(cpuBefore, registry.cpuMs());
        const left = await remainingTags(registry);
        if (result.failed > 0 || left.length !== keep)
          throw new Error(`bare client at ${concurrency}: ${result.failed} failed, ${left.length} tags left`);
        bare.push({ concurrency, wallMs: result.wallMs, calls: result.calls, registryCpuMs });
      } finally {
        await registry.dispose();
      }
    }

    // Listing reference: what reading every manifest and config costs a bare client (no deletes).
    const listRegistry = await startRegistry({ accessLog: false, copyStorageFrom: seed.storageDir });
    let listing: { wallMs: number; calls: number; registryCpuMs?: number | null };
    try {
      const cpuBefore = listRegistry.cpuMs();
      listing = await bareList(listRegistry, tags, LIST_CONCURRENCY);
      listing = { ...listing, registryCpuMs: cpuDelta(cpuBefore, listRegistry.cpuMs()) };
    } finally {
      await listRegistry.dispose();
    }

    regpruneRuns.push(await runRegprune());
    const regprune = regpruneRuns.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const sequential = bare[0]!;
    const best = bare.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const minimumCalls =
      catalogPages + tagPages + tagCount /* manifest reads */ + tagCount /* config reads */ + deleteCount;
    const out = [
      `## Prune ${deleteCount.toLocaleString('en-US')} of ${tagCount.toLocaleString('en-US')} tags on ` +
        `docker-registry 2.8 (one repository)`,
      '',
      `Each run starts from the same seeded storage (${tagCount} images sharing 2 base layers; seeded once in ` +
        `${seconds(seedMs)} s, ${pusher.requests} requests).`,
      '',
      `Load average ${loadStart} at the start, ${load()} at the end (1 / 5 / 15 min; 2 cores shared with other ` +
        `work). Wall times move with the load; the registry's own CPU time is the steadier figure.`,
      '',
      '| client | wall (s) | ms per deleted tag | API calls | registry CPU (s) |',
      '|---|---:|---:|---:|---:|',
      `| regprune \`prune()\` (list, plan, re-verify, delete), better of ` +
        `${regpruneRuns.map((run) => seconds(run.wallMs)).join(' and ')} s | ${seconds(regprune.wallMs)} | ` +
        `${(regprune.wallMs / deleteCount).toFixed(1)} | ${regprune.apiCalls} | ` +
        `${cpuSeconds(regprune.registryCpuMs)} |`,
      `| bare fetch GET manifest + GET config per tag (listing only, no deletes), concurrency ${LIST_CONCURRENCY} | ` +
        `${seconds(listing.wallMs)} | – | ${listing.calls} | ${cpuSeconds(listing.registryCpuMs)} |`,
      ...bare.map(
        (run) =>
          `| bare fetch HEAD+DELETE, concurrency ` +
          `${run.concurrency}${run.concurrency === 1 ? ' = (a) sequential loop' : ''}` +
          `${run === best ? ' = (b) best' : ''} | ${seconds(run.wallMs)} | ` +
          `${(run.wallMs / deleteCount).toFixed(1)} | ${run.calls} | ${cpuSeconds(run.registryCpuMs)} |`,
      ),
      '',
      `regprune's time inside the provider: listing ${seconds(regprune.listMs)} s, re-verifying tags ` +
        `${seconds(regprune.reverifyMs)} s, deleting ${seconds(regprune.deleteMs)} s (the rest, ` +
        `${seconds(regprune.wallMs - regprune.listMs - regprune.reverifyMs - regprune.deleteMs)} s, is planning ` +
        `and bookkeeping).`,
      '',
      `- regprune / (b) best bare client (concurrency ${best.concurrency}): ` +
        `**${ratio(regprune.wallMs, best.wallMs)}×** (target ≤ 1.15)`,
      `- regprune / (a) sequential loop: **${ratio(regprune.wallMs, sequential.wallMs)}×**`,
      `- regprune's deleting alone / (b): **${ratio(regprune.deleteMs, best.wallMs)}×**; regprune / (bare listing + ` +
        `(b)), the same job done bare: **${ratio(regprune.wallMs, listing.wallMs + best.wallMs)}×**`,
      `- API calls: regprune ${regprune.apiCalls} vs minimum ${minimumCalls} (${catalogPages} catalog + ${tagPages} ` +
        `tag pages + ${tagCount} manifests + ${tagCount} configs + ${deleteCount} deletes): ` +
        `**${ratio(regprune.apiCalls, minimumCalls)}×** (target ≤ 1.05)`,
      `- Peak RSS of the process running regprune: **${(regprune.maxRssBytes / 1024 / 1024).toFixed(0)} MB**`,
      '',
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await seed.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await childMain(process.argv[3]!);
else await main();
