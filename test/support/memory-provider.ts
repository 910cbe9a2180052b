/**
 * An in-memory registry behind OUR `Provider` interface (the seam, not an SDK mock): repositories
 * of manifests and tags that tests can change between calls, inject failures into, and read a call
 * log from.
 */
import type { Image, Inventory } from '../../lib/model.js';
import type {
  DeleteRequest,
  DeleteResult,
  Provider,
  ProviderKind,
  ProviderStats,
  TagListing,
} from '../../lib/providers/provider.js';

export type MemoryMethod = 'listRepositories' | 'listImages' | 'listTags' | 'resolveTags' | 'delete' | 'restoreTag';

export interface MemoryCall {
  readonly method: MemoryMethod;
  readonly repository?: string;
  /** Tags resolved, or digests deleted. */
  readonly items?: readonly string[];
}

export interface MemoryProviderOptions {
  readonly name?: string;
  readonly kind?: ProviderKind;
  readonly maxDeleteBatch?: number;
  /** Repository name → images (their `tags` seed the tag table). */
  readonly repositories?: Record<string, readonly Image[]>;
  /**
   * `listTags` says where each tag points, as ACR and ECR listings do (no `resolveTags` needed);
   * default: names only, as an OCI registry.
   */
  readonly tagListingHasTargets?: boolean;
  /** Whether the listing counts as seeing untagged manifests (it does list them); default true. */
  readonly listsUntagged?: boolean;
  /**
   * `delete` removes the request's tags and the manifest only once no tag points at it, as ECR and
   * ACR deletion by tag does (default: by digest, taking every tag, as registry 2.8).
   */
  readonly deletesByTag?: boolean;
}

interface MemoryRepository {
  readonly manifests: Map<string, Image>;
  readonly tags: Map<string, string>;
}

/** A `Provider` whose registry lives in memory; every method is logged in `calls`. */
export class MemoryProvider implements Provider {
  readonly kind: ProviderKind;
  readonly name: string;
  readonly maxDeleteBatch: number;
  readonly listsUntagged: boolean;
  readonly stats: ProviderStats = { apiCalls: 0, retries: 0, throttled: 0 };
  readonly calls: MemoryCall[] = [];
  closed = false;

  /** Digest → error message: deleting it fails with that message. */
  readonly deleteFailures = new Map<string, string>();
  /** Method → error it throws (whole registry failing: unreachable, auth). */
  readonly throwing = new Map<MemoryMethod, Error>();
  /** Repository → error `listImages` throws for it. */
  readonly listImagesFailures = new Map<string, Error>();
  /** Called after a method is logged and before it answers: move tags, push images, … */
  readonly before = new Map<MemoryMethod, (repository: string | undefined) => void>();

  /** Repository → warnings `listInventory` reports with its images. */
  readonly listingWarnings = new Map<string, readonly string[]>();

  private readonly repositories = new Map<string, MemoryRepository>();
  private readonly tagListingHasTargets: boolean;
  private readonly deletesByTag: boolean;
  /** Deleted manifests, as registry 2.8 keeps their blobs until garbage-collect: restoreTag can put one back. */
  private readonly deletedManifests = new Map<string, Image>();
  /** Tag → digest for every `restoreTag` call, in order. */
  readonly restores: Array<{ tag: string; digest: string }> = [];

  constructor(options: MemoryProviderOptions = {}) {
    this.kind = options.kind ?? 'oci';
    this.name = options.name ?? 'memory';
    this.maxDeleteBatch = options.maxDeleteBatch ?? 100;
    this.tagListingHasTargets = options.tagListingHasTargets ?? false;
    this.listsUntagged = options.listsUntagged ?? true;
    this.deletesByTag = options.deletesByTag ?? false;
    for (const [name, images] of Object.entries(options.repositories ?? {})) {
      for (const image of images) this.push(name, image);
    }
  }

  /** Adds (or replaces) a manifest, pointing its tags at it. */
  push(repository: string, image: Image): void {
    const repo = this.repo(repository);
    repo.manifests.set(image.digest, { ...image, tags: [] });
    for (const tag of image.tags) repo.tags.set(tag, image.digest);
  }

  /** Points a tag at a digest (moving it when it exists). */
  setTag(repository: string, tag: string, digest: string): void {
    this.repo(repository).tags.set(tag, digest);
  }

  /** Removes a tag (another client's `DELETE` of it). */
  removeTag(repository: string, tag: string): void {
    this.repo(repository).tags.delete(tag);
  }

  /** Digests the repository holds now. */
  digests(repository: string): string[] {
    return [...(this.repositories.get(repository)?.manifests.keys() ?? [])].sort();
  }

  /** Where a tag points now, or undefined. */
  tagTarget(repository: string, tag: string): string | undefined {
    return this.repositories.get(repository)?.tags.get(tag);
  }

  /** Digests passed to `delete`, in call order. */
  deletedDigests(): string[] {
    return this.calls.filter((call) => call.method === 'delete').flatMap((call) => call.items ?? []);
  }

  async *listRepositories(): AsyncIterable<string> {
    this.record({ method: 'listRepositories' });
    for (const name of [...this.repositories.keys()].sort()) yield name;
  }

  /** `listImages` (logged as such) plus the warnings set in `listingWarnings`. */
  async listInventory(repository: string): Promise<Inventory> {
    const images = await this.listImages(repository);
    return { registry: this.name, repository, images, warnings: this.listingWarnings.get(repository) ?? [] };
  }

  async listImages(repository: string): Promise<Image[]> {
    this.record({ method: 'listImages', repository });
    const failure = this.listImagesFailures.get(repository);
    if (failure) throw failure;
    const repo = this.repo(repository);
    const tagsByDigest = new Map<string, string[]>();
    for (const [tag, digest] of repo.tags) tagsByDigest.set(digest, [...(tagsByDigest.get(digest) ?? []), tag]);
    return [...repo.manifests.values()].map((image) => ({
      ...image,
      tags: (tagsByDigest.get(image.digest) ?? []).sort(),
    }));
  }

  async listTags(repository: string): Promise<TagListing> {
    this.record({ method: 'listTags', repository });
    const tags = this.repo(repository).tags;
    return { tags: [...tags.keys()].sort(), targets: this.tagListingHasTargets ? new Map(tags) : null };
  }

  async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    this.record({ method: 'resolveTags', repository, items: [...tags] });
    const repo = this.repo(repository);
    // A digest as the reference resolves to itself while the manifest exists, as a HEAD does.
    const target = (reference: string) =>
      repo.tags.get(reference) ?? (repo.manifests.has(reference) ? reference : null);
    return new Map(tags.map((tag) => [tag, target(tag)]));
  }

  async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    this.record({ method: 'delete', repository, items: requests.map((request) => request.digest) });
    const repo = this.repo(repository);
    return requests.map((request): DeleteResult => {
      const failure = this.deleteFailures.get(request.digest);
      if (failure !== undefined) return { request, ok: false, error: failure };
      if (!repo.manifests.has(request.digest)) return { request, ok: true, alreadyGone: true };
      if (this.deletesByTag && request.tags.length > 0) {
        for (const tag of request.tags) if (repo.tags.get(tag) === request.digest) repo.tags.delete(tag);
        const stillTaggedBy = [...repo.tags].filter(([, digest]) => digest === request.digest).map(([tag]) => tag);
        if (stillTaggedBy.length > 0) return { request, ok: true, stillTaggedBy };
      }
      this.deletedManifests.set(request.digest, repo.manifests.get(request.digest)!);
      repo.manifests.delete(request.digest);
      for (const [tag, digest] of repo.tags) if (digest === request.digest) repo.tags.delete(tag);
      return { request, ok: true };
    });
  }

  /** Like a PUT of the manifest under the tag on registry 2.8: the manifest is back, with the tag. */
  async restoreTag(repository: string, tag: string, digest: string): Promise<void> {
    this.record({ method: 'restoreTag', repository, items: [tag, digest] });
    const repo = this.repo(repository);
    const manifest = repo.manifests.get(digest) ?? this.deletedManifests.get(digest);
    if (manifest === undefined) throw new Error(`no manifest ${digest} to put tag ${tag} on`);
    repo.manifests.set(digest, manifest);
    repo.tags.set(tag, digest);
    this.restores.push({ tag, digest });
  }

  /** Puts a deleted manifest back by digest (a PUT by digest): tags still naming it resolve again. */
  putManifest(repository: string, digest: string): void {
    const manifest = this.repo(repository).manifests.get(digest) ?? this.deletedManifests.get(digest);
    if (manifest === undefined) throw new Error(`no manifest ${digest} to put back`);
    this.repo(repository).manifests.set(digest, manifest);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private record(call: MemoryCall): void {
    this.calls.push(call);
    this.stats.apiCalls++;
    const thrown = this.throwing.get(call.method);
    if (thrown) throw thrown;
    this.before.get(call.method)?.(call.repository);
  }

  private repo(name: string): MemoryRepository {
    let repo = this.repositories.get(name);
    if (!repo) {
      repo = { manifests: new Map(), tags: new Map() };
      this.repositories.set(name, repo);
    }
    return repo;
  }
}
