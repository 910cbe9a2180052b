/**
 * The nightly steady state on a real registry (docker-registry 2.8), issue 12 item 2: 150
 * repositories, yesterday's prune left 10 builds each, one new build pushed since; keep 10, so the
 * oldest build of each repository goes. Measured side by side in one run, each on a copy of the same
 * seeded storage:
 *   - regprune `prune()` with the inventory cache a run over yesterday's registry left in its state
 *     directory (it reads only the new builds' manifests and configs; a HEAD per tag for the rest),
 *   - the same with `--no-cache` (every manifest and config read, as before the cache),
 *   - a stateless raw fetch client doing the same job at concurrency 8: catalog, tags/list, GET
 *     manifest + GET config per tag, DELETE the oldest build of each repository.
 * Also: a second `plan` over an unchanged registry, its API calls against the floor (catalog pages
 * + tag pages + one HEAD per tag). Prints Markdown.
 *
 *   npx tsx bench/steady-state.ts [repositories] [builds]
 */
import { runChildJson } from './support/child.js';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { mapConcurrent } from '../lib/concurrency.js';
import { RegistryReader } from '../test/support/pull.js';
import { registryUnavailableReason, startRegistry, type RunningRegistry } from '../test/support/registry.js';
import { makeLayer, MANIFEST_ACCEPT, pushBuildHistory, RegistryPusher } from '../test/support/seed.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RAW_CONCURRENCY = 8;
const HOUR_MS = 3_600_000;

interface ChildFigures {
  readonly wallMs: number;
  readonly apiCalls: number;
  readonly deleted: number;
  readonly failed: number;
}

/** Child mode: `prune()` in-process with the state directory; prints the figures as JSON. */
async function childMain(configPath: string, stateDir: string, mode: string): Promise<void> {
  const { loadConfigFile } = await import('../lib/config/load.js');
  const { prune } = await import('../lib/run/prune.js');
  const { LocalStateStore } = await import('../lib/state/local.js');
  const config = await loadConfigFile(configPath);
  const state = new LocalStateStore(stateDir);
  // The provider's modules are loaded lazily on first use: load them before the clock starts, so the
  // figure is the run's (a warm function instance), not module compilation (bench/azure-bundle.ts
  // and aws-bundle.ts measure cold imports).
  await import('../lib/providers/oci/index.js');
  const started = performance.now();
  const report = await prune({
    config,
    now: new Date(),
    dryRun: mode === 'plan',
    state,
    ...(mode === 'no-cache' ? { inventoryCache: false } : {}),
  });
  const figures: ChildFigures = {
    wallMs: performance.now() - started,
    apiCalls: report.totals.apiCalls,
    deleted: report.totals.deleted,
    failed: report.totals.failed,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function runChild(configPath: string, stateDir: string, mode: 'plan' | 'prune' | 'no-cache'): Promise<ChildFigures> {
  return runChildJson<ChildFigures>(ROOT, fileURLToPath(import.meta.url), [configPath, stateDir, mode]);
}

/** The stateless raw client: reads what regprune needs to decide, then deletes the oldest build per repository. */
async function rawClient(registry: RunningRegistry): Promise<{ wallMs: number; calls: number; deleted: number }> {
  let calls = 0;
  let deleted = 0;
  const started = performance.now();
  const get = async (path: string, accept?: string) => {
    calls++;
    const response = await fetch(`${registry.url}${path}`, accept ? { headers: { accept } } : {});
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response;
  };
  const repositories: string[] = [];
  for (let path: string | null = '/v2/_catalog?n=1000'; path !== null; ) {
    const response = await get(path);
    const body = (await response.json()) as { repositories?: string[] };
    repositories.push(...(body.repositories ?? []));
    path = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
  }
  const perRepository = await mapConcurrent(repositories, RAW_CONCURRENCY, async (repository) => {
    const body = (await (await get(`/v2/${repository}/tags/list`)).json()) as { tags?: string[] };
    return { repository, tags: body.tags ?? [] };
  });
  const images = perRepository.flatMap(({ repository, tags }) => tags.map((tag) => ({ repository, tag })));
  const read = await mapConcurrent(images, RAW_CONCURRENCY, async ({ repository, tag }) => {
    const response = await get(`/v2/${repository}/manifests/${tag}`, MANIFEST_ACCEPT);
    const digest = response.headers.get('docker-content-digest') ?? '';
    const manifest = (await response.json()) as { config: { digest: string } };
    const config = (await (await get(`/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as {
      created: string;
    };
    return { repository, digest, createdMs: Date.parse(config.created) };
  });
  const doomed = perRepository.map(({ repository }) =>
    read.filter((image) => image.repository === repository).reduce((a, b) => (b.createdMs < a.createdMs ? b : a)),
  );
  await mapConcurrent(doomed, RAW_CONCURRENCY, async ({ repository, digest }) => {
    calls++;
    const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
    await response.arrayBuffer();
    if (response.status === 202) deleted++;
  });
  return { wallMs: performance.now() - started, calls, deleted };
}

/** Yesterday's knowledge, as a cache holds it: per repository, each digest's build time. */
type Known = Map<string, Map<string, number>>;

/** Reads every repository's digests and build times (uncounted: it stands for yesterday's run). */
async function readKnown(registryUrl: string, repositories: readonly string[]): Promise<Known> {
  const known: Known = new Map();
  await mapConcurrent(repositories, RAW_CONCURRENCY, async (repository) => {
    const body = (await (await fetch(`${registryUrl}/v2/${repository}/tags/list`)).json()) as { tags?: string[] };
    const digests = new Map<string, number>();
    for (const tag of body.tags ?? []) {
      const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
        headers: { accept: MANIFEST_ACCEPT },
      });
      const manifest = (await response.json()) as { config: { digest: string } };
      const blob = await fetch(`${registryUrl}/v2/${repository}/blobs/${manifest.config.digest}`);
      const config = (await blob.json()) as { created: string };
      digests.set(response.headers.get('docker-content-digest') ?? '', Date.parse(config.created));
    }
    known.set(repository, digests);
  });
  return known;
}

/**
 * A raw client that keeps yesterday's reads: catalog, tags/list, a HEAD per tag (registry 2.8's tag
 * list has names only, so where each tag points takes a request each), GET manifest + config only
 * for digests it does not know, DELETE the oldest build, and one tags/list after it to see whether
 * a tag went with it. It checks nothing again between its HEADs and its DELETE, as regprune's
 * re-verification does (a second tag listing and a HEAD per kept tag).
 */
async function safeFloorClient(
  registry: RunningRegistry,
  known: Known,
): Promise<{ wallMs: number; calls: number; deleted: number }> {
  let calls = 0;
  let deleted = 0;
  const started = performance.now();
  const call = async (path: string, init: RequestInit = {}) => {
    calls++;
    const response = await fetch(`${registry.url}${path}`, init);
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status}`);
    return response;
  };
  const catalog = (await (await call('/v2/_catalog?n=1000')).json()) as { repositories: string[] };
  await mapConcurrent(catalog.repositories, RAW_CONCURRENCY, async (repository) => {
    const { tags } = (await (await call(`/v2/${repository}/tags/list`)).json()) as { tags: string[] };
    const digests = known.get(repository) ?? new Map<string, number>();
    const images = new Map<string, number>();
    for (const tag of tags) {
      const head = await call(`/v2/${repository}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
      });
      const digest = head.headers.get('docker-content-digest') ?? '';
      let createdMs = digests.get(digest);
      if (createdMs === undefined) {
        const response = await call(`/v2/${repository}/manifests/${digest}`, { headers: { accept: MANIFEST_ACCEPT } });
        const manifest = (await response.json()) as { config: { digest: string } };
        const config = (await (await call(`/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as {
          created: string;
        };
        createdMs = Date.parse(config.created);
      }
      images.set(digest, createdMs);
    }
    const [oldest] = [...images].reduce((a, b) => (b[1] < a[1] ? b : a));
    const response = await call(`/v2/${repository}/manifests/${oldest}`, { method: 'DELETE' });
    if (response.status === 202) deleted++;
    await (await call(`/v2/${repository}/tags/list`)).arrayBuffer();
  });
  return { wallMs: performance.now() - started, calls, deleted };
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');

async function main(): Promise<void> {
  const repositoryCount = Number(process.argv[2] ?? 150);
  const builds = Number(process.argv[3] ?? 10);
  const unavailable = registryUnavailableReason();
  if (unavailable !== null) {
    process.stdout.write(`## Steady state (registry)\n\nNot run: ${unavailable}\n`);
    process.exitCode = 1;
    return;
  }
  const loadStart = load();
  const work = await mkdtemp(join(tmpdir(), 'regprune-steady-'));
  const seed = await startRegistry({ accessLog: false });
  try {
    const pusher = new RegistryPusher(seed.url, 8);
    const now = Date.now();
    const names = Array.from({ length: repositoryCount }, (_, i) => `svc/app-${String(i).padStart(3, '0')}`);
    const base = [makeLayer('steady base os', 4096), makeLayer('steady runtime', 2048)];
    const seedStarted = performance.now();
    await mapConcurrent(names, 4, (name) =>
      pushBuildHistory(pusher, name, {
        builds,
        firstCreated: new Date(now - 3 * 24 * HOUR_MS - builds * HOUR_MS).toISOString(),
        lastCreated: new Date(now - 3 * 24 * HOUR_MS).toISOString(),
        baseLayers: base,
        concurrency: 2,
      }),
    );
    const configPath = join(work, 'regprune.json');
    const writeConfig = (registry: RunningRegistry) =>
      writeFile(
        configPath,
        JSON.stringify({
          version: 1,
          dryRun: false,
          defaults: { pinned: [], minAge: '1d' },
          registries: [
            { name: 'steady', provider: 'oci', endpoint: registry.url, repositories: [{ match: '**', keep: builds }] },
          ],
        }),
      );
    // Yesterday's run: it leaves the inventory cache in the state directory.
    const yesterday = join(work, 'state-yesterday');
    await writeConfig(seed);
    const warm = await runChild(configPath, yesterday, 'plan');
    // The unchanged registry planned again: the second-run call count against its floor.
    const secondPlanState = join(work, 'state-second-plan');
    await cp(yesterday, secondPlanState, { recursive: true });
    const secondPlan = await runChild(configPath, secondPlanState, 'plan');
    const reader = new RegistryReader(seed.url);
    await reader.catalog();
    const catalogPages = reader.requests;
    let tagCount = 0;
    for (const name of names) tagCount += (await reader.tags(name)).length;
    const tagPages = reader.requests - catalogPages;
    const floor = catalogPages + tagPages + tagCount;
    const known = await readKnown(seed.url, names);
    // One new build per repository since yesterday.
    await mapConcurrent(names, 8, (name) =>
      pusher.pushImage(name, {
        tags: ['new'],
        created: new Date(now - HOUR_MS).toISOString(),
        layers: [...base, makeLayer(`${name} new`, 256)],
        label: `${name} new`,
      }),
    );
    const seedMs = performance.now() - seedStarted;
    await seed.stop();

    const onCopy = async <T>(run: (registry: RunningRegistry) => Promise<T>): Promise<T> => {
      const registry = await startRegistry({ accessLog: false, copyStorageFrom: seed.storageDir });
      try {
        return await run(registry);
      } finally {
        await registry.dispose();
      }
    };
    const regprune = async (mode: 'prune' | 'no-cache') =>
      onCopy(async (registry) => {
        await writeConfig(registry);
        // The endpoint's port differs per copy: the cache is keyed by endpoint, so carry yesterday's
        // records over to this endpoint's key.
        const state = join(work, `state-${mode}-${performance.now().toFixed(0)}`);
        await cp(yesterday, state, { recursive: true });
        await rekey(state, seed.url, registry.url);
        const figures = await runChild(configPath, state, mode);
        if (figures.deleted !== repositoryCount || figures.failed > 0)
          throw new Error(`regprune ${mode}: deleted ${figures.deleted}, failed ${figures.failed}`);
        return figures;
      });
    // regprune first and last, the raw client between: the load of a shared machine drifts.
    const cached = [await regprune('prune')];
    const raw = await onCopy(rawClient);
    if (raw.deleted !== repositoryCount) throw new Error(`raw client deleted ${raw.deleted}`);
    const safeFloor = await onCopy((registry) => safeFloorClient(registry, known));
    if (safeFloor.deleted !== repositoryCount) throw new Error(`safe-floor client deleted ${safeFloor.deleted}`);
    const uncached = await regprune('no-cache');
    cached.push(await regprune('prune'));
    const best = cached.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const images = repositoryCount * (builds + 1);
    const out = [
      `## Nightly steady state: ${repositoryCount} repositories × ${builds} builds + 1 new (docker-registry 2.8)`,
      '',
      `Keep ${builds}: the oldest build of each repository is deleted (${repositoryCount} deletions of ` +
        `${images} images). Seeded once in ${seconds(seedMs)} s; every run starts from a copy of that storage. ` +
        `Load average ${loadStart} at the start, ${load()} at the end (2 cores shared with other work).`,
      '',
      '| client | wall (s) | API calls |',
      '|---|---:|---:|',
      `| regprune \`prune()\` with yesterday's inventory cache, better of ` +
        `${cached.map((run) => seconds(run.wallMs)).join(' and ')} s | ${seconds(best.wallMs)} | ${best.apiCalls} |`,
      `| regprune \`prune()\` --no-cache | ${seconds(uncached.wallMs)} | ${uncached.apiCalls} |`,
      `| stateless raw client (GET manifest + config per tag), concurrency ${RAW_CONCURRENCY} | ` +
        `${seconds(raw.wallMs)} | ${raw.calls} |`,
      `| raw client with yesterday's reads (HEAD per tag, GET only new, tags/list after the DELETE; no re-check ` +
        `before it), concurrency ${RAW_CONCURRENCY} | ${seconds(safeFloor.wallMs)} | ${safeFloor.calls} |`,
      '',
      `- raw client / regprune with cache: **${ratio(raw.wallMs, best.wallMs)}×** as fast (target ≥ 3); ` +
        `calls ${ratio(best.apiCalls, raw.calls)}× the raw client's`,
      `- raw client / regprune --no-cache: ${ratio(raw.wallMs, uncached.wallMs)}×`,
      `- with yesterday's reads: the raw client that keeps them is **${ratio(raw.wallMs, safeFloor.wallMs)}×** as ` +
        `fast as the stateless one; regprune with cache takes ${ratio(best.wallMs, safeFloor.wallMs)}× its wall ` +
        `and ${ratio(best.apiCalls, safeFloor.calls)}× its calls, the difference being re-verification before ` +
        'deleting (a second tag listing and a HEAD per kept tag).',
      `- second \`plan\` over the unchanged registry: **${secondPlan.apiCalls} calls**, floor ${floor} ` +
        `(${catalogPages} catalog + ${tagPages} tag pages + ${tagCount} HEADs); the first plan (empty cache) made ` +
        `${warm.apiCalls}`,
      '',
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await seed.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

/** Moves the cache records of one endpoint to another's key (each registry copy listens on its own port). */
async function rekey(stateDir: string, fromUrl: string, toUrl: string): Promise<void> {
  const { rename } = await import('node:fs/promises');
  const segment = (url: string) => encodeURIComponent(new URL(url).host);
  await rename(join(stateDir, 'cache', 'v1', segment(fromUrl)), join(stateDir, 'cache', 'v1', segment(toUrl)));
}

if (process.argv[2] === '--child') await childMain(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
