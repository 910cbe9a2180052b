/** What the planner decides: pure data, every decision with its reason. */
import type { DeleteAction, LockAttribute } from '../model.js';

/** Why an image is kept. One per image: the first that applies, in the order of DESIGN's rules. */
export type KeepReason =
  | 'in-use' // rule 0: something runs it or will run it (docs/design.md, "In-use protection")
  | 'pinned' // rule 1: a tag matches `pinned`
  | 'recent' // rule 2: among the `keep` most recent
  | 'grace' // rule 3: younger than `minAge`
  | 'pulled' // rule 4: pulled within `keepPulledWithin`
  | 'unmatched-age' // rule 5: not older than `olderThan`
  // rule 6/8: a child of a kept index, the subject of a kept referrer, or a kept/new tag points at it at delete time
  | 'referenced'
  | 'subject' // rule 6: a referrer (signature, SBOM) whose subject is kept
  | 'untagged' // rule 7: untagged, and `untagged: keep`
  | 'locked' // rule 9: the registry refuses to delete it
  | 'archived'; // rule 16: in an archive storage class (ECR), kept unless `archived: delete`

export interface KeepDecision {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly reason: KeepReason;
  /** For `locked`: the attributes that lock it, where the registry says (ACR). */
  readonly locks?: readonly LockAttribute[];
  /** With reason `in-use`: who uses it (`prod-cluster: shop/Deployment/web`). */
  readonly usedBy?: readonly string[];
}

/**
 * What runs in one repository, by digest and by tag, each with who uses it: the usage sources'
 * findings matched to this repository (lib/inuse). An image is in use when its digest is, or a tag
 * on it is.
 */
export interface InUse {
  readonly digests: ReadonlyMap<string, readonly string[]>;
  readonly tags: ReadonlyMap<string, readonly string[]>;
}

export interface DeleteDecision {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly action: DeleteAction;
  /**
   * Deletion wave, 0 first. Everything in wave n may be deleted once waves < n are done: anything
   * that references another deleted manifest (an index, a referrer) is in an earlier wave.
   */
  readonly wave: number;
}

export interface Plan {
  readonly registry: string;
  readonly repository: string;
  readonly keep: readonly KeepDecision[];
  /** Sorted by wave, then by digest. */
  readonly delete: readonly DeleteDecision[];
  /** Things a user should know about this repository's plan (unknown push times, …). */
  readonly warnings: readonly string[];
}
