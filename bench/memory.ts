/**
 * Memory benchmark (issue 12, item 6): a registry of 1,000,000 images in 1,000 repositories, listed
 * and pruned (keep 10) through `prune()` against a generated in-memory registry behind our
 * `Provider` seam. The registry generates each repository's images when it is listed (nothing is
 * stored but a deleted count), so the peak RSS measured is regprune's, not the fake's. Runs in a
 * child process so that the figure is that run's alone. Prints Markdown.
 *
 *   npx tsx bench/memory.ts [repositories] [imagesPerRepository]
 */
import { runChildJson } from './support/child.js';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Image } from '../lib/model.js';
import type { DeleteRequest, DeleteResult, Provider, ProviderStats, TagListing } from '../lib/providers/provider.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KEEP = 10;
/**
 * The old-space cap of the second run, in MB: half of a 512 MB function (infra/aws's default
 * `memory_mb`), the rest left to Node itself and the off-heap byte accounting. Before the report's
 * entry lists were packed (lib/report/packed.ts), a million images needed 400 (at 320: out of memory).
 */
const CAPPED_HEAP_MB = 256;
/**
 * What AWS Lambda's managed Node runtime starts node with for a function of `memory_mb` (infra/aws's
 * default, 512): its bootstrap (`/var/runtime/bootstrap` of the Lambda base images, as copied with
 * Amazon's header into public repositories; not seen on a live Lambda here) gives a tenth of the
 * memory to the new space, semi-spaces of half that, and the rest to the old space.
 */
const LAMBDA_MEMORY_MB = 512;
const LAMBDA_FLAGS =
  `--max-semi-space-size=${Math.floor(LAMBDA_MEMORY_MB / 10 / 2)} ` +
  `--max-old-space-size=${LAMBDA_MEMORY_MB - Math.floor(LAMBDA_MEMORY_MB / 10)}`;
const MINUTE_MS = 60_000;
const NOW = new Date('2026-11-27T00:00:00Z');
const BASE_LAYER = `sha256:${'b'.repeat(64)}`;

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A registry whose repositories exist only as a formula: `images` builds per repository, one tag each. */
class GeneratedRegistry implements Provider {
  readonly kind = 'acr' as const;
  readonly name = 'generated';
  readonly maxDeleteBatch = 100;
  readonly stats: ProviderStats = { apiCalls: 0, retries: 0, throttled: 0 };
  deleted = 0;

  constructor(
    private readonly repositories: number,
    private readonly images: number,
  ) {}

  private imagesOf(repository: string): Image[] {
    return Array.from({ length: this.images }, (_, build) => ({
      digest: sha(`${repository}@${build}`),
      tags: [`build-${build}`],
      kind: 'image' as const,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      pushedAtMs: NOW.getTime() - 2 * 86_400_000 - (this.images - build) * MINUTE_MS,
      timeSource: 'registry' as const,
      lastPulledAtMs: null,
      sizeBytes: 3_000_000,
      blobs: [
        { digest: sha(`${repository}@${build}/config`), sizeBytes: 1_000 },
        { digest: BASE_LAYER, sizeBytes: 2_000_000 },
        { digest: sha(`${repository}@${build}/layer`), sizeBytes: 999_000 },
      ],
      children: [],
      subject: null,
      locked: false,
    }));
  }

  async *listRepositories(): AsyncIterable<string> {
    this.stats.apiCalls++;
    for (let index = 0; index < this.repositories; index++) yield `service-${String(index).padStart(4, '0')}`;
  }

  async listInventory(repository: string) {
    this.stats.apiCalls++;
    return { registry: this.name, repository, images: this.imagesOf(repository), warnings: [] };
  }

  async listImages(repository: string): Promise<Image[]> {
    return (await this.listInventory(repository)).images;
  }

  async listTags(repository: string): Promise<TagListing> {
    this.stats.apiCalls++;
    // Only what a tag listing holds: building whole images here would make the fake's garbage, not
    // regprune's, the peak this bench measures.
    const targets = new Map<string, string>();
    for (let build = 0; build < this.images; build++) targets.set(`build-${build}`, sha(`${repository}@${build}`));
    return { tags: [...targets.keys()], targets };
  }

  async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    const { targets } = await this.listTags(repository);
    return new Map(tags.map((tag) => [tag, targets?.get(tag) ?? null]));
  }

  async delete(_repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    this.stats.apiCalls++;
    this.deleted += requests.length;
    return requests.map((request) => ({ request, ok: true as const }));
  }
}

interface Figures {
  readonly wallMs: number;
  readonly maxRssBytes: number;
  readonly heapAfterBytes: number;
  readonly images: number;
  readonly deleted: number;
  readonly reportBytes: number;
}

async function childMain(repositories: number, images: number): Promise<void> {
  const { parseConfig } = await import('../lib/config/load.js');
  const { prune } = await import('../lib/run/prune.js');
  const { reportJsonChunks } = await import('../lib/render/json.js');
  const config = parseConfig({
    version: 1,
    dryRun: false,
    defaults: { keep: KEEP, pinned: [], minAge: '1d' },
    registries: [
      { name: 'generated', provider: 'acr', endpoint: 'https://generated.azurecr.io', repositories: [{ match: '**' }] },
    ],
  });
  const registry = new GeneratedRegistry(repositories, images);
  const started = performance.now();
  const report = await prune({ config, now: NOW, dryRun: false, providerFor: async () => registry });
  const wallMs = performance.now() - started;
  // What the report alone holds: collect everything else first (the child runs with --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const heapAfterBytes = process.memoryUsage().heapUsed;
  // Then written as the CLI writes it (--json, --report FILE), a repository at a time: the peak
  // below includes that.
  const reportBytes = jsonBytes(reportJsonChunks(report));
  const figures: Figures = {
    wallMs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapAfterBytes,
    images: report.totals.imagesBefore,
    deleted: registry.deleted,
    reportBytes,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function jsonBytes(chunks: Iterable<string>): number {
  let bytes = 0;
  for (const chunk of chunks) bytes += Buffer.byteLength(chunk);
  return bytes + 1;
}

function runChild(repositories: number, images: number, extraNodeOptions = ''): Promise<Figures> {
  return runChildJson<Figures>(ROOT, fileURLToPath(import.meta.url), [String(repositories), String(images)], {
    nodeOptions: extraNodeOptions,
    what: 'memory bench',
  });
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
  const repositories = Number(process.argv[2] ?? 1_000);
  const images = Number(process.argv[3] ?? 1_000);
  const full = await runChild(repositories, images, '--expose-gc');
  // V8 lets the heap grow well past the live set before a full collection; with the old space capped
  // (as a 512 MB Lambda or a container limit would), the same run shows what it really needs.
  const capped = await runChild(repositories, images, `--expose-gc --max-old-space-size=${CAPPED_HEAP_MB}`);
  const lambda = await runChild(repositories, images, `--expose-gc ${LAMBDA_FLAGS}`);
  const total = repositories * images;
  const out = [
    `## Memory: ${total.toLocaleString('en-US')} images in ${repositories.toLocaleString('en-US')} repositories`,
    '',
    `\`prune()\` (not a dry run), keep ${KEEP}, against a generated registry behind the \`Provider\` seam ` +
      '(ACR-shaped: registry-wide blob dedup; 3 blobs per image, one base layer shared by all).',
    '',
    '| figure | value |',
    '|---|---:|',
    `| images listed | ${full.images.toLocaleString('en-US')} |`,
    `| deletions sent | ${full.deleted.toLocaleString('en-US')} |`,
    `| wall (s) | ${(full.wallMs / 1000).toFixed(1)} |`,
    `| peak RSS, Node's default heap limit (MB) | ${mb(full.maxRssBytes)} |`,
    `| **peak RSS, --max-old-space-size=${CAPPED_HEAP_MB} (MB)** | **${mb(capped.maxRssBytes)}** (target < 500) |`,
    `| **peak RSS, a ${LAMBDA_MEMORY_MB} MB Lambda's flags (\`${LAMBDA_FLAGS}\`) (MB)** | ` +
      `**${mb(lambda.maxRssBytes)}** (target < 500) |`,
    `| heap after the run and a full GC, the report alive (MB) | ${mb(full.heapAfterBytes)} |`,
    `| JSON report as the CLI writes it, a repository at a time (MB) | ${mb(full.reportBytes)} |`,
    '',
    'The heap after the run is what the report holds (every kept and deleted image, as its contract ' +
      'says, packed per finished repository) plus the per-registry byte accounting; inventories are let ' +
      'go repository by repository.',
    '',
  ];
  process.stdout.write(out.join('\n'));
}

if (process.argv[2] === '--child') await childMain(Number(process.argv[3]), Number(process.argv[4]));
else await main();
