/**
 * The queue side of the Lambda (docs/design.md, "Continuation", "HTTP"): asynchronous POST on the
 * function URL (202 and a status URL; `?wait=true` is the synchronous handler), GET on the status
 * URL, the SQS worker (event source mapping, infra/aws/queue.tf), and the schedule that queues a
 * continuation when it leaves work. Thin: lib/queue does the work.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { describeError, UsageError } from '../../lib/errors.js';
import { answerRunStatus, startAsyncRun } from '../../lib/queue/async-run.js';
import { Continuations } from '../../lib/queue/continuation.js';
import { sqsWorkQueueFromEnv } from '../../lib/queue/sqs-queue.js';
import { parseWorkMessage } from '../../lib/queue/message.js';
import { continueAfterScheduledRun, handleWorkMessage, type WorkerDeps } from '../../lib/queue/worker.js';
import { lazyWorkQueue, type WorkQueue } from '../../lib/queue/work-queue.js';
import { answerForError, methodNotAllowed, parseRequestBody, type HttpAnswer } from '../../lib/run/http-answer.js';
import { parseWaitFlag } from '../../lib/run/request.js';
import { awsStateStoreFromEnv } from '../../lib/state/host-aws.js';
import type { StateStore } from '../../lib/state/store.js';
import { functionUrlHandlerWith, type FunctionUrlResult } from './http.js';
import { FunctionUrlAuthorizerSchema, functionUrlCaller, scheduledCaller } from './caller.js';
import { loadAwsConfig, runOnAws, type AwsDeps, type LambdaContext } from './run.js';
import { totalsOf } from '../../lib/report/totals.js';
import { requestOf, scheduledOutcome, type ScheduledResult } from './scheduled.js';

/** How long a message whose registry's lock is held stays invisible when sent again: SQS's longest delay. */
export const LOCK_HELD_RETRY_MS = 900_000;

/** AwsDeps plus the work queue; default: REGPRUNE_QUEUE_URL. Monotonic ms for progress writes. */
export interface AwsQueueDeps extends AwsDeps {
  readonly queue?: WorkQueue;
  /** How long a lock-held message stays invisible when sent again; default LOCK_HELD_RETRY_MS. */
  readonly lockHeldRetryMs?: number;
  readonly monotonicMs?: () => number;
}

interface Wired {
  readonly deps: AwsQueueDeps & { readonly state: StateStore };
  readonly queue: WorkQueue;
  readonly continuations: Continuations;
}

function wire(deps: AwsQueueDeps): Wired {
  const state = deps.state ?? awsStateStoreFromEnv(deps.env);
  const queue = deps.queue ?? lazyWorkQueue('REGPRUNE_QUEUE_URL', () => sqsWorkQueueFromEnv(deps.env));
  return {
    deps: { ...deps, state },
    queue,
    continuations: new Continuations({ store: state, queue, now: deps.now, log: deps.log }),
  };
}

const FunctionUrlEventSchema = z.object({
  rawPath: z.string().optional(),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  requestContext: z.object({
    domainName: z.string().optional(),
    http: z.object({ method: z.string() }),
    authorizer: FunctionUrlAuthorizerSchema,
  }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

function urlResult(answer: HttpAnswer): FunctionUrlResult {
  return { statusCode: answer.status, headers: answer.headers, body: JSON.stringify(answer.body, null, 2) };
}

const STATUS_PATH = /^\/runs\/([^/]+)\/?$/;

/**
 * The function URL: `POST /` queues a run (202), `POST /?wait=true` runs it and answers with the
 * report, `GET /runs/<id>` answers a run's status. The URL's IAM auth guards all three alike.
 */
export function asyncFunctionUrlHandlerWith(deps: AwsQueueDeps) {
  const synchronous = functionUrlHandlerWith(deps);
  return async (event: unknown, context: LambdaContext): Promise<FunctionUrlResult> => {
    try {
      const parsed = FunctionUrlEventSchema.safeParse(event);
      if (!parsed.success) throw new UsageError('not a Lambda function URL request (payload 2.0)');
      const { rawPath = '/', requestContext, queryStringParameters = {} } = parsed.data;
      const method = requestContext.http.method;
      const statusId = STATUS_PATH.exec(rawPath)?.[1];
      if (statusId !== undefined) {
        if (method !== 'GET') return urlResult(methodNotAllowed('GET'));
        return urlResult(await answerRunStatus(wire(deps).deps.state, statusId, deps.log));
      }
      if (method !== 'POST') return urlResult(methodNotAllowed());
      if (parseWaitFlag(queryStringParameters.wait)) return synchronous(event, context);
      const { body = '', isBase64Encoded } = parsed.data;
      const request = parseRequestBody(isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body);
      const wired = wire(deps);
      const origin = requestContext.domainName ? `https://${requestContext.domainName}` : '';
      return urlResult(
        await startAsyncRun({
          body: request,
          loadConfig: () => loadAwsConfig(deps.env),
          store: wired.deps.state,
          queue: wired.queue,
          now: deps.now(),
          statusUrl: (runId) => `${origin}/runs/${runId}`,
          log: deps.log,
          caller: functionUrlCaller(requestContext.authorizer),
        }),
      );
    } catch (error) {
      return urlResult(answerForError(error, deps.log));
    }
  };
}

const SqsEventSchema = z.object({
  Records: z.array(z.object({ messageId: z.string(), body: z.string(), eventSource: z.literal('aws:sqs') })),
});

/** Lambda's partial batch response (`ReportBatchItemFailures`): these messages come back later. */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** Whether an invocation is the SQS event source mapping's. */
export function isSqsEvent(event: unknown): boolean {
  return SqsEventSchema.safeParse(event).success;
}

function workerDeps(wired: Wired, context: LambdaContext): WorkerDeps {
  const { deps } = wired;
  return {
    store: deps.state,
    continuations: wired.continuations,
    run: (input) =>
      runOnAws(
        {
          trigger: input.trigger,
          request: input.request,
          context,
          ...(input.onProgress ? { onProgress: input.onProgress } : {}),
          ...(input.caller ? { caller: input.caller } : {}),
        },
        deps,
      ),
    loadConfig: () => loadAwsConfig(deps.env),
    now: deps.now,
    monotonicMs: deps.monotonicMs ?? (() => performance.now()),
    log: deps.log,
  };
}

/**
 * The SQS worker. A message whose registry is busy is sent again, invisible for SQS's longest
 * delay (15 min), and this one is done: waiting for a lock (a continuation chain of another
 * scope, a long CLI run) may outlast maxReceiveCount deliveries, and is no failure. A message whose
 * run failed is a batch item failure: SQS delivers it again after the visibility timeout, and parks
 * it after maxReceiveCount (the `parked-runs` alarm).
 */
export function sqsHandlerWith(deps: AwsQueueDeps) {
  return async (event: unknown, context: LambdaContext): Promise<SqsBatchResponse> => {
    const { Records } = SqsEventSchema.parse(event);
    const wired = wire(deps);
    const failures: { itemIdentifier: string }[] = [];
    for (const record of Records) {
      try {
        const outcome = await handleWorkMessage(record.body, workerDeps(wired, context));
        const message = outcome === 'retry' ? parseWorkMessage(record.body) : null;
        // Sent again before this one is deleted: a crash in between leaves two, and the marker's
        // token or the run's status lets only one of them run.
        if (message !== null) await wired.queue.send(message, { delayMs: deps.lockHeldRetryMs ?? LOCK_HELD_RETRY_MS });
      } catch (error) {
        deps.log.error(`queue message ${record.messageId} failed: ${describeError(error)}; SQS delivers it again`);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

/**
 * The schedule; with work left (budget, pending deletions) it queues a continuation per registry,
 * and one per registry whose lock another run held. Busy is then no failure (no Lambda error, no
 * alarm): a backlog's continuation chain outlasting the night is how it should work. It is still
 * one when a busy registry could not be handed to a continuation.
 */
export function scheduledWithContinuationWith(deps: AwsQueueDeps) {
  return async (event: unknown, context: LambdaContext): Promise<ScheduledResult> => {
    const wired = wire(deps);
    const caller = scheduledCaller(event);
    const result = await runOnAws({ trigger: 'schedule', request: requestOf(event), context, caller }, wired.deps);
    const continued = await continueAfterScheduledRun(
      result,
      { continuations: wired.continuations, loadConfig: () => loadAwsConfig(deps.env), log: deps.log },
      requestOf(event),
    );
    if (result.kind === 'busy' && result.busy.every((name) => continued.includes(name))) {
      return { dryRun: false, complete: false, totals: totalsOf([]), continued };
    }
    return scheduledOutcome(result);
  };
}
