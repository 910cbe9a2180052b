/**
 * The seam for exact byte accounting where a registry's listing API gives only sizes (ECR
 * `imageSizeInBytes`, ACR `imageSize`): read the manifests, and turn each into the blobs it
 * references. A provider that does so fills `Image.blobs`, and lib/storage then counts shared
 * layers once instead of once per image.
 */
import { z } from 'zod';
import type { BlobRef } from '../model.js';

/** ECR BatchGetImage takes at most 100 image ids per call (API limit). */
export const ECR_BATCH_GET_IMAGE_MAX = 100;

const DescriptorSchema = z.looseObject({
  digest: z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/),
  size: z.number().int().min(0),
});

const ImageManifestSchema = z.looseObject({
  config: DescriptorSchema.optional(),
  layers: z.array(DescriptorSchema).optional(),
  /** OCI 1.1-rc artifact manifests list `blobs`. */
  blobs: z.array(DescriptorSchema).optional(),
  manifests: z.unknown().optional(),
});

/**
 * The config and layer blobs an image manifest references; `[]` for an index (its children carry
 * the bytes); `null` when the text is not a manifest we understand (the size estimate then stays).
 */
export function blobsFromManifest(manifestJson: string): BlobRef[] | null {
  let data: unknown;
  try {
    data = JSON.parse(manifestJson);
  } catch {
    return null;
  }
  const parsed = ImageManifestSchema.safeParse(data);
  if (!parsed.success) return null;
  const manifest = parsed.data;
  if (Array.isArray(manifest.manifests)) return [];
  if (!manifest.config && !manifest.layers && !manifest.blobs) return null;
  return [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? []), ...(manifest.blobs ?? [])].map(
    (descriptor) => ({
      digest: descriptor.digest,
      sizeBytes: descriptor.size,
    }),
  );
}

/**
 * API calls ECR's exact mode costs: one BatchGetImage per 100 manifests of a repository (a call
 * never spans repositories). 1,000 images in one repository cost 10 calls; spread over 50
 * repositories of 20, 50 calls. The index reads the provider already makes fit in the same calls.
 */
export function ecrExactModeCalls(manifestsPerRepository: readonly number[]): number {
  return manifestsPerRepository.reduce((calls, count) => calls + Math.ceil(count / ECR_BATCH_GET_IMAGE_MAX), 0);
}
