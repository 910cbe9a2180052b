/**
 * Carries out a plan: re-verify tags, then delete wave by wave, chunk by chunk, within the time
 * budget. A failed deletion is data, never an exception; a dry run walks the same path and calls
 * no delete.
 */
import { chunk } from '../concurrency.js';
import { describeError } from '../errors.js';
import { silentLogger } from '../log.js';
import {
  buildReferenceGraph,
  positionIn,
  type ReferenceGraph,
  type Referencers,
  referencersOf,
} from '../plan/references.js';
import type { DeleteDecision } from '../plan/types.js';
import { groupByWave } from '../plan/waves.js';
import { DeleteAbortedError, type DeleteResult } from '../providers/provider.js';
import { blockerOf } from './blocker.js';
import { JournalKeeper, journalFailure } from './journal-keeper.js';
import { Ledger } from './ledger.js';
import { reverify, type Reverification } from './reverify.js';
import { DEFAULT_SAFETY_MARGIN_MS, type ExecuteOptions, FRESH_LISTING_MS, type Outcome } from './types.js';
import { type AfterBatch, TagGuard } from './watch.js';

/** The listing's reference graph (lib/plan's), with who references each manifest. */
interface References {
  readonly graph: ReferenceGraph;
  readonly referencers: Referencers;
}

/** What every batch of one repository's run shares. */
interface BatchContext {
  readonly ledger: Ledger;
  readonly options: ExecuteOptions;
  /** The protected tags (null in a dry run: nothing is re-checked). */
  readonly guard: TagGuard | null;
  /** Planned deletions that tags appearing, moving or put back mid-run protect: digest → why. */
  readonly guarded: Map<string, string>;
  /**
   * Deletions the registry answered "not found" (already gone): on registry 2.8 also the sign of a
   * DELETE retried after the registry failed half-way through it (section 5, "Left-over tags").
   */
  readonly goneAlready: Set<string>;
}

/** Executes one repository's plan and says what became of every decision. */
export async function execute(options: ExecuteOptions): Promise<Outcome> {
  const { plan, inventory, provider, dryRun } = options;
  const ledger = new Ledger(
    plan.keep.map(({ digest, tags, reason, usedBy, locks }) => ({
      digest,
      tags,
      reason,
      ...(usedBy ? { usedBy } : {}),
      ...(locks ? { locks } : {}),
    })),
    plan.delete,
  );
  if (plan.delete.length === 0) return ledger.outcome();
  if (options.blocked) {
    for (const decision of plan.delete) ledger.markPending(decision, options.blocked);
    return ledger.outcome();
  }

  if (!dryRun && outOfTime(options)) {
    for (const decision of plan.delete) ledger.markPending(decision);
    return ledger.outcome();
  }
  let verification: Reverification | null = null;
  if (!dryRun) {
    try {
      const fresh = options.listingAgeMs !== undefined && options.listingAgeMs() < FRESH_LISTING_MS;
      verification = await reverify(provider, inventory, plan, fresh);
    } catch (error) {
      const why = `not deleted: could not re-check the tags before deleting (${describeError(error)})`;
      for (const decision of plan.delete) ledger.markFailed(decision, why);
      return ledger.outcome(error);
    }
  }

  const guard = verification
    ? new TagGuard(
        provider,
        inventory,
        plan.delete,
        verification.knownTags,
        verification.guardTargets,
        verification.listing,
        listingClock(options, verification),
      )
    : null;
  const toDelete = verification ? screen(plan.delete, verification, ledger, guard) : [...plan.delete];
  const { graph } = buildReferenceGraph(inventory.images);
  const context: BatchContext = { ledger, options, guard, guarded: new Map(), goneAlready: new Set() };
  const error = await deleteInWaves(toDelete, { graph, referencers: referencersOf(graph) }, context);
  if (guard) await finishRun(guard, context);
  return ledger.outcome(error);
}

/** Drops what re-verification protects (as kept); their tags are protected from then on. */
function screen(
  decisions: readonly DeleteDecision[],
  verification: Reverification,
  ledger: Ledger,
  guard: TagGuard | null,
): DeleteDecision[] {
  const remaining: DeleteDecision[] = [];
  for (const decision of decisions) {
    const protectedBecause = verification.protectedDigests.get(decision.digest);
    if (protectedBecause === undefined) remaining.push(decision);
    else {
      ledger.markKept(decision, protectedBecause);
      guard?.protect(decision.tags, decision.digest);
    }
  }
  return remaining;
}

/** Deletes wave by wave; returns the error that stopped it when the registry failed as a whole. */
async function deleteInWaves(
  decisions: readonly DeleteDecision[],
  graph: References,
  context: BatchContext,
): Promise<unknown> {
  const { ledger, options } = context;
  const { provider, plan, dryRun } = options;
  const log = options.log ?? silentLogger;
  let stopped: { error: unknown } | null = null;
  let timeUp = false;

  const waves = groupByWave(decisions);
  const journal =
    options.journal && !dryRun ? new JournalKeeper(options.journal, plan.repository, decisions, graph, ledger) : null;
  if (decisions.length > 0) {
    log.info(
      `${plan.repository}: ${dryRun ? 'would delete' : 'deleting'} ${decisions.length} in ${waves.length} wave(s)`,
    );
  }
  for (const wave of waves) {
    const ready: DeleteDecision[] = [];
    for (const decision of wave) {
      if (stopped) ledger.markFailed(decision, `not attempted: ${describeError(stopped.error)}`);
      else if (ledger.stopped !== undefined) ledger.markPending(decision, ledger.stopped);
      else if (timeUp && !followsDeleted(decision, graph, ledger)) ledger.markPending(decision);
      else {
        const blocker = blockerOf(decision, graph.graph, graph.referencers, ledger);
        if (blocker?.kind === 'kept') ledger.markKept(decision, blocker.why);
        else if (blocker) ledger.markFailed(decision, blocker.why);
        else ready.push(decision);
      }
    }
    for (const batch of chunk(ready, provider.maxDeleteBatch)) {
      // A dry run sends nothing, so only a real run can run out of time or be told to stop here.
      if (!dryRun && !stopped && ledger.stopped === undefined) {
        const reason = options.shouldStop?.() ?? null;
        if (reason !== null) {
          ledger.stopped = reason;
          log.warn(`stopping: ${reason}; no new deletions, the rest is pending`, { repository: plan.repository });
        }
      }
      if (!dryRun && !stopped && !timeUp && outOfTime(options)) {
        timeUp = true;
        log.warn('time budget nearly used up: no new deletions; the rest is pending for the next run', {
          repository: plan.repository,
        });
      }
      if (stopped)
        for (const decision of batch) ledger.markFailed(decision, `not attempted: ${describeError(stopped.error)}`);
      else if (ledger.stopped !== undefined) for (const decision of batch) ledger.markPending(decision, ledger.stopped);
      else if (dryRun) for (const decision of batch) ledger.markDeleted(decision);
      else {
        // Out of time, what an already-deleted index or referrer leaves behind still goes: the next
        // run would no longer see it as part of anything and could not finish the job.
        const sendable = timeUp ? batch.filter((decision) => followsDeleted(decision, graph, ledger)) : batch;
        for (const decision of batch) if (!sendable.includes(decision)) ledger.markPending(decision);
        if (sendable.length === 0) continue;
        // Write-ahead: what this batch leaves behind is on record before anything is deleted.
        const unjournaled = await journal?.beforeBatch(sendable);
        if (unjournaled !== undefined) {
          for (const decision of sendable) ledger.markFailed(decision, journalFailure(unjournaled));
          stopped = { error: unjournaled };
          continue;
        }
        const error = await runBatch(sendable, context);
        if (error !== undefined) stopped = { error };
        const unrecorded = await journal?.afterBatch();
        if (unrecorded !== undefined) log.warn(`could not update the journal: ${describeError(unrecorded)}`);
      }
    }
  }
  if (ledger.stopped !== undefined && ledger.pending.length > 0)
    ledger.warnings.push(`stopped: ${ledger.stopped}; ${ledger.pending.length} deletion(s) left for the next run`);
  for (const failed of ledger.failed)
    log.warn(`could not delete ${failed.digest}: ${failed.error}`, { repository: plan.repository });
  return stopped?.error;
}

/**
 * One batch, in parts: the whole batch, or one deletion at a time while tags were active lately
 * (`TagGuard.nextPartSize`). Returns the error when the registry failed as a whole; what was not
 * sent then is failed, not attempted.
 */
async function runBatch(batch: readonly DeleteDecision[], context: BatchContext): Promise<unknown> {
  let at = 0;
  while (at < batch.length) {
    const size = context.guard?.nextPartSize(batch.length - at) ?? batch.length - at;
    const error = await runPart(batch.slice(at, at + size), context);
    at += size;
    if (error === undefined) continue;
    for (const decision of batch.slice(at))
      context.ledger.markFailed(decision, `not attempted: ${describeError(error)}`);
    return error;
  }
  return undefined;
}

/** One part of a batch: check before, send, check after. Returns the error when the registry failed as a whole. */
async function runPart(batch: readonly DeleteDecision[], context: BatchContext): Promise<unknown> {
  const before = await beforeBatch(batch, context);
  if ('error' in before) return before.error;
  if (before.sendable.length === 0) return undefined;
  const sent = await sendBatch(before.sendable, context);
  const after = await afterBatch(before.sendable, context);
  return sent ?? after;
}

/**
 * Before sending a batch: tags that appeared (or moved, where the listing shows it) since the last
 * check protect what they point at and what that references; those decisions are kept.
 */
async function beforeBatch(
  batch: readonly DeleteDecision[],
  { ledger, guard, guarded }: BatchContext,
): Promise<{ sendable: DeleteDecision[] } | { error: unknown }> {
  try {
    for (const [digest, why] of (await guard?.beforeBatch()) ?? []) guarded.set(digest, why);
  } catch (error) {
    const why = `not deleted: could not re-check the tags while deleting (${describeError(error)})`;
    for (const decision of batch) ledger.markFailed(decision, why);
    return { error };
  }
  const sendable: DeleteDecision[] = [];
  for (const decision of batch) {
    const why = guarded.get(decision.digest);
    if (why === undefined) sendable.push(decision);
    else {
      ledger.markKept(decision, why);
      guard?.protect(decision.tags, decision.digest);
    }
  }
  return { sendable };
}

/** Deletes the batch and files the results. Returns the error when the registry failed as a whole. */
async function sendBatch(sendable: readonly DeleteDecision[], context: BatchContext): Promise<unknown> {
  const { ledger, options } = context;
  try {
    const guard = context.guard;
    const requests = guard
      ? sendable.map((decision) => ({ ...decision, tags: guard.tagsStillOn(decision.digest, decision.tags) }))
      : sendable;
    record(sendable, await options.provider.delete(options.plan.repository, requests), context);
    return undefined;
  } catch (error) {
    // The registry failed as a whole. What finished before that is filed as it went; the rest failed.
    const failure = error instanceof DeleteAbortedError ? error.failure : error;
    const finished = new Map(
      (error instanceof DeleteAbortedError ? error.results : []).map((result) => [requestKey(result.request), result]),
    );
    for (const decision of sendable) {
      const result = finished.get(requestKey(decision));
      if (result?.ok) ledger.markDeleted(decision);
      else ledger.markFailed(decision, result ? result.error : describeError(failure));
    }
    return failure;
  }
}

/**
 * After a batch: one tag listing shows the protected tags that vanished with a digest just
 * deleted; they are put back, and what they protect is kept from the next batches on.
 */
async function afterBatch(sent: readonly DeleteDecision[], context: BatchContext): Promise<unknown> {
  const { guard, ledger } = context;
  if (!guard) return undefined;
  const deleted = sent.filter((decision) => ledger.statusOf(decision.digest) === 'deleted').map((d) => d.digest);
  // Sent by digest where the registry deletes by tag: the planned tags had all moved away, and a
  // tag put on it since would have gone with it.
  const byDigest = sent.some((decision) => guard.tagsStillOn(decision.digest, decision.tags).length === 0);
  try {
    const mayWrite = () => context.options.shouldStop?.() ?? null;
    const repair = { goneAlready: context.goneAlready, mayWrite };
    absorb(await guard.afterBatch(deleted, isDeletedIn(ledger), byDigest, repair), context);
    return undefined;
  } catch (error) {
    ledger.warnings.push(`could not re-check the tags after deleting: ${describeError(error)}`);
    return error;
  }
}

/** The end of the repository's run: every protected tag resolved once more, restores and losses reported. */
async function finishRun(guard: TagGuard, context: BatchContext): Promise<void> {
  const { ledger } = context;
  try {
    absorb(await guard.finish(isDeletedIn(ledger)), context);
  } catch (error) {
    ledger.warnings.push(
      `could not resolve the protected tags at the end of the run (${describeError(error)}); check them by hand`,
    );
  }
  ledger.restoredTags.push(...guard.restored);
  ledger.lostTags.push(...guard.lost);
}

function absorb(found: AfterBatch, { ledger, guarded }: BatchContext): void {
  for (const [digest, why] of found.protectedDigests) guarded.set(digest, why);
  ledger.warnings.push(...found.warnings);
  // Put back under a tag, the manifest exists again: it is kept, and its bytes are not reclaimed.
  for (const [digest, tags] of found.restoredDigests) {
    const how =
      tags.length > 0 ? `put back under tag ${tags.map((t) => `"${t}"`).join(', ')}` : 're-created (left-over tags)';
    ledger.markRestored(digest, tags, `${digest.slice(0, 19)} was deleted, then ${how}: kept`);
  }
}

function isDeletedIn(ledger: Ledger): (digest: string) => boolean {
  return (digest) => ledger.statusOf(digest) === 'deleted';
}

/** True when an index listing this manifest, or a referrer of it, was deleted in this run. */
function followsDeleted(decision: DeleteDecision, { graph, referencers }: References, ledger: Ledger): boolean {
  const at = positionIn(graph.digests, decision.digest);
  if (at === undefined) return false;
  for (let e = referencers.start[at]!; e < referencers.start[at + 1]!; e++) {
    if (ledger.statusOf(graph.digests[referencers.from[e]!]!) === 'deleted') return true;
  }
  return false;
}

/** When the guard's first listing was taken, where the caller says how old the inventory is (prune does). */
function listingClock(
  options: ExecuteOptions,
  verification: Reverification,
): { nowMs: () => number; listedAtMs: number } | undefined {
  if (options.listingAgeMs === undefined) return undefined;
  const nowMs = () => performance.now();
  const reused = verification.listing.targets !== null && verification.fromInventory;
  return { nowMs, listedAtMs: reused ? nowMs() - options.listingAgeMs() : nowMs() };
}

/** True when less than the safety margin is left of the host's time budget. */
function outOfTime(options: ExecuteOptions): boolean {
  if (options.remainingMs === undefined) return false;
  return options.remainingMs() < (options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS);
}

function requestKey(request: { readonly digest: string }): string {
  return request.digest;
}

/** Files each result; a request the provider gave no result for counts as failed. */
function record(batch: readonly DeleteDecision[], results: readonly DeleteResult[], context: BatchContext): void {
  const { ledger, guard } = context;
  const byKey = new Map(results.map((result) => [requestKey(result.request), result]));
  for (const decision of batch) {
    const result = byKey.get(requestKey(decision));
    if (!result) ledger.markFailed(decision, 'the registry returned no result for this deletion; run again to retry');
    else if (result.ok && (result.stillTaggedBy?.length ?? 0) > 0) {
      // Its planned tags went; tags added during the run keep the manifest, and what it references.
      const tags = result.stillTaggedBy ?? [];
      ledger.markKept(
        decision,
        `${decision.digest.slice(0, 19)} was planned for deletion, but tag ${tags.map((t) => `"${t}"`).join(', ')} ` +
          'was put on it during the run: its planned tags were deleted, the manifest kept',
      );
      guard?.protect(tags, decision.digest);
    } else if (result.ok) {
      ledger.markDeleted(decision);
      if (result.alreadyGone) context.goneAlready.add(decision.digest);
    } else ledger.markFailed(decision, result.error);
  }
}
