/**
 * Planner benchmark: 1,000,000 images over 1,000 repositories, planned one repository at a time
 * with a typical policy. Repositories are generated one at a time too, so the figures measure the
 * planner, not a million-object fixture. Prints Markdown.
 *
 *   npx tsx bench/plan.ts [repositories] [imagesPerRepository]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolvePolicy } from '../lib/config/policy.js';
import { parseConfig } from '../lib/config/load.js';
import type { Image, Inventory } from '../lib/model.js';
import { plan } from '../lib/plan/index.js';

const REPOSITORIES = Number(process.argv[2] ?? 1_000);
const IMAGES_PER_REPOSITORY = Number(process.argv[3] ?? 1_000);
const NOW = new Date('2026-03-15T12:00:00Z');
const DAY_MS = 86_400_000;

/** A small deterministic PRNG (mulberry32), so every run plans the same registry. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const digestRandom = random(0x5eed);
const HEX_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const digestParts = new Array<string>(33).fill('');
/**
 * A digest like a provider's: random hex, and a flat string as JSON.parse or a header gives (join
 * builds one; `+` would build a rope that the planner would pay to flatten).
 */
function nextDigest(): string {
  digestParts[0] = 'sha256:';
  for (let i = 1; i <= 32; i++) digestParts[i] = HEX_BYTE[Math.floor(digestRandom() * 256)]!;
  return digestParts.join('');
}

interface ImageFields {
  readonly tags: string[];
  readonly kind: Image['kind'];
  readonly pushedAtMs: number | null;
  readonly children?: string[];
  readonly subject?: string | null;
}

const MEDIA_TYPES = {
  image: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  artifact: 'application/vnd.oci.image.manifest.v1+json',
};

/** One image, built as a provider builds it: a single object literal, so every image has the same shape. */
function makeImage(fields: ImageFields, rand: () => number): Image {
  return {
    digest: nextDigest(),
    tags: fields.tags,
    kind: fields.kind,
    mediaType: MEDIA_TYPES[fields.kind],
    pushedAtMs: fields.pushedAtMs,
    timeSource: fields.pushedAtMs === null ? 'unknown' : 'registry',
    lastPulledAtMs: null,
    sizeBytes: 50_000_000,
    children: fields.children ?? [],
    subject: fields.subject ?? null,
    locked: rand() < 0.005,
  };
}

/**
 * One repository's history: ~70% tagged single-platform builds (a tenth with a second tag on the
 * same digest, some releases, `latest` on the newest), multi-arch indexes with two children each,
 * cosign signatures, and untagged leftovers; times over a year, 2% unknown.
 */
function generateRepository(n: number, size: number): Inventory {
  const rand = random(n + 1);
  const images: Image[] = [];
  const when = (): number | null => (rand() < 0.02 ? null : NOW.getTime() - Math.floor(rand() * 365 * DAY_MS));
  const signable: Image[] = [];
  let build = 0;
  const indexes = Math.floor(size * 0.04);
  const signatures = Math.floor(size * 0.08);
  const orphans = Math.floor(size * 0.1);
  const singles = size - indexes * 3 - signatures - orphans;

  for (let i = 0; i < singles; i++) {
    const tags = [`b${++build}`];
    if (rand() < 0.1) tags.push(`sha-${build.toString(16)}`);
    if (rand() < 0.03) tags.push(`release-${build}`);
    if (rand() < 0.02) tags.push(`v1.${build}.0`);
    const img = makeImage({ tags, kind: 'image', pushedAtMs: when() }, rand);
    images.push(img);
    signable.push(img);
  }
  for (let i = 0; i < indexes; i++) {
    const pushedAtMs = when();
    const children = [0, 1].map(() => makeImage({ tags: [], kind: 'image', pushedAtMs }, rand));
    const idx = makeImage(
      { tags: [`multi-${++build}`], kind: 'index', pushedAtMs, children: children.map((c) => c.digest) },
      rand,
    );
    images.push(idx, ...children);
    signable.push(idx);
  }
  for (let i = 0; i < signatures; i++) {
    const subject = signable[Math.floor(rand() * signable.length)]!;
    const tags = [`${subject.digest.replace(':', '-')}.sig`];
    images.push(makeImage({ tags, kind: 'artifact', pushedAtMs: subject.pushedAtMs, subject: subject.digest }, rand));
  }
  for (let i = 0; i < orphans; i++) {
    images.push(makeImage({ tags: [], kind: 'image', pushedAtMs: when() }, rand));
  }
  if (images.length > 0) (images[singles - 1]!.tags as string[]).push('latest');
  return { registry: 'bench', repository: `team-${n % 10}/service-${n}`, images, warnings: [] };
}

const config = parseConfig({
  version: 1,
  defaults: {
    keep: 10,
    pinned: ['latest', '/^v\\d+\\.\\d+\\.\\d+$/', 'release-*'],
    minAge: '3d',
    untagged: 'delete',
    order: 'pushed',
  },
  registries: [{ name: 'bench', provider: 'oci', endpoint: 'http://127.0.0.1:5000', repositories: [{ match: '**' }] }],
});
const policy = resolvePolicy(config, config.registries[0]!.repositories[0]!);

// A young-generation collection after generating each repository, so that planning is not billed
// for collecting the generator's garbage (it still pays for its own).
setFlagsFromString('--expose-gc');
const collectYoung = runInNewContext('gc') as (options: { type: 'minor' }) => void;

let generateMs = 0;
let planMs = 0;
let planCpuMs = 0;
let images = 0;
let kept = 0;
let deleted = 0;
let warnings = 0;
let maxWave = 0;
for (let n = 0; n < REPOSITORIES; n++) {
  const started = performance.now();
  const inventory = generateRepository(n, IMAGES_PER_REPOSITORY);
  collectYoung({ type: 'minor' });
  const cpuBefore = process.cpuUsage(); // a system call: read it outside the wall-clock window
  const generated = performance.now();
  const result = plan(inventory, policy, NOW);
  planMs += performance.now() - generated;
  const cpu = process.cpuUsage(cpuBefore);
  planCpuMs += (cpu.user + cpu.system) / 1000;
  generateMs += generated - started;
  images += inventory.images.length;
  kept += result.keep.length;
  deleted += result.delete.length;
  warnings += result.warnings.length;
  for (const decision of result.delete) maxWave = Math.max(maxWave, decision.wave);
}
const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

const fmt = (value: number): string => value.toLocaleString('en-US');
console.log(`## Planner: ${fmt(images)} images over ${fmt(REPOSITORIES)} repositories\n`);
console.log('| Measure | Value | Target |');
console.log('| --- | --- | --- |');
console.log(`| Planning wall time (sum over repositories) | ${(planMs / 1000).toFixed(2)} s | < 2 s |`);
console.log(
  `| Planning CPU time (user + system; steadier on a shared machine) | ${(planCpuMs / 1000).toFixed(2)} s | |`,
);
console.log(`| Generating the inventories (not planning) | ${(generateMs / 1000).toFixed(2)} s | |`);
console.log(`| Planning throughput | ${fmt(Math.round(images / (planMs / 1000)))} images/s | |`);
console.log(`| Peak RSS (whole process) | ${peakRssMb.toFixed(0)} MB | < 300 MB |`);
console.log(`| Kept / deleted | ${fmt(kept)} / ${fmt(deleted)} | |`);
console.log(`| Deletion waves (max) / warnings | ${maxWave + 1} / ${fmt(warnings)} | |`);
console.log(
  `\nNode ${process.version}; load average ${loadavg()[0]!.toFixed(1)} at the end (the machine is shared: wall time ` +
    `grows with it); policy keep 10, pinned latest, /^v\\d+\\.\\d+\\.\\d+$/, release-*, minAge 3d, untagged delete.`,
);
