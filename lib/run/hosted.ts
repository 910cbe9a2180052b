/**
 * One run as every host does it: config → scope → lock → prune() → history → metrics → run log.
 * The CLI, the Azure Functions and the AWS Lambda are adapters that supply only what differs: the
 * config source, the shape of the trigger, the time budget, the logger, the metric sink, and which
 * lock and history store they have. docs/design.md, "Hosted run".
 */
import { cappedRegistryReport, hasDeletionCap, registriesOverCap } from './deletion-cap.js';
import type { Config } from '../config/schema.js';
import { ConfigError, describeError, UsageError } from '../errors.js';
import { recordRun, type HistoryEntry } from '../history/index.js';
import type { HistoryStore } from '../history/store.js';
import { lockKeyFor } from '../lock/key.js';
import type { LockHandle, LockHolder, RunLock } from '../lock/lock.js';
import type { Logger } from '../log.js';
import { metricPoints, runLogRecord, type MetricPoint, type RunTrigger } from '../metrics/points.js';
import type { Report } from '../report/types.js';
import type { StateStore } from '../state/store.js';
import type { RunCaller } from './caller.js';
import { prune, type PruneOptions } from './prune.js';
import type { RunScope } from './request.js';
import { leaseStopCheck, type StopCheck } from './stop.js';

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
  /**
   * Per-registry mutual exclusion for runs that delete; a dry run deletes nothing and takes no lock.
   * Absent = none (nothing else runs against these registries).
   */
  readonly lock?: RunLock;
  /** Where run summaries are appended; absent = not recorded. */
  readonly history?: HistoryStore;
  /** Sends the run's metric points (EMF, Azure Monitor); absent = no metrics. */
  readonly publishMetrics?: (points: readonly MetricPoint[]) => Promise<void> | void;
  readonly providerFor?: PruneOptions['providerFor'];
  /** Where credentials named in the config are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The host's stop (lib/run/stop.ts `stopOnSignals`): once aborted, no new repository or delete
   * batch starts; the partial report and the history are still written. docs/design.md, "Crash and stop".
   */
  readonly signal?: AbortSignal;
  /** The state store holding the write-ahead journal (`prune()`'s `state`); absent = no journal. */
  readonly state?: StateStore;
  /** Who started the run (lib/run/caller.ts): recorded in the report and the run log line; absent = not known. */
  readonly caller?: RunCaller;
  /** `prune()`'s `progress`: the CLI's bars. */
  readonly progress?: PruneOptions['progress'];
  /** Told how far the run has come (`prune()`'s `onProgress`); an async run writes it to its status. */
  readonly onProgress?: PruneOptions['onProgress'];
  /** `prune()`'s `inventoryCache`: false bypasses the inventory cache in `state` (`--no-cache`). */
  readonly inventoryCache?: boolean;
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
  readonly key: string;
  readonly names: readonly string[];
  readonly handle: LockHandle | null;
}

interface Locked {
  readonly held: Held[];
  readonly busy: string[];
  /** One warning per busy registry: who holds its lock and until when, when the lock can tell. */
  readonly warnings: string[];
}

function busyWarning(name: string, holder: LockHolder | null): string {
  const by = holder ? ` (${holder.owner}, lease until ${holder.expiresAt})` : '';
  return `another run${by} holds the lock for registry "${name}"; this run leaves it alone`;
}

/**
 * Takes the lock of each distinct endpoint once (two config entries for one registry share it);
 * a dry run takes none. On a failure gives back what it took (a renewal timer would hold them).
 */
async function lockAll(
  lock: RunLock | undefined,
  config: Config,
  names: readonly string[],
  dryRun: boolean,
): Promise<Locked> {
  const byKey = new Map<string, string[]>();
  for (const registry of config.registries.filter((r) => names.includes(r.name))) {
    const key = lockKeyFor(registry);
    byKey.set(key, [...(byKey.get(key) ?? []), registry.name]);
  }
  const held: Held[] = [];
  const busy: string[] = [];
  const warnings: string[] = [];
  try {
    for (const [key, keyNames] of byKey) {
      if (!lock || dryRun) {
        held.push({ key, names: keyNames, handle: null });
        continue;
      }
      const handle = await lock.acquire(key);
      if (handle) {
        held.push({ key, names: keyNames, handle });
        continue;
      }
      busy.push(...keyNames);
      const holder = (await lock.holderOf?.(key).catch(() => null)) ?? null;
      warnings.push(...keyNames.map((name) => busyWarning(name, holder)));
    }
  } catch (error) {
    await Promise.allSettled(held.map(({ handle }) => handle?.release()));
    throw error;
  }
  return { held, busy, warnings };
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
  const caller = options.caller ? { caller: options.caller } : {};
  log.info(JSON.stringify({ ...runLogRecord(report, options.trigger), ...caller }));
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
  const { held, busy, warnings } = await lockAll(options.lock, config, names, scope.dryRun);
  try {
    for (const warning of warnings) options.log.warn(warning);
    if (held.length === 0 && busy.length > 0) return { kind: 'busy', busy };
    const ran = new Set(held.flatMap((entry) => entry.names));
    // Before every batch, each registry asks its own lease: a lost one stops deletion there only.
    const leaseChecks = new Map<string, StopCheck>();
    for (const { names: heldNames, handle } of held) {
      if (handle) for (const name of heldNames) leaseChecks.set(name, leaseStopCheck(handle));
    }
    // A registry's maxDeletions: a real run counts first, and a registry over its cap is not pruned.
    let capped = new Map<string, string>();
    if (!scope.dryRun && hasDeletionCap(config, [...ran])) {
      const preview = await prune({
        config,
        now: options.now,
        dryRun: true,
        registries: names.filter((name) => ran.has(name)),
        ...(scope.repositories !== undefined ? { repositories: scope.repositories } : {}),
        ...(options.providerFor ? { providerFor: options.providerFor } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        log: options.log,
      });
      capped = registriesOverCap(preview, config);
      for (const message of capped.values()) options.log.error(message);
    }
    const pruned = await prune({
      config,
      now: options.now,
      dryRun: scope.dryRun,
      registries: names.filter((name) => ran.has(name) && !capped.has(name)),
      ...(scope.repositories !== undefined ? { repositories: scope.repositories } : {}),
      ...(scope.accountUnmatched ? { accountUnmatched: true } : {}),
      ...(scope.whatIf ? { whatIf: scope.whatIf } : {}),
      ...(options.providerFor ? { providerFor: options.providerFor } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      lockLost: (name) => leaseChecks.get(name)?.() ?? null,
      ...(options.state ? { state: options.state } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.inventoryCache === false ? { inventoryCache: false } : {}),
      log: options.log,
    });
    const withCapped: Report =
      capped.size === 0
        ? pruned
        : {
            ...pruned,
            registries: [
              ...pruned.registries,
              ...config.registries
                .filter((registry) => capped.has(registry.name))
                .map((registry) => cappedRegistryReport(registry, capped.get(registry.name)!)),
            ],
          };
    const warned: Report =
      warnings.length > 0 ? { ...withCapped, warnings: [...(withCapped.warnings ?? []), ...warnings] } : withCapped;
    const report: Report = options.caller ? { ...warned, caller: options.caller } : warned;
    return { kind: 'done', report, busy, ...(await afterRun(report, options)) };
  } finally {
    await Promise.all(held.map(({ handle }) => handle?.release()));
  }
}
