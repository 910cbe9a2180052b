/**
 * Byte accounting: what a registry stores, per repository and in total, before and after a run.
 * Every figure counts unique blobs (a layer shared by ten images counts once) within the
 * registry's dedup scope, and says whether it is exact or an estimate.
 */
import type { ProviderKind } from '../providers/provider.js';

/**
 * Where the registry stores a blob once.
 * - `registry`: one copy for the whole registry (registry:2 keeps blobs globally; ACR dedupes
 *   registry-wide). A blob is freed only when no kept manifest in any repository references it.
 * - `repository`: one copy per repository (ECR: layers are not shared between repositories).
 */
export type DedupScope = 'registry' | 'repository';

/**
 * `exact`: every manifest involved listed its blobs (digest and size).
 * `estimate`: some figure rests on a registry-reported size (ECR `imageSizeInBytes`, ACR
 * `imageSize`), which cannot see layers shared between images, so it over-counts; or the scope
 * was not fully listed.
 */
export type Accuracy = 'exact' | 'estimate';

/** Bytes of one repository. */
export interface RepositoryBytes {
  /** Unique bytes this repository's manifests reference (its own view; shared blobs count in full). */
  readonly before: number;
  /**
   * Bytes apportioned to this repository: a blob referenced from k repositories of one dedup
   * scope counts 1/k here, so the repositories' `attributed` add up to the registry's `before`.
   */
  readonly attributed: number;
  /** `attributed - reclaimed`: what stays, apportioned the same way. */
  readonly after: number;
  /** Bytes freed by the deletions (a blob freed from several repositories is split between them). */
  readonly reclaimed: number;
  /** Bytes reachable only from untagged manifests that nothing tagged references. */
  readonly untagged: number;
}

/** One image worth showing (oldest, largest). */
export interface ImageSummary {
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  /** ISO 8601, or null when the push time is unknown. */
  readonly pushedAt: string | null;
  readonly bytes: number;
}

export interface RepositoryStorage {
  readonly name: string;
  readonly accuracy: Accuracy;
  readonly images: { readonly before: number; readonly after: number; readonly untagged: number };
  readonly blobs: { readonly before: number; readonly after: number };
  readonly bytes: RepositoryBytes;
  /** The oldest image (known push time first); null for an empty repository. */
  readonly oldest: ImageSummary | null;
}

export interface RegistryStorage {
  readonly name: string;
  readonly provider: ProviderKind;
  readonly dedupScope: DedupScope;
  readonly accuracy: Accuracy;
  /**
   * False when the dedup scope is the registry and some repositories were not listed (no config
   * rule matched them): a blob they share could be counted as reclaimed, so `reclaimed` is an
   * upper bound.
   */
  readonly scopeComplete: boolean;
  /**
   * False when the registry's API cannot list untagged manifests (OCI distribution): their bytes
   * are missing and no figure is exact (additive).
   */
  readonly listsUntagged?: boolean;
  readonly bytes: {
    readonly before: number;
    readonly after: number;
    readonly reclaimed: number;
    readonly untagged: number;
  };
  readonly blobs: { readonly before: number; readonly after: number };
  readonly repositories: readonly RepositoryStorage[];
  /** The registry's oldest images (top-level: not index children, not referrers), oldest first. */
  readonly oldest: readonly ImageSummary[];
  /** What a reader should know about these figures (estimates, unlisted repositories). */
  readonly notes: readonly string[];
}

/** The report's `storage` section. */
export interface StorageSection {
  readonly registries: readonly RegistryStorage[];
  readonly totals: {
    readonly bytesBefore: number;
    readonly bytesAfter: number;
    readonly bytesReclaimed: number;
    readonly bytesUntagged: number;
    readonly accuracy: Accuracy;
  };
  /** Oldest images across every registry, oldest first (unknown push times last). */
  readonly oldest: readonly ImageSummary[];
}
