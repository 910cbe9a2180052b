/**
 * ACR manifest listings → our `Image`. The JS SDK drops the REST `mediaType`, so the kind comes from
 * what the listing does carry (an index lists `references`; ACR fills `architecture`/`os` for
 * platform images from their config) and, for the manifests we read, from the manifest itself.
 */
import type { BlobRef, Image, LockAttribute, ManifestKind } from '../../model.js';
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
  readonly canWrite?: boolean | undefined;
}

/** A tag's own changeable attributes, from the tag listing (`GET /acr/v1/{name}/_tags`). */
export interface TagAttributes {
  readonly digest: string;
  readonly canDelete?: boolean | undefined;
  readonly canWrite?: boolean | undefined;
}

/**
 * The attributes that lock a manifest: its own and its tags'. ACR refuses a delete when either
 * `deleteEnabled` or `writeEnabled` is false (Azure/acr-cli#134); deleting the manifest would take
 * a locked tag with it, so a locked tag locks its manifest too.
 */
export function locksOf(listed: ListedManifest, tagAttributes: ReadonlyMap<string, TagAttributes>): LockAttribute[] {
  const locks: LockAttribute[] = [];
  if (listed.canDelete === false) locks.push({ level: 'image', attribute: 'deleteEnabled' });
  if (listed.canWrite === false) locks.push({ level: 'image', attribute: 'writeEnabled' });
  for (const tag of [...listed.tags].sort()) {
    const attributes = tagAttributes.get(tag);
    // A tag the tag listing shows on another digest moved since the manifest listing: not this one's lock.
    if (!attributes || attributes.digest !== listed.digest) continue;
    if (attributes.canDelete === false) locks.push({ level: 'tag', attribute: 'deleteEnabled', tag });
    if (attributes.canWrite === false) locks.push({ level: 'tag', attribute: 'writeEnabled', tag });
  }
  return locks;
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
export function toImage(
  listed: ListedManifest,
  read?: ReadManifest,
  tagAttributes: ReadonlyMap<string, TagAttributes> = new Map(),
): Image {
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
  const locks = locksOf(listed, tagAttributes);
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
    locked: locks.length > 0,
    ...(locks.length > 0 ? { locks } : {}),
  };
}
