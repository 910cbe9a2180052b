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
  /** The registry refuses to delete it (ACR `canDelete: false`). */
  readonly locked: boolean;
}

/** Everything one repository holds, as listed at one moment. */
export interface Inventory {
  readonly registry: string;
  readonly repository: string;
  readonly images: readonly Image[];
  /** Things the provider noticed while listing that a user should know (unknown times, unreadable manifests). */
  readonly warnings: readonly string[];
}
