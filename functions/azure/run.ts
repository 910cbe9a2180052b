/**
 * What Azure supplies to the hosted run (lib/run/hosted.ts): the config from the REGPRUNE_CONFIG
 * app setting, the run lock and history on the state store in the function app's own storage
 * account (lib/state/azure-blob.ts), Azure Monitor metrics, and the time budget of the trigger.
 */
import { performance } from 'node:perf_hooks';
import { loadConfigFromSetting } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import type { HistoryStore } from '../../lib/history/store.js';
import type { RunLock } from '../../lib/lock/lock.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import type { Logger } from '../../lib/log.js';
import { recordAzureMetrics } from '../../lib/metrics/azure.js';
import { azureMonitorSink, type MetricSink } from '../../lib/metrics/azure-monitor.js';
import type { Provider } from '../../lib/providers/provider.js';
import type { RunCaller } from '../../lib/run/caller.js';
import { runHosted, type HostedRunResult } from '../../lib/run/hosted.js';
import type { RunProgressListener } from '../../lib/run/progress.js';
import { scopeRun } from '../../lib/run/request.js';
import { withSignalStop, type SignalSource } from '../../lib/run/stop.js';
import { azureStateStoreFromEnv } from '../../lib/state/host-azure.js';
import type { StateStore } from '../../lib/state/store.js';

/**
 * Azure Functions answers an HTTP request after at most 230 s whatever the function timeout
 * (load balancer idle timeout). 200 s of budget, of which prune() stops starting deletions at the
 * last 30 s, leaves time for the batch in flight, the report and the metrics flush.
 */
export const HTTP_BUDGET_MS = 200_000;
/** host.json `functionTimeout` is 30 min (Flex Consumption default); keep a minute for the ending. */
export const TIMER_BUDGET_MS = 29 * 60_000;

/** Everything a run takes from its host; tests replace the parts that would reach Azure. */
export interface AzureDeps {
  readonly env: NodeJS.ProcessEnv;
  /** The clock, read once per run. */
  readonly now: () => Date;
  /** Where the lock and history live; default: the state store in the AzureWebJobsStorage account. */
  readonly state?: StateStore;
  /** Default: a lease record on `state`. */
  readonly lock?: RunLock;
  /** Default: one record per run on `state`. */
  readonly history?: HistoryStore;
  /** Default: the provider the config names, with DefaultAzureCredential (managed identity). */
  readonly providerFor?: (registry: RegistryConfig) => Promise<Provider>;
  /** Default: the Azure Monitor distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set. */
  readonly metrics?: () => Promise<MetricSink> | null;
  /** Monotonic ms for the time budget; default `performance.now`. */
  readonly elapsedClockMs?: () => number;
  /** SIGTERM (the worker shutting down) stops a run gracefully; absent = not listened to. */
  readonly signals?: SignalSource;
}

export interface AzureTrigger {
  readonly trigger: 'schedule' | 'http';
  /** The parsed HTTP body (it only narrows the run); absent for the timer. */
  readonly body?: unknown;
  readonly budgetMs: number;
  readonly log: Logger;
  /** Who started the run (the schedule, a function key holder, an Entra principal); recorded in the report. */
  readonly caller?: RunCaller;
  /** Told how far the run has come (an async run's status record, lib/queue). */
  readonly onProgress?: RunProgressListener;
}

/** The lock and history the deps give, else both on the state store of the function app's storage account. */
async function storage(deps: AzureDeps, log: Logger): Promise<{ lock: RunLock; history: HistoryStore }> {
  if (deps.lock && deps.history) return { lock: deps.lock, history: deps.history };
  const store = deps.state ?? (await azureStateStoreFromEnv(deps.env));
  return {
    lock: deps.lock ?? new StateLeaseLock({ store, log }),
    history: deps.history ?? new StateHistoryStore({ store }),
  };
}

/** One run on Azure: throws ConfigError / UsageError before any registry call. */
export async function runOnAzure(input: AzureTrigger, deps: AzureDeps): Promise<HostedRunResult> {
  const clockMs = deps.elapsedClockMs ?? (() => performance.now());
  const startedMs = clockMs();
  const stored = await storage(deps, input.log);
  return withSignalStop({ signals: deps.signals, log: input.log }, (signal) =>
    runHosted({
      trigger: input.trigger,
      loadConfig: () => loadConfigFromSetting(deps.env.REGPRUNE_CONFIG),
      scope: (config) => scopeRun(config, input.body),
      now: deps.now(),
      log: input.log,
      remainingMs: () => input.budgetMs - (clockMs() - startedMs),
      ...stored,
      publishMetrics: async (points) => {
        const sink = await (deps.metrics ?? (() => azureMonitorSink(deps.env)))();
        if (!sink) return;
        recordAzureMetrics(points, sink.meter);
        await sink.flush();
      },
      env: deps.env,
      ...(input.caller ? { caller: input.caller } : {}),
      ...(deps.providerFor ? { providerFor: deps.providerFor } : {}),
      ...(signal ? { signal } : {}),
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    }),
  );
}
