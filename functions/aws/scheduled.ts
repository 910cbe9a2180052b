/**
 * Lambda handler for EventBridge Scheduler. The schedule's input (the event itself) may narrow the
 * run: `{ "registry": "prod", "repository": "team-a/**", "dryRun": true }`; `{}` runs the config.
 */
import type { ReportTotals } from '../../lib/report/types.js';
import { scheduledCaller } from './caller.js';
import type { HostedRunResult } from '../../lib/run/hosted.js';
import { processDeps, runOnAws, type AwsDeps, type LambdaContext } from './run.js';

export interface ScheduledResult {
  readonly dryRun: boolean;
  readonly complete: boolean;
  readonly totals: ReportTotals;
  /** Registries another run held, left to a continuation (the schedule with a queue only). */
  readonly continued?: readonly string[];
}

/** An EventBridge rule wraps its input as `detail` of a "Scheduled Event"; Scheduler passes it as is. */
export function requestOf(event: unknown): unknown {
  if (typeof event !== 'object' || event === null) return event;
  const envelope = event as Record<string, unknown>;
  if (envelope.source === 'aws.events' && envelope['detail-type'] === 'Scheduled Event') return envelope.detail;
  return event;
}

/** The scheduled invocation's result; throws (a Lambda error, for alarms) when busy or a whole registry failed. */
export function scheduledOutcome(result: HostedRunResult): ScheduledResult {
  if (result.kind === 'busy') throw new Error(`regprune: a run is already in progress for ${result.busy.join(', ')}`);
  const { report } = result;
  const failed = report.registries.filter((r) => r.error !== undefined).map((r) => `${r.name}: ${r.error}`);
  if (failed.length > 0) throw new Error(`regprune: ${failed.length} registry run(s) failed: ${failed.join('; ')}`);
  return { dryRun: report.dryRun, complete: report.complete, totals: report.totals };
}

/** The scheduled handler on `deps`; throws (a Lambda error, for alarms) when a whole registry failed. */
export function scheduledHandlerWith(deps: AwsDeps) {
  return async (event: unknown, context: LambdaContext): Promise<ScheduledResult> =>
    scheduledOutcome(
      await runOnAws({ trigger: 'schedule', request: requestOf(event), context, caller: scheduledCaller(event) }, deps),
    );
}

/** Runs the configured prune on a schedule. */
export const scheduledPrune = scheduledHandlerWith(processDeps());
