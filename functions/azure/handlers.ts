/** The two triggers, thin: parse the input, call `runPrune`, shape the answer. */
import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { ConfigError, UsageError } from '../../lib/errors.js';
import { invocationLogger } from './logger.js';
import { HTTP_BUDGET_MS, runPrune, TIMER_BUDGET_MS, type RunDeps } from './run.js';

/** The scheduled prune. A bad config fails the invocation (visible as a failed run); a held lock is logged. */
export function timerHandler(deps: RunDeps) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const log = invocationLogger(context);
    if (timer.isPastDue) log.warn('the schedule is running late (isPastDue)');
    const result = await runPrune({ trigger: 'timer', budgetMs: TIMER_BUDGET_MS, log }, deps);
    if (result.kind === 'busy') log.warn(`nothing done: a run is already in progress for ${result.busy.join(', ')}`);
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json', ...headers },
});

/** On-demand prune: POST a JSON body that may only narrow the run; answers with the JSON report. */
export function httpHandler(deps: RunDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const log = invocationLogger(context);
    const text = (await request.text()).trim();
    let body: unknown = {};
    try {
      if (text !== '') body = JSON.parse(text);
    } catch {
      return json(400, {
        error: 'invalid request body: expected JSON such as {"repository": "team-a/**", "dryRun": true}',
      });
    }
    try {
      const result = await runPrune({ trigger: 'http', body, budgetMs: HTTP_BUDGET_MS, log }, deps);
      if (result.kind === 'busy') {
        return json(409, {
          error:
            `a run is already in progress for ${result.busy.join(', ')}; this request did nothing. Try again ` +
            `when it has finished.`,
        });
      }
      return json(200, result.report, result.busy.length > 0 ? { 'x-regprune-busy': result.busy.join(',') } : {});
    } catch (error) {
      if (error instanceof UsageError) return json(400, { error: error.message });
      if (error instanceof ConfigError) {
        log.error(error.message);
        return json(500, { error: error.message, issues: error.issues });
      }
      throw error;
    }
  };
}
