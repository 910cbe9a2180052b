/**
 * The request budget over the wire (docs/design.md, "Request budget"): the real OCI client against
 * the fake registry, a virtual clock in the budget, so throttling is seen without waiting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import { type BucketClock, RequestBudget } from '../../lib/throttle/index.js';
import { FakeOciRegistry } from '../support/fake-oci.js';

let registry: FakeOciRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

/** Time that moves only by what is slept; the client's retry waits and the budget's share it. */
function virtualClock(): BucketClock {
  let now = 0;
  return { nowMs: () => now, sleep: async (ms) => void (now += ms) };
}

describe('the request budget against a registry that throttles', () => {
  it('slows every request down after 429s, and still reads the whole repository', async () => {
    const fake = await FakeOciRegistry.start();
    registry = fake;
    for (let i = 1; i <= 12; i++) fake.pushImage('app', { tags: [`v${i}`], created: `2024-01-${10 + i}T00:00:00Z` });
    fake.fault({ method: 'GET', path: '/v2/app/manifests/v3', replies: [{ status: 429 }, { status: 429 }] });
    const clock = virtualClock();
    const budget = new RequestBudget({}, clock);
    const provider = createOciProvider(
      { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [] },
      { env: {}, budget, sleep: clock.sleep, retry: { baseDelayMs: 1, maxAttempts: 4 } },
    );

    const inventory = await provider.listInventory('app');

    expect(inventory.images).toHaveLength(12);
    expect(provider.stats.throttled).toBe(2);
    expect(budget.read.stats.throttled).toBe(2);
    expect(Number.isFinite(budget.read.rate)).toBe(true);
    expect(budget.write.rate).toBe(Infinity); // deletes were never throttled
  });

  it('holds back the other requests until Retry-After has passed', async () => {
    const fake = await FakeOciRegistry.start();
    registry = fake;
    for (let i = 1; i <= 6; i++) fake.pushImage('app', { tags: [`v${i}`], created: `2024-01-${10 + i}T00:00:00Z` });
    fake.fault({
      method: 'GET',
      path: '/v2/app/tags/list',
      replies: [{ status: 429, headers: { 'retry-after': '4' } }],
    });
    const clock = virtualClock();
    const budget = new RequestBudget({ readsPerSecond: 100 }, clock);
    const provider = createOciProvider(
      { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [] },
      { env: {}, budget, sleep: clock.sleep },
    );

    await provider.listInventory('app');

    expect(clock.nowMs()).toBeGreaterThanOrEqual(4_000);
    // 100 less a quarter, then two quiet 2 s steps (the 4 s waited out) of a tenth each.
    expect(budget.read.rate).toBe(95);
    expect(budget.read.stats.taken).toBe(fake.requestLines().length);
  });
});
