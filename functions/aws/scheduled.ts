/**
 * Lambda handler for EventBridge Scheduler. The schedule's input (the event itself) may narrow the
 * run: `{ "registry": "prod", "repository": "team-a/**", "dryRun": true }`; `{}` runs the config.
 */
import type { ReportTotals } from '../../lib/report/types.js';
import { registryErrors, runOnAws, type LambdaContext } from './run.js';

export interface ScheduledResult {
  readonly dryRun: boolean;
  readonly complete: boolean;
  readonly totals: ReportTotals;
}

/** An EventBridge rule wraps its input as `detail` of a "Scheduled Event"; Scheduler passes it as is. */
function requestOf(event: unknown): unknown {
  if (typeof event !== 'object' || event === null) return event;
  const envelope = event as Record<string, unknown>;
  if (envelope.source === 'aws.events' && envelope['detail-type'] === 'Scheduled Event') return envelope.detail;
  return event;
}

/** Runs the configured prune; throws (a Lambda error, for alarms) when a whole registry failed. */
export async function handler(event: unknown, context: LambdaContext): Promise<ScheduledResult> {
  const report = await runOnAws({ request: requestOf(event), context });
  const failedRegistries = registryErrors(report);
  if (failedRegistries.length > 0) {
    throw new Error(`regprune: ${failedRegistries.length} registry run(s) failed: ${failedRegistries.join('; ')}`);
  }
  return { dryRun: report.dryRun, complete: report.complete, totals: report.totals };
}
