/** What the executor takes and what it hands to the report. */
import type { Inventory } from '../model.js';
import type { Logger } from '../log.js';
import type { Plan } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import type { DeletedEntry, FailedEntry, KeptEntry, LostTag, PendingEntry, RestoredTag } from '../report/types.js';
import type { DeletionJournal } from './journal.js';

/** Stop starting deletions when less than this is left of the host's time budget. */
export const DEFAULT_SAFETY_MARGIN_MS = 30_000;

export interface ExecuteOptions {
  readonly plan: Plan;
  /** The listing the plan was made from: its reference graph spreads protection. */
  readonly inventory: Inventory;
  readonly provider: Provider;
  /** Go through every step but call no delete (and re-verify nothing: the listing is fresh). */
  readonly dryRun: boolean;
  /** Time left in the host's budget, ms; absent = no budget. */
  readonly remainingMs?: () => number;
  readonly safetyMarginMs?: number;
  /**
   * Asked before every delete batch: a reason (a signal, a lost run lock) means no new batch
   * starts and the rest is pending with that reason; null means go on.
   */
  readonly shouldStop?: () => string | null;
  /**
   * Why no deletion may happen at all (an in-use source that could not be read: docs/design.md,
   * "In-use protection"): every planned deletion is pending with it, in a dry run too.
   */
  readonly blocked?: string | null;
  readonly log?: Logger;
  /** Where the followers a batch leaves behind are written ahead (docs/design.md, "Crash"); absent = none. */
  readonly journal?: DeletionJournal;
  /**
   * How long ago the inventory's listing started (ms). Under `FRESH_LISTING_MS`, re-verification
   * takes the inventory's tags as its listing instead of listing again (docs/design.md, section 5,
   * "A fresh listing"). Absent: always list again.
   */
  readonly listingAgeMs?: () => number;
}

/**
 * With `listingAgeMs`, a listing younger than this is the re-verification's listing. `prune` does not
 * use it (docs/design.md, section 5, "A fresh listing": three ways it loses what the run must keep).
 */
export const FRESH_LISTING_MS = 2_000;

/** What happened to every planned decision. Every planned deletion lands in exactly one list. */
export interface Outcome {
  /** The plan's kept images, plus deletions re-verification stopped (reason `referenced`). */
  readonly kept: KeptEntry[];
  /** Deleted (or, in a dry run, would be deleted); includes ones the registry had already removed. */
  readonly deleted: DeletedEntry[];
  readonly failed: FailedEntry[];
  /** Not attempted: the time budget ran out, or the run was stopped (`reason`). */
  readonly pending: PendingEntry[];
  readonly warnings: string[];
  /** Protected tags a deletion took with it and that were put back (docs/design.md, section 5). */
  readonly restoredTags: RestoredTag[];
  /** Protected tags lost and not put back: the run exits 1. */
  readonly lostTags: LostTag[];
  /** Why deletion stopped early when `shouldStop` said so. */
  readonly stopped?: string;
  /** The registry failed as a whole while deleting (unreachable, auth); the rest was not attempted. */
  readonly error?: unknown;
}
