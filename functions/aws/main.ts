/**
 * The deployed entry point: one function serves both triggers, so reserved concurrency 1 keeps a
 * manual run from overlapping a scheduled one. Function URL requests go to the HTTP handler,
 * everything else (the schedule's input) to the scheduled one.
 */
import { functionUrlHandlerWith } from './http.js';
import { processDeps, type AwsDeps, type LambdaContext } from './run.js';
import { scheduledHandlerWith } from './scheduled.js';

function isFunctionUrlEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const requestContext = (event as { requestContext?: unknown }).requestContext;
  return typeof requestContext === 'object' && requestContext !== null && 'http' in requestContext;
}

/** Routes a Lambda invocation to the handler for its trigger. */
export function lambdaHandlerWith(deps: AwsDeps) {
  const functionUrl = functionUrlHandlerWith(deps);
  const scheduled = scheduledHandlerWith(deps);
  return (event: unknown, context: LambdaContext): Promise<unknown> =>
    isFunctionUrlEvent(event) ? functionUrl(event, context) : scheduled(event, context);
}

/** The Lambda handler Terraform deploys (infra/aws/main.tf: `main.handler`); the name is the platform's. */
export const handler = lambdaHandlerWith(processDeps());
