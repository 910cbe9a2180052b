/**
 * What the CLI prints, checked against what happened (issue 14, items 1, 3 and 8): the plan a
 * person can check, progress and verbosity, and output that tells the truth.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import { colourWanted, describeCounts, runDisplay } from '../../lib/cli/progress.js';
import { helpText } from '../../lib/cli/help.js';
import type { Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { bytesBarChart, LABEL_CHAR_PX, trendChart } from '../../lib/render/svg.js';
import { escapeMarkdownProse } from '../../lib/render/format.js';
import { daysAgo, image, index, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { Capture } from '../support/capture.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-output-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stdoutWrites: number;
  stderr: string;
  written: Map<string, string>;
}

async function run(
  argv: string[],
  options: {
    provider?: MemoryProvider;
    tty?: boolean;
    env?: NodeJS.ProcessEnv;
    writeFile?: CliIo['writeFile'];
  } = {},
): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture(options.tty ?? false);
  const written = new Map<string, string>();
  const io: CliIo = {
    stdout,
    stderr,
    clock: () => NOW,
    writeFile:
      options.writeFile ??
      (async (path, text) => {
        written.set(path, typeof text === 'string' ? text : [...text].join(''));
      }),
    env: { ...process.env, CI: '', NO_COLOR: '1', REGPRUNE_STATE: join(dir, 'state'), ...options.env },
    ...(options.provider ? { providerFor: async () => options.provider! } : {}),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stdoutWrites: stdout.writes, stderr: stderr.text, written };
}

async function config(name: string, rules: string, extra = ''): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    [
      'version: 1',
      extra,
      'registries:',
      '  - name: local',
      '    provider: oci',
      '    endpoint: http://127.0.0.1:9',
      '    repositories:',
      rules,
      '',
    ].join('\n'),
  );
  return path;
}

const KEEP_2 = '      - match: "app/*"\n        keep: 2\n        pinned: [latest]';

function builds(count: number): Image[] {
  const images = [image({ name: 'rel', tags: ['latest'], pushedAt: daysAgo(0.5) })];
  for (let i = 1; i <= count; i++) images.push(image({ name: `b${i}`, tags: [`build-${i}`], pushedAt: daysAgo(i) }));
  return images;
}

describe('a plan a person can check', () => {
  it('lists each image newest first with age, push time, digest, tags, fate and reason', async () => {
    const path = await config('plan.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4) } });

    const result = await run(['plan', '-c', path], { provider });

    const lines = result.stdout.split('\n').filter((line) => line.includes('sha256:'));
    expect(lines.map((line) => line.trim().split(/\s+/)[0])).toEqual(['12h', '24h', '2d', '3d', '4d']);
    expect(lines[0]).toMatch(/^ {3}12h {2}2026-03-15 00:00 {2}sha256:[0-9a-f]{12} {2}latest +keep {4}pinned: latest$/);
    expect(lines[1]).toContain('keep    recent: 1 of 2');
    expect(lines[3]).toContain('delete  rank 3 > keep 2');
  });

  it('says a platform manifest follows the index it belongs to', async () => {
    const path = await config('index.yaml', KEEP_2);
    const amd64 = image({ name: 'amd64', pushedAt: daysAgo(9) });
    const old = index({ name: 'old', tags: ['build-0'], children: [amd64], pushedAt: daysAgo(9) });
    const provider = new MemoryProvider({ repositories: { 'app/web': [...builds(2), old, amd64] } });

    const result = await run(['plan', '-c', path], { provider });

    expect(result.stdout).toContain(`(untagged)  delete  follows index ${old.digest.slice(0, 19)}…`);
  });

  it('folds long lists and unfolds them with --all', async () => {
    const path = await config('fold.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(30) } });

    const folded = await run(['plan', '-c', path], { provider });
    const all = await run(['plan', '-c', path, '--all'], { provider });

    expect(folded.stdout).toContain('  … 8 more deletions, --all to show');
    expect(folded.stdout.match(/ delete {2}/g)).toHaveLength(20);
    expect(all.stdout).not.toContain('more deletions');
    expect(all.stdout.match(/ delete {2}/g)).toHaveLength(28);
  });

  it('gives every image its push time, rank and reason in --json', async () => {
    const path = await config('json.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(3) } });

    const result = await run(['plan', '-c', path, '--json'], { provider });

    const repository = (JSON.parse(result.stdout) as Report).registries[0]!.repositories[0]!;
    expect(repository.kept.find((entry) => entry.tags.includes('build-1'))).toMatchObject({
      reason: 'recent',
      rank: 1,
      why: 'recent: 1 of 2',
      pushedAt: daysAgo(1).toISOString(),
    });
    expect(repository.deleted[0]).toMatchObject({
      rank: 3,
      why: 'rank 3 > keep 2',
      pushedAt: daysAgo(3).toISOString(),
    });
    expect(repository.kept.find((entry) => entry.reason === 'pinned')?.rank).toBeUndefined();
  });
});

describe('progress and verbosity', () => {
  it('draws bars for listing and deletion on a terminal', async () => {
    const path = await config('bars.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(5) } });

    const result = await run(['prune', '-c', path, '--no-dry-run'], { provider, tty: true });

    expect(result.stderr).toContain('listing ');
    expect(result.stderr).toMatch(/1\/1 repositories \| 6 images, 3 deletions planned/);
    expect(result.stderr).toMatch(/deleting .* 3\/3 images/);
  });

  it('draws no bars in CI, and no bars or progress with --quiet', async () => {
    const path = await config('ci.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(5) } });

    const ci = await run(['prune', '-c', path, '--no-dry-run'], { provider, tty: true, env: { CI: 'true' } });
    const quiet = await run(['plan', '-c', path, '--quiet'], { provider, tty: true });

    expect(ci.stderr).not.toContain('listing ');
    expect(quiet.stderr).toBe('');
  });

  it('says what it did in the plain lines of --verbose when stderr is not a terminal', async () => {
    const path = await config('verbose.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(5) } });

    const result = await run(['plan', '-c', path, '--verbose'], { provider });

    expect(result.stderr).toContain('regprune: local/app/web: 6 images, kept 3, would delete 3');
  });

  it('refuses --quiet with --verbose', async () => {
    const result = await run(['plan', '-c', 'x.yaml', '-q', '-v']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('regprune: plan: --quiet and --verbose contradict each other\n');
  });

  it('writes a plain progress line at most once per interval when stderr is not a terminal', () => {
    const stderr = new Capture(false);
    let now = 0;
    const display = runDisplay({ stderr, env: {}, verbosity: 'normal', nowMs: () => now, intervalMs: 10_000 });

    display.progress.matched('local', 2);
    now = 5_000;
    display.progress.planned('local', 'app/web', 1_200, 1_100);
    now = 11_000;
    display.progress.planned('local', 'app/api', 34, 0);
    now = 12_000;
    display.progress.finished('local', {} as never);

    expect(stderr.text).toBe('regprune: progress: 2/2 repositories listed (1,234 images); 1,100 deletions planned\n');
  });

  it('gives the deletion rate and time left once deleting', () => {
    const line = describeCounts(
      { matched: 1, listed: 1, images: 1500, planned: 1000, deleted: 200, deletingSinceMs: 0 },
      10_000,
    );

    expect(line).toBe('1/1 repositories listed (1,500 images); deleted 200 of 1,000 so far (20/s, about 40 s left)');
  });

  it.each([
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { TERM: 'dumb' }, false],
    [false, {}, false],
  ])('colours a terminal (%s) unless NO_COLOR or TERM=dumb (%o): %s', (isTTY, env, expected) => {
    expect(colourWanted({ isTTY }, env)).toBe(expected);
  });

  it('ends a prune with what it deleted per repository', async () => {
    const path = await config('deleted.yaml', KEEP_2);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4), 'app/api': builds(2) } });

    const result = await run(['prune', '-c', path, '--no-dry-run'], { provider });

    const tail = result.stdout.slice(result.stdout.indexOf('Deleted:'));
    expect(tail).toMatch(/^Deleted:\n\nlocal\/app\/web\n.*build-3 +deleted {2}rank 3 > keep 2\n.*build-4 +deleted/);
    expect(tail).not.toContain('local/app/api');
  });
});

describe('output that tells the truth', () => {
  const REPORT_RULES = '      - match: "app/*"\n        keep: 2';

  it('gives a headline image count that adds up to the repositories table (report lists unmatched ones)', async () => {
    const path = await config('headline.yaml', REPORT_RULES);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4), 'other/tool': builds(6) } });

    const result = await run(['report', '-c', path], { provider });

    const headline = /in 2 repositories \((\d+) images\)/.exec(result.stdout);
    const table = result.stdout.slice(result.stdout.indexOf('### Repositories'), result.stdout.indexOf('### Oldest'));
    const rows = table
      .split('\n')
      .filter((line) => /^\| local\//.test(line))
      .map((line) => Number(line.split('|')[2]));
    expect(rows).toEqual([7, 5]);
    expect(Number(headline?.[1])).toBe(12);
  });

  it('says in the JSON how many repositories the byte totals cover', async () => {
    const path = await config('accounted.yaml', REPORT_RULES);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4), 'other/tool': builds(6) } });

    const result = await run(['report', '-c', path, '--json'], { provider });

    const report = JSON.parse(result.stdout) as Report;
    expect(report.totals.repositories).toBe(1);
    expect(report.totals.repositoriesAccounted).toBe(2);
  });

  it.each([['--json'], ['--format', 'json']])(
    'writes report %s in pieces, never as one string, and it is the whole report',
    async (...flags) => {
      const path = await config(`pieces-${flags.length}.yaml`, REPORT_RULES);
      const provider = new MemoryProvider({ repositories: { 'app/web': builds(1_500), 'app/api': builds(3) } });

      const result = await run(['report', '-c', path, ...flags], { provider });

      expect(result.code).toBe(0);
      expect(result.stdout.length).toBeGreaterThan(300_000);
      expect(result.stdoutWrites).toBeGreaterThan(1); // one string would be one write
      const report = JSON.parse(result.stdout) as Report;
      const [api, web] = report.registries[0]!.repositories;
      expect([api!.name, web!.name]).toEqual(['app/api', 'app/web']);
      expect(web!.images.before).toBeGreaterThan(1_500);
      expect(web!.deleted).toHaveLength(web!.images.deleted);
      expect(web!.deleted.length).toBeGreaterThan(1_400);
    },
  );

  it.each(['/sys/x.html', '/proc/x.html'])('refuses --report %s before any registry call', async (target) => {
    const path = await config('pseudo.yaml', REPORT_RULES);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4) } });

    const result = await run(['report', '-c', path, '--report', target], { provider });

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^regprune: --report \/(sys|proc)\/x\.html: \/(sys|proc) is on (sysfs|procfs)/);
    expect(provider.stats.apiCalls).toBe(0);
  });

  it('does not say it wrote the report when the write failed', async () => {
    const path = await config('unwritten.yaml', REPORT_RULES);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4) } });

    const result = await run(['report', '-c', path, '--report', join(dir, 'r.md')], {
      provider,
      writeFile: async () => {
        throw new Error('disk full');
      },
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not write the report');
    expect(result.stderr).not.toContain('wrote the report');
  });

  it('shows --format, --history and --state in prune --help, without a default prune refuses', () => {
    const help = helpText('prune');

    expect(help.split('\n\n')[0]).toMatch(/--format json\|markdown\|html\] \[--history FILE\] \[--state DIR\]/);
    expect(help).toContain('needs --report');
    expect(help).not.toContain('markdown on stdout');
  });

  it('prints each problem of a config on its own line, as validate --help says', async () => {
    const path = join(dir, 'two-problems.yaml');
    await writeFile(path, 'version: 1\ndryRun: "no"\nregistries: []\n');

    const result = await run(['validate', '-c', path]);

    const lines = result.stderr.trimEnd().split('\n');
    expect(result.code).toBe(2);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`regprune: ${path} is invalid: (2 problems)`);
    expect(lines[1]).toMatch(/^regprune: {3}dryRun: expected true or false, got the text "no"/);
    expect(helpText('validate')).toContain('one line each');
  });

  it('says a repository warning once: under the plan on stdout, not again on stderr', async () => {
    const path = await config('once.yaml', KEEP_2);
    const provider = new MemoryProvider({
      repositories: { 'app/web': [...builds(2), image({ name: 'timeless', tags: ['x'], pushedAt: null })] },
    });

    const result = await run(['plan', '-c', path], { provider });

    expect(result.stdout).toContain('note: ');
    expect(result.stderr).toBe('');
  });

  it('names a rule and a --repository that match nothing', async () => {
    const path = await config('unmatched.yaml', `${KEEP_2}\n      - match: "ap/*"\n        keep: 1`);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(2) } });

    const rules = await run(['plan', '-c', path], { provider });
    const filter = await run(['plan', '-c', path, '--repository', 'apps/*'], { provider });

    expect(rules.stderr).toContain('registries[0].repositories[1] (match: ap/*) matched no repository in local');
    expect(filter.stderr).toContain('--repository apps/* matched no repository');
  });

  it('keeps code spans in Markdown notes and escapes the rest', () => {
    expect(escapeMarkdownProse('run `registry garbage-collect CONFIG` *now*')).toBe(
      'run `registry garbage-collect CONFIG` \\*now\\*',
    );
  });

  it('makes a chart label column wide enough for its longest label', () => {
    const label = 'production-registry/platform/payments/ledger-api';

    const svg = bytesBarChart([{ label, before: 10, after: 5 }], 'bytes');

    const x = Number(/<text x="(\d+)" y="\d+" text-anchor="end" class="label">/.exec(svg)?.[1]);
    expect(svg).toContain(`class="label">${label}<title>`);
    expect(x).toBeGreaterThanOrEqual(label.length * LABEL_CHAR_PX);
  });

  it('tells same-day runs apart on the trend chart', () => {
    const svg = trendChart(
      [
        { at: '2026-11-27T09:05:00.000Z', before: 10, after: 5 },
        { at: '2026-11-27T17:40:00.000Z', before: 12, after: 6 },
      ],
      'trend',
    );

    expect(svg).toContain('>2026-11-27 09:05 UTC</text>');
    expect(svg).toContain('>2026-11-27 17:40 UTC</text>');
  });

  it('does not date a price set in the config as checked on the defaults date', async () => {
    const path = await config('price.yaml', REPORT_RULES, 'pricing:\n  oci:\n    perGBMonth: 0.2');
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4) } });

    const result = await run(['report', '-c', path], { provider });

    const line = result.stdout.split('\n').find((text) => text.startsWith('- local (oci):'));
    expect(line).toContain('source: set in the config (pricing:)');
    expect(line).not.toContain('checked');
  });

  it('marks the oldest images this run deleted', async () => {
    const path = await config('oldest.yaml', REPORT_RULES);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(4) } });

    const result = await run(['prune', '-c', path, '--no-dry-run', '--report', 'r.md'], { provider });

    const report = result.written.get('r.md') ?? '';
    const oldest = report.slice(report.indexOf('### Oldest images')).split('\n');
    expect(oldest.find((line) => line.includes('build-4'))).toMatch(/\| \*\*deleted\*\* \|$/);
    expect(oldest.find((line) => line.includes('build-1'))).toMatch(/\| kept \|$/);
  });
});

describe('warnings with bars on screen', () => {
  it('prints a warning said after the bars stopped', async () => {
    const path = await config('after-bars.yaml', `${KEEP_2}\n      - match: "nothing/*"\n        keep: 1`);
    const provider = new MemoryProvider({ repositories: { 'app/web': builds(3) } });

    const result = await run(['prune', '-c', path, '--no-dry-run'], { provider, tty: true });

    expect(result.stderr).toContain('(match: nothing/*) matched no repository in local');
    expect(result.stderr).toContain('regprune: local/app/web: 4 images, kept 3, deleted 1');
  });
});
