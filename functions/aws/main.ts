/**
 * The deployed entry point: one function serves both triggers, so reserved concurrency 1 keeps a
 * manual run from overlapping a scheduled one. Function URL requests go to the HTTP handler,
 * everything else (the schedule's input) to the scheduled one.
 */
import { handler as httpHandler } from './http.js';
import type { LambdaContext } from './run.js';
import { handler as scheduledHandler } from './scheduled.js';

function isFunctionUrlEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const requestContext = (event as { requestContext?: unknown }).requestContext;
  return typeof requestContext === 'object' && requestContext !== null && 'http' in requestContext;
}

/** Routes a Lambda invocation to the handler for its trigger. */
export function handler(event: unknown, context: LambdaContext): Promise<unknown> {
  return isFunctionUrlEvent(event) ? httpHandler(event, context) : scheduledHandler(event, context);
}
