/** A manifest is deleted only after everything that references it is gone. */
import type { DeleteDecision } from '../plan/types.js';
import { positionIn, type ReferenceGraph, type Referencers } from '../plan/references.js';
import type { Ledger } from './ledger.js';

export interface Blocker {
  /** `kept`: a kept manifest references it; `failed`: a referencer planned for deletion is still there. */
  readonly kind: 'kept' | 'failed';
  readonly why: string;
}

/**
 * Why `decision` must not be deleted now, or null. Deleting a child whose index failed to go would
 * break the index; deleting a subject whose signature failed to go would orphan the signature.
 */
export function blockerOf(
  decision: DeleteDecision,
  graph: ReferenceGraph,
  referencers: Referencers,
  ledger: Ledger,
): Blocker | null {
  const at = positionIn(graph.digests, decision.digest);
  if (at === undefined) return null;
  for (let e = referencers.start[at]!; e < referencers.start[at + 1]!; e++) {
    const digest = graph.digests[referencers.from[e]!]!;
    const role = referencers.isIndex[e] === 1 ? 'index' : 'referrer';
    const status = ledger.statusOf(digest);
    if (status === 'deleted') continue;
    if (status === 'failed') return { kind: 'failed', why: `not deleted: its ${role} ${digest} failed to delete` };
    if (status === 'kept' || !ledger.isPlanned(digest)) {
      // The planner keeps what a kept manifest references; if it did not, keeping is the safe answer.
      return {
        kind: 'kept',
        why: `${decision.digest.slice(0, 19)} was planned for deletion, but its ${role} ${digest} is kept: kept`,
      };
    }
    return { kind: 'failed', why: `not deleted: its ${role} ${digest} was not deleted first` };
  }
  return null;
}
