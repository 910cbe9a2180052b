/** From "these tags point at these digests now" to "these planned deletions must not happen". */
import { RegistryProtocolError } from '../errors.js';
import type { Image, Inventory } from '../model.js';
import { buildReferenceGraph } from '../plan/references.js';
import type { DeleteDecision } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import { spreadProtection } from './protection.js';

function short(digest: string): string {
  return digest.slice(0, 19);
}

/** Digest → the guard tags (kept or new) that point at it now. */
export function seedsOf(tags: Iterable<string>, resolved: ReadonlyMap<string, string | null>): Map<string, string[]> {
  const seeds = new Map<string, string[]>();
  for (const tag of tags) {
    const digest = resolved.get(tag);
    if (digest) seeds.set(digest, [...(seeds.get(digest) ?? []), tag]);
  }
  return seeds;
}

/**
 * The planned deletions that `seeds` protect, directly or through references (digest → why). A
 * seed on a digest never listed (pushed during the run) may be an index reusing manifests planned
 * for deletion, so the repository is listed again to learn its references.
 */
export async function protectedBy(
  seeds: ReadonlyMap<string, readonly string[]>,
  provider: Provider,
  inventory: Inventory,
  deletions: readonly DeleteDecision[],
): Promise<Map<string, string>> {
  const protectedDigests = new Map<string, string>();
  if (seeds.size === 0) return protectedDigests;
  const listed = new Set(inventory.images.map((image) => image.digest));
  let images: readonly Image[] = inventory.images;
  if ([...seeds.keys()].some((digest) => !listed.has(digest))) {
    const fresh = await provider.listImages(inventory.repository);
    images = [...inventory.images, ...fresh.filter((image) => !listed.has(image.digest))];
    // A digest a tag points at that even a fresh listing does not show (a registry whose listing
    // lags its tags) may be an index reusing planned manifests: without its references, stop.
    const known = new Set(images.map((image) => image.digest));
    const unseen = [...seeds].find(([digest]) => !known.has(digest));
    if (unseen) {
      throw new RegistryProtocolError(
        `tag ${unseen[1].map((tag) => `"${tag}"`).join(', ')} points at ${unseen[0]}, which the registry's listing ` +
          `does not show yet; ` +
          'nothing more is deleted in this repository this run (the next run sees it)',
      );
    }
  }
  const kept = spreadProtection(seeds.keys(), buildReferenceGraph(images).graph);
  for (const decision of deletions) {
    if (!kept.has(decision.digest)) continue;
    const tags = seeds.get(decision.digest);
    protectedDigests.set(
      decision.digest,
      tags
        ? `${short(decision.digest)} was planned for deletion, but tag ${tags.map((t) => `"${t}"`).join(', ')} now ` +
            `points at it: kept`
        : `${short(decision.digest)} was planned for deletion, but a manifest a kept or new tag now points at ` +
            `references it: kept`,
    );
  }
  return protectedDigests;
}
