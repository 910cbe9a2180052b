/** Archived images of one repository, counted apart (docs/design.md, rule 16). */
import type { Image } from '../model.js';
import { isArchived } from '../plan/archived.js';
import type { ArchivedCount, DeletedEntry } from './types.js';

/**
 * `{ archived }` for the repository report when the listing holds archived images, else `{}`. Bytes
 * are the registry-reported sizes (ECR `imageSizeInBytes`): archived storage is billed per image,
 * not deduplicated against the active layers.
 */
export function archivedCount(
  images: readonly Image[],
  deleted: readonly DeletedEntry[],
): { archived?: ArchivedCount } {
  const archived = images.filter(isArchived);
  if (archived.length === 0) return {};
  const gone = new Set(deleted.map((entry) => entry.digest));
  return {
    archived: {
      images: archived.length,
      bytes: archived.reduce((sum, image) => sum + (image.sizeBytes ?? 0), 0),
      deleted: archived.filter((image) => gone.has(image.digest)).length,
    },
  };
}
