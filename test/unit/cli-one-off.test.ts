/**
 * One-off runs (`--registry-url`, `--filter`), the deletion caps and the confirmation:
 * in process with a memory provider, and through the real binary against a wire fake.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import { gateDecision, type DeletionCounts } from '../../lib/cli/deletion-gate.js';
import { parseConfigText } from '../../lib/config/load.js';
import type { Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { FakeOciRegistry } from '../support/fake-oci.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { Capture } from '../support/capture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-one-off-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], provider: MemoryProvider) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = {
    stdout,
    stderr,
    clock: () => NOW,
    writeFile: async () => {},
    env: { ...process.env, REGPRUNE_STATE: join(dir, 'state') },
    providerFor: async () => provider,
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Four builds of app/web (b4 newest, also `latest`), and one repository no filter names. */
function registry(): MemoryProvider {
  const builds: Image[] = [4, 3, 2, 1].map((n) =>
    image({ name: `web-${n}`, tags: n === 4 ? ['latest', `b${n}`] : [`b${n}`], pushedAt: daysAgo(10 - n) }),
  );
  builds.push(image({ name: 'web-keepme', tags: ['keepme'], pushedAt: daysAgo(20) }));
  return new MemoryProvider({
    repositories: { 'app/web': builds, 'other/x': [image({ name: 'x', tags: ['b1'], pushedAt: daysAgo(50) })] },
  });
}

const ONE_OFF = ['--registry-url', 'https://registry.example.com', '--min-age', '0s'];
const deletedCalls = (provider: MemoryProvider) => provider.calls.filter((call) => call.method === 'delete');

describe('one-off runs', () => {
  it('plans the repositories --filter names, with --keep, and leaves the others unlisted', async () => {
    const provider = registry();

    const result = await run(['plan', ...ONE_OFF, '--filter', 'app/.*', '--keep', '1', '--json'], provider);

    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    const [web] = report.registries[0]!.repositories;
    expect(report.registries[0]!.repositories.map((r) => r.name)).toEqual(['app/web']);
    expect(web!.deleted.map((d) => d.tags.join(','))).toEqual(expect.arrayContaining(['b1', 'b2', 'keepme']));
    expect(web!.kept.map((k) => [k.tags.join(','), k.reason])).toEqual(
      expect.arrayContaining([
        ['b4,latest', 'pinned'],
        ['b3', 'recent'],
      ]),
    );
    expect(provider.calls.some((call) => call.repository === 'other/x')).toBe(false);
  });

  it('keeps images whose tags the TAG_REGEX does not match, as acr purge leaves those tags', async () => {
    const provider = registry();

    const result = await run(['plan', ...ONE_OFF, '--filter', 'app/web:b[0-9]+', '--keep', '0', '--json'], provider);

    const web = (JSON.parse(result.stdout) as Report).registries[0]!.repositories[0]!;
    expect(web.deleted.map((d) => d.tags.join(',')).sort()).toEqual(['b1', 'b2', 'b3']);
    expect(web.kept.map((k) => k.tags.join(',')).sort()).toEqual(['b4,latest', 'keepme']);
  });

  it('deletes only images older than --older-than', async () => {
    const provider = registry();

    const result = await run(
      ['plan', ...ONE_OFF, '--filter', 'app/web', '--keep', '0', '--older-than', '8d', '--json'],
      provider,
    );

    const web = (JSON.parse(result.stdout) as Report).registries[0]!.repositories[0]!;
    expect(web.deleted.map((d) => d.tags.join(',')).sort()).toEqual(['b1', 'keepme']);
  });

  it.each([
    [['--filter', 'app/.*', '--keep', 'x'], '--keep "x": expected a whole number ≥ 0'],
    [['--filter', 'app/.*', '--older-than', '3x'], '--older-than "3x"'],
    [['--filter', 'app/.*', '--provider', 'gcr'], '--provider "gcr": expected oci, acr or ecr'],
    [['--filter', ':b.*'], "has no repository regex; write --filter 'REPO_REGEX:TAG_REGEX'"],
    [['--filter', 'app/(x'], '--filter #1 REPO_REGEX: invalid regex'],
    [['--filter', 'app:(x'], '--filter #1 TAG_REGEX: invalid regex'],
    [['--keep', '3'], 'needs at least one --filter'],
    [
      ['--filter', 'app', '--config', 'x.yaml'],
      '--config and --registry-url, --min-age, --filter contradict each other',
    ],
    [['--filter', 'app', '--max-deletions', 'many'], '--max-deletions "many": expected a whole number'],
  ])('refuses %j with exit 2, says what to write, and calls no registry', async (flags, message) => {
    const provider = registry();

    const result = await run(['prune', ...ONE_OFF, ...flags], provider);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(provider.calls).toEqual([]);
  });

  it('refuses a one-off flag without --registry-url, naming both ways to run', async () => {
    const result = await run(['plan', '--filter', 'app'], registry());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('give --config FILE, or --registry-url URL');
  });
});

describe('deletion caps', () => {
  it('refuses a real run that would delete more than --max-deletions, deleting nothing (exit 1)', async () => {
    const provider = registry();

    const result = await run(
      ['prune', ...ONE_OFF, '--filter', 'app/web', '--keep', '1', '--no-dry-run', '--max-deletions', '2'],
      provider,
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing deleted: this run would delete 3 images, more than --max-deletions 2');
    expect(deletedCalls(provider)).toEqual([]);
  });

  it('lets a real run within --max-deletions delete', async () => {
    const provider = registry();

    const result = await run(
      ['prune', ...ONE_OFF, '--filter', 'app/web', '--keep', '1', '--no-dry-run', '--max-deletions', '3'],
      provider,
    );

    expect(result.code).toBe(0);
    expect(deletedCalls(provider).flatMap((call) => call.items ?? [])).toHaveLength(3);
  });

  it('refuses a real run over a registry’s maxDeletions in the config', async () => {
    const provider = registry();
    const path = join(dir, 'capped.yaml');
    await writeFile(
      path,
      'version: 1\ndryRun: false\ndefaults: { keep: 1, minAge: 0s }\nregistries:\n' +
        '  - { name: r, provider: oci, endpoint: "https://r.example", maxDeletions: 1,\n' +
        '      repositories: [{ match: "app/**" }] }\n',
    );

    const result = await run(['prune', '--config', path], provider);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('would delete 3 images in registry "r", more than its maxDeletions 1');
    expect(deletedCalls(provider)).toEqual([]);
  });

  it('refuses a negative maxDeletions in the config with exit 2', async () => {
    const path = join(dir, 'negative.yaml');
    await writeFile(
      path,
      'version: 1\nregistries:\n' +
        '  - { name: r, provider: oci, endpoint: "https://r.example", maxDeletions: -1, repositories: [] }\n',
    );

    const result = await run(['validate', '--config', path], registry());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('registries[0].maxDeletions: expected a number ≥ 0');
  });

  it('never counts first, nor asks, for a dry run', async () => {
    const provider = registry();

    const result = await run(['prune', ...ONE_OFF, '--filter', 'app/web', '--max-deletions', '0'], provider);

    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('counting what this run would delete');
  });
});

describe('gateDecision', () => {
  const config = parseConfigText(
    'version: 1\nregistries:\n  - { name: a, provider: oci, endpoint: "https://a.example", repositories: [] }\n' +
      '  - { name: b, provider: oci, endpoint: "https://b.example", maxDeletions: 5, repositories: [] }\n',
  );
  const counts = (a: number, b: number): DeletionCounts => ({
    total: a + b,
    bytes: 3 * 1024 * 1024,
    registries: [
      { name: 'a', images: a, repositories: 1 },
      { name: 'b', images: b, repositories: 2 },
    ],
  });
  const base = { config, maxDeletions: undefined, yes: false, interactive: true };

  it('asks in a terminal, showing the counts per registry and the bytes', () => {
    const decision = gateDecision({ ...base, counts: counts(2, 3) });

    expect(decision).toEqual({
      kind: 'ask',
      question: 'Delete 5 images (a: 2 in 1 repositories; b: 3 in 2 repositories; 3.0 MiB reclaimed)? [y/N] ',
    });
  });

  it.each([
    ['--yes', { yes: true, interactive: true }],
    ['no terminal', { yes: false, interactive: false }],
  ])('does not ask with %s', (_, flags) => {
    expect(gateDecision({ ...base, ...flags, counts: counts(2, 3) })).toEqual({ kind: 'proceed' });
  });

  it('does not ask when there is nothing to delete', () => {
    expect(gateDecision({ ...base, counts: counts(0, 0) })).toEqual({ kind: 'proceed' });
  });

  it('refuses over --max-deletions even with --yes, and at exactly the cap lets it ask', () => {
    expect(gateDecision({ ...base, yes: true, maxDeletions: 4, counts: counts(2, 3) }).kind).toBe('refuse');
    expect(gateDecision({ ...base, maxDeletions: 5, counts: counts(2, 3) }).kind).toBe('ask');
  });

  it('refuses over one registry’s maxDeletions, naming it', () => {
    const decision = gateDecision({ ...base, yes: true, counts: counts(0, 6) });

    expect(decision.kind === 'refuse' && decision.message).toContain('registry "b", more than its maxDeletions 5');
  });
});

describe('the real binary, stdin not a terminal', () => {
  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const env = { ...process.env, REGPRUNE_STATE: join(dir, 'bin-state'), NO_COLOR: '1' };
      const child = execFile(
        TSX,
        ['lib/cli/main.ts', ...args],
        { cwd: ROOT, env, timeout: 90_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
  }

  async function fakeWithBuilds(): Promise<FakeOciRegistry> {
    const fake = await FakeOciRegistry.start();
    for (let n = 1; n <= 4; n++) {
      fake.pushImage('app', { tags: [`b${n}`], created: daysAgo(10 - n, new Date()).toISOString() });
    }
    return fake;
  }

  it('deletes without asking when stdin is not a terminal', async () => {
    const fake = await fakeWithBuilds();
    try {
      const result = await cli(['prune', '--registry-url', fake.url, '--filter', 'app', '--keep', '1', '--no-dry-run']);

      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain('[y/N]');
      expect([...fake.tagsOf('app').keys()]).toEqual(['b4']);
    } finally {
      await fake.close();
    }
  }, 120_000);

  it('refuses over --max-deletions before any delete request', async () => {
    const fake = await fakeWithBuilds();
    try {
      const result = await cli([
        'prune',
        '--registry-url',
        fake.url,
        '--filter',
        'app',
        '--keep',
        '1',
        '--no-dry-run',
        '--max-deletions',
        '2',
      ]);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('would delete 3 images, more than --max-deletions 2');
      expect(fake.requestLines().filter((line) => line.startsWith('DELETE'))).toEqual([]);
      expect(fake.tagsOf('app').size).toBe(4);
    } finally {
      await fake.close();
    }
  }, 120_000);
});

describe('the real binary in a pseudo-terminal (util-linux script)', () => {
  /** Runs a real prune under `script`, so stdin and stderr are a TTY, and answers the question with `answer`. */
  function promptedPrune(url: string, answer: string): Promise<{ code: number | null; output: string }> {
    const cli = `node --import tsx lib/cli/main.ts prune --registry-url ${url} --filter app --keep 1 --no-dry-run`;
    const env = { ...process.env, NO_COLOR: '1', REGPRUNE_STATE: join(dir, 'pty-state') };
    return new Promise((resolve) => {
      const child = spawn('script', ['-qfec', cli, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      let answered = false;
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (!answered && output.includes('[y/N]')) {
          answered = true;
          child.stdin.write(`${answer}\n`);
        }
      });
      child.on('exit', (code) => resolve({ code, output }));
    });
  }

  it.each([
    ['n', 1, ['b1', 'b2', 'b3', 'b4']],
    ['y', 0, ['b4']],
  ])(
    'asks before deleting, with the counts; answering %s exits %i',
    async (answer, code, left) => {
      const fake = await FakeOciRegistry.start();
      for (let n = 1; n <= 4; n++) {
        fake.pushImage('app', { tags: [`b${n}`], created: daysAgo(10 - n, new Date()).toISOString() });
      }
      try {
        const result = await promptedPrune(fake.url, answer);

        expect(result.output).toMatch(
          /Delete 3 images \(127\.0\.0\.1: 3 in 1 repositories; [\d.]+ \w+ reclaimed\)\? \[y\/N\]/,
        );
        expect(result.code).toBe(code);
        expect([...fake.tagsOf('app').keys()].sort()).toEqual(left);
      } finally {
        await fake.close();
      }
    },
    120_000,
  );
});
