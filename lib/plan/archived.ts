/**
 * Rule 16 (docs/design.md): images in an archive storage class (ECR `ARCHIVED`, or `ACTIVATING`
 * while restored) cannot be pulled and are billed at the archive rate. They never count toward
 * `keep` (they would push active images out of the newest N), and under `archived: keep` (the
 * default) they are kept, holding what they reference and what refers to them (rule 6).
 */
import type { Image } from '../model.js';

/** Whether the image is archived or being restored (not plain active storage). */
export function isArchived(image: Image): boolean {
  return image.storage === 'archived' || image.storage === 'activating';
}

/** 1 at each position whose image is archived; null when none is (the common case: no work). */
export function archivedFlags(images: readonly Image[]): Uint8Array | null {
  let flags: Uint8Array | null = null;
  for (let at = 0; at < images.length; at++) {
    if (!isArchived(images[at]!)) continue;
    flags ??= new Uint8Array(images.length);
    flags[at] = 1;
  }
  return flags;
}
