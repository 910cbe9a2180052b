/**
 * One run as every host does it: config → scope → lock → prune() → history → metrics → run log.
 * The CLI, the Azure Functions and the AWS Lambda are adapters that supply only what differs: the
 * config source, the shape of the trigger, the time budget, the logger, the metric sink, and which
 * lock and history store they have. docs/design.md, "Hosted run".
 */
import type { Config } from '../config/schema.js';
import { ConfigError, describeError, UsageError } from '../errors.js';
import { recordRun, type HistoryEntry } from '../history/index.js';
import type { HistoryStore } from '../history/store.js';
import type { LockHandle, RunLock } from '../lock/lock.js';
import type { Logger } from '../log.js';
import { metricPoints, runLogRecord, type MetricPoint, type RunTrigger } from '../metrics/points.js';
import type { Report } from '../report/types.js';
import type { StateStore } from '../state/store.js';
import { lockKeyFor } from './lock-key.js';
import { prune, type PruneOptions } from './prune.js';
import type { RunScope } from './request.js';

export interface HostedRunOptions {
  readonly trigger: RunTrigger;
  /** The validated config; a ConfigError here means the host's own config is broken. */
  readonly loadConfig: () => Promise<Config>;
  /** Narrows the run by the trigger's input; a UsageError (or ConfigError) here is a bad request. */
  readonly scope: (config: Config) => RunScope;
  /** The clock, read once by the host. */
  readonly now: Date;
  readonly log: Logger;
  /** Time left in the host's budget, in ms; absent = no budget (the CLI). */
  readonly remainingMs?: () => number;
  /** Per-registry mutual exclusion; absent = none (nothing else runs against these registries). */
  readonly lock?: RunLock;
  /** Where run summaries are appended; absent = not recorded. */
  readonly history?: HistoryStore;
  /** Sends the run's metric points (EMF, Azure Monitor); absent = no metrics. */
  readonly publishMetrics?: (points: readonly MetricPoint[]) => Promise<void> | void;
  readonly providerFor?: PruneOptions['providerFor'];
  /** Where credentials named in the config are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** The state store holding the write-ahead journal (`prune()`'s `state`); absent = no journal. */
  readonly state?: StateStore;
}

export type HostedRunResult =
  | {
      readonly kind: 'done';
      readonly report: Report;
      /** Registries skipped because another run held their lock. */
      readonly busy: readonly string[];
      /** Every recorded run including this one, when a history store was given and recording worked. */
      readonly history?: readonly HistoryEntry[];
      /** Set when the history store failed (already logged); the run itself did its work. */
      readonly historyFailed?: true;
    }
  | { readonly kind: 'busy'; readonly busy: readonly string[] };

type Recorded = { readonly history?: readonly HistoryEntry[]; readonly historyFailed?: true };

interface Held {
  readonly name: string;
  readonly handle: LockHandle | null;
}

/** Takes each registry's lock; on a failure gives back what it took (a renewal timer would hold them). */
async function lockAll(
  lock: RunLock | undefined,
  config: Config,
  names: readonly string[],
): Promise<{ held: Held[]; busy: string[] }> {
  const held: Held[] = [];
  const busy: string[] = [];
  try {
    for (const registry of config.registries.filter((r) => names.includes(r.name))) {
      if (!lock) {
        held.push({ name: registry.name, handle: null });
        continue;
      }
      const handle = await lock.acquire(lockKeyFor(registry));
      if (handle) held.push({ name: registry.name, handle });
      else busy.push(registry.name);
    }
  } catch (error) {
    await Promise.allSettled(held.map(({ handle }) => handle?.release()));
    throw error;
  }
  return { held, busy };
}

/** A bad request body is the caller's mistake (400), even when the config parser found it. */
function scopeOf(options: HostedRunOptions, config: Config): RunScope {
  try {
    return options.scope(config);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** Metrics and history report on the run, they are not part of it: their failure never fails a run. */
async function afterRun(report: Report, options: HostedRunOptions): Promise<Recorded> {
  const { log } = options;
  let recorded: Recorded = {};
  if (options.history) {
    try {
      recorded = { history: await recordRun(options.history, report, log) };
    } catch (error) {
      log.error(describeError(error));
      recorded = { historyFailed: true };
    }
  }
  try {
    await options.publishMetrics?.(metricPoints(report, options.trigger));
  } catch (error) {
    log.warn(`could not send the run's metrics: ${describeError(error)}`);
  }
  log.info(JSON.stringify(runLogRecord(report, options.trigger)));
  return recorded;
}

/**
 * Runs every configured (or requested) registry whose lock this run gets. Throws ConfigError (the
 * config is broken) or UsageError (the request is bad) before any registry call.
 */
export async function runHosted(options: HostedRunOptions): Promise<HostedRunResult> {
  const config = await options.loadConfig();
  const scope = scopeOf(options, config);
  const names = scope.registries ?? config.registries.map((registry) => registry.name);
  const { held, busy } = await lockAll(options.lock, config, names);
  try {
    for (const name of busy)
      options.log.warn(`another run holds the lock for registry "${name}"; this run leaves it alone`);
    if (held.length === 0 && busy.length > 0) return { kind: 'busy', busy };
    const report = await prune({
      config,
      now: options.now,
      dryRun: scope.dryRun,
      registries: held.map(({ name }) => name),
      ...(scope.repositories !== undefined ? { repositories: scope.repositories } : {}),
      ...(scope.accountUnmatched ? { accountUnmatched: true } : {}),
      ...(options.providerFor ? { providerFor: options.providerFor } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
      ...(options.state ? { state: options.state } : {}),
      log: options.log,
    });
    return { kind: 'done', report, busy, ...(await afterRun(report, options)) };
  } finally {
    await Promise.all(held.map(({ handle }) => handle?.release()));
  }
}
