/**
 * What a repository occupies: tags, manifests, unique blobs and their bytes. A layer shared by ten
 * images counts once; bytes are freed only when no remaining manifest references the blob.
 */
import type { Image } from '../model.js';
import { accountRepository } from '../storage/account.js';

import type { Footprint } from './types.js';

/**
 * The footprint of `images` before, and after deleting the manifests in `deletedDigests`. Blobs
 * and bytes come from lib/storage (the one implementation of unique-blob accounting), counted within this repository.
 */
export function footprints(
  images: readonly Image[],
  deletedDigests: ReadonlySet<string>,
): { before: Footprint; after: Footprint } {
  const storage = accountRepository({
    registry: '',
    inventory: { registry: '', repository: '', images, warnings: [] },
    deleted: deletedDigests,
  });
  const remaining = images.filter((image) => !deletedDigests.has(image.digest));
  const tagsOf = (list: readonly Image[]) => list.reduce((total, image) => total + image.tags.length, 0);
  return {
    before: {
      tags: tagsOf(images),
      manifests: images.length,
      blobs: storage.blobs.before,
      bytes: storage.bytes.before,
    },
    after: {
      tags: tagsOf(remaining),
      manifests: remaining.length,
      blobs: storage.blobs.after,
      bytes: storage.bytes.after,
    },
  };
}
