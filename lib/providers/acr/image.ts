/**
 * ACR manifest listings → our `Image`. The JS SDK drops the REST `mediaType`, so the kind comes from
 * what the listing does carry (an index lists `references`; ACR fills `architecture`/`os` for
 * platform images from their config) and, for the manifests we read, from the manifest itself.
 */
import type { BlobRef, Image, ManifestKind } from '../../model.js';
import {
  artifactTypeOf,
  blobsOf,
  manifestKind,
  type ParsedManifest,
  parseManifestJson,
  subjectOfTags,
} from '../../oci/index.js';

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

/** The manifest a read gives, parsed by lib/oci; undefined when it is not one regprune reads. */
function parseRead(read: ReadManifest, digest: string): ParsedManifest | undefined {
  try {
    return parseManifestJson(read.manifest, read.mediaType, digest);
  } catch {
    // Left to the listing's view of it, as for a manifest that was not read.
    return undefined;
  }
}

/** Our `Image` for a listed manifest, refined by its manifest where we read it. */
export function toImage(listed: ListedManifest, read?: ReadManifest): Image {
  const tags = [...listed.tags].sort();
  let kind: ManifestKind;
  let artifactType: string | undefined;
  let subject = subjectOfTags(tags);
  let blobs: BlobRef[] | undefined;
  const manifest = read ? parseRead(read, listed.digest) : undefined;
  if (manifest) {
    kind = manifestKind(manifest);
    artifactType = artifactTypeOf(manifest, kind);
    subject = manifest.subject ?? subject;
    if (manifest.form === 'image') blobs = blobsOf(manifest);
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
    mediaType: manifest?.mediaType ?? read?.mediaType ?? '',
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
