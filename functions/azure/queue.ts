/**
 * The queue side of the function app (docs/design.md, "Continuation", "HTTP"): asynchronous
 * `POST /prune` (202 and a status URL; `?wait=true` is the synchronous handler), `GET` on the status
 * URL, the queue-triggered worker, and the nightly timer that queues a continuation when it leaves
 * work. Thin: lib/queue does the work.
 */
import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { loadConfigFromSetting } from '../../lib/config/load.js';
import type { Logger } from '../../lib/log.js';
import { answerRunStatus, startAsyncRun } from '../../lib/queue/async-run.js';
import { AZURE_WORK_QUEUE, azureWorkQueueFromEnv } from '../../lib/queue/azure-queue.js';
import { Continuations } from '../../lib/queue/continuation.js';
import { parseWorkMessage } from '../../lib/queue/message.js';
import { continueAfterScheduledRun, handleWorkMessage, type WorkerDeps } from '../../lib/queue/worker.js';
import { lazyWorkQueue, type WorkQueue } from '../../lib/queue/work-queue.js';
import { answerForError, parseRequestBody, type HttpAnswer } from '../../lib/run/http-answer.js';
import { parseWaitFlag } from '../../lib/run/request.js';
import { azureStateStoreFromEnv } from '../../lib/state/host-azure.js';
import type { StateStore } from '../../lib/state/store.js';
import { describeCaller, scheduleCaller } from '../../lib/run/caller.js';
import { type CallerCheck, checkAzureCaller } from './client-principal.js';
import { httpHandler } from './handlers.js';
import { invocationLogger } from './logger.js';
import { runOnAzure, TIMER_BUDGET_MS, type AzureDeps } from './run.js';

/**
 * A continuation or async run that finds its registry's lock held is sent again, invisible this
 * long: one lease period and more, so a short run has ended and a long one is asked again rarely.
 */
export const LOCK_HELD_RETRY_MS = 120_000;

/** AzureDeps plus the work queue; default: the `regprune-runs` queue of the app's storage account. */
export interface AzureQueueDeps extends AzureDeps {
  readonly queue?: WorkQueue;
  /** How long a lock-held message stays invisible when sent back; default LOCK_HELD_RETRY_MS. */
  readonly lockHeldRetryMs?: number;
}

interface Wired {
  readonly deps: AzureDeps & { readonly state: StateStore };
  readonly queue: WorkQueue;
  readonly continuations: Continuations;
}

async function wire(deps: AzureQueueDeps, log: Logger): Promise<Wired> {
  const state = deps.state ?? (await azureStateStoreFromEnv(deps.env));
  const queue = deps.queue ?? lazyWorkQueue(AZURE_WORK_QUEUE, () => azureWorkQueueFromEnv(deps.env));
  return {
    deps: { ...deps, state },
    queue,
    continuations: new Continuations({ store: state, queue, now: deps.now, log }),
  };
}

function response(answer: HttpAnswer): HttpResponseInit {
  return { status: answer.status, headers: answer.headers, jsonBody: answer.body };
}

/** The 401/403 answer for a caller Entra auth refuses, logged with who it was. */
function refused(check: Extract<CallerCheck, { allowed: false }>, log: Logger, what: string): HttpResponseInit {
  const who = check.caller ? describeCaller(check.caller) : 'a caller without an Entra identity';
  log.warn(`refused ${what} (${check.status}) for ${who}`);
  return { status: check.status, headers: { 'content-type': 'application/json' }, jsonBody: { error: check.error } };
}

/** `POST /prune`: queues the run and answers 202 with its status URL; `?wait=true` answers with the report. */
export function asyncHttpHandler(deps: AzureQueueDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const log = invocationLogger(context);
    try {
      if (parseWaitFlag(request.query.get('wait'))) return httpHandler(deps)(request, context);
      const check = checkAzureCaller(request.headers, deps.env);
      if (!check.allowed) return refused(check, log, 'an on-demand run');
      const body = parseRequestBody(await request.text());
      const wired = await wire(deps, log);
      const url = new URL(request.url);
      const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}/runs/`;
      return response(
        await startAsyncRun({
          body,
          loadConfig: () => loadConfigFromSetting(deps.env.REGPRUNE_CONFIG),
          store: wired.deps.state,
          queue: wired.queue,
          now: deps.now(),
          statusUrl: (runId) => `${base}${runId}`,
          log,
          ...(check.caller ? { caller: check.caller } : {}),
        }),
      );
    } catch (error) {
      return response(answerForError(error, log));
    }
  };
}

/** `GET /prune/runs/{id}`: the run's state, progress and, when done, its report. */
export function runStatusHandler(deps: AzureQueueDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const log = invocationLogger(context);
    try {
      // Status is for the callers who may start runs (docs/design.md, "HTTP").
      const check = checkAzureCaller(request.headers, deps.env);
      if (!check.allowed) return refused(check, log, "a run's status");
      const state = deps.state ?? (await azureStateStoreFromEnv(deps.env));
      return response(await answerRunStatus(state, request.params.id ?? '', log));
    } catch (error) {
      return response(answerForError(error, log));
    }
  };
}

function workerDeps(wired: Wired, log: Logger): WorkerDeps {
  const { deps } = wired;
  return {
    store: deps.state,
    continuations: wired.continuations,
    run: (input) =>
      runOnAzure(
        {
          trigger: input.trigger,
          body: input.request,
          budgetMs: TIMER_BUDGET_MS,
          log,
          ...(input.onProgress ? { onProgress: input.onProgress } : {}),
          ...(input.caller ? { caller: input.caller } : {}),
        },
        deps,
      ),
    loadConfig: () => loadConfigFromSetting(deps.env.REGPRUNE_CONFIG),
    now: deps.now,
    monotonicMs: deps.elapsedClockMs ?? (() => performance.now()),
    log,
  };
}

/**
 * The queue-triggered worker. A message whose registry is busy is sent again with a delay and this
 * one completes: a failed invocation would be retried at once and, after five, poisoned.
 */
export function queueHandler(deps: AzureQueueDeps) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const log = invocationLogger(context);
    const wired = await wire(deps, log);
    const outcome = await handleWorkMessage(message, workerDeps(wired, log));
    const parsed = parseWorkMessage(message);
    if (outcome === 'retry' && parsed !== null) {
      await wired.queue.send(parsed, { delayMs: deps.lockHeldRetryMs ?? LOCK_HELD_RETRY_MS });
    }
  };
}

/**
 * The nightly prune; with work left (budget, pending deletions) it queues a continuation per
 * registry, and one per registry whose lock another run held (it runs once the lock is free).
 */
export function scheduledHandler(deps: AzureQueueDeps) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = invocationLogger(context);
    if (timer.isPastDue) log.warn('the schedule is running late (isPastDue)');
    const wired = await wire(deps, log);
    const caller = scheduleCaller(deps.env.REGPRUNE_SCHEDULE?.trim() || 'scheduledPrune timer');
    const result = await runOnAzure({ trigger: 'schedule', budgetMs: TIMER_BUDGET_MS, log, caller }, wired.deps);
    const continued = await continueAfterScheduledRun(result, {
      continuations: wired.continuations,
      loadConfig: () => loadConfigFromSetting(deps.env.REGPRUNE_CONFIG),
      log,
    });
    const left = result.busy.filter((name) => !continued.includes(name));
    if (left.length > 0)
      log.warn(`nothing done in ${left.join(', ')}: another run holds the lock; the next schedule goes on`);
  };
}
