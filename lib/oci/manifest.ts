/**
 * Manifest parsing: registry JSON is untrusted input, so every body is validated with zod and its
 * digest checked against the bytes before anything else reads it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { BlobRef, ManifestKind } from '../model.js';
import { RegistryProtocolError } from '../errors.js';
import {
  COSIGN_LAYER_PREFIX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  IMAGE_CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  OCI_ARTIFACT_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';

const DIGEST_PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const DescriptorSchema = z.object({
  mediaType: z.string().default(''),
  digest: z.string().regex(DIGEST_PATTERN, { error: 'expected a sha256:<hex> digest' }),
  size: z.number().int().min(0),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

const ManifestBodySchema = z.object({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: DescriptorSchema.optional(),
  layers: z.array(DescriptorSchema).nullish(),
  /** OCI 1.1-rc artifact manifests list `blobs` instead of `config` + `layers`. */
  blobs: z.array(DescriptorSchema).nullish(),
  manifests: z.array(DescriptorSchema).nullish(),
  subject: DescriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

interface ManifestCommon {
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly subject: string | undefined;
  readonly annotations: Readonly<Record<string, string>>;
}

/** An index (manifest list): its children are other manifests in the same repository. */
export interface IndexManifest extends ManifestCommon {
  readonly form: 'index';
  readonly children: readonly Descriptor[];
}

/**
 * A single manifest: an image, or an artifact shaped like one. `config` is absent for OCI 1.1-rc artifact manifests.
 */
export interface ImageManifest extends ManifestCommon {
  readonly form: 'image';
  readonly config: Descriptor | undefined;
  readonly layers: readonly Descriptor[];
}

export type ParsedManifest = IndexManifest | ImageManifest;

/** `sha256:<hex>` (or sha512) of `body` in the algorithm `digest` names. */
export function digestOf(body: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/** Throws RegistryProtocolError unless `body` hashes to `expected`. */
export function verifyDigest(body: Uint8Array, expected: string, where: string): void {
  const algorithm = expected.startsWith('sha512:') ? 'sha512' : expected.startsWith('sha256:') ? 'sha256' : undefined;
  if (!algorithm) {
    throw new RegistryProtocolError(
      `${where}: unsupported digest "${expected}" (expected sha256:<hex>); the registry answered something regprune ` +
        `cannot verify`,
    );
  }
  const actual = digestOf(body, algorithm);
  if (actual !== expected) {
    throw new RegistryProtocolError(
      `${where}: the registry says the digest is ${expected} but the content hashes to ${actual}. ` +
        'The registry or a proxy in between altered the content; nothing was deleted. Check the proxy, or the ' +
        'registry storage with its own tools.',
    );
  }
}

/**
 * Parses a manifest body (bytes from the wire, or the text an SDK hands over). `contentType` is the
 * response header, used when the body names no media type.
 */
export function parseManifest(body: Uint8Array | string, contentType: string | null, where: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new RegistryProtocolError(`${where}: the manifest is not JSON`, { cause: error });
  }
  return parseManifestJson(json, contentType, where);
}

/** Parses a manifest an SDK already decoded from JSON (ACR's `getManifest`). */
export function parseManifestJson(json: unknown, contentType: string | null, where: string): ParsedManifest {
  const parsed = ManifestBodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    throw new RegistryProtocolError(
      `${where}: unexpected manifest shape (${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'})`,
    );
  }
  const manifest = parsed.data;
  if (manifest.schemaVersion === 1) {
    throw new RegistryProtocolError(
      `${where}: Docker schema 1 manifests are not supported; re-push the image with a current client`,
    );
  }
  const headerType = contentType?.split(';')[0]?.trim();
  const mediaType =
    manifest.mediaType ??
    (headerType && headerType !== 'application/json' ? headerType : undefined) ??
    (manifest.manifests ? OCI_INDEX : manifest.blobs && !manifest.config ? OCI_ARTIFACT_MANIFEST : OCI_MANIFEST);
  const common: ManifestCommon = {
    mediaType,
    artifactType: manifest.artifactType,
    subject: manifest.subject?.digest,
    annotations: manifest.annotations ?? {},
  };
  if (INDEX_MEDIA_TYPES.has(mediaType) || (manifest.manifests && !manifest.config)) {
    return { ...common, form: 'index', children: manifest.manifests ?? [] };
  }
  if (manifest.config || manifest.layers || manifest.blobs || mediaType === OCI_ARTIFACT_MANIFEST) {
    return {
      ...common,
      form: 'image',
      config: manifest.config,
      layers: [...(manifest.layers ?? []), ...(manifest.blobs ?? [])],
    };
  }
  throw new RegistryProtocolError(
    `${where}: unsupported manifest media type "${mediaType}" (regprune reads ` +
      `${[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ')})`,
  );
}

const ReferrersIndexSchema = z.object({
  manifests: z.array(DescriptorSchema).nullish(),
});

/** Parses a referrers API answer (an OCI index of descriptors), or returns undefined when it is not one. */
export function parseReferrers(body: Uint8Array | string): Descriptor[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = ReferrersIndexSchema.safeParse(json);
  return parsed.success ? (parsed.data.manifests ?? []) : undefined;
}

const ImageConfigSchema = z.object({ created: z.string().nullish() });

/** The `created` field of an image config blob, or undefined when it has none (or is not JSON). */
export function parseConfigCreated(body: Uint8Array): string | undefined {
  try {
    const parsed = ImageConfigSchema.safeParse(JSON.parse(Buffer.from(body).toString('utf8')));
    return parsed.success ? (parsed.data.created ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The blobs a manifest references, config first then layers (with an OCI 1.1-rc artifact's
 * `blobs`): the unit lib/storage counts. An index owns none: its children carry the bytes.
 */
export function blobsOf(manifest: ParsedManifest): BlobRef[] {
  if (manifest.form === 'index') return [];
  return [...(manifest.config ? [manifest.config] : []), ...manifest.layers].map(({ digest, size }) => ({
    digest,
    sizeBytes: size,
  }));
}

/**
 * What a manifest is, as far as retention cares, from the manifest alone: an index (unless it names a
 * subject), an image (a runnable config and no cosign layers), else an artifact. A provider that knows
 * more (a referrer tag, a buildx attestation annotation) overrides this.
 */
export function manifestKind(manifest: ParsedManifest): ManifestKind {
  if (manifest.artifactType !== undefined) return 'artifact';
  if (manifest.form === 'index') return manifest.subject !== undefined ? 'artifact' : 'index';
  if (!manifest.config || !IMAGE_CONFIG_MEDIA_TYPES.has(manifest.config.mediaType)) return 'artifact';
  if (manifest.layers.some((layer) => layer.mediaType.startsWith(COSIGN_LAYER_PREFIX))) return 'artifact';
  return 'image';
}

/**
 * The artifact type of an artifact: its `artifactType`, else the cosign layer's media type, else its
 * config's; undefined for images and indexes.
 */
export function artifactTypeOf(manifest: ParsedManifest, kind: ManifestKind): string | undefined {
  if (kind !== 'artifact') return undefined;
  if (manifest.artifactType !== undefined) return manifest.artifactType;
  if (manifest.form === 'image')
    return (
      manifest.layers.find((layer) => layer.mediaType.startsWith(COSIGN_LAYER_PREFIX))?.mediaType ??
      manifest.config?.mediaType
    );
  return undefined;
}
