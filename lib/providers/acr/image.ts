/**
 * ACR manifest listings → our `Image`. The JS SDK drops the REST `mediaType`, so the kind comes from
 * what the listing does carry (an index lists `references`; ACR fills `architecture`/`os` for
 * platform images from their config) and, for the manifests we read, from the manifest itself.
 */
import type { BlobRef, Image, ManifestKind } from '../../model.js';

/** What the provider takes from one `listManifestProperties` item (copied out of the SDK shape). */
export interface ListedManifest {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly lastUpdatedOn: Date;
  readonly sizeInBytes?: number | undefined;
  readonly architecture?: string | undefined;
  readonly children: readonly string[];
  readonly canDelete?: boolean | undefined;
}

/** What a manifest read (`getManifest`) tells us. */
export interface ReadManifest {
  readonly mediaType: string;
  readonly manifest: Record<string, unknown>;
}

const INDEX_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const IMAGE_CONFIG_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
/** cosign's tag scheme for signatures, attestations and SBOMs of `sha256:<hex>`. */
const COSIGN_TAG = /^sha256-([0-9a-f]{64})\.(sig|att|sbom)$/;

function field(record: unknown, key: string): unknown {
  return typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[key] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function blobOf(descriptor: unknown): BlobRef | null {
  const digest = str(field(descriptor, 'digest'));
  const size = field(descriptor, 'size');
  return digest && typeof size === 'number' ? { digest, sizeBytes: size } : null;
}

/** The subject a cosign-style tag names, if any of the tags is one. */
export function cosignSubject(tags: readonly string[]): string | null {
  for (const tag of tags) {
    const match = COSIGN_TAG.exec(tag);
    if (match) return `sha256:${match[1]}`;
  }
  return null;
}

function kindFromRead(read: ReadManifest): { kind: ManifestKind; artifactType?: string } {
  const mediaType = str(field(read.manifest, 'mediaType')) ?? read.mediaType;
  if (INDEX_MEDIA_TYPES.has(mediaType)) return { kind: 'index' };
  const configType = str(field(field(read.manifest, 'config'), 'mediaType'));
  const artifactType =
    str(field(read.manifest, 'artifactType')) ??
    (configType && !IMAGE_CONFIG_MEDIA_TYPES.has(configType) ? configType : undefined);
  return artifactType ? { kind: 'artifact', artifactType } : { kind: 'image' };
}

/** Our `Image` for a listed manifest, refined by its manifest where we read it. */
export function toImage(listed: ListedManifest, read?: ReadManifest): Image {
  const tags = [...listed.tags].sort();
  let kind: ManifestKind;
  let artifactType: string | undefined;
  let subject = cosignSubject(tags);
  let blobs: BlobRef[] | undefined;
  if (read) {
    ({ kind, artifactType } = kindFromRead(read));
    subject = str(field(field(read.manifest, 'subject'), 'digest')) ?? subject;
    const layers = field(read.manifest, 'layers');
    const parts = [field(read.manifest, 'config'), ...(Array.isArray(layers) ? layers : [])].map(blobOf);
    if (kind !== 'index' && parts.every((part) => part !== null)) blobs = parts as BlobRef[];
  } else if (listed.children.length > 0) {
    kind = 'index';
  } else if (listed.architecture && subject === null) {
    kind = 'image';
  } else {
    kind = 'artifact';
  }
  return {
    digest: listed.digest,
    tags,
    kind,
    mediaType: read ? (str(field(read.manifest, 'mediaType')) ?? read.mediaType) : '',
    artifactType,
    pushedAtMs: listed.lastUpdatedOn.getTime(),
    timeSource: 'registry',
    lastPulledAtMs: null,
    sizeBytes: listed.sizeInBytes ?? null,
    blobs,
    children: [...listed.children],
    subject,
    locked: listed.canDelete === false,
  };
}
