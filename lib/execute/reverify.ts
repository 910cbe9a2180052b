/**
 * DESIGN rule 8, at delete time: resolve the kept tags and every tag that appeared since the
 * listing again; a digest any of them now points at is not deleted, nor anything it keeps.
 */
import type { Inventory } from '../model.js';
import type { Plan } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import { protectedBy, seedsOf } from './guard.js';

export interface Reverification {
  /** Planned deletions that must not happen now: digest → why, for the report's warnings. */
  readonly protectedDigests: Map<string, string>;
  /** Where each tag planned for `untag` points now (`null`: gone already). */
  readonly untagTargets: Map<string, string | null>;
  /** Every tag the repository had at re-verification (later checks look for tags beyond these). */
  readonly knownTags: Set<string>;
  /**
   * The kept tags and the tags that appeared since the listing, with where each points now: later checks resolve them
   * again.
   */
  readonly guardTargets: ReadonlyMap<string, string | null>;
}

/** Re-resolves kept, new and to-be-untagged tags and works out which planned deletions must not happen. */
export async function reverify(provider: Provider, inventory: Inventory, plan: Plan): Promise<Reverification> {
  const repository = plan.repository;
  const listedTags = new Set(inventory.images.flatMap((image) => image.tags));
  const currentTags = await provider.listTags(repository);
  const newTags = currentTags.filter((tag) => !listedTags.has(tag));
  const keptTags = plan.keep.flatMap((decision) => decision.tags);
  const untagTags = plan.delete.filter((decision) => decision.action === 'untag').flatMap((decision) => decision.tags);
  const guardTags = [...new Set([...keptTags, ...newTags])];
  const resolved = await provider.resolveTags(repository, [...new Set([...guardTags, ...untagTags])]);

  const protectedDigests = await protectedBy(seedsOf(guardTags, resolved), provider, inventory, plan.delete);
  const untagTargets = new Map(untagTags.map((tag) => [tag, resolved.get(tag) ?? null]));
  return {
    protectedDigests,
    untagTargets,
    knownTags: new Set([...listedTags, ...currentTags]),
    guardTargets: new Map(guardTags.map((tag) => [tag, resolved.get(tag) ?? null])),
  };
}
