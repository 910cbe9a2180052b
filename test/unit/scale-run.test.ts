import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import { silentLogger } from '../../lib/log.js';
import type { Image } from '../../lib/model.js';
import type { Provider } from '../../lib/providers/provider.js';
import { cursorKey, readCursor, rotatedOrder } from '../../lib/run/cursor.js';
import { prune } from '../../lib/run/prune.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { intercept } from '../support/intercept.js';
import { MemoryProvider } from '../support/memory-provider.js';

const NAMES = Array.from({ length: 9 }, (_, i) => `app/svc-${i + 1}`);

/** Three builds, `latest` (pinned) on the newest: keep 1 keeps one more and deletes the oldest. */
function builds(prefix: string): Image[] {
  return [3, 2, 1].map((n) =>
    image({ name: `${prefix}-${n}`, tags: n === 3 ? ['latest', `${n}`] : [`${n}`], pushedAt: daysAgo(4 - n) }),
  );
}

function configWith(repositoryConcurrency: number) {
  return parseConfig({
    version: 1,
    dryRun: false,
    defaults: { keep: 1, minAge: '0s', pinned: ['latest'] },
    registries: [
      {
        name: 'fleet',
        provider: 'oci',
        endpoint: 'https://fleet.registry.example',
        repositoryConcurrency,
        repositories: [{ match: 'app/**' }],
      },
    ],
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-scale-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Three runs over `names`, each with time for three repositories' deletions (the injected budget:
 * each uses a third of it); what each run examined.
 */
async function threeRuns(names: readonly string[], state: LocalStateStore, repositories?: string): Promise<string[][]> {
  const registry = new MemoryProvider({
    name: 'fleet',
    repositories: Object.fromEntries(names.map((name) => [name, builds(name)])),
  });
  const examined: string[][] = [];
  for (let run = 0; run < 3; run++) {
    let finished = 0;
    const provider = intercept(registry, {
      delete: async (repository, requests) => {
        const results = await registry.delete(repository, requests);
        finished++;
        return results;
      },
    });
    const report = await prune({
      config: configWith(1),
      now: NOW,
      state,
      ...(repositories !== undefined ? { repositories } : {}),
      remainingMs: () => (3 - finished) * 1_000,
      safetyMarginMs: 500,
      providerFor: async () => provider,
    });
    examined.push(report.registries[0]!.repositories.map((repository) => repository.name));
  }
  return examined;
}

describe('the fair cursor', () => {
  it('covers every repository once in three runs when each run has time for a third of them', async () => {
    const state = new LocalStateStore(join(dir, 'fair'));

    const examined = await threeRuns(NAMES, state);

    expect(examined).toEqual([NAMES.slice(0, 3), NAMES.slice(3, 6), NAMES.slice(6, 9)]);
    expect(new Set(examined.flat()).size).toBe(NAMES.length);
    // The third run wrapped around: the next one starts at the first repository again.
    expect(await readCursor(state, 'fleet.registry.example', silentLogger)).toBe(NAMES[0]);
  });

  it('keeps a cursor of its own for a run narrowed to a glob, apart from the whole registry’s', async () => {
    const names = [...NAMES, ...NAMES.map((name) => name.replace('app/', 'app/other-'))];
    const state = new LocalStateStore(join(dir, 'narrowed'));

    const examined = await threeRuns(names, state, 'app/svc-*');

    expect(examined).toEqual([NAMES.slice(0, 3), NAMES.slice(3, 6), NAMES.slice(6, 9)]);
    expect(await readCursor(state, 'fleet.registry.example', silentLogger, 'app/svc-*')).toBe(NAMES[0]);
    expect(await readCursor(state, 'fleet.registry.example', silentLogger)).toBeNull(); // the registry's own
  });

  it('clears the cursor once a run covers every repository', async () => {
    const registry = new MemoryProvider({
      name: 'fleet',
      repositories: Object.fromEntries(NAMES.map((name) => [name, builds(name)])),
    });
    const state = new LocalStateStore(join(dir, 'clear'));
    await state.create(cursorKey('fleet.registry.example'), JSON.stringify({ repository: NAMES[4], savedAt: 'x' }));

    const report = await prune({ config: configWith(3), now: NOW, state, providerFor: async () => registry });

    expect(report.registries[0]!.repositories).toHaveLength(NAMES.length);
    expect(await state.read(cursorKey('fleet.registry.example'))).toBeNull();
  });

  it('starts from the cursor and wraps around; a vanished cursor repository starts at the next name', () => {
    expect(rotatedOrder(['a', 'b', 'c', 'd'], 'c')).toEqual([2, 3, 0, 1]);
    expect(rotatedOrder(['a', 'b', 'd'], 'c')).toEqual([2, 0, 1]);
    expect(rotatedOrder(['a', 'b'], 'z')).toEqual([0, 1]);
    expect(rotatedOrder(['a', 'b'], null)).toEqual([0, 1]);
  });

  it('ignores an unreadable cursor record and starts at the beginning', async () => {
    const state = new LocalStateStore(join(dir, 'bad'));
    await state.create(cursorKey('fleet.registry.example'), 'not json');
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (message: string) => void warnings.push(message) };

    expect(await readCursor(state, 'fleet.registry.example', log)).toBeNull();
    expect(warnings.join('\n')).toContain('could not read the cursor');
  });
});

describe('repositories in parallel', () => {
  it('reports repositories in catalog order whatever order they finish in, at most the bound at once', async () => {
    const registry = new MemoryProvider({
      name: 'fleet',
      repositories: Object.fromEntries(NAMES.map((name) => [name, builds(name)])),
    });
    let inFlight = 0;
    let most = 0;
    const finishedOrder: string[] = [];
    const provider: Provider = intercept(registry, {
      listInventory: async (repository) => {
        most = Math.max(most, ++inFlight);
        // The earlier in the catalog, the longer its listing takes: they finish in reverse.
        const position = NAMES.indexOf(repository);
        for (let turn = 0; turn < (NAMES.length - position) * 3; turn++) await new Promise(setImmediate);
        const inventory = await registry.listInventory(repository);
        inFlight--;
        finishedOrder.push(repository);
        return inventory;
      },
    });

    const report = await prune({ config: configWith(4), now: NOW, providerFor: async () => provider });

    expect(report.registries[0]!.repositories.map((repository) => repository.name)).toEqual(NAMES);
    expect(finishedOrder).not.toEqual(NAMES);
    expect(most).toBe(4);
    expect(report.totals.deleted).toBe(NAMES.length); // pinned `latest` does not count: keep 1 keeps `2`
  });

  it('starts no repository after the host stops, and finishes the ones in flight', async () => {
    const registry = new MemoryProvider({
      name: 'fleet',
      repositories: Object.fromEntries(NAMES.map((name) => [name, builds(name)])),
    });
    const controller = new AbortController();
    const provider = intercept(registry, {
      listInventory: async (repository) => {
        // The third of three started at once: all three are in flight when the stop comes.
        if (repository === NAMES[2]) controller.abort('stopped by SIGTERM');
        return registry.listInventory(repository);
      },
    });

    const report = await prune({
      config: configWith(3),
      now: NOW,
      signal: controller.signal,
      providerFor: async () => provider,
    });

    expect(report.registries[0]!.repositories.map((repository) => repository.name)).toEqual(NAMES.slice(0, 3));
    expect(report.stopped).toBe('stopped by SIGTERM');
    expect(report.complete).toBe(false);
  });
});
