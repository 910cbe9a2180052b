/**
 * The data every stage shares. Providers produce `Image`s; the planner, executor and report read
 * them. No SDK or HTTP type appears here.
 */

/** What a manifest is, as far as retention cares. */
export type ManifestKind =
  /** A single-platform image manifest (OCI image manifest, Docker v2 schema 2). */
  | 'image'
  /** An index / manifest list: a multi-arch image whose children are platform manifests. */
  | 'index'
  /** Anything else: signatures, attestations, SBOMs, Helm charts, other OCI artifacts. */
  | 'artifact';

/** Where `pushedAtMs` came from; `unknown` means no usable time (missing, or a reproducible-build epoch). */
export type TimeSource =
  | 'registry' // ACR lastUpdatedOn, ECR imagePushedAt
  | 'config' // OCI config blob `created`
  | 'annotation' // org.opencontainers.image.created
  | 'children' // an index without a time of its own: the newest of its children
  | 'unknown';

/**
 * What a planned deletion removes: the whole manifest, and so every tag on it. (Deleting by tag
 * alone would be a second member; nothing plans it today.)
 */
export type DeleteAction = 'delete-manifest';

/**
 * One registry attribute that makes an image undeletable (ACR `changeableAttributes`): ACR refuses
 * to delete a manifest or tag whose `deleteEnabled` or `writeEnabled` is false (Azure/acr-cli#134).
 */
export interface LockAttribute {
  /** Set on the manifest itself, or on one of its tags. */
  readonly level: 'image' | 'tag';
  readonly attribute: 'deleteEnabled' | 'writeEnabled';
  /** The tag, for a tag-level lock. */
  readonly tag?: string;
}

/**
 * Where an image's storage lives (ECR storage classes): `archived` images are billed at the archive
 * rate and cannot be pulled until restored; `activating` ones are being restored.
 */
export type StorageStatus = 'active' | 'archived' | 'activating';

/** A blob (config or layer) a manifest references: the unit of storage. */
export interface BlobRef {
  readonly digest: string;
  readonly sizeBytes: number;
}

/** One manifest digest with every tag that points at it. */
export interface Image {
  /** `sha256:<hex>`. */
  readonly digest: string;
  /** Tags pointing at this digest now; empty for an untagged manifest. */
  readonly tags: readonly string[];
  readonly kind: ManifestKind;
  /** Manifest media type as the registry reports it (may be empty where the API hides it). */
  readonly mediaType: string;
  /** Artifact type (OCI `artifactType` or config media type of an artifact), if known. */
  readonly artifactType?: string | undefined;
  /** When the image was pushed or last tagged, epoch ms; `null` when unknown (sorts as oldest). */
  readonly pushedAtMs: number | null;
  readonly timeSource: TimeSource;
  /** When the registry last recorded a pull, epoch ms (ECR); `null` when unknown or never. */
  readonly lastPulledAtMs: number | null;
  /** Size as the registry reports it (sum of config + layers for an image), if known. */
  readonly sizeBytes: number | null;
  /** Config and layer blobs, where the provider read them (exact byte accounting). */
  readonly blobs?: readonly BlobRef[] | undefined;
  /** Digests this manifest references as children (index → platform manifests). */
  readonly children: readonly string[];
  /** The manifest this one refers to: OCI `subject`, or a referrer tag `sha256-<hex>[.sig|.att|.sbom]` (lib/oci). */
  readonly subject: string | null;
  /** The registry refuses to delete it (ACR `deleteEnabled` or `writeEnabled` false on it or a tag). */
  readonly locked: boolean;
  /** Which attributes lock it, where the provider knows (ACR); absent when not locked. */
  readonly locks?: readonly LockAttribute[] | undefined;
  /** ECR storage class; absent means active (every other registry). docs/design.md, rule 16. */
  readonly storage?: StorageStatus | undefined;
}

/** Everything one repository holds, as listed at one moment. */
export interface Inventory {
  readonly registry: string;
  readonly repository: string;
  readonly images: readonly Image[];
  /** Things the provider noticed while listing that a user should know (unknown times, unreadable manifests). */
  readonly warnings: readonly string[];
}
