/**
 * Asynchronous on-demand runs over HTTP, the same on both clouds: `POST /prune` validates the
 * request (400 before anything is queued), records the run as queued, queues it for the worker and
 * answers 202 with the run id and its status URL (`Location`); `GET` on that URL answers the run's
 * status. docs/design.md, "HTTP".
 */
import type { RunCaller } from '../run/caller.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { answerForError, json, type HttpAnswer } from '../run/http-answer.js';
import { scopeRun } from '../run/request.js';
import type { StateStore } from '../state/store.js';
import { createQueuedRun, readRunStatus, runStatusKey } from './run-status.js';
import { newRandomId, type WorkQueue } from './work-queue.js';

export interface AsyncStartInput {
  /** The parsed, still untrusted request body. */
  readonly body: unknown;
  readonly loadConfig: () => Promise<Config>;
  readonly store: StateStore;
  readonly queue: WorkQueue;
  readonly now: Date;
  /** The status URL of a run id (absolute, without any key or credential). */
  readonly statusUrl: (runId: string) => string;
  readonly log: Logger;
  /** A fixed run id (tests); default 128 random bits. */
  readonly runId?: string;
  /** Who asked (lib/run/caller.ts): kept with the run's status, recorded in its report. */
  readonly caller?: RunCaller;
}

/** Validates and queues an on-demand run; answers 202, or 400 / 500 with nothing queued. */
export async function startAsyncRun(input: AsyncStartInput): Promise<HttpAnswer> {
  try {
    const config = await input.loadConfig();
    scopeRun(config, input.body); // a bad request is refused here, before anything is recorded or queued
    const runId = input.runId ?? newRandomId();
    if (
      !(await createQueuedRun(input.store, {
        runId,
        request: input.body ?? {},
        now: input.now,
        ...(input.caller ? { caller: input.caller } : {}),
      }))
    ) {
      throw new Error(`run id ${runId} is already taken in ${input.store.location}`);
    }
    try {
      await input.queue.send({ v: 1, kind: 'run', runId });
    } catch (error) {
      await input.store.delete(runStatusKey(runId)).catch(() => undefined);
      throw error;
    }
    const statusUrl = input.statusUrl(runId);
    input.log.info(`run ${runId} queued on ${input.queue.location}`);
    return json(202, { runId, state: 'queued', statusUrl }, { location: statusUrl });
  } catch (error) {
    return answerForError(error, input.log);
  }
}

/** `GET` on a status URL: 200 with the run's status, 404 for an id that is unknown or malformed. */
export async function answerRunStatus(store: StateStore, runId: string, log: Logger): Promise<HttpAnswer> {
  try {
    const read = await readRunStatus(store, runId);
    if (read === null) {
      return json(404, { error: `no run "${runId}": start one with POST /prune; run ids are kept with the state` });
    }
    const { request: _request, ...status } = read.status;
    return json(200, status);
  } catch (error) {
    return answerForError(error, log);
  }
}
