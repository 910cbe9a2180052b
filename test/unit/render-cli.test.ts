import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import type { BlobRef, Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { Capture } from '../support/capture.js';

const MiB = 1024 * 1024;
const base: BlobRef = { digest: 'sha256:base', sizeBytes: 40 * MiB };

function build(name: string, tags: string[], days: number): Image {
  return {
    ...image({ name, tags, pushedAt: daysAgo(days) }),
    blobs: [base, { digest: `sha256:own-${name}`, sizeBytes: MiB }],
  };
}

function provider(): MemoryProvider {
  return new MemoryProvider({
    name: 'local',
    repositories: {
      'app/web': [build('w3', ['3'], 1), build('w2', ['2'], 2), build('w1', ['1'], 3)],
      'other/tool': [build('t1', ['1'], 9)],
    },
  });
}

let dir: string;
let configPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-report-cli-'));
  configPath = join(dir, 'regprune.yaml');
  await writeFile(
    configPath,
    [
      'version: 1',
      'dryRun: false',
      'defaults: { keep: 1, minAge: 0s }',
      'registries:',
      '  - name: local',
      '    provider: oci',
      '    endpoint: http://127.0.0.1:5000',
      '    repositories: [{ match: "app/**" }]',
      'pricing:',
      '  oci: { perGBMonth: 0.5 }',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], registry = provider()) {
  const stdout = new Capture();
  const stderr = new Capture();
  const written = new Map<string, string>();
  const io: CliIo = {
    stdout,
    stderr,
    clock: () => NOW,
    writeFile: async (path, text) => {
      written.set(path, typeof text === 'string' ? text : [...text].join(''));
    },
    // The run lock and history in this file's temp dir, never in the real ~/.cache.
    env: { ...process.env, REGPRUNE_STATE: join(dir, 'state') },
    providerFor: async () => registry,
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, written, registry };
}

describe('regprune report', () => {
  it(
    'prints Markdown by default, deletes nothing even when the config is not dry, and counts every ' + 'repository',
    async () => {
      const result = await run(['report', '--config', configPath]);

      expect(result.code).toBe(0);
      expect(result.stdout).toContain('storage report (read-only: nothing was deleted)');
      expect(result.stdout).toContain('- **Would reclaim:** 2.0 MiB');
      expect(result.stdout).toContain('| local/other/tool |');
      expect(result.registry.digests('app/web')).toHaveLength(3);
      expect(result.registry.calls.some((call) => call.method === 'delete')).toBe(false);
    },
  );

  it('prints the JSON report v1 with storage and cost sections', async () => {
    const result = await run(['report', '--config', configPath, '--format', 'json']);

    const report = JSON.parse(result.stdout) as Report;
    expect(report.version).toBe(1);
    expect(report.dryRun).toBe(true);
    expect(report.storage?.totals).toMatchObject({ bytesBefore: 44 * MiB, bytesReclaimed: 2 * MiB, accuracy: 'exact' });
    expect(report.cost?.registries[0]?.price.model).toEqual({ kind: 'per-gb-month', perGBMonth: 0.5 });
  });

  it('writes the format the file extension names, unless --format says otherwise', async () => {
    const byExtension = await run(['report', '--config', configPath, '--report', join(dir, 'r.html')]);
    const forced = await run([
      'report',
      '--config',
      configPath,
      '--report',
      join(dir, 'r.txt'),
      '--format',
      'markdown',
    ]);

    expect(byExtension.written.get(join(dir, 'r.html'))).toMatch(/^<!doctype html>/);
    expect(byExtension.stdout).toBe('');
    expect(forced.written.get(join(dir, 'r.txt'))).toMatch(/^## regprune/);
  });

  it('refuses an unknown format with exit 2 before calling any registry', async () => {
    const result = await run(['report', '--config', configPath, '--format', 'xml']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('regprune: --format xml: expected json, markdown or html\n');
    expect(result.registry.calls).toHaveLength(0);
  });
});

describe('prune --report and --history', () => {
  it('writes a Markdown report of what prune did', async () => {
    const result = await run(['prune', '--config', configPath, '--report', join(dir, 'prune.md')]);

    expect(result.code).toBe(0);
    expect(result.written.get(join(dir, 'prune.md'))).toContain('- **Reclaimed:** 2.0 MiB');
    expect(result.registry.digests('app/web')).toHaveLength(1);
  });

  it('appends each run to the history file and shows the trend', async () => {
    const historyPath = join(dir, 'history.jsonl');

    await run(['report', '--config', configPath, '--history', historyPath]);
    const second = await run(['report', '--config', configPath, '--history', historyPath, '--format', 'html']);

    const lines = (await readFile(historyPath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ version: 1, dryRun: true, totals: { bytesBefore: 44 * MiB } });
    expect(second.stdout).toContain('Trend over the last 2 runs');
  });
});

describe('output paths are checked before any registry call', () => {
  it('refuses a --history file that is not a history (the config, by mistake), and leaves it alone', async () => {
    const before = await readFile(configPath, 'utf8');

    const result = await run(['prune', '--config', configPath, '--history', configPath]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a regprune history file');
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(result.registry.calls).toEqual([]);
  });

  it(
    'refuses a --report in a directory that does not exist, or that is a directory, before deleting ' + 'anything',
    async () => {
      const missing = await run(['prune', '--config', configPath, '--report', join(dir, 'no-such-dir', 'r.md')]);
      const directory = await run(['prune', '--config', configPath, '--report', dir]);

      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('does not exist');
      expect(directory.code).toBe(2);
      expect(directory.stderr).toContain('not a regular file');
      expect(missing.registry.calls).toEqual([]);
      expect(directory.registry.calls).toEqual([]);
    },
  );
});

describe('regprune report --json', () => {
  it('prints the JSON report like --format json', async () => {
    const result = await run(['report', '--config', configPath, '--json']);

    expect((JSON.parse(result.stdout) as Report).storage?.totals.bytesReclaimed).toBe(2 * MiB);
  });

  it('refuses --json with another format', async () => {
    const result = await run(['report', '--config', configPath, '--json', '--format', 'html']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('regprune: report: --json and --format html contradict each other; give one\n');
  });
});
