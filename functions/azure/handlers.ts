/** The two triggers, thin: parse the input, call `runOnAzure`, shape the answer (lib/run/http-answer.ts). */
import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { describeCaller, scheduleCaller } from '../../lib/run/caller.js';
import { answerHttp, parseRequestBody } from '../../lib/run/http-answer.js';
import { checkAzureCaller } from './client-principal.js';
import { invocationLogger } from './logger.js';
import { HTTP_BUDGET_MS, runOnAzure, TIMER_BUDGET_MS, type AzureDeps } from './run.js';

/** The scheduled prune. A bad config fails the invocation (visible as a failed run); a held lock is logged. */
export function timerHandler(deps: AzureDeps) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = invocationLogger(context);
    if (timer.isPastDue) log.warn('the schedule is running late (isPastDue)');
    // The timer's own name for its schedule: the NCRONTAB from the app setting it was registered with.
    const caller = scheduleCaller(deps.env.REGPRUNE_SCHEDULE?.trim() || 'scheduledPrune timer');
    const result = await runOnAzure({ trigger: 'schedule', budgetMs: TIMER_BUDGET_MS, log, caller }, deps);
    if (result.kind === 'busy') log.warn(`nothing done: a run is already in progress for ${result.busy.join(', ')}`);
  };
}

/**
 * On-demand prune: POST a JSON body that may only narrow the run; answers with the JSON report. With
 * Entra auth on, a caller without the app role is refused (403) before anything else happens.
 */
export function httpHandler(deps: AzureDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const log = invocationLogger(context);
    const check = checkAzureCaller(request.headers, deps.env);
    if (!check.allowed) {
      const who = check.caller ? describeCaller(check.caller) : 'a caller without an Entra identity';
      log.warn(`refused an on-demand run (${check.status}) for ${who}`);
      return {
        status: check.status,
        headers: { 'content-type': 'application/json' },
        jsonBody: { error: check.error },
      };
    }
    const { caller } = check;
    const text = await request.text();
    const answer = await answerHttp(
      () => runOnAzure({ trigger: 'http', body: parseRequestBody(text), budgetMs: HTTP_BUDGET_MS, log, caller }, deps),
      log,
    );
    return { status: answer.status, headers: answer.headers, jsonBody: answer.body };
  };
}
