/**
 * The deployed entry point: one function serves every trigger; the run lock keeps one run per
 * registry. Function URL requests go to the HTTP handler (async by default), SQS batches to the
 * queue worker, everything else (the schedule's input) to the scheduled one.
 */
import {
  asyncFunctionUrlHandlerWith,
  isSqsEvent,
  scheduledWithContinuationWith,
  sqsHandlerWith,
  type AwsQueueDeps,
} from './queue.js';
import { processDeps, type LambdaContext } from './run.js';

function isFunctionUrlEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const requestContext = (event as { requestContext?: unknown }).requestContext;
  return typeof requestContext === 'object' && requestContext !== null && 'http' in requestContext;
}

/** Routes a Lambda invocation to the handler for its trigger. */
export function lambdaHandlerWith(deps: AwsQueueDeps) {
  // Async runs, their status, the SQS worker and continuations: functions/aws/queue.ts.
  const functionUrl = asyncFunctionUrlHandlerWith(deps);
  const worker = sqsHandlerWith(deps);
  const scheduled = scheduledWithContinuationWith(deps);
  return (event: unknown, context: LambdaContext): Promise<unknown> => {
    if (isFunctionUrlEvent(event)) return functionUrl(event, context);
    return isSqsEvent(event) ? worker(event, context) : scheduled(event, context);
  };
}

/** The Lambda handler Terraform deploys (infra/aws/main.tf: `main.handler`); the name is the platform's. */
export const handler = lambdaHandlerWith(processDeps());
