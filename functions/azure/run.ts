/**
 * What the timer and HTTP triggers share: load the config from the app settings, narrow it by the
 * request, take the run lock of each registry, prune within the time budget, record metrics and
 * one structured log line, release the locks. Handlers stay thin around it.
 */
import { performance } from 'node:perf_hooks';
import { loadConfigFromSetting } from '../../lib/config/load.js';
import type { Config, RegistryConfig } from '../../lib/config/schema.js';
import { describeError } from '../../lib/errors.js';
import { BlobLeaseLock, blobServiceFromEnv } from '../../lib/lock/blob-lease.js';
import type { LockHandle, RunLock } from '../../lib/lock/lock.js';
import type { Logger } from '../../lib/log.js';
import { recordAzureMetrics, runLogRecord } from '../../lib/metrics/azure.js';
import { azureMonitorSink, type MetricSink } from '../../lib/metrics/azure-monitor.js';
import type { Provider } from '../../lib/providers/provider.js';
import { prune } from '../../lib/prune.js';
import type { Report } from '../../lib/report/types.js';
import { scopeRun, type RunScope } from '../../lib/run-request.js';

/**
 * Azure Functions answers an HTTP request after at most 230 s whatever the function timeout
 * (load balancer idle timeout). 200 s of budget, of which prune() stops starting deletions at the
 * last 30 s, leaves time for the batch in flight, the report and the metrics flush.
 */
export const HTTP_BUDGET_MS = 200_000;
/** host.json `functionTimeout` is 30 min (Flex Consumption default); keep a minute for the ending. */
export const TIMER_BUDGET_MS = 29 * 60_000;

export type Trigger = 'timer' | 'http';

/** Everything a run takes from its host; tests replace the parts that would reach Azure. */
export interface RunDeps {
  readonly env: NodeJS.ProcessEnv;
  /** The clock, read once per run. */
  readonly now: () => Date;
  /** Default: a blob lease in the AzureWebJobsStorage account. */
  readonly lock?: RunLock;
  /** Default: the provider the config names, with DefaultAzureCredential (managed identity). */
  readonly providerFor?: (registry: RegistryConfig) => Promise<Provider>;
  /** Default: the Azure Monitor distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set. */
  readonly metrics?: () => Promise<MetricSink> | null;
  /** Monotonic ms for the time budget; default `performance.now`. */
  readonly elapsedClockMs?: () => number;
}

export type RunResult =
  | { readonly kind: 'done'; readonly report: Report; readonly busy: readonly string[] }
  | { readonly kind: 'busy'; readonly busy: readonly string[] };

export interface RunRequest {
  readonly trigger: Trigger;
  /** The parsed HTTP body (only narrows the run); absent for the timer. */
  readonly body?: unknown;
  readonly budgetMs: number;
  readonly log: Logger;
}

/** The config from REGPRUNE_CONFIG and the run's scope; throws ConfigError / UsageError before any registry call. */
export async function configAndScope(
  env: NodeJS.ProcessEnv,
  body: unknown,
): Promise<{ config: Config; scope: RunScope }> {
  const config = await loadConfigFromSetting(env.REGPRUNE_CONFIG);
  return { config, scope: scopeRun(config, body) };
}

async function lockAll(lock: RunLock, names: readonly string[]): Promise<{ held: LockHandle[]; busy: string[] }> {
  const held: LockHandle[] = [];
  const busy: string[] = [];
  try {
    for (const name of names) {
      const handle = await lock.acquire(name);
      if (handle) held.push(handle);
      else busy.push(name);
    }
  } catch (error) {
    // Give back what this run took, or its renewal timer would hold those registries until the host dies.
    await Promise.allSettled(held.map((handle) => handle.release()));
    throw error;
  }
  return { held, busy };
}

async function publishMetrics(report: Report, deps: RunDeps, log: Logger): Promise<void> {
  try {
    const sink = await (deps.metrics ?? (() => azureMonitorSink(deps.env)))();
    if (!sink) return;
    recordAzureMetrics(report, sink.meter);
    await sink.flush();
  } catch (error) {
    // Metrics are a report of the run, not part of it: never fail a run that did its work.
    log.warn(`could not send metrics to Azure Monitor: ${describeError(error)}`);
  }
}

/** One run: every configured (or requested) registry whose lock this run gets. */
export async function runPrune(request: RunRequest, deps: RunDeps): Promise<RunResult> {
  const { config, scope } = await configAndScope(deps.env, request.body);
  const now = deps.now();
  const clockMs = deps.elapsedClockMs ?? (() => performance.now());
  const startedMs = clockMs();
  const lock = deps.lock ?? new BlobLeaseLock({ service: await blobServiceFromEnv(deps.env), log: request.log });
  const names = scope.registries ?? config.registries.map((registry) => registry.name);
  const { held, busy } = await lockAll(lock, names);
  try {
    for (const name of busy)
      request.log.warn(`another run holds the lock for registry "${name}"; this run leaves it alone`);
    if (held.length === 0) return { kind: 'busy', busy };
    const report = await prune({
      config,
      now,
      env: deps.env,
      dryRun: scope.dryRun,
      registries: held.map((handle) => handle.key),
      ...(scope.repositories !== undefined ? { repositories: scope.repositories } : {}),
      ...(deps.providerFor ? { providerFor: deps.providerFor } : {}),
      remainingMs: () => request.budgetMs - (clockMs() - startedMs),
      log: request.log,
    });
    request.log.info(JSON.stringify(runLogRecord(report, request.trigger)));
    await publishMetrics(report, deps, request.log);
    return { kind: 'done', report, busy };
  } finally {
    await Promise.all(held.map((handle) => handle.release()));
  }
}
