import { describe, expect, it } from 'vitest';
import { type BucketClock, RequestBudget, TokenBucket } from '../../lib/throttle/index.js';

/** A clock that only moves when someone sleeps: the time a run of takes needs, measured without waiting. */
function virtualClock(): BucketClock & { readonly sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    nowMs: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

async function takeMany(bucket: TokenBucket, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => bucket.take()));
}

describe('TokenBucket', () => {
  it('hands out a burst at once, then no more than its rate', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: 20, clock });

    await takeMany(bucket, 20);
    expect(clock.nowMs()).toBe(0);
    await takeMany(bucket, 100);

    // 100 more tokens at 20 a second: 5 s of virtual time.
    expect(clock.nowMs()).toBeGreaterThanOrEqual(4_999);
    expect(clock.nowMs()).toBeLessThan(5_100);
    expect(bucket.stats.taken).toBe(120);
  });

  it('never waits when unbounded and never throttled', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: Infinity, clock });

    await takeMany(bucket, 1_000);

    expect(clock.sleeps).toEqual([]);
  });

  it('takes a quarter off a configured rate on a throttle, no token before Retry-After has passed', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: 20, clock });
    await takeMany(bucket, 20);

    bucket.throttled(2_000);
    await bucket.take();

    // 20 less a quarter is 15; the 2 s Retry-After waited out is one quiet step: + a tenth of 20.
    expect(bucket.rate).toBe(17);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(2_000);
  });

  it('sets a first rate from what it was sending when an unbounded bucket is throttled', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: Infinity, clock });
    await takeMany(bucket, 40); // 40 in the last second

    bucket.throttled();

    expect(bucket.rate).toBe(20);
    await takeMany(bucket, 40);
    expect(clock.nowMs()).toBeGreaterThanOrEqual(1_900); // 20 a second after the burst
  });

  it('climbs back to its ceiling in steps after quiet spells, and no higher', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: 20, recoverStepMs: 1_000, clock });
    bucket.throttled();
    bucket.throttled();
    expect(bucket.rate).toBe(11.25);

    await clock.sleep(1_000);
    expect(bucket.rate).toBe(13.25);
    await clock.sleep(60_000);
    expect(bucket.rate).toBe(20);
  });

  it('does not drop below its floor however often it is throttled', () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, minRatePerSecond: 1, clock: virtualClock() });

    for (let i = 0; i < 50; i++) bucket.throttled();

    expect(bucket.rate).toBe(1);
    expect(bucket.stats.throttled).toBe(50);
  });

  it('serves callers in the order they asked', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 1, clock });
    const order: number[] = [];

    await Promise.all([1, 2, 3, 4].map((n) => bucket.take().then(() => order.push(n))));

    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('refuses a rate of zero with a message that says what is wrong', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(/rate must be above 0/);
  });
});

describe('RequestBudget', () => {
  it('budgets writes apart from reads: a throttled delete does not slow the listing', async () => {
    const clock = virtualClock();
    const budget = new RequestBudget({ readsPerSecond: 50, writesPerSecond: 8 }, clock);

    budget.throttled('write', 5_000);
    await Promise.all(Array.from({ length: 50 }, () => budget.take('read')));

    expect(clock.nowMs()).toBe(0);
    expect(budget.write.rate).toBe(6);
    expect(budget.read.rate).toBe(50);
  });
});
