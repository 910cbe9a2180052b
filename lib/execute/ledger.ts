/** Where each planned deletion ended up; every one lands in exactly one list of the outcome. */
import type { DeleteDecision } from '../plan/types.js';
import type { DeletedEntry, FailedEntry, KeptEntry, LostTag, PendingEntry, RestoredTag } from '../report/types.js';
import type { Outcome } from './types.js';

export type DeletionStatus = 'deleted' | 'failed' | 'kept' | 'pending';

function entry(decision: DeleteDecision): DeletedEntry {
  return { digest: decision.digest, tags: decision.tags, action: decision.action };
}

/** Records results decision by decision and answers "what became of this digest?". */
export class Ledger {
  readonly kept: KeptEntry[] = [];
  readonly deleted: DeletedEntry[] = [];
  readonly failed: FailedEntry[] = [];
  readonly pending: PendingEntry[] = [];
  readonly warnings: string[] = [];
  readonly restoredTags: RestoredTag[] = [];
  readonly lostTags: LostTag[] = [];
  /** Why deletion stopped early (`ExecuteOptions.shouldStop`). */
  stopped: string | undefined;
  private readonly manifestStatus = new Map<string, DeletionStatus>();

  private readonly planned: ReadonlySet<string>;

  constructor(kept: readonly KeptEntry[], deletions: readonly DeleteDecision[]) {
    this.kept.push(...kept);
    this.planned = new Set(deletions.map((d) => d.digest));
  }

  /** True when the plan deletes this manifest. */
  isPlanned(digest: string): boolean {
    return this.planned.has(digest);
  }

  /** Status of a manifest planned for deletion; undefined until decided. */
  statusOf(digest: string): DeletionStatus | undefined {
    return this.manifestStatus.get(digest);
  }

  markDeleted(decision: DeleteDecision): void {
    this.deleted.push(entry(decision));
    this.set(decision, 'deleted');
  }

  markFailed(decision: DeleteDecision, error: string): void {
    this.failed.push({ digest: decision.digest, tags: decision.tags, error });
    this.set(decision, 'failed');
  }

  markKept(decision: DeleteDecision, warning: string): void {
    this.kept.push({ digest: decision.digest, tags: decision.tags, reason: 'referenced' });
    this.warnings.push(warning);
    this.set(decision, 'kept');
  }

  /**
   * A deleted manifest that a protected tag was put back onto exists again: it leaves `deleted`
   * (so its bytes are not counted as reclaimed) and is kept, with the restored tags.
   */
  markRestored(digest: string, tags: readonly string[], warning: string): void {
    const at = this.deleted.findIndex((entry) => entry.digest === digest);
    if (at < 0) return;
    this.deleted.splice(at, 1);
    this.kept.push({ digest, tags, reason: 'referenced' });
    this.warnings.push(warning);
    this.manifestStatus.set(digest, 'kept');
  }

  /** Not attempted; `reason` says why when a stop (not the time budget) left it. */
  markPending(decision: DeleteDecision, reason?: string): void {
    this.pending.push(reason === undefined ? entry(decision) : { ...entry(decision), reason });
    this.set(decision, 'pending');
  }

  outcome(error?: unknown): Outcome {
    const { kept, deleted, failed, pending, warnings, restoredTags, lostTags, stopped } = this;
    return {
      kept,
      deleted,
      failed,
      pending,
      warnings,
      restoredTags,
      lostTags,
      ...(stopped !== undefined ? { stopped } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  }

  private set(decision: DeleteDecision, status: DeletionStatus): void {
    this.manifestStatus.set(decision.digest, status);
  }
}
