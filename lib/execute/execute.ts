/**
 * Carries out a plan: re-verify tags, then delete wave by wave, chunk by chunk, within the time
 * budget. A failed deletion is data, never an exception; a dry run walks the same path and calls
 * no delete.
 */
import { performance } from 'node:perf_hooks';
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
import { DEFAULT_SAFETY_MARGIN_MS, type ExecuteOptions, type Outcome } from './types.js';
import { DEFAULT_TAG_WATCH_INTERVAL_MS, TagWatch } from './watch.js';

/** The listing's reference graph (lib/plan's), with who references each manifest. */
interface References {
  readonly graph: ReferenceGraph;
  readonly referencers: Referencers;
}

/** Executes one repository's plan and says what became of every decision. */
export async function execute(options: ExecuteOptions): Promise<Outcome> {
  const { plan, inventory, provider, dryRun } = options;
  const ledger = new Ledger(
    plan.keep.map(({ digest, tags, reason }) => ({ digest, tags, reason })),
    plan.delete,
  );
  if (plan.delete.length === 0) return ledger.outcome();

  if (!dryRun && outOfTime(options)) {
    for (const decision of plan.delete) ledger.markPending(decision);
    return ledger.outcome();
  }
  let verification: Reverification | null = null;
  if (!dryRun) {
    try {
      verification = await reverify(provider, inventory, plan);
    } catch (error) {
      const why = `not deleted: could not re-check the tags before deleting (${describeError(error)})`;
      for (const decision of plan.delete) ledger.markFailed(decision, why);
      return ledger.outcome(error);
    }
  }

  const toDelete = verification ? screen(plan.delete, verification, ledger) : [...plan.delete];
  const watch = verification
    ? new TagWatch(
        provider,
        inventory,
        toDelete,
        verification.knownTags,
        verification.guardTargets,
        options.tagWatchIntervalMs ?? DEFAULT_TAG_WATCH_INTERVAL_MS,
        options.clockMs ?? (() => performance.now()),
      )
    : null;
  const { graph } = buildReferenceGraph(inventory.images);
  const error = await deleteInWaves(toDelete, { graph, referencers: referencersOf(graph) }, ledger, options, watch);
  return ledger.outcome(error);
}

/** Drops what re-verification protects (as kept). */
function screen(decisions: readonly DeleteDecision[], verification: Reverification, ledger: Ledger): DeleteDecision[] {
  const remaining: DeleteDecision[] = [];
  for (const decision of decisions) {
    const protectedBecause = verification.protectedDigests.get(decision.digest);
    if (protectedBecause !== undefined) ledger.markKept(decision, protectedBecause);
    else remaining.push(decision);
  }
  return remaining;
}

/** Deletes wave by wave; returns the error that stopped it when the registry failed as a whole. */
async function deleteInWaves(
  decisions: readonly DeleteDecision[],
  graph: References,
  ledger: Ledger,
  options: ExecuteOptions,
  watch: TagWatch | null,
): Promise<unknown> {
  const { provider, plan, dryRun } = options;
  const log = options.log ?? silentLogger;
  let stopped: { error: unknown } | null = null;
  let timeUp = false;
  /** Why a stop (signal, lost lock) halted deletion: no new batch starts, the rest is pending. */
  let halted: string | null = null;
  /** Digests that tags appearing mid-run protect: digest → why. */
  const guarded = new Map<string, string>();

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
      else if (halted !== null) ledger.markPending(decision, halted);
      else if (timeUp && !followsDeleted(decision, graph, ledger)) ledger.markPending(decision);
      else {
        const blocker = blockerOf(decision, graph.graph, graph.referencers, ledger);
        if (blocker?.kind === 'kept') ledger.markKept(decision, blocker.why);
        else if (blocker) ledger.markFailed(decision, blocker.why);
        else ready.push(decision);
      }
    }
    for (const batch of chunk(ready, provider.maxDeleteBatch)) {
      // docs/design.md, "Crash and stop": asked before every batch; the requests in flight have finished.
      if (!dryRun && !stopped && halted === null) halted = haltReason(options, ledger);
      if (halted !== null && !stopped) {
        for (const decision of batch) ledger.markPending(decision, halted);
        continue;
      }
      // A dry run sends nothing, so only a real run can run out of time here.
      if (!dryRun && !stopped && !timeUp && outOfTime(options)) {
        timeUp = true;
        log.warn('time budget nearly used up: no new deletions; the rest is pending for the next run', {
          repository: plan.repository,
        });
      }
      if (stopped)
        for (const decision of batch) ledger.markFailed(decision, `not attempted: ${describeError(stopped.error)}`);
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
        const error = await sendBatch(sendable, ledger, options, watch, guarded);
        if (error !== undefined) stopped = { error };
        const unrecorded = await journal?.afterBatch();
        if (unrecorded !== undefined) log.warn(`could not update the journal: ${describeError(unrecorded)}`);
      }
    }
  }
  for (const failed of ledger.failed)
    log.warn(`could not delete ${failed.digest}: ${failed.error}`, { repository: plan.repository });
  return stopped?.error;
}

/**
 * Checks for tags that appeared mid-run, keeps what they protect, deletes the rest of the batch
 * and files the results. Returns the error when the registry failed as a whole.
 */
async function sendBatch(
  batch: readonly DeleteDecision[],
  ledger: Ledger,
  options: ExecuteOptions,
  watch: TagWatch | null,
  guarded: Map<string, string>,
): Promise<unknown> {
  try {
    for (const [digest, why] of (await watch?.check()) ?? []) guarded.set(digest, why);
  } catch (error) {
    const why = `not deleted: could not re-check the tags while deleting (${describeError(error)})`;
    for (const decision of batch) ledger.markFailed(decision, why);
    return error;
  }
  const sendable: DeleteDecision[] = [];
  for (const decision of batch) {
    const why = guarded.get(decision.digest);
    if (why !== undefined) ledger.markKept(decision, why);
    else sendable.push(decision);
  }
  if (sendable.length === 0) return undefined;
  try {
    record(sendable, await options.provider.delete(options.plan.repository, sendable), ledger);
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

/** True when an index listing this manifest, or a referrer of it, was deleted in this run. */
function followsDeleted(decision: DeleteDecision, { graph, referencers }: References, ledger: Ledger): boolean {
  const at = positionIn(graph.digests, decision.digest);
  if (at === undefined) return false;
  for (let e = referencers.start[at]!; e < referencers.start[at + 1]!; e++) {
    if (ledger.statusOf(graph.digests[referencers.from[e]!]!) === 'deleted') return true;
  }
  return false;
}

/** The stop's reason (said once, in the log and the repository's warnings), or null to go on. */
function haltReason(options: ExecuteOptions, ledger: Ledger): string | null {
  const reason = options.shouldStop?.() ?? null;
  if (reason === null) return null;
  const warning = `stopped deleting: ${reason}; the rest is pending for the next run`;
  (options.log ?? silentLogger).warn(warning, { repository: options.plan.repository });
  ledger.warnings.push(warning);
  return reason;
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
function record(batch: readonly DeleteDecision[], results: readonly DeleteResult[], ledger: Ledger): void {
  const byKey = new Map(results.map((result) => [requestKey(result.request), result]));
  for (const decision of batch) {
    const result = byKey.get(requestKey(decision));
    if (!result) ledger.markFailed(decision, 'the registry returned no result for this deletion; run again to retry');
    else if (result.ok) ledger.markDeleted(decision);
    else ledger.markFailed(decision, result.error);
  }
}
