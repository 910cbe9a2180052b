/**
 * Asynchronous on-demand runs (lib/queue, docs/design.md "HTTP"): POST answers 202 with a run id
 * and a status URL and queues the run; the worker runs it; GET on the status URL follows it from
 * queued through running to done (with the report) or failed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/log.js';
import { answerRunStatus, startAsyncRun } from '../../lib/queue/async-run.js';
import { Continuations } from '../../lib/queue/continuation.js';
import { RUN_ID_PATTERN } from '../../lib/queue/message.js';
import { readRunStatus, RUNNING_STALE_MS, runStatusKey } from '../../lib/queue/run-status.js';
import { handleWorkMessage, type WorkerDeps } from '../../lib/queue/worker.js';
import type { HttpAnswer } from '../../lib/run/http-answer.js';
import { parseWaitFlag } from '../../lib/run/request.js';
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

const STATUS_BASE = 'https://regprune.example/api/prune/runs/';

let dir: string;
let store: LocalStateStore;
let queue: RecordingQueue;
let monotonic: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-async-'));
  store = new LocalStateStore(dir);
  queue = new RecordingQueue();
  monotonic = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(body: unknown): Promise<HttpAnswer> {
  return startAsyncRun({
    body,
    loadConfig: async () => QUEUE_CONFIG,
    store,
    queue,
    now: NOW,
    statusUrl: (runId) => `${STATUS_BASE}${runId}`,
    log: silentLogger,
  });
}

function workerDeps(run: WorkerDeps['run']): WorkerDeps {
  return {
    store,
    continuations: new Continuations({ store, queue, now: () => NOW, log: silentLogger }),
    run,
    loadConfig: async () => QUEUE_CONFIG,
    now: () => NOW,
    // Every reading is 10 s after the last: each progress event is written.
    monotonicMs: () => (monotonic += 10_000),
    log: silentLogger,
  };
}

function runIdOf(answer: HttpAnswer): string {
  return (answer.body as { runId: string }).runId;
}

describe('POST /prune (async)', () => {
  it('answers 202 with a run id, its status URL in Location and the body, and queues the run', async () => {
    const answer = await start({ registry: 'first' });

    const runId = runIdOf(answer);
    expect(answer.status).toBe(202);
    expect(runId).toMatch(RUN_ID_PATTERN);
    expect(answer.headers).toMatchObject({ location: `${STATUS_BASE}${runId}`, 'content-type': 'application/json' });
    expect(answer.body).toEqual({ runId, state: 'queued', statusUrl: `${STATUS_BASE}${runId}` });
    expect(queue.sent.map((s) => s.message)).toEqual([{ v: 1, kind: 'run', runId }]);
    expect((await readRunStatus(store, runId))?.status).toMatchObject({
      state: 'queued',
      request: { registry: 'first' },
    });
  });

  it('gives every run its own unguessable id', async () => {
    const ids = [runIdOf(await start({})), runIdOf(await start({}))];

    expect(new Set(ids).size).toBe(2);
  });

  it.each([
    ['an unknown registry', { registry: 'nope' }],
    ['an unknown field', { endpoint: 'https://evil.example' }],
    ['a body that is not an object', [1, 2]],
  ])('refuses %s with 400 before anything is recorded or queued', async (_, body) => {
    const answer = await start(body);

    expect(answer.status).toBe(400);
    expect((answer.body as { error: string }).error).toMatch(/^invalid request body: /);
    expect(queue.sent).toEqual([]);
    expect(await store.list('runs/')).toEqual([]);
  });

  it('answers 500 and keeps no queued record when the queue refuses the run', async () => {
    queue.failing = true;

    const answer = await start({});

    expect(answer.status).toBe(500);
    expect(await store.list('runs/')).toEqual([]);
  });
});

describe('the ?wait flag', () => {
  it.each([
    [null, false],
    ['', false],
    ['false', false],
    ['true', true],
  ])('reads wait=%j as %s', (value, expected) => {
    expect(parseWaitFlag(value)).toBe(expected);
  });

  it('refuses any other value as a bad request', () => {
    expect(() => parseWaitFlag('yes')).toThrow(UsageError);
  });
});

describe('a run from queued to done or failed', () => {
  let runner: HostedRunner;

  beforeEach(() => {
    runner = hostedRunner(memoryRegistries(2));
  });

  it('goes queued → running → done, with progress and the report', async () => {
    const runId = runIdOf(await start({}));
    const before = (await answerRunStatus(store, runId, silentLogger)).body;
    const seenWhileRunning: unknown[] = [];
    const run: WorkerDeps['run'] = async (input) => {
      seenWhileRunning.push((await readRunStatus(store, runId))?.status.state);
      return runner.run(input);
    };

    const outcome = await handleWorkMessage(queue.take(), workerDeps(run));
    const after = await answerRunStatus(store, runId, silentLogger);

    expect(before).toMatchObject({ runId, state: 'queued' });
    expect(seenWhileRunning).toEqual(['running']);
    expect(outcome).toBe('done');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      runId,
      state: 'done',
      createdAt: NOW.toISOString(),
      progress: { repositories: { done: 4, total: 4 }, deletions: { done: 4, planned: 4 } },
      report: { complete: true, totals: { deleted: 4 } },
    });
    expect(after.body).not.toHaveProperty('request');
  });

  it('records progress while it runs, before the report', async () => {
    const runId = runIdOf(await start({ registry: 'first' }));
    const written: { state: string; repositories: unknown }[] = [];
    const replace = store.replace.bind(store);
    store.replace = async (key, value, version) => {
      const status = JSON.parse(String(value)) as { state: string; progress: { repositories: unknown } };
      if (key === runStatusKey(runId))
        written.push({ state: status.state, repositories: status.progress.repositories });
      return replace(key, value, version);
    };

    await handleWorkMessage(queue.take(), workerDeps(runner.run));

    expect(written).toEqual([
      { state: 'running', repositories: { done: 0, total: 0 } },
      { state: 'running', repositories: { done: 0, total: 2 } },
      { state: 'running', repositories: { done: 1, total: 2 } },
      { state: 'running', repositories: { done: 2, total: 2 } },
      { state: 'done', repositories: { done: 2, total: 2 } },
    ]);
  });

  it('ends failed, with the reason, when the run throws', async () => {
    const runId = runIdOf(await start({}));
    const run: WorkerDeps['run'] = async () => {
      throw new Error('registry exploded');
    };

    const outcome = await handleWorkMessage(queue.take(), workerDeps(run));
    const after = await answerRunStatus(store, runId, silentLogger);

    expect(outcome).toBe('done');
    expect(after.body).toMatchObject({ state: 'failed', error: expect.stringContaining('registry exploded') });
  });

  it('goes back to queued and is delivered again when every requested registry is busy', async () => {
    const locked = hostedRunner(memoryRegistries(1), new MemoryLock(new Set(['first.registry.example'])));
    const runId = runIdOf(await start({ registry: 'first' }));
    const message = queue.take();

    const whileBusy = await handleWorkMessage(message, workerDeps(locked.run));
    const queuedAgain = (await readRunStatus(store, runId))?.status;
    const afterwards = await handleWorkMessage(message, workerDeps(runner.run));

    expect(whileBusy).toBe('retry');
    expect(queuedAgain).toMatchObject({ state: 'queued', busy: ['first'] });
    expect(afterwards).toBe('done');
    expect((await readRunStatus(store, runId))?.status.state).toBe('done');
  });

  it("keeps a running run's message coming back, and marks the run failed once its worker is surely gone", async () => {
    const runId = runIdOf(await start({}));
    const message = queue.take();
    const killed: WorkerDeps['run'] = () => new Promise(() => {}); // the worker never comes back
    void handleWorkMessage(message, workerDeps(killed));
    await expect.poll(async () => (await readRunStatus(store, runId))?.status.state).toBe('running');
    const later = { ...workerDeps(runner.run), now: () => new Date(NOW.getTime() + RUNNING_STALE_MS + 1) };

    const soon = await handleWorkMessage(message, workerDeps(runner.run));
    const outcome = await handleWorkMessage(message, later);

    expect(soon).toBe('retry');
    expect(outcome).toBe('dropped');
    expect((await readRunStatus(store, runId))?.status).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('worker stopped before the run finished'),
    });
  });

  it('runs once when the same message is delivered twice', async () => {
    await start({});
    const message = queue.take();
    let runs = 0;
    const run: WorkerDeps['run'] = (input) => {
      runs += 1;
      return runner.run(input);
    };

    const outcomes = [
      await handleWorkMessage(message, workerDeps(run)),
      await handleWorkMessage(message, workerDeps(run)),
    ];

    expect(outcomes).toEqual(['done', 'dropped']);
    expect(runs).toBe(1);
  });
});

describe('GET on a status URL', () => {
  it.each([
    ['an unknown id', 'f'.repeat(32)],
    ['a malformed id', '../locks/x'],
  ])('answers 404 for %s', async (_, runId) => {
    const answer = await answerRunStatus(store, runId, silentLogger);

    expect(answer.status).toBe(404);
    expect((answer.body as { error: string }).error).toContain('POST /prune');
  });

  it('keeps the status in the state store under runs/<id>', async () => {
    const runId = runIdOf(await start({}));

    expect(await store.list('runs/')).toEqual([runStatusKey(runId)]);
  });
});
