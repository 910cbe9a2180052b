/** The JSON report written a repository at a time (lib/render/json.ts) is the JSON report, to the byte. */
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processIo } from '../../lib/cli/io.js';
import { parseConfig } from '../../lib/config/load.js';
import type { Image } from '../../lib/model.js';
import { reportJsonChunks, reportJsonText } from '../../lib/render/json.js';
import { isPacked } from '../../lib/report/packed.js';
import type { Report } from '../../lib/report/types.js';
import { prune } from '../../lib/run/prune.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const builds = (prefix: string, count: number): Image[] =>
  Array.from({ length: count }, (_, n) =>
    image({ name: `${prefix}-${n}`, tags: [`${n}`], pushedAt: daysAgo(count - n) }),
  );

async function realReport(): Promise<Report> {
  const config = parseConfig({
    version: 1,
    dryRun: false,
    defaults: { keep: 2, minAge: '0s', pinned: [] },
    registries: ['first', 'second', 'empty', 'down'].map((name) => ({
      name,
      provider: 'oci',
      endpoint: `https://${name}.registry.example`,
      repositories: [{ match: 'app/**' }],
    })),
  });
  const providers: Record<string, MemoryProvider> = {
    first: new MemoryProvider({
      name: 'first',
      repositories: { 'app/big': builds('big', 100), 'app/web': builds('w', 4) },
    }),
    second: new MemoryProvider({
      name: 'second',
      repositories: { 'app/"quoted" ✓': builds('q', 3), other: builds('o', 2) },
    }),
    empty: new MemoryProvider({ name: 'empty', repositories: {} }),
  };
  return prune({
    config,
    now: NOW,
    accountUnmatched: true,
    providerFor: async (registry) => {
      const provider = providers[registry.name];
      if (provider === undefined) throw new Error('connection refused: "repositories": [] \u0000');
      return provider;
    },
  });
}

describe('reportJsonChunks', () => {
  it('joins to JSON.stringify(report, null, 2) for a run over several registries, one of them down', async () => {
    const report = await realReport();
    expect(report.registries.map((registry) => registry.repositories.length)).toEqual([2, 1, 0, 0]);
    expect(isPacked(report.registries[0]!.repositories[0]!)).toBe(true);
    expect(report.storage).toBeDefined(); // its own `repositories` lists are left as they are

    const chunks = [...reportJsonChunks(report)];

    expect(chunks.join('')).toBe(JSON.stringify(report, null, 2));
    expect(JSON.parse(chunks.join(''))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('gives each repository a piece of its own', async () => {
    const report = await realReport();
    const chunks = new Set(reportJsonChunks(report));
    const inner = ' '.repeat(8); // report, registries, a registry, its repositories: four levels in

    for (const registry of report.registries) {
      registry.repositories.forEach((repository, index) => {
        const text = JSON.stringify(repository, null, 2).replaceAll('\n', `\n${inner}`);
        const end = index < registry.repositories.length - 1 ? ',\n' : '\n';
        expect(chunks.has(`${inner}${text}${end}`)).toBe(true);
      });
    }
  });

  it('is the same text for a report of no registries', () => {
    const report = {
      version: 1,
      dryRun: true,
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      complete: true,
      registries: [],
      totals: {},
    } as unknown as Report;
    expect([...reportJsonChunks(report)].join('')).toBe(JSON.stringify(report, null, 2));
  });
});

describe('the report file the CLI writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regprune-report-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written whole or not at all: a failure half-way leaves the old report, and no temporary file', async () => {
    const path = join(dir, 'report.json');
    await writeFile(path, '{"old": true}\n');
    function* failing(): Generator<string> {
      yield '{"new": ';
      throw new RangeError('Invalid string length');
    }

    await expect(processIo().writeFile(path, failing())).rejects.toThrow('Invalid string length');

    expect(await readFile(path, 'utf8')).toBe('{"old": true}\n');
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('writes the pieces of a real report to exactly the JSON text, through a symlink too', async () => {
    const report = await realReport();
    const target = join(dir, 'target.json');
    await writeFile(target, '');
    await symlink(target, join(dir, 'link.json'));

    await processIo().writeFile(join(dir, 'link.json'), reportJsonText(report));

    expect(await readFile(target, 'utf8')).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect((await lstat(join(dir, 'link.json'))).isSymbolicLink()).toBe(true);
  });
});
