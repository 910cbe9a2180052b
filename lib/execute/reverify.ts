/**
 * DESIGN rule 8, at delete time: resolve the kept tags and every tag that appeared since the
 * listing again; a digest any of them now points at is not deleted, nor anything it keeps.
 */
import type { Inventory } from '../model.js';
import type { Plan } from '../plan/types.js';
import type { Provider, TagListing } from '../providers/provider.js';
import { protectedBy, seedsOf } from './guard.js';

export interface Reverification {
  /** Planned deletions that must not happen now: digest → why, for the report's warnings. */
  readonly protectedDigests: Map<string, string>;
  /** Every tag the repository had at re-verification (later checks look for tags beyond these). */
  readonly knownTags: Set<string>;
  /**
   * The kept tags and the tags that appeared since the listing, with where each points now: later checks resolve them
   * again.
   */
  readonly guardTargets: ReadonlyMap<string, string | null>;
  /** The tag listing it read: the first batch's check uses it rather than listing again. */
  readonly listing: TagListing;
  /** The listing is the inventory's own (it was fresh), not a new one. */
  readonly fromInventory: boolean;
}

/** Re-resolves kept and new tags and works out which planned deletions must not happen. */
export async function reverify(
  provider: Provider,
  inventory: Inventory,
  plan: Plan,
  fresh = false,
): Promise<Reverification> {
  const repository = plan.repository;
  const listedTags = new Set(inventory.images.flatMap((image) => image.tags));
  // A listing that only just started is as recent as a new one would be by the time it is used.
  const listing = fresh ? inventoryListing(inventory) : await provider.listTags(repository);
  const currentTags = listing.tags;
  const newTags = currentTags.filter((tag) => !listedTags.has(tag));
  const keptTags = plan.keep.flatMap((decision) => decision.tags);
  const guardTags = [...new Set([...keptTags, ...newTags])];
  const resolved = await targetsOf(provider, repository, listing, guardTags);

  const protectedDigests = await protectedBy(seedsOf(guardTags, resolved), provider, inventory, plan.delete);
  return {
    protectedDigests,
    knownTags: new Set([...listedTags, ...currentTags]),
    guardTargets: new Map(guardTags.map((tag) => [tag, resolved.get(tag) ?? null])),
    listing,
    fromInventory: fresh,
  };
}

/**
 * Where each tag points now: from the listing when it said (ACR, ECR: no further call), else asked
 * of the registry. A tag the listing does not show is gone (`null`).
 */
export async function targetsOf(
  provider: Provider,
  repository: string,
  listing: TagListing,
  tags: readonly string[],
): Promise<Map<string, string | null>> {
  const { targets } = listing;
  if (targets !== null) return new Map(tags.map((tag) => [tag, targets.get(tag) ?? null]));
  return tags.length > 0 ? provider.resolveTags(repository, tags) : new Map();
}

/** The inventory's own tags and where each pointed when it was listed, as a listing with targets. */
export function inventoryListing(inventory: Inventory): TagListing {
  const targets = new Map<string, string>();
  for (const image of inventory.images) for (const tag of image.tags) targets.set(tag, image.digest);
  return { tags: [...targets.keys()], targets };
}
