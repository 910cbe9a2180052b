/**
 * The queue-triggered worker, the same on both clouds: it runs a continuation of a registry or an
 * asynchronous on-demand run with the host's full budget. At most one run per registry at a time
 * (the run lock, lib/lock): a message that finds every lock it needs held is not lost, the host
 * delivers it again later (Azure: sent again with a delay; SQS: a batch item failure).
 * docs/design.md, "Continuation".
 */
import { type RunCaller, scheduleCaller } from '../run/caller.js';
import type { Config } from '../config/schema.js';
import { ConfigError, describeError, UsageError } from '../errors.js';
import { lockKeyFor } from '../lock/key.js';
import type { Logger } from '../log.js';
import type { RunTrigger } from '../metrics/points.js';
import type { HostedRunResult } from '../run/hosted.js';
import type { RunProgressListener } from '../run/progress.js';
import { RunRequestSchema } from '../run/request.js';
import type { StateStore } from '../state/store.js';
import {
  type Continuations,
  continueWorkLeft,
  MAX_CONTINUATION_TAKEOVERS,
  registriesWithWorkLeft,
} from './continuation.js';
import { parseWorkMessage, type ContinueMessage, type RunMessage } from './message.js';
import { failIfAbandoned, readRunStatus, RunStatusWriter } from './run-status.js';

/** How often a running run's progress is written to its status record. */
export const PROGRESS_EVERY_MS = 5_000;

/** What became of a message: handled (delete it), to be delivered again later, or not ours / stale. */
export type WorkOutcome = 'done' | 'retry' | 'dropped';

export interface WorkerRun {
  readonly trigger: Extract<RunTrigger, 'schedule' | 'http'>;
  /** The run request (same rules as an HTTP body): it only narrows the config. */
  readonly request: unknown;
  readonly onProgress?: RunProgressListener;
  /** Who started the run (an on-demand run's caller, or the schedule for a continuation). */
  readonly caller?: RunCaller;
}

export interface WorkerDeps {
  readonly store: StateStore;
  readonly continuations: Continuations;
  /** The host's hosted run (runOnAzure / runOnAws) with its full budget. */
  readonly run: (input: WorkerRun) => Promise<HostedRunResult>;
  readonly loadConfig: () => Promise<Config>;
  readonly now: () => Date;
  /** Monotonic ms, for how often progress is written. */
  readonly monotonicMs: () => number;
  readonly log: Logger;
}

/** Handles one queue message; throws only for what the platform should retry (a failure of the run itself). */
export async function handleWorkMessage(raw: unknown, deps: WorkerDeps): Promise<WorkOutcome> {
  const message = parseWorkMessage(raw);
  if (message === null) {
    deps.log.warn('dropped a queue message that is not a regprune work message');
    return 'dropped';
  }
  return message.kind === 'run' ? runAsync(message, deps) : runContinuation(message, deps);
}

async function lockKeyOf(deps: WorkerDeps, registry: string): Promise<string | undefined> {
  const config = await deps.loadConfig();
  const entry = config.registries.find((candidate) => candidate.name === registry);
  return entry ? lockKeyFor(entry) : undefined;
}

async function runContinuation(message: ContinueMessage, deps: WorkerDeps): Promise<WorkOutcome> {
  const lockKey = await lockKeyOf(deps, message.registry);
  if (lockKey === undefined) {
    deps.log.warn(`continuation for "${message.registry}" dropped: the registry is no longer configured`);
    return 'dropped';
  }
  const begun = await deps.continuations.begin(lockKey, message);
  if (begun === 'stale') {
    deps.log.info(`${message.registry}: continuation dropped: already run or superseded`);
    return 'dropped';
  }
  if (begun === 'given-up') {
    deps.log.error(
      `${message.registry}: continuation given up: its run was cut off (killed, out of memory, out of time) ` +
        `${MAX_CONTINUATION_TAKEOVERS + 1} times in a row; the next schedule starts anew. See the function's logs`,
    );
    return 'dropped';
  }
  if (begun === 'running') {
    deps.log.info(`${message.registry}: this continuation is already running elsewhere; it is delivered again later`);
    return 'retry';
  }
  let result: HostedRunResult;
  try {
    result = await deps.run({
      trigger: 'schedule',
      request: { registry: message.registry, ...(message.repository ? { repository: message.repository } : {}) },
      caller: scheduleCaller(`continuation ${message.chain + 1} of the scheduled run`),
    });
  } catch (error) {
    // The host delivers it again (then, after its limit, parks it): its marker waits for it.
    await deps.continuations.pause(lockKey, message).catch(() => undefined);
    throw error;
  }
  if (result.kind === 'busy') {
    await deps.continuations.pause(lockKey, message);
    deps.log.info(`${message.registry}: another run holds the lock; the continuation waits and is delivered again`);
    return 'retry';
  }
  await deps.continuations.settle(lockKey, message, registriesWithWorkLeft(result.report).includes(message.registry));
  return 'done';
}

async function runAsync(message: RunMessage, deps: WorkerDeps): Promise<WorkOutcome> {
  const writer = await RunStatusWriter.claim(deps.store, message.runId, {
    now: deps.now,
    monotonicMs: deps.monotonicMs,
    progressEveryMs: PROGRESS_EVERY_MS,
    log: deps.log,
  });
  if (writer === null) {
    if (await failIfAbandoned(deps.store, message.runId, deps.now())) {
      deps.log.error(`run ${message.runId}: its worker stopped before the run finished; marked failed`);
      return 'dropped';
    }
    // Still running: another worker has it, or had it and was killed. Come back later to tell which.
    if ((await readRunStatus(deps.store, message.runId))?.status.state === 'running') return 'retry';
    deps.log.info(`run ${message.runId}: dropped: unknown, or already finished`);
    return 'dropped';
  }
  let result: HostedRunResult;
  try {
    result = await deps.run({
      trigger: 'http',
      request: writer.request,
      onProgress: (e) => writer.onProgress(e),
      ...(writer.caller ? { caller: writer.caller } : {}),
    });
  } catch (error) {
    const why =
      error instanceof UsageError || error instanceof ConfigError
        ? error.message
        : `regprune failed: ${describeError(error)}; see the function's logs`;
    deps.log.error(`run ${message.runId} failed: ${why}`);
    await writer.failed(why);
    return 'done';
  }
  if (result.kind === 'busy') {
    await writer.requeue(result.busy);
    return 'retry';
  }
  await writer.done(result.report, result.busy);
  return 'done';
}

/**
 * After a scheduled run: queue a continuation for each registry it left work in, and for each it
 * found busy (docs/design.md, "Continuation"): the scheduled work is then done once the lock is
 * free, by the continuation already waiting (the requests collapse) or by a new one that waits for
 * it. A schedule narrowed to a `repository` glob hands on that narrowing. Logged, never thrown.
 * Returns the busy registries a continuation now covers.
 */
export async function continueAfterScheduledRun(
  result: HostedRunResult,
  deps: Pick<WorkerDeps, 'continuations' | 'loadConfig' | 'log'>,
  request?: unknown,
): Promise<string[]> {
  // The run itself refused a request this schema refuses; never continue wider than it asked.
  const narrowed = RunRequestSchema.safeParse(request ?? {});
  if (!narrowed.success) return [];
  const repository = narrowed.data.repository;
  let config: Config;
  try {
    config = await deps.loadConfig();
  } catch {
    return [];
  }
  const keys = new Map(config.registries.map((registry) => [registry.name, lockKeyFor(registry)]));
  const lockKeyOf = (name: string) => keys.get(name);
  if (result.kind === 'done') {
    await continueWorkLeft(result.report, lockKeyOf, deps.continuations, deps.log, repository);
  }
  const covered: string[] = [];
  for (const registry of result.busy) {
    const lockKey = lockKeyOf(registry);
    if (lockKey === undefined) continue;
    try {
      const outcome = await deps.continuations.request(lockKey, { registry, repository });
      if (outcome === 'chain-ended') continue;
      covered.push(registry);
      deps.log.info(
        `${registry}: another run holds the lock; ` +
          (outcome === 'queued'
            ? 'a continuation is queued and runs once it is free'
            : 'the continuation already queued covers it (one running now queues another when it ends)'),
      );
    } catch (error) {
      deps.log.error(`${registry}: busy, and could not queue a continuation: ${describeError(error)}`);
    }
  }
  return covered;
}
