/**
 * What a repository occupies: tags, manifests, unique blobs and their bytes. A layer shared by ten
 * images counts once; bytes are freed only when no remaining manifest references the blob.
 */
import type { Image } from '../model.js';

import type { Footprint } from './types.js';

/**
 * The blobs an image occupies, by digest. Without a blob list, its reported size stands in as one
 * blob of its own; an index whose children are listed adds nothing (its children carry the bytes,
 * and ECR reports an index's size as its largest child's).
 */
function blobsOf(image: Image, listed: ReadonlySet<string>): Array<[string, number]> {
  if (image.blobs) return image.blobs.map((blob) => [blob.digest, blob.sizeBytes]);
  if (image.kind === 'index' && image.children.some((child) => listed.has(child))) return [];
  return [[`size-of:${image.digest}`, image.sizeBytes ?? 0]];
}

function uniqueBlobs(images: readonly Image[], listed: ReadonlySet<string>): Map<string, number> {
  const blobs = new Map<string, number>();
  for (const image of images) for (const [digest, size] of blobsOf(image, listed)) blobs.set(digest, size);
  return blobs;
}

function sum(blobs: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const size of blobs.values()) total += size;
  return total;
}

/**
 * The footprint of `images` before, and after deleting the manifests in `deletedDigests` and
 * removing `untaggedCount` tags from manifests that stay.
 */
export function footprints(
  images: readonly Image[],
  deletedDigests: ReadonlySet<string>,
  untaggedCount = 0,
): { before: Footprint; after: Footprint } {
  const listed = new Set(images.map((image) => image.digest));
  const remaining = images.filter((image) => !deletedDigests.has(image.digest));
  const blobsBefore = uniqueBlobs(images, listed);
  const blobsAfter = uniqueBlobs(remaining, listed);
  const tagsOf = (list: readonly Image[]) => list.reduce((total, image) => total + image.tags.length, 0);
  return {
    before: { tags: tagsOf(images), manifests: images.length, blobs: blobsBefore.size, bytes: sum(blobsBefore) },
    after: {
      tags: Math.max(0, tagsOf(remaining) - untaggedCount),
      manifests: remaining.length,
      blobs: blobsAfter.size,
      bytes: sum(blobsAfter),
    },
  };
}
