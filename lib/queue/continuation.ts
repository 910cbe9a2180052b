/**
 * Continuations: a scheduled run that ends with work left queues one more run of that registry,
 * so a backlog converges in consecutive invocations instead of one slice per schedule period.
 * Two requests for one registry collapse into one message through a marker record in the state
 * store (`continuations/<lock key>/<name>`), created with compare-and-swap; a message whose token
 * is not the marker's (a duplicate delivery, a superseded request) is dropped.
 * docs/design.md, "Continuation".
 */
import { z } from 'zod';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Report } from '../report/types.js';
import { keySegment, readJson, scopeSuffix, type StateStore } from '../state/store.js';
import type { ContinueMessage } from './message.js';
import { newRandomId, type WorkQueue } from './work-queue.js';

/** A chain of continuations stops here (a registry that never finishes would otherwise loop forever). */
export const MAX_CONTINUATION_CHAIN = 50;
/**
 * A marker older than this is taken to have lost its message (expired, dead-lettered) and is
 * replaced by the next request. A continuation still waiting for a lock then (a long CLI run) is
 * superseded: the replacement's message runs in its place.
 */
export const CONTINUATION_STALE_MS = 6 * 3_600_000;
/**
 * A marker `running` for longer than this was left by a worker that was killed (no invocation of
 * either host lives this long): a delivery of its message runs it again.
 */
export const CONTINUATION_RUNNING_STALE_MS = 45 * 60_000;
/**
 * Takeovers after which a continuation whose worker keeps being killed (out of memory, a hung
 * call) is given up: re-sent while it runs, its message never reaches the host's dead-letter
 * limit, so without this it would run every 45 min for ever.
 */
export const MAX_CONTINUATION_TAKEOVERS = 2;
/** Compare-and-swap attempts on one marker before a writer gives up (each loss means another writer moved). */
const MARKER_ATTEMPTS = 5;

const MarkerSchema = z.object({
  registry: z.string(),
  repository: z.string().optional(),
  token: z.string(),
  chain: z.number().int().min(0),
  requestedAt: z.string(),
  /** When its continuation started running (absent while it waits). */
  runningSince: z.string().optional(),
  /** A request came while it ran: the run began before it, so it is queued again when it ends. */
  again: z.boolean().optional(),
  /** How many times a delivery took it over from a worker that was killed while it ran. */
  takeovers: z.number().int().min(0).optional(),
});
type Marker = z.infer<typeof MarkerSchema>;

/** `_` is not a key character (lib/state/store.ts), but registry names may hold it. */
function segment(text: string): string {
  return keySegment(text).replace(/_/g, '%5F');
}

/**
 * The marker's key for a registry (by its lock key and config name) and, for a narrowed schedule,
 * its `repository` glob: continuations of different scopes do not collapse into one another.
 */
export function continuationKey(lockKey: string, registry: string, repository?: string): string {
  return `continuations/${segment(lockKey)}/${segment(registry)}${scopeSuffix(repository)}`;
}

/** What a continuation runs: a registry, or the part of it a narrowed schedule asked for. */
export interface ContinuationScope {
  readonly registry: string;
  readonly repository?: string | undefined;
}

export interface ContinuationsOptions {
  readonly store: StateStore;
  readonly queue: WorkQueue;
  /** Wall clock, for the marker's age. */
  readonly now: () => Date;
  readonly log: Logger;
}

export type RequestOutcome = 'queued' | 'collapsed' | 'chain-ended';

/** Queues, collapses and settles continuations. */
export class Continuations {
  constructor(private readonly options: ContinuationsOptions) {}

  /**
   * Asks for one more run of `registry` (of its `repository` glob, when given): queues a message
   * unless one of the same scope is already waiting (then the two collapse). A continuation that is
   * running started before this request, so it is asked to queue one more when it ends (`again`).
   * `chain` counts the continuations before this one.
   */
  async request(lockKey: string, target: string | ContinuationScope, chain = 0): Promise<RequestOutcome> {
    const { store, log } = this.options;
    const { registry, repository } = typeof target === 'string' ? { registry: target, repository: undefined } : target;
    if (chain >= MAX_CONTINUATION_CHAIN) {
      log.warn(
        `${registry}: ${chain} continuations in a row and still work left; none queued, the next scheduled run goes on`,
      );
      return 'chain-ended';
    }
    const key = continuationKey(lockKey, registry, repository);
    const marker: Marker = {
      registry,
      ...(repository !== undefined ? { repository } : {}),
      token: newRandomId(),
      chain,
      requestedAt: this.options.now().toISOString(),
    };
    for (let attempt = 0; ; attempt++) {
      const written = await this.placeMarker(key, marker);
      if (written === 'placed') break;
      if (written === 'collapsed') return 'collapsed';
      if (attempt + 1 >= MARKER_ATTEMPTS) throw contended(key);
    }
    try {
      await this.send(marker);
    } catch (error) {
      // No message without a marker, and no marker without a message: the next request may try again.
      await store.delete(key).catch(() => undefined);
      throw error;
    }
    const what = repository === undefined ? registry : `${registry} (repositories ${repository})`;
    log.info(`${what}: continuation queued on ${this.options.queue.location}`, { chain });
    return 'queued';
  }

  /**
   * Writes `marker` unless one is already there: a waiting one takes this request in, a running
   * one is marked `again`; a stale or unreadable one is replaced. `retry` when another writer moved.
   */
  private async placeMarker(key: string, marker: Marker): Promise<'placed' | 'collapsed' | 'retry'> {
    const { store } = this.options;
    if ((await store.create(key, JSON.stringify(marker))).ok) return 'placed';
    const existing = await readJson(store, key);
    if (existing === null) return 'retry'; // settled meanwhile: create it now
    const parsed = MarkerSchema.safeParse(existing.value);
    const ageMs = parsed.success ? this.options.now().getTime() - Date.parse(parsed.data.requestedAt) : Infinity;
    if (!parsed.success || ageMs >= CONTINUATION_STALE_MS) {
      // Stale or unreadable: its message is gone; this request takes its place.
      return (await store.replace(key, JSON.stringify(marker), existing.version)).ok ? 'placed' : 'retry';
    }
    if (parsed.data.runningSince === undefined || parsed.data.again === true) return 'collapsed';
    const again: Marker = { ...parsed.data, again: true };
    return (await store.replace(key, JSON.stringify(again), existing.version)).ok ? 'collapsed' : 'retry';
  }

  /**
   * Marks `message`'s marker running, before its run: `current` when it may run, `running` when a
   * delivery of it already runs (a duplicate: it comes back later), `stale` when it is no longer
   * the marker's message.
   */
  async begin(lockKey: string, message: ContinueMessage): Promise<'current' | 'running' | 'stale' | 'given-up'> {
    const now = this.options.now();
    let givenUp = false;
    const outcome = await this.updateMarker(lockKey, message, (marker) => {
      if (marker.runningSince === undefined) return { ...marker, runningSince: now.toISOString() };
      if (now.getTime() - Date.parse(marker.runningSince) < CONTINUATION_RUNNING_STALE_MS) return 'running';
      // Its worker was killed while it ran.
      const takeovers = (marker.takeovers ?? 0) + 1;
      givenUp = takeovers > MAX_CONTINUATION_TAKEOVERS;
      return { ...marker, runningSince: now.toISOString(), takeovers };
    });
    if (outcome !== 'updated') return outcome;
    if (!givenUp) return 'current';
    await this.settle(lockKey, message, false, { ignoreAgain: true });
    return 'given-up';
  }

  /**
   * The run did not happen (its lock was held) or failed: the marker waits for the same message
   * again, which the host delivers again; a request meanwhile is covered by that later run.
   */
  async pause(lockKey: string, message: ContinueMessage): Promise<void> {
    await this.updateMarker(
      lockKey,
      message,
      ({ runningSince: _running, again: _again, takeovers: _takeovers, ...waiting }) => waiting,
    );
  }

  /**
   * After the continuation ran: with work left the chain grows by one; when a request came while
   * it ran, a new chain starts (that request wants a run that begins after it); else the marker
   * is removed.
   */
  async settle(
    lockKey: string,
    message: ContinueMessage,
    workLeft: boolean,
    options: { ignoreAgain?: boolean } = {},
  ): Promise<RequestOutcome | 'finished'> {
    const key = continuationKey(lockKey, message.registry, message.repository);
    let again = false;
    for (let attempt = 0; ; attempt++) {
      const existing = await readJson(this.options.store, key);
      const parsed = existing ? MarkerSchema.safeParse(existing.value) : null;
      // Replaced (it was taken for stale) or gone: the request that replaced it has its own message.
      if (existing === null || !parsed?.success || parsed.data.token !== message.token) break;
      again = parsed.data.again === true && options.ignoreAgain !== true;
      if ((await this.options.store.delete(key, existing.version)).ok) break;
      if (attempt + 1 >= MARKER_ATTEMPTS) throw contended(key);
    }
    const scope = { registry: message.registry, repository: message.repository };
    if (again) return this.request(lockKey, scope, 0);
    if (!workLeft) return 'finished';
    return this.request(lockKey, scope, message.chain + 1);
  }

  /** Rewrites `message`'s marker with `change` (compare-and-swap, retried while others write). */
  private async updateMarker(
    lockKey: string,
    message: ContinueMessage,
    change: (marker: Marker) => Marker | 'running',
  ): Promise<'updated' | 'running' | 'stale'> {
    const key = continuationKey(lockKey, message.registry, message.repository);
    for (let attempt = 0; attempt < MARKER_ATTEMPTS; attempt++) {
      const existing = await readJson(this.options.store, key);
      const parsed = existing ? MarkerSchema.safeParse(existing.value) : null;
      if (existing === null || !parsed?.success || parsed.data.token !== message.token) return 'stale';
      const changed = change(parsed.data);
      if (changed === 'running') return 'running';
      if ((await this.options.store.replace(key, JSON.stringify(changed), existing.version)).ok) return 'updated';
    }
    throw contended(key);
  }

  private async send(marker: Marker): Promise<void> {
    await this.options.queue.send({
      v: 1,
      kind: 'continue',
      registry: marker.registry,
      ...(marker.repository !== undefined ? { repository: marker.repository } : {}),
      token: marker.token,
      chain: marker.chain,
    });
  }
}

/** Others kept writing a marker through every attempt: the caller fails, and its host tries again. */
function contended(key: string): Error {
  return new Error(`the continuation marker ${key} kept changing under ${MARKER_ATTEMPTS} attempts; try again`);
}

/**
 * The registries of a finished run that have work left: a run that deletes (not a dry run), did
 * not examine everything or left deletions pending, for each registry that did not fail as a
 * whole (a failing registry waits for the schedule instead of looping).
 */
export function registriesWithWorkLeft(report: Report): string[] {
  if (report.dryRun) return [];
  return report.registries
    .filter((registry) => registry.error === undefined)
    .filter((registry) => !report.complete || registry.repositories.some((repository) => repository.images.pending > 0))
    .map((registry) => registry.name);
}

/**
 * Requests a continuation for every registry with work left, kept to `repository` when the run was
 * narrowed to it; a queue that fails is logged, not thrown.
 */
export async function continueWorkLeft(
  report: Report,
  lockKeyOf: (registry: string) => string | undefined,
  continuations: Continuations,
  log: Logger,
  repository?: string,
): Promise<void> {
  for (const registry of registriesWithWorkLeft(report)) {
    const lockKey = lockKeyOf(registry);
    if (lockKey === undefined) continue;
    try {
      await continuations.request(lockKey, { registry, repository });
    } catch (error) {
      log.error(`${registry}: could not queue a continuation: ${describeError(error)}; the next scheduled run goes on`);
    }
  }
}
