/** Keeps one repository's journal record in step with the executor (docs/design.md, "Crash"). */
import { describeError } from '../errors.js';
import { childEnd, positionIn, type ReferenceGraph, type Referencers } from '../plan/references.js';
import type { DeleteDecision } from '../plan/types.js';
import type { DeletionJournal, JournalFollower } from './journal.js';
import type { Ledger } from './ledger.js';

/** The listing's reference graph and who references each manifest. */
export interface JournalGraph {
  readonly graph: ReferenceGraph;
  readonly referencers: Referencers;
}

/**
 * Keeps one repository's record in step with the executor: `beforeBatch` adds what the batch
 * leaves behind, `afterBatch` strikes off what is gone (deleted, or kept after all) and what no
 * deleted manifest leaves behind any more (its parent's delete failed: the parent still reaches it).
 * Writes only when the record changes.
 */
export class JournalKeeper {
  private readonly outstanding = new Map<string, JournalFollower>();
  private readonly planned: ReadonlyMap<string, DeleteDecision>;

  constructor(
    private readonly journal: DeletionJournal,
    private readonly repository: string,
    decisions: readonly DeleteDecision[],
    private readonly references: JournalGraph,
    private readonly ledger: Ledger,
  ) {
    this.planned = new Map(decisions.map((decision) => [decision.digest, decision]));
  }

  /** Records the followers `batch` leaves behind; returns the error when the record could not be written. */
  async beforeBatch(batch: readonly DeleteDecision[]): Promise<unknown> {
    let added = false;
    for (const decision of batch) {
      for (const follower of this.followersOf(decision)) {
        if (this.outstanding.has(follower.digest)) continue;
        this.outstanding.set(follower.digest, follower);
        added = true;
      }
    }
    return added ? this.flush() : undefined;
  }

  /** Strikes off what the batch settled; returns the error when the record could not be written. */
  async afterBatch(): Promise<unknown> {
    let removed = false;
    for (const digest of [...this.outstanding.keys()]) {
      const status = this.ledger.statusOf(digest);
      if (status === 'deleted' || status === 'kept' || !this.followsDeleted(digest)) {
        this.outstanding.delete(digest);
        removed = true;
      }
    }
    return removed ? this.flush() : undefined;
  }

  private async flush(): Promise<unknown> {
    try {
      await this.journal.write(this.repository, [...this.outstanding.values()]);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Planned deletions not yet settled that `decision` reaches through children and referrers, transitively. */
  private followersOf(decision: DeleteDecision): JournalFollower[] {
    const { graph } = this.references;
    const start = positionIn(graph.digests, decision.digest);
    if (start === undefined) return [];
    const found: JournalFollower[] = [];
    const seen = new Set<number>([start]);
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      const next: number[] = [];
      for (let e = graph.refFrom[at]!; e < childEnd(graph, at); e++) next.push(graph.refs[e]!);
      for (let e = graph.referrerStart[at]!; e < graph.referrerStart[at + 1]!; e++) next.push(graph.referrers[e]!);
      for (const target of next) {
        if (seen.has(target)) continue;
        seen.add(target);
        const planned = this.planned.get(graph.digests[target]!);
        if (planned === undefined || this.ledger.statusOf(planned.digest) !== undefined) continue;
        found.push({ ...planned, follows: decision.digest });
        queue.push(target);
      }
    }
    return found;
  }

  /** True when a manifest deleted in this run (directly, or through other followers) leaves this one behind. */
  private followsDeleted(digest: string): boolean {
    const { graph, referencers } = this.references;
    const start = positionIn(graph.digests, digest);
    if (start === undefined) return false;
    const seen = new Set<number>([start]);
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      for (let e = referencers.start[at]!; e < referencers.start[at + 1]!; e++) {
        const from = referencers.from[e]!;
        if (seen.has(from)) continue;
        seen.add(from);
        const fromDigest = graph.digests[from]!;
        if (this.ledger.statusOf(fromDigest) === 'deleted') return true;
        if (this.outstanding.has(fromDigest)) queue.push(from);
      }
    }
    return false;
  }
}

/** The message a batch that could not be journaled carries. */
export function journalFailure(error: unknown): string {
  return (
    `not deleted: could not write the journal first (${describeError(error)}); ` +
    'run again when the state store is back'
  );
}
