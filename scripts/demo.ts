/**
 * `npm run demo`: regprune against a real registry on this machine, start to finish.
 * Starts Debian's docker-registry (registry 2.8) on a free loopback port in a temp dir, seeds a few
 * repositories with realistic history, shows the plan, prunes, runs garbage-collect, and prints
 * what the registry held before and after (including bytes on disk). Cleans up on exit, on
 * errors and on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { census, RegistryReader, type Census } from '../test/support/pull.js';
import {
  registryUnavailableReason,
  startRegistry,
  type DiskUsage,
  type RunningRegistry,
} from '../test/support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher } from '../test/support/seed.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (text = '') => process.stdout.write(`${text}\n`);
const heading = (text: string) => say(`\n\u2500\u2500 ${text} ${'\u2500'.repeat(Math.max(0, 70 - text.length))}`);

let registry: RunningRegistry | null = null;
let interrupted = false;
let cleaningUp: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    if (registry !== null) await registry.dispose();
    registry = null;
  })();
  return cleaningUp;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\ndemo: ${signal}: stopping the registry and removing its temp dir\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs the regprune CLI with its output on this terminal; resolves with its exit code. */
function regprune(args: readonly string[]): Promise<number> {
  say(`$ regprune ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'lib', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('close', (code) => resolvePromise(code ?? 1));
  });
}

/** Pushes a small but realistic registry: build histories, releases, a rollback, multi-arch, signatures. */
async function seed(target: RunningRegistry): Promise<string[]> {
  const pusher = new RegistryPusher(target.url);
  const now = new Date();
  const notes: string[] = [];
  const debian = makeLayer('debian:bookworm-slim rootfs', 96 * 1024);
  const node = makeLayer('node:20 runtime', 64 * 1024);
  const deps = makeLayer('shop npm dependencies', 32 * 1024);

  // shop/web: 30 CI builds over two months, three releases, latest rolled back to build 27.
  const web = await pushBuildHistory(pusher, 'shop/web', {
    builds: 30,
    firstCreated: daysBefore(now, 60),
    lastCreated: daysBefore(now, 2),
    baseLayers: [debian, node, deps],
    format: 'docker',
    extraTags: { 5: ['v1.0.0'], 14: ['v1.1.0'], 25: ['v1.2.0'], 30: ['latest'] },
  });
  await pusher.tag('shop/web', web[26]!.bytes, web[26]!.manifest.mediaType, ['latest']);
  notes.push(
    'shop/web: 30 builds b1..b30, releases v1.0.0 (b5), v1.1.0 (b14), v1.2.0 (b25); latest rolled back from b30 to b27',
  );

  // shop/api: 8 multi-arch releases (amd64 + arm64), each signed with cosign; two with an SBOM.
  for (let n = 1; n <= 8; n++) {
    const created = daysBefore(now, 45 - n * 5);
    const index = await pusher.pushIndex('shop/api', {
      tags: n === 8 ? [`2026.${n}`, 'latest'] : [`2026.${n}`],
      created,
      label: `api ${n}`,
      platforms: [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux', variant: 'v8' },
      ],
      platformLayers: (platform) => [debian, makeLayer(`shop/api ${n} ${platform}`, 48 * 1024)],
    });
    await pusher.pushCosignSignature('shop/api', index.manifest);
    if (n === 2 || n === 8) await pusher.pushReferrer('shop/api', index.manifest, { created });
  }
  notes.push(
    'shop/api: 8 multi-arch releases 2026.1..2026.8 (2 platforms each), all cosign-signed, SBOMs on 2026.2 and ' +
      '2026.8, latest = 2026.8',
  );

  // shop/worker: 12 builds, two of them from the last few hours, and a reproducible build stamped 1970.
  await pushBuildHistory(pusher, 'shop/worker', {
    builds: 10,
    firstCreated: daysBefore(now, 30),
    lastCreated: daysBefore(now, 8),
    baseLayers: [debian, node],
  });
  for (const [tag, hours] of [
    ['b11', 20],
    ['b12', 3],
  ] as const) {
    await pusher.pushImage('shop/worker', {
      tags: [tag],
      created: daysBefore(now, hours / 24),
      layers: [debian, node, makeLayer(`worker ${tag}`, 16 * 1024)],
      label: tag,
    });
  }
  await pusher.pushImage('shop/worker', {
    tags: ['repro'],
    created: '1970-01-01T00:00:00Z',
    layers: [debian, node, makeLayer('worker repro', 16 * 1024)],
    label: 'repro',
  });
  notes.push(
    'shop/worker: 12 builds (b11, b12 pushed hours ago), plus "repro", a reproducible build whose config says 1970',
  );

  // sandbox/experiments: no rule matches it, so regprune must not touch it.
  await pushBuildHistory(pusher, 'sandbox/experiments', {
    builds: 6,
    prefix: 'try',
    firstCreated: daysBefore(now, 300),
    lastCreated: daysBefore(now, 200),
    baseLayers: [debian],
  });
  notes.push('sandbox/experiments: 6 old images; no rule matches it');
  return notes;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

function summaryTable(before: Census & { disk: DiskUsage }, after: Census & { disk: DiskUsage }): string[] {
  const row = (label: string, a: string | number, b: string | number) => `| ${label} | ${a} | ${b} |`;
  return [
    '|  | before | after |',
    '|---|---:|---:|',
    row('repositories', before.repositories, after.repositories),
    row('tags', before.tags, after.tags),
    row('manifests (reachable)', before.manifests, after.manifests),
    row('unique blobs', before.blobs, after.blobs),
    row('bytes of unique blobs', kib(before.blobBytes), kib(after.blobBytes)),
    row('bytes on disk (blob store)', kib(before.disk.blobBytes), kib(after.disk.blobBytes)),
  ];
}

async function main(): Promise<number> {
  const unavailable = registryUnavailableReason();
  if (unavailable !== null) {
    process.stderr.write(`demo: needs Debian's registry 2.8: ${unavailable}\n`);
    return 1;
  }
  heading('1. Start a registry');
  registry = await startRegistry({ accessLog: false });
  say(`docker-registry 2.8 on ${registry.url}, storage in ${registry.storageDir} (deletes enabled)`);

  heading('2. Seed it with a realistic history');
  for (const note of await seed(registry)) say(`  ${note}`);
  const reader = new RegistryReader(registry.url);
  const before = { ...(await census(reader)), disk: await registry.diskUsage() };
  say(
    `  → ${before.repositories} repositories, ${before.tags} tags, ${before.manifests} manifests, ` +
      `${kib(before.disk.blobBytes)} on disk`,
  );

  const template = await readFile(join(ROOT, 'scripts', 'demo-config.yaml'), 'utf8');
  const configPath = join(registry.dir, 'regprune.yaml');
  await writeFile(configPath, template.replaceAll('${ENDPOINT}', registry.url));
  heading('3. The config (scripts/demo-config.yaml)');
  say(
    template
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .replaceAll('${ENDPOINT}', registry.url)
      .trimEnd(),
  );

  heading('4. What regprune would do (plan: never deletes)');
  const planCode = await regprune(['plan', '--config', configPath]);
  if (planCode !== 0) throw new Error(`regprune plan exited ${planCode}`);

  heading('5. Prune for real');
  const pruneCode = await regprune(['prune', '--config', configPath, '--no-dry-run']);
  if (pruneCode !== 0) throw new Error(`regprune prune exited ${pruneCode}`);

  heading('6. Free the disk: stop the registry, garbage-collect, start it again');
  const diskBeforeGc = await registry.diskUsage();
  await registry.garbageCollect();
  const after = { ...(await census(reader)), disk: await registry.diskUsage() };
  say(`  before garbage-collect: ${kib(diskBeforeGc.blobBytes)} on disk (a registry frees nothing until it runs)`);
  say(`  after garbage-collect:  ${kib(after.disk.blobBytes)} on disk`);

  heading('7. Every kept tag still pulls completely (every digest verified)');
  let pulled = 0;
  for (const repository of await reader.catalog()) {
    for (const tag of await reader.tags(repository)) {
      await reader.pull(repository, tag);
      pulled++;
    }
  }
  say(`  ${pulled} tags pulled: manifests, index children, configs and layers all present and matching their digests`);

  heading('8. Before and after');
  for (const line of summaryTable(before, after)) say(line);
  const freed = before.disk.blobBytes - after.disk.blobBytes;
  say(`\nFreed ${kib(freed)} (${((100 * freed) / Math.max(1, before.disk.blobBytes)).toFixed(0)}% of the blob store).`);
  return 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  // After Ctrl-C the registry is gone mid-request: that is the interrupt, not a failure to report.
  if (!interrupted) process.stderr.write(`demo: failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await cleanup();
}
process.exitCode = exitCode;
