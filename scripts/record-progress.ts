/**
 * `npx tsx scripts/record-progress.ts`: records docs/recordings/prune-progress.cast (asciicast v2)
 * and a text excerpt, from a real run: Debian's docker-registry on loopback, seeded with build
 * histories, then `regprune prune --no-dry-run` in a pseudo-terminal (util-linux `script`), so the
 * progress bars draw as they do for a user.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/support/registry.js';
import { daysBefore, makeLayer, pushBuildHistory, RegistryPusher } from '../test/support/seed.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'recordings');

const registry = await startRegistry();
const work = await mkdtemp(join(tmpdir(), 'regprune-record-'));
try {
  const pusher = new RegistryPusher(registry.url);
  const now = new Date();
  const base = makeLayer('debian:bookworm-slim rootfs', 64 * 1024);
  for (const [repository, builds] of [
    ['shop/web', 400],
    ['shop/api', 120],
    ['shop/worker', 60],
  ] as const) {
    await pushBuildHistory(pusher, repository, {
      builds,
      firstCreated: daysBefore(now, 90),
      lastCreated: daysBefore(now, 1),
      baseLayers: [base],
      format: 'docker',
      extraTags: { [builds]: ['latest'] },
    });
  }
  const config = join(work, 'regprune.yaml');
  await writeFile(
    config,
    [
      'version: 1',
      'registries:',
      '  - name: local',
      '    provider: oci',
      `    endpoint: ${registry.url}`,
      '    repositories:',
      '      - match: "shop/*"',
      '        keep: 10',
      '        pinned: [latest]',
      '',
    ].join('\n'),
  );
  // The plan, as a pipe sees it (no colour, no bars): the excerpt in docs/cli.md.
  const plan = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(ROOT, 'lib/cli/main.ts'), 'plan', '-c', 'regprune.yaml'],
    { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', REGPRUNE_STATE: join(work, 'state') } },
  );
  await mkdir(OUT, { recursive: true });
  await writeFile(join(OUT, 'plan.txt'), plan.stdout);
  const command =
    `cd ${work} && NO_COLOR= COLUMNS=100 REGPRUNE_STATE=${join(work, 'state')} ` +
    `${process.execPath} --import ${import.meta.resolve('tsx')} ${join(ROOT, 'lib/cli/main.ts')} ` +
    'prune -c regprune.yaml --no-dry-run';
  const typescript = join(work, 'typescript');
  const timing = join(work, 'timing');
  spawnSync('script', ['-q', '-e', '-c', command, '-t' + timing, typescript], {
    stdio: 'ignore',
    cwd: ROOT,
    env: { ...process.env, CI: '', TERM: 'xterm-256color', NODE_OPTIONS: '' },
  });
  await mkdir(OUT, { recursive: true });
  await writeFile(
    join(OUT, 'prune-progress.cast'),
    await asciicast(typescript, timing, `regprune prune (${command.length} chars)`),
  );
  const text = (await readFile(typescript, 'utf8')).split('\n').slice(1).join('\n');
  await writeFile(join(OUT, 'prune-progress.txt'), frames(text));
} finally {
  await registry.dispose();
  await rm(work, { recursive: true, force: true });
}

/** asciicast v2 from `script`'s output and its classic timing file (`delay bytes` per line). */
async function asciicast(typescriptPath: string, timingPath: string, title: string): Promise<string> {
  const bytes = await readFile(typescriptPath);
  let offset = bytes.indexOf(0x0a) + 1; // the "Script started" line
  let at = 0;
  const events: string[] = [];
  for (const line of (await readFile(timingPath, 'utf8')).split('\n')) {
    const [delay, count] = line.split(' ').map(Number);
    if (delay === undefined || count === undefined || Number.isNaN(count)) continue;
    at += delay;
    events.push(JSON.stringify([Number(at.toFixed(3)), 'o', bytes.subarray(offset, offset + count).toString('utf8')]));
    offset += count;
  }
  const header = { version: 2, width: 100, height: 30, title, env: { TERM: 'xterm-256color' } };
  return `${[JSON.stringify(header), ...events].join('\n')}\n`;
}

/** A readable excerpt: a few redraws of the bars (escape codes removed), then the run's last lines. */
function frames(text: string): string {
  const esc = String.fromCharCode(27);
  const plain = text
    .replace(new RegExp(`${esc}\\[[0-9;]*m`, 'g'), '') // colours
    .replace(new RegExp(`${esc}\\[[0-9;?]*[A-Za-z]`, 'g'), '\n') // cursor moves: a redraw
    .replace(/\r/g, '\n');
  const lines = plain.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('Script done'));
  const bars = lines.filter((line) => /^ (listing |deleting)/.test(line));
  const listing = bars.filter((line) => line.startsWith(' listing'));
  const deleting = bars.filter((line) => line.startsWith(' deleting'));
  const picks = [
    ...new Set([
      listing[Math.floor(listing.length / 2)],
      listing.at(-1),
      deleting[Math.floor(deleting.length / 2)],
      deleting.at(-1),
    ]),
  ];
  const rest = lines.filter((line) => !/^ (listing |deleting)/.test(line));
  const excerpt = ['# bars while running (a few redraws)', ...picks.filter(Boolean), '', '# the end of the run'];
  return `${[...excerpt, ...rest].join('\n')}\n`;
}
