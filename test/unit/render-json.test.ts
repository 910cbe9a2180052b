/** The JSON report written a repository at a time (lib/render/json.ts) is the JSON report, to the byte. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { Image } from '../../lib/model.js';
import { reportJsonChunks } from '../../lib/render/json.js';
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
