/** ECR's `ImageDetail` and manifests, turned into our `Image` at the provider's edge. */
import type { ImageDetail } from '@aws-sdk/client-ecr';
import { describeError } from '../../errors.js';
import type { Image, ManifestKind, StorageStatus } from '../../model.js';
import { IMAGE_CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, parseManifest, subjectOfTags } from '../../oci/index.js';

/** Manifest media types that list children (multi-arch): what BatchGetImage is asked for. */
export { INDEX_MEDIA_TYPES } from '../../oci/index.js';

/** ECR `imageStatus` → our storage status; absent (older APIs) or unknown values count as active. */
function storageOf(status: string | undefined): StorageStatus {
  if (status === 'ARCHIVED') return 'archived';
  if (status === 'ACTIVATING') return 'activating';
  return 'active';
}

/** Our `Image` for one DescribeImages entry; children are filled in later for indexes. */
export function imageFromDetail(detail: ImageDetail): Image | null {
  const digest = detail.imageDigest;
  if (!digest) return null;
  const tags = [...(detail.imageTags ?? [])].sort();
  const mediaType = detail.imageManifestMediaType ?? '';
  const subject = detail.subjectManifestDigest ?? subjectOfTags(tags);
  const artifactType = detail.artifactMediaType;
  let kind: ManifestKind = 'image';
  if (INDEX_MEDIA_TYPES.has(mediaType)) kind = 'index';
  else if (subject !== null || (artifactType !== undefined && !IMAGE_CONFIG_MEDIA_TYPES.has(artifactType)))
    kind = 'artifact';
  const pushedAtMs = detail.imagePushedAt ? detail.imagePushedAt.getTime() : null;
  return {
    digest,
    tags,
    kind,
    mediaType,
    artifactType,
    pushedAtMs,
    timeSource: pushedAtMs === null ? 'unknown' : 'registry',
    lastPulledAtMs: detail.lastRecordedPullTime ? detail.lastRecordedPullTime.getTime() : null,
    // For an index ECR reports one member's size; the report counts an index's listed children instead.
    sizeBytes: detail.imageSizeInBytes ?? null,
    children: [],
    subject,
    locked: false,
    ...(storageOf(detail.imageStatus) !== 'active' ? { storage: storageOf(detail.imageStatus) } : {}),
  };
}

/** The child digests an index manifest lists, or an error message when it is not an index. */
export function indexChildren(manifestJson: string): { ok: true; children: string[] } | { ok: false; error: string } {
  try {
    const manifest = parseManifest(manifestJson, null, 'manifest');
    if (manifest.form !== 'index') return { ok: false, error: `manifest is not an index (${manifest.mediaType})` };
    return { ok: true, children: manifest.children.map((child) => child.digest) };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}
