/**
 * The seam for exact byte accounting where a registry's listing API gives only sizes (ECR
 * `imageSizeInBytes`, ACR `imageSize`): read the manifests, and turn each into the blobs it
 * references. A provider that does so fills `Image.blobs`, and lib/storage then counts shared
 * layers once instead of once per image.
 */
import { z } from 'zod';
import type { BlobRef } from '../model.js';

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
