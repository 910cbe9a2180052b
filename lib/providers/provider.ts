/**
 * The one seam between regprune and a registry API. Adapters (`oci/`, `acr/`, `ecr/`) turn their
 * SDK or HTTP shapes into these types at their edge; nothing outside an adapter imports an SDK.
 */
import type { Logger } from '../log.js';
import type { DeleteAction, Image, Inventory } from '../model.js';

export type ProviderKind = 'oci' | 'acr' | 'ecr';

/** What every provider factory takes; each adapter's own options extend it. */
export interface ProviderOptions {
  /** Where credentials named in the config are read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** The wall clock (token expiry, `Retry-After` dates, …); tests pin it. Default `() => new Date()`. */
  readonly now?: () => Date;
  /**
   * What the last runs read, per digest (lib/cache): a listing reads no manifest or config it finds
   * here. Absent: every listing reads everything. docs/design.md, "Inventory cache".
   */
  readonly cache?: InventoryCachePort;
}

/** A manifest as the registry sent it: its media type and its exact bytes as UTF-8 text. */
export interface CachedManifest {
  readonly mediaType: string;
  readonly body: string;
}

/**
 * One repository's view of the inventory cache. Only what never changes for a digest is in it
 * (manifest bytes, a config's `created`); where tags point is always asked afresh.
 */
export interface RepositoryCache {
  /** Whether an earlier run listed this repository with the cache (a first listing reads directly). */
  readonly known: boolean;
  manifest(digest: string): CachedManifest | undefined;
  rememberManifest(digest: string, manifest: CachedManifest): void;
  /** The config blob's `created` (`created: undefined` when the config has none); undefined when not cached. */
  config(digest: string): { readonly created: string | undefined } | undefined;
  rememberConfig(digest: string, created: string | undefined): void;
  /** True when a recent run found that the registry has no referrers API (re-checked every few runs). */
  referrersUnsupported(): boolean;
  rememberReferrers(supported: boolean): void;
  /** Writes what this listing learned. Never throws: a store that fails costs a warning, not the run. */
  save(): Promise<void>;
}

/** The inventory cache of one registry, as a provider sees it. */
export interface InventoryCachePort {
  open(repository: string): Promise<RepositoryCache>;
}

export interface DeleteRequest {
  readonly digest: string;
  /**
   * The tags that go with the manifest. A provider that deletes by tag (ECR, ACR) deletes these and
   * the manifest only once no other tag points at it.
   */
  readonly tags: readonly string[];
  readonly action: DeleteAction;
}

/**
 * The tags of a repository now. `targets` is where each tag points when the listing itself said so
 * (ACR and ECR list manifests with their tags), else `null` (OCI lists names only): a caller that
 * needs targets then asks `resolveTags`. Passing the answer back, rather than the provider caching
 * it for a later call, keeps every call correct whatever was called before.
 */
export interface TagListing {
  readonly tags: readonly string[];
  readonly targets: ReadonlyMap<string, string> | null;
}

export type DeleteResult =
  | {
      readonly request: DeleteRequest;
      readonly ok: true;
      readonly alreadyGone?: boolean;
      /**
       * Deleted by tag, and other tags (pushed or moved onto it during the run) still point at the
       * manifest, so it stays: the executor keeps it, with what it references.
       */
      readonly stillTaggedBy?: readonly string[];
    }
  | {
      readonly request: DeleteRequest;
      readonly ok: false;
      /** One line for the report: what failed and what to try. */
      readonly error: string;
      /** Registry's own code where it has one (`ImageReferencedByManifestList`, `DENIED`, HTTP status). */
      readonly code?: string | undefined;
    };

/**
 * Thrown by `Provider.delete` when the registry failed as a whole part-way through a call (it
 * became unreachable, or refused our credentials): `failure` is what went wrong, `results` the
 * requests that had finished by then, so the report never calls a deleted manifest "failed".
 */
export class DeleteAbortedError extends Error {
  constructor(
    readonly failure: unknown,
    readonly results: readonly DeleteResult[],
  ) {
    super(failure instanceof Error ? failure.message : String(failure), { cause: failure });
    this.name = 'DeleteAbortedError';
  }
}

/** Counters every provider keeps; the report and metrics read them. */
export interface ProviderStats {
  /** Requests sent to the registry API, retries included (auth/token exchanges included). */
  apiCalls: number;
  /** Of those, retries after throttling or transient failure. */
  retries: number;
  /** Times the registry throttled us (429, ThrottlingException). */
  throttled: number;
}

export interface Provider {
  readonly kind: ProviderKind;
  /** The registry's name in the config (`registries[].name`). */
  readonly name: string;
  /** Most delete requests worth passing to one `delete` call (ECR: 100 per BatchDeleteImage). */
  readonly maxDeleteBatch: number;
  /**
   * Whether `listInventory` sees untagged manifests that no tag reaches (ACR and ECR list every
   * manifest; the OCI distribution API lists tags only). Absent: as `listsUntaggedManifests(kind)`.
   */
  readonly listsUntagged?: boolean;
  readonly stats: ProviderStats;

  /** Every repository in the registry, paged by the provider. */
  listRepositories(): AsyncIterable<string>;
  /** Every image the repository holds now, with the warnings (unreadable manifests, …) the listing produced. */
  listInventory(repository: string): Promise<Inventory>;
  /** Like `listInventory`, its warnings logged instead of returned. */
  listImages(repository: string): Promise<Image[]>;
  /** Every tag in the repository now, with where each points when the listing tells (no manifest reads). */
  listTags(repository: string): Promise<TagListing>;
  /** What each tag points at right now; `null` for a tag that no longer exists. Asks the registry afresh. */
  resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>>;
  /**
   * Delete in one go where the API batches (ECR), or concurrently within the provider's bound.
   * Never throws for a single failed item: each request gets a result. Throws only when the
   * registry is unreachable or refuses our credentials altogether, and then a
   * `DeleteAbortedError` carrying the results of the requests that had finished; no request is
   * still in flight once it has thrown.
   */
  delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]>;
  /**
   * Puts `tag` back onto `digest` (a PUT of the manifest's bytes, kept from this run's listing of the
   * repository): for registries where deleting a digest takes every tag on it (registry 2.8), so a
   * protected tag moved onto a deleted digest can be restored while its blobs are still stored
   * (docs/design.md, section 5). Throws when the bytes were not kept or the registry refuses.
   * Absent where deletion goes by tag (ACR, ECR) and a tag is never lost with a manifest.
   */
  restoreTag?(repository: string, tag: string, digest: string): Promise<void>;
  /**
   * Re-creates a manifest this run deleted: a PUT by digest of the bytes kept from this run's
   * listing, naming no tag. Registry 2.8 deletes a manifest, then untags it tag by tag: one killed
   * in between leaves tags that name nothing (they list, and answer 404), and a retried DELETE
   * answers 404 without untagging. Re-created, the manifest has those tags again, and deleting it
   * removes them (docs/design.md, section 5, "Left-over tags"). Throws when the bytes were not kept
   * or the registry refuses (its blobs gone: a `garbage-collect` ran). Absent where deletion goes by tag.
   */
  recreateManifest?(repository: string, digest: string): Promise<void>;
  /** Release sockets and timers. */
  close?(): Promise<void>;
}
