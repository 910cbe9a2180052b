/**
 * DESIGN rule 8, at delete time: resolve the kept tags and every tag that appeared since the
 * listing again; a digest any of them now points at is not deleted, nor anything it keeps.
 */
import type { Image, Inventory } from '../model.js';
import type { Plan } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import { referenceGraph } from './graph.js';
import { spreadProtection } from './protection.js';

export interface Reverification {
  /** Planned deletions that must not happen now: digest → why, for the report's warnings. */
  readonly protectedDigests: Map<string, string>;
  /** Where each tag planned for `untag` points now (`null`: gone already). */
  readonly untagTargets: Map<string, string | null>;
}

function short(digest: string): string {
  return digest.slice(0, 19);
}

/** Re-resolves kept, new and to-be-untagged tags and works out which planned deletions must not happen. */
export async function reverify(provider: Provider, inventory: Inventory, plan: Plan): Promise<Reverification> {
  const repository = plan.repository;
  const listedTags = new Set(inventory.images.flatMap((image) => image.tags));
  const newTags = (await provider.listTags(repository)).filter((tag) => !listedTags.has(tag));
  const keptTags = plan.keep.flatMap((decision) => decision.tags);
  const untagTags = plan.delete.filter((decision) => decision.action === 'untag').flatMap((decision) => decision.tags);
  const guardTags = [...new Set([...keptTags, ...newTags])];
  const resolved = await provider.resolveTags(repository, [...new Set([...guardTags, ...untagTags])]);

  const seedsByDigest = new Map<string, string[]>();
  for (const tag of guardTags) {
    const digest = resolved.get(tag);
    if (digest) seedsByDigest.set(digest, [...(seedsByDigest.get(digest) ?? []), tag]);
  }

  // A guard tag on a digest we never listed (pushed during the run) may be an index reusing
  // manifests we planned to delete: list again so its references are known.
  const listed = new Set(inventory.images.map((image) => image.digest));
  let images: readonly Image[] = inventory.images;
  if ([...seedsByDigest.keys()].some((digest) => !listed.has(digest))) {
    const fresh = await provider.listImages(repository);
    images = [...inventory.images, ...fresh.filter((image) => !listed.has(image.digest))];
  }

  const kept = spreadProtection(seedsByDigest.keys(), referenceGraph(images));
  const protectedDigests = new Map<string, string>();
  for (const decision of plan.delete) {
    if (decision.action !== 'delete-manifest' || !kept.has(decision.digest)) continue;
    const tags = seedsByDigest.get(decision.digest);
    protectedDigests.set(
      decision.digest,
      tags
        ? `${short(decision.digest)} was planned for deletion, but tag ${tags.map((t) => `"${t}"`).join(', ')} now points at it: kept`
        : `${short(decision.digest)} was planned for deletion, but a manifest a kept or new tag now points at references it: kept`,
    );
  }
  const untagTargets = new Map(untagTags.map((tag) => [tag, resolved.get(tag) ?? null]));
  return { protectedDigests, untagTargets };
}
