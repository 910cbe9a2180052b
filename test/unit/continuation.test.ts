/**
 * Continuations (lib/queue, docs/design.md "Continuation"): a scheduled run that leaves work queues
 * one more run of that registry; requests for one registry collapse; a continuation that finds the
 * lock held is delivered again, not lost; the backlog converges in consecutive runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockKeyFor } from '../../lib/lock/key.js';
import { silentLogger } from '../../lib/log.js';
import {
  CONTINUATION_RUNNING_STALE_MS,
  CONTINUATION_STALE_MS,
  continuationKey,
  Continuations,
  MAX_CONTINUATION_CHAIN,
  MAX_CONTINUATION_TAKEOVERS,
} from '../../lib/queue/continuation.js';
import type { ContinueMessage } from '../../lib/queue/message.js';
import { continueAfterScheduledRun, handleWorkMessage, type WorkerDeps } from '../../lib/queue/worker.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { NOW } from '../support/builders.js';
import { MemoryLock } from '../support/memory-state.js';
import {
  hostedRunner,
  memoryRegistries,
  QUEUE_CONFIG,
  RecordingQueue,
  type HostedRunner,
} from '../support/queue-run.js';

const FIRST_KEY = lockKeyFor(QUEUE_CONFIG.registries[0]!);

let dir: string;
let store: LocalStateStore;
let queue: RecordingQueue;
let clockMs: number;
let continuations: Continuations;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-continuation-'));
  store = new LocalStateStore(dir);
  queue = new RecordingQueue();
  clockMs = NOW.getTime();
  continuations = new Continuations({ store, queue, now: () => new Date(clockMs), log: silentLogger });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function workerDeps(runner: HostedRunner): WorkerDeps {
  return {
    store,
    continuations,
    run: runner.run,
    loadConfig: async () => QUEUE_CONFIG,
    now: () => new Date(clockMs),
    monotonicMs: () => clockMs,
    log: silentLogger,
  };
}

/** Delivers every queued message to the worker, as the platform would, until the queue is empty. */
async function drain(runner: HostedRunner, limit = 20): Promise<string[]> {
  const outcomes: string[] = [];
  while (queue.sent.length > 0 && outcomes.length < limit) {
    outcomes.push(await handleWorkMessage(queue.take(), workerDeps(runner)));
  }
  return outcomes;
}

describe('continuation requests', () => {
  it('collapses two requests for the same registry into one message', async () => {
    const first = await continuations.request(FIRST_KEY, 'first');
    const second = await continuations.request(FIRST_KEY, 'first');

    expect([first, second]).toEqual(['queued', 'collapsed']);
    expect(queue.sent.map((s) => s.message)).toMatchObject([{ kind: 'continue', registry: 'first', chain: 0 }]);
  });

  it('keeps requests for different registries apart', async () => {
    await continuations.request(FIRST_KEY, 'first');
    await continuations.request(lockKeyFor(QUEUE_CONFIG.registries[1]!), 'second');

    expect(queue.sent.map((s) => s.message)).toMatchObject([{ registry: 'first' }, { registry: 'second' }]);
  });

  it('replaces a marker whose message is presumed lost after CONTINUATION_STALE_MS', async () => {
    await continuations.request(FIRST_KEY, 'first');
    clockMs += CONTINUATION_STALE_MS + 1;

    const again = await continuations.request(FIRST_KEY, 'first');

    expect(again).toBe('queued');
    expect(queue.sent).toHaveLength(2);
  });

  it('leaves no marker behind when the queue refuses the message, so the next request can queue', async () => {
    queue.failing = true;

    await expect(continuations.request(FIRST_KEY, 'first')).rejects.toThrow('queue unreachable');
    queue.failing = false;

    expect(await store.read(continuationKey(FIRST_KEY, 'first'))).toBeNull();
    expect(await continuations.request(FIRST_KEY, 'first')).toBe('queued');
  });

  it('ends a chain at MAX_CONTINUATION_CHAIN instead of looping forever', async () => {
    const outcome = await continuations.request(FIRST_KEY, 'first', MAX_CONTINUATION_CHAIN);

    expect(outcome).toBe('chain-ended');
    expect(queue.sent).toEqual([]);
  });
});

describe('continuing a scheduled run', () => {
  it('queues a continuation for each registry a scheduled run left work in', async () => {
    const runner = hostedRunner(memoryRegistries(3));
    runner.repositoriesPerRun = 1;

    const result = await runner.run({ trigger: 'schedule', request: undefined });
    await continueAfterScheduledRun(result, { continuations, loadConfig: async () => QUEUE_CONFIG, log: silentLogger });

    expect(result.kind === 'done' && result.report.complete).toBe(false);
    expect(queue.sent.map((s) => s.message)).toMatchObject([{ registry: 'first' }, { registry: 'second' }]);
  });

  it('queues nothing for a request the run schema refuses: a continuation never goes wider than asked', async () => {
    const runner = hostedRunner(memoryRegistries(3));
    runner.repositoriesPerRun = 1;
    const result = await runner.run({ trigger: 'schedule', request: undefined });

    const covered = await continueAfterScheduledRun(
      result,
      { continuations, loadConfig: async () => QUEUE_CONFIG, log: silentLogger },
      { repository: '/app.*/' },
    );

    expect(result.kind === 'done' && result.report.complete).toBe(false);
    expect(covered).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it('queues nothing after a run that finished everything', async () => {
    const runner = hostedRunner(memoryRegistries(2));

    const result = await runner.run({ trigger: 'schedule', request: undefined });
    await continueAfterScheduledRun(result, { continuations, loadConfig: async () => QUEUE_CONFIG, log: silentLogger });

    expect(queue.sent).toEqual([]);
  });

  it('queues nothing after a dry run, which never converges anything', async () => {
    const runner = hostedRunner(memoryRegistries(3));
    runner.repositoriesPerRun = 1;

    const result = await runner.run({ trigger: 'schedule', request: { dryRun: true } });
    await continueAfterScheduledRun(result, { continuations, loadConfig: async () => QUEUE_CONFIG, log: silentLogger });

    expect(queue.sent).toEqual([]);
  });

  it('converges a backlog in consecutive continuations, each registry one run at a time', async () => {
    const registries = memoryRegistries(3);
    const runner = hostedRunner(registries);
    runner.repositoriesPerRun = 1;
    const scheduled = await runner.run({ trigger: 'schedule', request: undefined });
    await continueAfterScheduledRun(scheduled, {
      continuations,
      loadConfig: async () => QUEUE_CONFIG,
      log: silentLogger,
    });

    const outcomes = await drain(runner);

    expect(outcomes.every((outcome) => outcome === 'done')).toBe(true);
    for (const provider of registries.values()) {
      for (const repository of ['app/r0', 'app/r1', 'app/r2']) {
        // keep 1 plus the pinned `latest`: builds 3 and 2 stay, build 1 is gone.
        const tags = (await provider.listInventory(repository)).images.flatMap((i) => i.tags);
        expect(tags.sort()).toEqual(['2', '3', 'latest']);
      }
    }
    expect(await store.list('continuations/')).toEqual([]);
  });
});

describe('continuing a narrowed schedule', () => {
  it('keeps the continuations of a schedule narrowed to a repository glob to that glob', async () => {
    const registries = memoryRegistries(12);
    const runner = hostedRunner(registries);
    runner.repositoriesPerRun = 1;
    const request = { registry: 'first', repository: 'app/r1*' }; // app/r1, app/r10, app/r11
    const scheduled = await runner.run({ trigger: 'schedule', request });
    await continueAfterScheduledRun(
      scheduled,
      { continuations, loadConfig: async () => QUEUE_CONFIG, log: silentLogger },
      request,
    );
    const queued = queue.sent.map((s) => s.message);

    const outcomes = await drain(runner);

    expect(queued).toMatchObject([{ kind: 'continue', registry: 'first', repository: 'app/r1*', chain: 0 }]);
    expect(outcomes.every((outcome) => outcome === 'done')).toBe(true);
    const first = registries.get('first')!;
    const left = async (repository: string) => (await first.listInventory(repository)).images.length;
    for (const repository of ['app/r1', 'app/r10', 'app/r11']) expect(await left(repository)).toBe(2);
    for (const repository of ['app/r0', 'app/r2', 'app/r9']) expect(await left(repository)).toBe(3);
    expect(await store.list('continuations/')).toEqual([]);
  });

  it('keeps a narrowed request apart from a whole registry’s, and from another glob’s', async () => {
    const outcomes = [
      await continuations.request(FIRST_KEY, { registry: 'first', repository: 'app/r1*' }),
      await continuations.request(FIRST_KEY, 'first'),
      await continuations.request(FIRST_KEY, { registry: 'first', repository: 'app/r1*' }),
      await continuations.request(FIRST_KEY, { registry: 'first', repository: 'app/r2*' }),
    ];

    expect(outcomes).toEqual(['queued', 'queued', 'collapsed', 'queued']);
    expect(queue.sent.map((s) => s.message)).toMatchObject([
      { registry: 'first', repository: 'app/r1*' },
      { registry: 'first' },
      { registry: 'first', repository: 'app/r2*' },
    ]);
    expect((queue.sent[1]!.message as { repository?: string }).repository).toBeUndefined();
  });
});

describe('the worker', () => {
  it('does not lose a continuation that finds the lock held: it is delivered again, then runs', async () => {
    const registries = memoryRegistries(1);
    const runner = hostedRunner(registries, new MemoryLock(new Set([FIRST_KEY])));
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take();

    const whileHeld = await handleWorkMessage(message, workerDeps(runner));
    runner.lock = new MemoryLock();
    const afterRelease = await handleWorkMessage(message, workerDeps(runner));

    expect(whileHeld).toBe('retry');
    expect(afterRelease).toBe('done');
    expect((await registries.get('first')!.listInventory('app/r0')).images).toHaveLength(2);
    expect(await store.read(continuationKey(FIRST_KEY, 'first'))).toBeNull();
  });

  it('drops a second delivery of a continuation that already ran', async () => {
    const runner = hostedRunner(memoryRegistries(1));
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take();

    const first = await handleWorkMessage(message, workerDeps(runner));
    const duplicate = await handleWorkMessage(message, workerDeps(runner));

    expect([first, duplicate]).toEqual(['done', 'dropped']);
  });

  it('queues the next link of the chain when a continuation leaves work again', async () => {
    const runner = hostedRunner(memoryRegistries(3));
    runner.repositoriesPerRun = 1;
    await continuations.request(FIRST_KEY, 'first');

    await handleWorkMessage(queue.take(), workerDeps(runner));

    expect(queue.sent.map((s) => s.message)).toMatchObject([{ kind: 'continue', registry: 'first', chain: 1 }]);
  });

  it('remembers a request that comes while its continuation runs, and queues a run that starts after it', async () => {
    const runner = hostedRunner(memoryRegistries(1));
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take();
    const during: string[] = [];
    const deps: WorkerDeps = {
      ...workerDeps(runner),
      run: async (input) => {
        during.push(await continuations.request(FIRST_KEY, 'first')); // tonight's schedule, finding it busy
        return runner.run(input);
      },
    };

    const outcome = await handleWorkMessage(message, deps);

    expect([outcome, ...during]).toEqual(['done', 'collapsed']);
    // Nothing was left, but the schedule asked after the run began: one more run, a new chain.
    expect(queue.sent.map((s) => s.message)).toMatchObject([{ kind: 'continue', registry: 'first', chain: 0 }]);
    expect(await drain(runner)).toEqual(['done']);
    expect(await store.list('continuations/')).toEqual([]);
  });

  it('starts a new chain for such a request even when the running one was the last link', async () => {
    const runner = hostedRunner(memoryRegistries(3));
    runner.repositoriesPerRun = 1;
    await continuations.request(FIRST_KEY, 'first', MAX_CONTINUATION_CHAIN - 1);
    const message = queue.take();
    const deps: WorkerDeps = {
      ...workerDeps(runner),
      run: async (input) => {
        await continuations.request(FIRST_KEY, 'first');
        return runner.run(input);
      },
    };

    await handleWorkMessage(message, deps);

    expect(queue.sent.map((s) => s.message)).toMatchObject([{ registry: 'first', chain: 0 }]);
  });

  it('keeps a continuation whose run failed for the host to deliver again, and runs it then', async () => {
    const registries = memoryRegistries(1);
    const runner = hostedRunner(registries);
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take();
    let failures = 1;
    const deps: WorkerDeps = {
      ...workerDeps(runner),
      run: async (input) => {
        if (failures-- > 0) throw new Error('registry unreachable');
        return runner.run(input);
      },
    };

    await expect(handleWorkMessage(message, deps)).rejects.toThrow('registry unreachable');
    const again = await handleWorkMessage(message, deps); // the platform's redelivery

    expect(again).toBe('done');
    expect((await registries.get('first')!.listInventory('app/r0')).images).toHaveLength(2);
  });

  it('sends a second delivery of a running continuation back, and does not run it twice', async () => {
    const runner = hostedRunner(memoryRegistries(1));
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take();
    let runs = 0;
    let duplicate: string | undefined;
    const deps: WorkerDeps = {
      ...workerDeps(runner),
      run: async (input) => {
        runs += 1;
        duplicate = await handleWorkMessage(message, deps); // SQS delivers at least once
        return runner.run(input);
      },
    };

    const first = await handleWorkMessage(message, deps);
    const later = await handleWorkMessage(message, deps);

    expect([first, duplicate, later, runs]).toEqual(['done', 'retry', 'dropped', 1]);
  });

  it('takes over a continuation whose worker was killed while it ran, once that run is stale', async () => {
    const registries = memoryRegistries(1);
    const runner = hostedRunner(registries);
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take() as ContinueMessage;
    expect(await continuations.begin(FIRST_KEY, message)).toBe('current'); // killed: no pause, no settle

    const redelivered = await handleWorkMessage(message, workerDeps(runner));
    clockMs += CONTINUATION_RUNNING_STALE_MS + 1;
    const later = await handleWorkMessage(message, workerDeps(runner));

    expect([redelivered, later]).toEqual(['retry', 'done']);
    expect((await registries.get('first')!.listInventory('app/r0')).images).toHaveLength(2);
  });

  it('gives up a continuation cut off three times in a row, with an error, and frees its scope', async () => {
    const runner = hostedRunner(memoryRegistries(1));
    await continuations.request(FIRST_KEY, 'first');
    const message = queue.take() as ContinueMessage;
    const errors: string[] = [];
    const deps: WorkerDeps = {
      ...workerDeps(runner),
      log: { ...silentLogger, error: (m: string) => void errors.push(m) },
    };
    for (let cut = 0; cut <= MAX_CONTINUATION_TAKEOVERS; cut++) {
      expect(await continuations.begin(FIRST_KEY, message)).toBe('current');
      clockMs += CONTINUATION_RUNNING_STALE_MS + 1;
    }

    const outcome = await handleWorkMessage(message, deps);

    expect(outcome).toBe('dropped');
    expect(errors.join('\n')).toMatch(/continuation given up: its run was cut off .* 3 times in a row/);
    expect(await store.read(continuationKey(FIRST_KEY, 'first'))).toBeNull();
    expect(await continuations.request(FIRST_KEY, 'first')).toBe('queued'); // the next schedule starts anew
  });

  it('drops what is not a regprune message, and a continuation for a registry no longer configured', async () => {
    const runner = hostedRunner(memoryRegistries(1));
    const stranger: ContinueMessage = { v: 1, kind: 'continue', registry: 'gone', token: 'a'.repeat(32), chain: 0 };

    expect(await handleWorkMessage('{"hello": 1}', workerDeps(runner))).toBe('dropped');
    expect(await handleWorkMessage(stranger, workerDeps(runner))).toBe('dropped');
  });
});
