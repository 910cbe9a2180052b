/** ECR's `ImageDetail` and manifests, turned into our `Image` at the provider's edge. */
import { z } from 'zod';
import type { ImageDetail } from '@aws-sdk/client-ecr';
import type { Image, ManifestKind } from '../../model.js';

/** Manifest media types that list children (multi-arch). */
export const INDEX_MEDIA_TYPES: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** Config media types of runnable images; any other config type makes the manifest an artifact. */
const IMAGE_CONFIG_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

/** cosign's tag-based referrers: `sha256-<hex>.sig|.att|.sbom` name their subject. */
const COSIGN_TAG = /^sha256-([a-f0-9]{64})\.(?:sig|att|sbom)$/;

/** The subject a cosign tag names, or null. */
export function cosignSubject(tags: readonly string[]): string | null {
  for (const tag of tags) {
    const match = COSIGN_TAG.exec(tag);
    if (match) return `sha256:${match[1]}`;
  }
  return null;
}

/** Our `Image` for one DescribeImages entry; children are filled in later for indexes. */
export function imageFromDetail(detail: ImageDetail): Image | null {
  const digest = detail.imageDigest;
  if (!digest) return null;
  const tags = [...(detail.imageTags ?? [])].sort();
  const mediaType = detail.imageManifestMediaType ?? '';
  const subject = detail.subjectManifestDigest ?? cosignSubject(tags);
  const artifactType = detail.artifactMediaType;
  let kind: ManifestKind = 'image';
  if (INDEX_MEDIA_TYPES.includes(mediaType)) kind = 'index';
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
  };
}

const IndexManifestSchema = z
  .object({
    manifests: z.array(z.object({ digest: z.string().regex(/^[a-z0-9]+:[a-f0-9]+$/) }).loose()),
  })
  .loose();

/** The child digests an index manifest lists, or an error message when it is not an index. */
export function indexChildren(manifestJson: string): { ok: true; children: string[] } | { ok: false; error: string } {
  let data: unknown;
  try {
    data = JSON.parse(manifestJson);
  } catch (error) {
    return { ok: false, error: `manifest is not JSON (${(error as Error).message})` };
  }
  const parsed = IndexManifestSchema.safeParse(data);
  if (!parsed.success)
    return { ok: false, error: `manifest is not an index: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}` };
  return { ok: true, children: parsed.data.manifests.map((m) => m.digest) };
}
