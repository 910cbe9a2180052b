/**
 * The one pipeline every entry point calls: for each configured registry and each repository a
 * rule matches, list → plan → execute → report.
 */
import type { Config, RegistryConfig, RepositoryRule } from '../config/schema.js';
import { compilePattern, type Pattern } from '../config/pattern.js';
import { resolvePolicy, ruleFor } from '../config/policy.js';
import { DEFAULT_REPOSITORY_CONCURRENCY } from '../concurrency.js';
import { describeError, RegistryUnavailableError, RegpruneError, UsageError } from '../errors.js';
import { execute } from '../execute/index.js';
import { finishJournal } from '../execute/journal-recovery.js';
import { newRunId, StateJournal } from '../execute/journal-store.js';
import { collectInUse, type InUseSnapshot, NO_USAGE, usageSourceFor } from '../inuse/index.js';
import type { InUseSourceConfig, UsageSource } from '../inuse/index.js';
import { lockKeyFor } from '../lock/key.js';
import { silentLogger, type Logger } from '../log.js';
import type { Inventory } from '../model.js';
import { plan } from '../plan/index.js';
import { checkCredentials, createProvider } from '../providers/index.js';
import type { InventoryCachePort, Provider } from '../providers/provider.js';
import { InventoryCache } from '../cache/inventory-cache.js';
import { buildReport } from '../report/report.js';
import { packEntries, withReportFields } from '../report/packed.js';
import { repositoryReport, unlistedRepositoryReport } from '../report/repository.js';
import type { JournalFinished, RegistryReport, Report, RepositoryReport } from '../report/types.js';
import type { StateStore } from '../state/store.js';
import { costSection } from '../cost/cost.js';
import { RegistryAccountant, type RepositoryAccountInput } from '../storage/account.js';
import { doneDeletions, storageSection } from '../storage/section.js';
import type { RegistryStorage, RepositoryStorage } from '../storage/types.js';
import type { RunProgress } from './progress-events.js';
import type { RunProgressListener } from './progress.js';
import { readCursor, rotatedOrder, writeCursor } from './cursor.js';
import { stopReasonOf } from './stop.js';
import { whatIfRegistry, whatIfSection, type WhatIfRegistry } from '../report/what-if.js';

export { exitCodeFor } from '../report/exit-code.js';

export interface PruneOptions {
  readonly config: Config;
  /** The clock, read once by the entry point. */
  readonly now: Date;
  /** Overrides `config.dryRun`. `regprune plan` passes true. */
  readonly dryRun?: boolean;
  /** Only these registries (by config name). */
  readonly registries?: readonly string[];
  /** Only repositories matching this glob or /regex/ (and a config rule): narrows, never widens. */
  readonly repositories?: string;
  /**
   * Builds a provider per registry; default `createProvider` from lib/providers. `cache` is the
   * registry's inventory cache, when the run has one (pass it on as the provider's `cache`).
   */
  readonly providerFor?: (registry: RegistryConfig, extras?: ProviderExtras) => Promise<Provider>;
  /** Where credentials named in the config are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Time left in the host's budget (Lambda, Functions, HTTP response limit), in ms. When it falls
   * under the safety margin, no new deletion starts; the rest is reported as `pending`.
   */
  readonly remainingMs?: () => number;
  /** Stop starting work when less than this is left of `remainingMs` (default 30 s). */
  readonly safetyMarginMs?: number;
  /**
   * Also list the repositories no rule matches (nothing is planned or deleted in them), so that
   * byte accounting sees every manifest of a registry that stores blobs once (`regprune report`).
   */
  readonly accountUnmatched?: boolean;
  /**
   * The host's stop (a signal): once aborted, no repository is listed and no delete batch starts;
   * the requests in flight finish and the report says `stopped` with the abort's reason.
   */
  readonly signal?: AbortSignal;
  /**
   * Why this run may no longer delete in the registry (its run lock lost or about to lapse), or
   * null while it may: asked before every repository and every delete batch. docs/design.md, "Lock".
   */
  readonly lockLost?: (registryName: string) => string | null;
  /**
   * The state store that holds the write-ahead journal (docs/design.md, "Crash"): each registry's
   * run first finishes what an interrupted run left there, and records what its own deletions leave
   * behind. Absent = no journal. The caller holds each registry's run lock.
   */
  readonly state?: StateStore;
  /** Builds the usage source of each `inUse:` entry (default: the real SDK clients of lib/inuse). */
  readonly usageSourceFor?: (source: InUseSourceConfig) => UsageSource;
  /**
   * Keep the inventory cache in `state` (default true when `state` is given); false reads every
   * manifest from the registry (`--no-cache`). docs/design.md, "Inventory cache".
   */
  readonly inventoryCache?: boolean;
  readonly log?: Logger;
  /** Told as repositories are matched, planned and done (the CLI's progress bars); absent = nothing told. */
  readonly progress?: RunProgress;
  /** Told when a registry's repositories are known and when each is done (an async run's status). */
  readonly onProgress?: RunProgressListener;
  /** `keep` values to work out what each would reclaim (`report --what-if`; lib/report/what-if.ts). */
  readonly whatIf?: readonly number[];
}

/** What a run hands the provider of a registry besides its config. */
export interface ProviderExtras {
  readonly cache?: InventoryCachePort;
}

/** What every registry's run shares. */
interface RunContext {
  readonly options: PruneOptions;
  readonly dryRun: boolean;
  readonly narrowTo: Pattern | null;
  readonly log: Logger;
  readonly outOfTime: () => boolean;
  /** Set when a repository was left unexamined (the time budget, a stop, a lost lock): `complete` is false. */
  budgetExhausted: boolean;
  /** The host's stop reason (`stopped by SIGINT`), or null while the run may go on. */
  readonly stopReason: () => string | null;
  /** About the run as a whole: repositories left unexamined, and why. */
  readonly warnings: string[];
  /** Byte accounting of each registry run so far (lib/storage). */
  readonly storages: RegistryStorage[];
  /** Names this run's journal records. */
  readonly runId: string;
  /** What the usage sources say runs (docs/design.md, "In-use protection"). */
  inUse: InUseSnapshot;
  /** Each registry's what-if, when `whatIf` asks. */
  readonly whatIfs: WhatIfRegistry[];
}

const DEFAULT_SAFETY_MARGIN_MS = 30_000;

/** Runs the whole flow and returns the report; per-image failures are in the report, not thrown. */
export async function prune(options: PruneOptions): Promise<Report> {
  const marginMs = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  const context: RunContext = {
    options,
    dryRun: options.dryRun ?? options.config.dryRun,
    narrowTo: narrowingPattern(options.repositories),
    log: options.log ?? silentLogger,
    outOfTime: () => options.remainingMs !== undefined && options.remainingMs() < marginMs,
    budgetExhausted: false,
    stopReason: () => stopReasonOf(options.signal),
    warnings: [],
    storages: [],
    runId: newRunId(options.now),
    inUse: NO_USAGE,
    whatIfs: [],
  };
  const selected = options.config.registries.filter(
    (registry) => options.registries === undefined || options.registries.includes(registry.name),
  );
  // A credential variable that is not set is a config problem: refused before any registry call.
  checkCredentials(selected, options.env);
  // Usage is read once, before any listing: what runs is known before anything is planned.
  if ((options.config.inUse ?? []).length > 0) {
    const build = options.usageSourceFor ?? usageSourceFor;
    context.inUse = await collectInUse({
      sources: (options.config.inUse ?? []).map((config) => ({ config, source: build(config) })),
      registries: selected,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      log: context.log,
    });
  }
  const registries: RegistryReport[] = [];
  for (const registry of selected) registries.push(await pruneRegistry(registry, context));
  const storage = storageSection(context.storages);
  const report = buildReport({
    dryRun: context.dryRun,
    startedAt: options.now,
    finishedAt: new Date(),
    registries,
    allExamined: !context.budgetExhausted,
    storage,
    cost: costSection(storage.registries, options.config.pricing),
  });
  const stopped = context.stopReason();
  return {
    ...report,
    ...(stopped !== null ? { stopped } : {}),
    ...(context.warnings.length > 0 ? { warnings: context.warnings } : {}),
    ...(context.inUse.sources.length > 0 ? { inUse: context.inUse.sources } : {}),
    ...(options.whatIf ? { whatIf: whatIfSection(options.whatIf, context.whatIfs) } : {}),
  };
}

/**
 * Why no further repository of `registry` may start (the host's stop, or the time budget), or
 * null. Says so once: as a warning in the log and in the report.
 */
function cutShort(context: RunContext, registry: RegistryConfig, left: string): string | null {
  const stopped = context.stopReason();
  const why = stopped ?? (context.outOfTime() ? 'time budget nearly used up' : null);
  if (why === null) return null;
  context.budgetExhausted = true;
  const warning = `${registry.name}: ${why}; ${left} left unexamined for the next run`;
  context.log.warn(warning);
  context.warnings.push(warning);
  return why;
}

/** The compiled `repositories` filter; a bad one is a usage error raised before any registry call. */
function narrowingPattern(source: string | undefined): Pattern | null {
  if (source === undefined) return null;
  const compiled = compilePattern(source);
  if (!compiled.ok) throw new UsageError(`repository filter "${source}": ${compiled.error}`);
  return compiled.pattern;
}

/** One registry: its provider, its matching repositories, each pruned; failures become report data. */
async function pruneRegistry(registry: RegistryConfig, context: RunContext): Promise<RegistryReport> {
  const base = { name: registry.name, provider: registry.provider };
  let provider: Provider;
  let cache: InventoryCache | undefined;
  try {
    const providerFor =
      context.options.providerFor ??
      ((r: RegistryConfig, extras?: ProviderExtras) =>
        createProvider(r, {
          log: context.log,
          ...(context.options.env ? { env: context.options.env } : {}),
          ...(extras?.cache ? { cache: extras.cache } : {}),
        }));
    const { state, inventoryCache } = context.options;
    cache =
      state !== undefined && inventoryCache !== false
        ? new InventoryCache({ store: state, registryKey: lockKeyFor(registry), log: context.log })
        : undefined;
    provider = await providerFor(registry, cache ? { cache } : {});
  } catch (error) {
    const message = registryFailure(registry, error);
    context.log.error(message);
    return { ...base, repositories: [], error: message, apiCalls: 0 };
  }
  const repositories: RepositoryReport[] = [];
  // Each repository is accounted as it finishes, so no run holds every inventory of a registry.
  const accountant = new RegistryAccountant({ registry: registry.name, provider: registry.provider });
  // `report --what-if` re-plans every repository at other keep values: only then are inventories kept.
  const whatIfInputs: RepositoryAccountInput[] | null = context.options.whatIf ? [] : null;
  const accounted = {
    add(input: RepositoryAccountInput): void {
      accountant.add(input);
      whatIfInputs?.push(input);
    },
    get count(): number {
      return accountant.count;
    },
  };
  let scopeComplete = true;
  let error: string | undefined;
  let journal: JournalFinished[] = [];
  const rules = new Map<string, RepositoryRule>();
  const ruleOf = (name: string) => rules.get(name) ?? null;
  try {
    const store = context.options.state;
    if (store !== undefined) {
      // What an interrupted run left is finished before anything new is planned.
      journal = await finishJournal({
        store,
        lockKey: lockKeyFor(registry),
        provider,
        // A blocked registry (an unreadable in-use source) finishes nothing either: fail closed.
        dryRun: context.dryRun || context.inUse.blocked(registry.name) !== null,
        log: context.log,
      });
    }
    const { targets, unmatched, listingCut } = await matchingRepositories(provider, registry, context);
    context.log.info(`${registry.name}: ${targets.length} repositories match a rule`);
    context.options.progress?.matched(registry.name, targets.length);
    context.options.onProgress?.({ kind: 'registry', registry: registry.name, repositories: targets.length });
    for (const { name, rule } of targets) rules.set(name, rule);
    const lockLost = () => context.options.lockLost?.(registry.name) ?? null;
    const lostLock = (done: number): string | null => {
      const lost = lockLost();
      if (lost === null) return null;
      if (done < targets.length) context.budgetExhausted = true; // left unexamined: the report is not complete
      return (
        `registry "${registry.name}": ${lost}: nothing more is deleted in it this run; ` +
        `${targets.length - done} of ${targets.length} matching repositories left for the next run`
      );
    };
    error = listingCut ? undefined : (lostLock(0) ?? undefined);
    // A real run that got to its repositories keeps the cursor (docs/design.md, "Fair cursor"); one
    // narrowed to a glob keeps that glob's own.
    const useCursor = store !== undefined && !context.dryRun && !listingCut && error === undefined;
    const scope = context.options.repositories;
    const cursor = useCursor ? await readCursor(store, lockKeyFor(registry), context.log, scope) : null;
    const run = await pruneRepositories(
      {
        provider,
        registry,
        context,
        lockLost,
        lostLock,
        // Each repository is accounted as it finishes (in any order: the accounting does not depend on
        // it), so no run holds every inventory of a registry.
        done: (name, outcome) => {
          context.options.onProgress?.({
            kind: 'repository',
            registry: registry.name,
            repository: name,
            deleted: outcome.report.images.deleted,
            planned: outcome.report.images.deleted + outcome.report.images.failed + outcome.report.images.pending,
          });
          if (outcome.inventory)
            accounted.add({ inventory: outcome.inventory, deleted: doneDeletions(outcome.report.deleted) });
        },
      },
      listingCut || error !== undefined ? [] : targets,
      cursor,
    );
    error ??= run.error;
    // Catalog (config) order, whatever order they finished in: the report does not depend on timing.
    for (const outcome of run.outcomes) {
      if (outcome === undefined) continue;
      repositories.push(outcome.report);
      if (!outcome.listed) scopeComplete = false;
    }
    // A run that lost its lock no longer owns the registry's records: the next holder decides.
    if (useCursor && lockLost() === null && (cursor !== null || run.resumeAt !== null)) {
      await writeCursor(store, lockKeyFor(registry), run.resumeAt, context.options.now, context.log, scope);
    }
    // A complete, unnarrowed listing names every repository there is: the cache forgets the rest.
    if (cache !== undefined && !listingCut && context.narrowTo === null && error === undefined) {
      await cache.forgetAllBut(
        [...targets.map((target) => target.name), ...unmatched],
        () => context.stopReason() !== null || context.outOfTime(),
      );
    }
    if (error === undefined && !listingCut && accounted.count === targets.length) {
      scopeComplete = await accountUnmatched(provider, registry, unmatched, accounted, context);
    } else {
      scopeComplete = false;
    }
  } catch (listingError) {
    error = registryFailure(registry, listingError);
    scopeComplete = false;
  } finally {
    await closeQuietly(provider, context.log);
  }
  const blocked = context.inUse.blocked(registry.name);
  if (blocked !== null && error === undefined) {
    error =
      `${blocked}: nothing was deleted in registry "${registry.name}"; give regprune read access to that source, ` +
      'or set onSourceError: warn on it to prune without its protection';
  }
  if (error !== undefined) context.log.error(error);
  const storage = accountant.finish({
    ...(provider.listsUntagged !== undefined ? { listsUntagged: provider.listsUntagged } : {}),
    scopeComplete,
  });
  context.storages.push(storage);
  if (whatIfInputs !== null) context.whatIfs.push(registryWhatIf(registry, provider, whatIfInputs, ruleOf, context));
  // One source of truth for bytes: each repository's figures come from the registry's accounting.
  const accountedBytes = new Map<string, RepositoryStorage['bytes']>();
  for (const entry of storage.repositories)
    if (!accountedBytes.has(entry.name)) accountedBytes.set(entry.name, entry.bytes);
  const accountedReports = repositories.map((report) => {
    const bytes = accountedBytes.get(report.name);
    return bytes ? withReportFields(report, { bytes: { before: bytes.before, reclaimed: bytes.reclaimed } }) : report;
  });
  return {
    ...base,
    repositories: accountedReports,
    ...(error !== undefined ? { error } : {}),
    apiCalls: provider.stats.apiCalls,
    ...(journal.length > 0 ? { journal } : {}),
  };
}

/**
 * Lists the repositories no rule matched when the run asks for it (`accountUnmatched`); returns
 * whether byte accounting now sees every repository of the registry.
 */
async function accountUnmatched(
  provider: Provider,
  registry: RegistryConfig,
  unmatched: readonly string[],
  accounted: Pick<RegistryAccountant, 'add'>,
  context: RunContext,
): Promise<boolean> {
  if (unmatched.length === 0) return context.narrowTo === null;
  if (!context.options.accountUnmatched) return false;
  for (const repository of unmatched) {
    try {
      const images = await provider.listImages(repository);
      accounted.add({ inventory: { registry: registry.name, repository, images, warnings: [] }, deleted: new Set() });
    } catch (error) {
      context.log.warn(
        `${registry.name}/${repository}: could not list it for byte accounting: ${describeError(error)}`,
      );
      return false;
    }
  }
  return context.narrowTo === null;
}

type RepositoryOutcome = Awaited<ReturnType<typeof pruneRepository>>;

/** What a finished repository leaves for the registry's report: its inventory is accounted and let go. */
interface FinishedRepository {
  readonly report: RepositoryReport;
  /** Whether it was listed (and so accounted); false when its listing failed. */
  readonly listed: boolean;
}

interface RegistryRun {
  readonly provider: Provider;
  readonly registry: RegistryConfig;
  readonly context: RunContext;
  readonly lockLost: () => string | null;
  readonly lostLock: (done: number) => string | null;
  /** Told of each repository as it finishes, before its inventory is let go. */
  readonly done: (name: string, outcome: RepositoryOutcome) => void;
}

/**
 * The registry's matching repositories, `repositoryConcurrency` at a time, starting at the cursor
 * and wrapping around. Before each start: the stop, the time budget and the lock; after a fatal
 * failure none starts. Outcomes are by catalog position; `resumeAt` is the first repository (in
 * this run's order) not finished, where the next run starts, or null when all were.
 */
async function pruneRepositories(
  run: RegistryRun,
  targets: ReadonlyArray<{ name: string; rule: RepositoryRule }>,
  cursor: string | null,
): Promise<{ outcomes: Array<FinishedRepository | undefined>; error?: string; resumeAt: string | null }> {
  const { provider, registry, context } = run;
  const order = rotatedOrder(
    targets.map((target) => target.name),
    cursor,
  );
  const outcomes = new Array<FinishedRepository | undefined>(targets.length).fill(undefined);
  let next = 0;
  let done = 0;
  let halted = false;
  let error: string | undefined;
  const worker = async () => {
    while (!halted && next < order.length) {
      const left = `${order.length - next} of ${order.length} matching repositories`;
      if (cutShort(context, registry, left) !== null) halted = true;
      else if ((error = run.lostLock(next) ?? undefined) !== undefined) halted = true;
      if (halted) break;
      const index = order[next++]!;
      const { name, rule } = targets[index]!;
      const outcome = await pruneRepository(provider, registry, name, rule, context, run.lockLost);
      run.done(name, outcome);
      // From here on the report is all that is left of the repository: its entry lists are packed.
      outcomes[index] = { report: packEntries(outcome.report), listed: outcome.inventory !== undefined };
      done++;
      if (outcome.fatal !== undefined && error === undefined) {
        halted = true;
        error = `${registryFailure(registry, outcome.fatal)} (stopped after ${done} of ${targets.length} repositories)`;
      }
    }
  };
  const limit = Math.max(1, registry.repositoryConcurrency ?? DEFAULT_REPOSITORY_CONCURRENCY);
  await Promise.all(Array.from({ length: Math.min(limit, order.length) }, worker));
  const isUnfinished = (index: number) => {
    const outcome = outcomes[index];
    return outcome === undefined || !outcome.listed || outcome.report.images.pending > 0;
  };
  // A lock lost while the last repositories ran still makes the registry's run an error.
  if (!halted && order.length > 0) error = run.lostLock(order.length - order.filter(isUnfinished).length) ?? undefined;
  const unfinished = order.find(isUnfinished);
  return {
    outcomes,
    ...(error !== undefined ? { error } : {}),
    resumeAt: unfinished === undefined ? null : targets[unfinished]!.name,
  };
}

/**
 * Repositories a rule matches (DESIGN rule 10) and the `repositories` filter allows, in listing
 * order. The time budget and the host's stop are checked at every name, so a registry of many
 * repositories cannot hold a run past either; `listingCut` says the listing ended early.
 */
async function matchingRepositories(
  provider: Provider,
  registry: RegistryConfig,
  context: RunContext,
): Promise<{ targets: Array<{ name: string; rule: RepositoryRule }>; unmatched: string[]; listingCut: boolean }> {
  const targets: Array<{ name: string; rule: RepositoryRule }> = [];
  const unmatched: string[] = [];
  const { narrowTo } = context;
  for await (const name of provider.listRepositories()) {
    const left = `the repositories listed so far (${targets.length} matching) and from "${name}" on`;
    if (cutShort(context, registry, left) !== null) {
      return { targets, unmatched, listingCut: true };
    }
    if (narrowTo !== null && !narrowTo.test(name)) continue;
    const rule = ruleFor(registry, name);
    if (rule !== null) targets.push({ name, rule });
    else unmatched.push(name);
  }
  return { targets, unmatched, listingCut: false };
}

/**
 * One repository: list, plan, execute, report. `fatal` is set when the registry itself went away
 * (unreachable): going on with the next repository would only fail again.
 */
async function pruneRepository(
  provider: Provider,
  registry: RegistryConfig,
  repository: string,
  rule: RepositoryRule,
  context: RunContext,
  lockLost: () => string | null,
): Promise<{ report: RepositoryReport; fatal?: unknown; inventory?: Inventory }> {
  const { options, log } = context;
  let inventory: Inventory;
  try {
    inventory = await provider.listInventory(repository);
  } catch (error) {
    const message = `could not list ${repository}: ${describeError(error)}; nothing in it was deleted`;
    log.error(message, { registry: registry.name });
    return { report: unlistedRepositoryReport(repository, message), ...fatalPart(error) };
  }
  const policy = resolvePolicy(options.config, rule);
  const inUse = context.inUse.forRepository(registry.name, repository);
  const repositoryPlan = plan(inventory, policy, options.now, inUse);
  options.progress?.planned(registry.name, repository, inventory.images.length, repositoryPlan.delete.length);
  // A usage source that could not be read blocks every deletion it might have prevented (fail closed).
  const blocked = context.inUse.blocked(registry.name);
  const journal = options.state
    ? new StateJournal({
        store: options.state,
        lockKey: lockKeyFor(registry),
        runId: context.runId,
        runStartedAt: options.now,
      })
    : undefined;
  const outcome = await execute({
    plan: repositoryPlan,
    inventory,
    provider,
    dryRun: context.dryRun,
    blocked,
    shouldStop: () => context.stopReason() ?? lockLost(),
    ...(options.remainingMs !== undefined ? { remainingMs: options.remainingMs } : {}),
    ...(options.safetyMarginMs !== undefined ? { safetyMarginMs: options.safetyMarginMs } : {}),
    ...(journal ? { journal } : {}),
    // No \`listingAgeMs\`: re-verification always lists again (docs/design.md, section 5, "A fresh
    // listing": reusing the inventory's listing misses tags it left out, lets ACR and ECR delete a
    // planned tag pushed again meanwhile from its new image, and widens the window for a new index).
    log,
  });
  const report = repositoryReport(inventory, repositoryPlan, outcome, policy);
  options.progress?.finished(registry.name, report);
  log.info(
    `${registry.name}/${repository}: ${report.images.before} images, kept ${report.images.kept}, ` +
      `${context.dryRun ? 'would delete' : 'deleted'} ${report.images.deleted}` +
      (report.images.failed > 0 ? `, failed ${report.images.failed}` : '') +
      (report.images.pending > 0 ? `, pending ${report.images.pending}` : ''),
  );
  for (const warning of report.warnings) log.warn(`${registry.name}/${repository}: ${warning}`);
  return { report, inventory, ...fatalPart(outcome.error) };
}

/** The registry's what-if over what it listed (lib/report/what-if.ts). */
function registryWhatIf(
  registry: RegistryConfig,
  provider: Provider,
  accounted: readonly RepositoryAccountInput[],
  ruleOf: (name: string) => RepositoryRule | null,
  context: RunContext,
): WhatIfRegistry {
  const { config, now } = context.options;
  return whatIfRegistry({
    registry: registry.name,
    provider: registry.provider,
    ...(provider.listsUntagged !== undefined ? { listsUntagged: provider.listsUntagged } : {}),
    repositories: accounted.map(({ inventory }) => {
      const rule = ruleOf(inventory.repository);
      return { inventory, policy: rule === null ? null : resolvePolicy(config, rule) };
    }),
    keeps: context.options.whatIf ?? [],
    ...(config.pricing ? { pricing: config.pricing } : {}),
    now,
  });
}

function fatalPart(error: unknown): { fatal?: unknown } {
  return error instanceof RegistryUnavailableError ? { fatal: error } : {};
}

/** One line naming the registry and what went wrong; our own errors already say what to do. */
function registryFailure(registry: RegistryConfig, error: unknown): string {
  const where = `registry "${registry.name}" (${registry.endpoint})`;
  // Provider errors that already name the registry are not prefixed a second time.
  if (error instanceof RegpruneError)
    return error.message.startsWith(where) ? error.message : `${where}: ${error.message}`;
  return `${where}: ${describeError(error)}; check the endpoint, the network and the credentials`;
}

async function closeQuietly(provider: Provider, log: Logger): Promise<void> {
  try {
    await provider.close?.();
  } catch (error) {
    log.warn(`closing the ${provider.name} client failed: ${describeError(error)}`);
  }
}
