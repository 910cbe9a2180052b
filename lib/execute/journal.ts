/**
 * The write-ahead journal, executor side (docs/design.md, "Crash"). Deleting an index makes its
 * platform manifests unreachable, and deleting an image (or a referrers index) does the same to
 * its signatures, SBOMs and attestations: on a registry whose API cannot list untagged manifests
 * no later run would ever see them again. So before a batch is sent, the followers its deletions
 * leave behind are written down, and after it they are struck off as they go. A run killed
 * between the two, or a follower whose delete failed, leaves a record the next run finishes.
 * This file is the port; `journal-keeper.ts` keeps the record in step, `journal-store.ts` stores it.
 */
import type { DeleteAction } from '../model.js';

/** A manifest the deletion of another leaves unreachable, with what it takes to delete it later. */
export interface JournalFollower {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly action: DeleteAction;
  /** Its deletion wave in the plan: a later run deletes followers in this order. */
  readonly wave: number;
  /** The manifest of the batch whose deletion leaves this one behind. */
  readonly follows: string;
}

/** Where the executor writes ahead; each call is one state write. */
export interface DeletionJournal {
  /** Makes `followers` this run's outstanding followers in `repository`; an empty list clears them. */
  write(repository: string, followers: readonly JournalFollower[]): Promise<void>;
}
