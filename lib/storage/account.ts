/**
 * Byte accounting for one registry: unique blobs per dedup scope, before and after a set of
 * manifest deletions (planned, for a dry run or `regprune report`; done, for a real run).
 * Pure: data in, data out.
 */
import type { Image, Inventory } from '../model.js';
import type { ProviderKind } from '../providers/provider.js';
import { dedupScopeOf } from './scope.js';
import type { Accuracy, DedupScope, ImageSummary, RegistryStorage, RepositoryStorage } from './types.js';

export interface RepositoryAccountInput {
  readonly inventory: Inventory;
  /** Manifest digests deleted (or that would be deleted) from this repository. Untagging is not deletion. */
  readonly deleted: ReadonlySet<string>;
}

export interface AccountRegistryInput {
  readonly registry: string;
  readonly provider: ProviderKind;
  readonly repositories: readonly RepositoryAccountInput[];
  /**
   * False when some repositories of the registry were not listed. With a registry-wide dedup
   * scope a blob they share may then be counted as freed, so `reclaimed` becomes an upper bound.
   * Default true.
   */
  readonly scopeComplete?: boolean;
  /** Override the provider's dedup scope (tests, registries that behave differently). */
  readonly dedupScope?: DedupScope;
  /** How many of the oldest images to keep per registry (default 10). */
  readonly oldestLimit?: number;
}

/** One unit of storage: a blob, or (without a blob list) a manifest's registry-reported size. */
interface Unit {
  readonly key: string;
  readonly sizeBytes: number;
  readonly exact: boolean;
}

/** How one unit is referenced across the repositories of its dedup scope. */
interface UnitUse {
  sizeBytes: number;
  /** Repositories with any manifest referencing it. */
  readonly repositories: Set<string>;
  /** Referenced by a manifest that is kept. */
  kept: boolean;
  /** Referenced by a manifest that is not an orphaned untagged one. */
  reachableFromTagged: boolean;
}

const DEFAULT_OLDEST_LIMIT = 10;

/** Accounts one registry's bytes: before, after, reclaimed and untagged, per repository and in total. */
export function accountRegistry(input: AccountRegistryInput): RegistryStorage {
  const scope = input.dedupScope ?? dedupScopeOf(input.provider);
  const scopeComplete = input.scopeComplete ?? true;
  const repositories = [...input.repositories].sort((a, b) => compare(a.inventory.repository, b.inventory.repository));

  const perRepository = repositories.map((repository) => analyseRepository(repository, input.registry));
  const domains = new Map<string, Map<string, UnitUse>>();
  for (const analysis of perRepository) {
    const domainKey = scope === 'registry' ? '' : analysis.name;
    let domain = domains.get(domainKey);
    if (!domain) domains.set(domainKey, (domain = new Map()));
    for (const reference of analysis.references) {
      let use = domain.get(reference.unit.key);
      if (!use) {
        use = { sizeBytes: reference.unit.sizeBytes, repositories: new Set(), kept: false, reachableFromTagged: false };
        domain.set(reference.unit.key, use);
      }
      use.sizeBytes = Math.max(use.sizeBytes, reference.unit.sizeBytes);
      use.repositories.add(analysis.name);
      if (reference.kept) use.kept = true;
      if (!reference.orphan) use.reachableFromTagged = true;
    }
  }

  const totals = { before: 0, after: 0, reclaimed: 0, untagged: 0 };
  const blobTotals = { before: 0, after: 0 };
  const attributed = new Map<string, { attributed: number; reclaimed: number; untagged: number }>();
  for (const analysis of perRepository) attributed.set(analysis.name, { attributed: 0, reclaimed: 0, untagged: 0 });
  for (const domain of domains.values()) {
    for (const use of domain.values()) {
      totals.before += use.sizeBytes;
      blobTotals.before += 1;
      if (use.kept) {
        totals.after += use.sizeBytes;
        blobTotals.after += 1;
      } else {
        totals.reclaimed += use.sizeBytes;
      }
      if (!use.reachableFromTagged) totals.untagged += use.sizeBytes;
      const shares = splitEvenly(use.sizeBytes, [...use.repositories].sort(compare));
      for (const [name, share] of shares) {
        const entry = attributed.get(name);
        if (!entry) continue;
        entry.attributed += share;
        if (!use.kept) entry.reclaimed += share;
        if (!use.reachableFromTagged) entry.untagged += share;
      }
    }
  }

  const repositoryStorage: RepositoryStorage[] = perRepository.map((analysis) => {
    const shares = attributed.get(analysis.name) ?? { attributed: 0, reclaimed: 0, untagged: 0 };
    return {
      name: analysis.name,
      accuracy: analysis.exact ? 'exact' : 'estimate',
      images: analysis.images,
      blobs: analysis.blobs,
      bytes: {
        before: analysis.bytesBefore,
        attributed: shares.attributed,
        after: shares.attributed - shares.reclaimed,
        reclaimed: shares.reclaimed,
        untagged: shares.untagged,
      },
      oldest: analysis.oldest[0] ?? null,
    };
  });

  const notes: string[] = [];
  const estimated = perRepository.filter((analysis) => !analysis.exact);
  for (const analysis of estimated) notes.push(...analysis.notes);
  if (!scopeComplete && scope === 'registry') {
    notes.push(
      `${input.registry} stores each blob once for the whole registry, but not every repository was listed: a blob shared with an unlisted repository may be counted as reclaimed, so "reclaimed" is an upper bound`,
    );
  }
  const accuracy: Accuracy = estimated.length === 0 && (scopeComplete || scope === 'repository') ? 'exact' : 'estimate';
  const limit = input.oldestLimit ?? DEFAULT_OLDEST_LIMIT;
  return {
    name: input.registry,
    provider: input.provider,
    dedupScope: scope,
    accuracy,
    scopeComplete,
    bytes: totals,
    blobs: blobTotals,
    repositories: repositoryStorage,
    oldest: mergeOldest(perRepository.map((analysis) => analysis.oldest), limit),
    notes,
  };
}

interface UnitReference {
  readonly unit: Unit;
  /** The referencing manifest is kept. */
  readonly kept: boolean;
  /** The referencing manifest is untagged and nothing tagged reaches it. */
  readonly orphan: boolean;
}

interface RepositoryAnalysis {
  readonly name: string;
  readonly references: UnitReference[];
  readonly exact: boolean;
  readonly notes: string[];
  readonly images: { before: number; after: number; untagged: number };
  readonly blobs: { before: number; after: number };
  readonly bytesBefore: number;
  readonly oldest: ImageSummary[];
}

function analyseRepository({ inventory, deleted }: RepositoryAccountInput, registry: string): RepositoryAnalysis {
  const byDigest = new Map<string, Image>();
  for (const image of inventory.images) byDigest.set(image.digest, image);
  const reachable = reachableFromTagged(inventory.images, byDigest);

  const references: UnitReference[] = [];
  const unitsOf = new Map<string, Unit[]>();
  let sizedOnly = 0;
  let unknownSize = 0;
  for (const image of inventory.images) {
    const units = ownUnits(image, byDigest);
    unitsOf.set(image.digest, units);
    if (image.blobs === undefined && units.length > 0) sizedOnly += 1;
    if (image.blobs === undefined && units.length === 0 && !(image.kind === 'index' && hasListedChild(image, byDigest))) {
      unknownSize += 1;
    }
    const kept = !deleted.has(image.digest);
    const orphan = !reachable.has(image.digest);
    for (const unit of units) references.push({ unit, kept, orphan });
  }

  const before = new Map<string, number>();
  const after = new Set<string>();
  for (const reference of references) {
    before.set(reference.unit.key, Math.max(before.get(reference.unit.key) ?? 0, reference.unit.sizeBytes));
    if (reference.kept) after.add(reference.unit.key);
  }
  let bytesBefore = 0;
  for (const size of before.values()) bytesBefore += size;

  const notes: string[] = [];
  const where = `${registry}/${inventory.repository}`;
  if (sizedOnly > 0) {
    notes.push(
      `${where}: ${sizedOnly} of ${inventory.images.length} manifests have no blob list; their registry-reported sizes are used, which count a layer shared between images once per image (an over-estimate)`,
    );
  }
  if (unknownSize > 0) {
    notes.push(`${where}: ${unknownSize} manifests have neither a blob list nor a size; they count as 0 bytes`);
  }

  const deletedPresent = inventory.images.filter((image) => deleted.has(image.digest)).length;
  const topLevel = topLevelImages(inventory.images);
  const oldest = topLevel
    .map((image): ImageSummary => ({
      registry,
      repository: inventory.repository,
      digest: image.digest,
      tags: image.tags,
      pushedAt: image.pushedAtMs === null ? null : new Date(image.pushedAtMs).toISOString(),
      bytes: imageBytes(image, byDigest, unitsOf),
    }))
    .sort(byAge);

  return {
    name: inventory.repository,
    references,
    exact: sizedOnly === 0 && unknownSize === 0,
    notes,
    images: {
      before: inventory.images.length,
      after: inventory.images.length - deletedPresent,
      untagged: inventory.images.filter((image) => image.tags.length === 0).length,
    },
    blobs: { before: before.size, after: after.size },
    bytesBefore,
    oldest,
  };
}

/** The storage units a manifest itself references (an index's children count as their own images). */
function ownUnits(image: Image, byDigest: ReadonlyMap<string, Image>): Unit[] {
  if (image.blobs !== undefined) {
    return image.blobs.map((blob) => ({ key: blob.digest, sizeBytes: blob.sizeBytes, exact: true }));
  }
  // ECR reports an index's size as its largest member, ACR its own figure: when the children are
  // listed they carry the bytes, and the index's figure would count them twice.
  if (image.kind === 'index' && hasListedChild(image, byDigest)) return [];
  if (image.sizeBytes === null) return [];
  return [{ key: `size:${image.digest}`, sizeBytes: image.sizeBytes, exact: false }];
}

function hasListedChild(image: Image, byDigest: ReadonlyMap<string, Image>): boolean {
  return image.children.some((child) => byDigest.has(child));
}

/** Digests that a tagged manifest reaches: itself, its index children, and referrers of reached manifests. */
function reachableFromTagged(images: readonly Image[], byDigest: ReadonlyMap<string, Image>): Set<string> {
  const reached = new Set<string>();
  const queue: string[] = images.filter((image) => image.tags.length > 0).map((image) => image.digest);
  const referrers = new Map<string, string[]>();
  for (const image of images) {
    if (image.subject === null) continue;
    const list = referrers.get(image.subject) ?? [];
    list.push(image.digest);
    referrers.set(image.subject, list);
  }
  while (queue.length > 0) {
    const digest = queue.pop() as string;
    if (reached.has(digest)) continue;
    reached.add(digest);
    for (const child of byDigest.get(digest)?.children ?? []) queue.push(child);
    for (const referrer of referrers.get(digest) ?? []) queue.push(referrer);
  }
  return reached;
}

/** Images a user thinks of as images: not an index's child, not a referrer of another manifest. */
function topLevelImages(images: readonly Image[]): Image[] {
  const children = new Set<string>();
  for (const image of images) for (const child of image.children) children.add(child);
  const digests = new Set(images.map((image) => image.digest));
  return images.filter(
    (image) => !children.has(image.digest) && !(image.subject !== null && digests.has(image.subject)),
  );
}

/** Unique bytes of one image: its own blobs and, for an index, its children's, each blob once. */
function imageBytes(image: Image, byDigest: ReadonlyMap<string, Image>, unitsOf: ReadonlyMap<string, Unit[]>): number {
  const seen = new Map<string, number>();
  const visited = new Set<string>();
  const queue = [image.digest];
  while (queue.length > 0) {
    const digest = queue.pop() as string;
    if (visited.has(digest)) continue;
    visited.add(digest);
    for (const unit of unitsOf.get(digest) ?? []) seen.set(unit.key, unit.sizeBytes);
    for (const child of byDigest.get(digest)?.children ?? []) queue.push(child);
  }
  let total = 0;
  for (const size of seen.values()) total += size;
  return total;
}

/** Oldest first; unknown push times after every known one; ties by repository then digest. */
function byAge(a: ImageSummary, b: ImageSummary): number {
  if (a.pushedAt !== b.pushedAt) {
    if (a.pushedAt === null) return 1;
    if (b.pushedAt === null) return -1;
    return compare(a.pushedAt, b.pushedAt);
  }
  return compare(a.registry, b.registry) || compare(a.repository, b.repository) || compare(a.digest, b.digest);
}

/** The `limit` oldest of several sorted lists. */
export function mergeOldest(lists: readonly (readonly ImageSummary[])[], limit: number): ImageSummary[] {
  return lists.flat().sort(byAge).slice(0, limit);
}

/**
 * Splits `total` bytes between `names` in whole bytes: equal shares, the remainder one byte each to
 * the first names, so the shares always add up to `total`.
 */
export function splitEvenly(total: number, names: readonly string[]): Map<string, number> {
  const shares = new Map<string, number>();
  if (names.length === 0) return shares;
  const base = Math.floor(total / names.length);
  const remainder = total - base * names.length;
  names.forEach((name, index) => shares.set(name, base + (index < remainder ? 1 : 0)));
  return shares;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
