import { describe, expect, it } from 'vitest';
import { mapConcurrent, mapUntilFailure } from '../../lib/concurrency.js';

/** A task whose calls are recorded and which settles only when the test says so. */
function controlled() {
  const started: number[] = [];
  const pending = new Map<number, { resolve: (value: number) => void; reject: (error: unknown) => void }>();
  const task = (item: number) =>
    new Promise<number>((resolve, reject) => {
      started.push(item);
      pending.set(item, { resolve, reject });
    });
  const settle = async (item: number, outcome: 'ok' | 'fail') => {
    const handle = pending.get(item)!;
    if (outcome === 'ok') handle.resolve(item * 10);
    else handle.reject(new Error(`item ${item} failed`));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, task, settle };
}

describe('mapConcurrent', () => {
  it('keeps input order and at most `limit` tasks in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrent([1, 2, 3, 4, 5, 6], 2, async (item) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return item * 2;
    });

    expect(results).toEqual([2, 4, 6, 8, 10, 12]);
    expect(most).toBe(2);
  });

  it('starts no task after one has failed, and throws only once the tasks in flight have settled', async () => {
    const { started, task, settle } = controlled();
    let thrown: unknown;
    let done = false;
    const run = mapConcurrent([1, 2, 3, 4, 5], 2, task).catch((error: unknown) => {
      thrown = error;
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));

    await settle(1, 'fail');
    expect(done).toBe(false); // item 2 is still in flight
    await settle(2, 'ok');
    await run;

    expect(started).toEqual([1, 2]);
    expect(String(thrown)).toContain('item 1 failed');
  });
});

describe('mapUntilFailure', () => {
  it('returns what finished and the first failure, without throwing', async () => {
    const { task, settle } = controlled();
    const run = mapUntilFailure([1, 2, 3], 2, task);
    await new Promise((resolve) => setImmediate(resolve));

    await settle(2, 'ok');
    await settle(3, 'fail');
    await settle(1, 'ok');
    const { results, failure } = await run;

    expect(results).toEqual([10, 20, undefined]);
    expect(String(failure?.error)).toContain('item 3 failed');
  });
});
