/** The two triggers, thin: parse the input, call `runOnAzure`, shape the answer (lib/run/http-answer.ts). */
import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { answerHttp, parseRequestBody } from '../../lib/run/http-answer.js';
import { invocationLogger } from './logger.js';
import { HTTP_BUDGET_MS, runOnAzure, TIMER_BUDGET_MS, type AzureDeps } from './run.js';

/** The scheduled prune. A bad config fails the invocation (visible as a failed run); a held lock is logged. */
export function timerHandler(deps: AzureDeps) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = invocationLogger(context);
    if (timer.isPastDue) log.warn('the schedule is running late (isPastDue)');
    const result = await runOnAzure({ trigger: 'schedule', budgetMs: TIMER_BUDGET_MS, log }, deps);
    if (result.kind === 'busy') log.warn(`nothing done: a run is already in progress for ${result.busy.join(', ')}`);
  };
}

/** On-demand prune: POST a JSON body that may only narrow the run; answers with the JSON report. */
export function httpHandler(deps: AzureDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const log = invocationLogger(context);
    const text = await request.text();
    const answer = await answerHttp(
      () => runOnAzure({ trigger: 'http', body: parseRequestBody(text), budgetMs: HTTP_BUDGET_MS, log }, deps),
      log,
    );
    return { status: answer.status, headers: answer.headers, jsonBody: answer.body };
  };
}
