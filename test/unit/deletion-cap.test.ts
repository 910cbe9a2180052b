import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { silentLogger } from '../../lib/log.js';
import { runHosted } from '../../lib/run/hosted.js';
import { exitCodeFor } from '../../lib/run/prune.js';
import { scopeRun } from '../../lib/run/request.js';
import { daysAgo, image, NOW, TWO_REGISTRIES_CONFIG } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

function registry(name: string): MemoryProvider {
  const builds = [4, 3, 2, 1].map((n) => image({ name: `${name}-${n}`, tags: [`${n}`], pushedAt: daysAgo(5 - n) }));
  return new MemoryProvider({ name, repositories: { 'app/web': builds } });
}

describe("a registry's maxDeletions on a hosted run", () => {
  it('prunes nothing in a registry whose plan exceeds its cap, says why, exits 1, and prunes the others', async () => {
    const providers: Record<string, MemoryProvider> = { first: registry('first'), second: registry('second') };
    const config = parseConfig({
      ...TWO_REGISTRIES_CONFIG,
      registries: TWO_REGISTRIES_CONFIG.registries.map((entry) =>
        entry.name === 'first' ? { ...entry, maxDeletions: 2 } : entry,
      ),
    });

    const result = await runHosted({
      trigger: 'schedule',
      loadConfig: async () => config,
      scope: (loaded) => scopeRun(loaded, undefined),
      now: NOW,
      log: silentLogger,
      providerFor: async (entry: RegistryConfig) => providers[entry.name]!,
    });

    const report = result.kind === 'done' ? result.report : null;
    expect(providers.first!.deletedDigests()).toEqual([]);
    expect(providers.second!.deletedDigests()).toHaveLength(3);
    expect(report?.registries.find((entry) => entry.name === 'first')?.error).toMatch(
      /would delete 3 images, more than its maxDeletions 2/,
    );
    expect(exitCodeFor(report!)).toBe(1);
  });

  it('counts nothing first when no registry in scope has a cap', async () => {
    const first = registry('first');
    const result = await runHosted({
      trigger: 'schedule',
      loadConfig: async () => parseConfig(TWO_REGISTRIES_CONFIG),
      scope: (loaded) => scopeRun(loaded, { registry: 'first' }),
      now: NOW,
      log: silentLogger,
      providerFor: async () => first,
    });
    expect(result.kind).toBe('done');
    expect(first.calls.filter((call) => call.method === 'listRepositories')).toHaveLength(1);
  });
});
