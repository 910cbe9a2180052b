/**
 * Byte accounting for one registry: unique blobs per dedup scope, before and after a set of
 * manifest deletions (planned, for a dry run or `regprune report`; done, for a real run).
 * Pure: data in, data out.
 */
import type { Image, Inventory } from '../model.js';
import { buildReferenceGraph, childEnd, positionIn, type ReferenceGraph } from '../plan/references.js';
import type { ProviderKind } from '../providers/provider.js';
import { dedupScopeOf, listsUntaggedManifests } from './scope.js';
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
  /**
   * Whether the listing saw untagged manifests that no tag reaches; default by provider
   * (`listsUntaggedManifests`). When not, no figure is exact: their bytes are missing.
   */
  readonly listsUntagged?: boolean;
  /** How many of the oldest images to keep per registry (default 10). */
  readonly oldestLimit?: number;
}

/** One unit of storage: a blob, or (without a blob list) a manifest's registry-reported size. */
interface Unit {
  readonly key: string;
  readonly sizeBytes: number;
}

/** How one repository uses one unit. */
interface RepositoryUnit {
  sizeBytes: number;
  /** Referenced by a manifest that is kept. */
  kept: boolean;
  /** Referenced by a manifest that is not an orphaned untagged one. */
  reachableFromTagged: boolean;
}

/** How one unit is used across the repositories of its dedup scope. */
interface UnitUse {
  sizeBytes: number;
  /** Indexes (in name order) of the repositories referencing it. */
  readonly repositories: number[];
  kept: boolean;
  reachableFromTagged: boolean;
}

const DEFAULT_OLDEST_LIMIT = 10;

/** Accounts one registry's bytes: before, after, reclaimed and untagged, per repository and in total. */
export function accountRegistry(input: AccountRegistryInput): RegistryStorage {
  const scope = input.dedupScope ?? dedupScopeOf(input.provider);
  const scopeComplete = input.scopeComplete ?? true;
  const listsUntagged = input.listsUntagged ?? listsUntaggedManifests(input.provider);
  const limit = input.oldestLimit ?? DEFAULT_OLDEST_LIMIT;
  const repositories = [...input.repositories].sort((a, b) => compare(a.inventory.repository, b.inventory.repository));

  const perRepository = repositories.map((repository) => analyseRepository(repository, input.registry, limit));
  const shares = perRepository.map(() => ({ attributed: 0, reclaimed: 0, untagged: 0 }));
  const totals = { before: 0, after: 0, reclaimed: 0, untagged: 0 };
  const blobTotals = { before: 0, after: 0 };
  const addDomain = (domain: ReadonlyMap<string, UnitUse>) => {
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
      // Equal whole-byte shares, the remainder one byte each to the first repositories by name.
      const count = use.repositories.length;
      for (let position = 0; position < count; position++) {
        const share = evenShare(use.sizeBytes, count, position);
        const entry = shares[use.repositories[position]!]!;
        entry.attributed += share;
        if (!use.kept) entry.reclaimed += share;
        if (!use.reachableFromTagged) entry.untagged += share;
      }
    }
  };
  let domain = new Map<string, UnitUse>();
  perRepository.forEach((analysis, repositoryIndex) => {
    for (const [key, unit] of analysis.units) {
      const use = domain.get(key);
      if (!use) {
        domain.set(key, {
          sizeBytes: unit.sizeBytes,
          repositories: [repositoryIndex],
          kept: unit.kept,
          reachableFromTagged: unit.reachableFromTagged,
        });
        continue;
      }
      use.sizeBytes = Math.max(use.sizeBytes, unit.sizeBytes);
      use.repositories.push(repositoryIndex);
      use.kept ||= unit.kept;
      use.reachableFromTagged ||= unit.reachableFromTagged;
    }
    // Merged: the repository's own map is no longer needed (large registries hold millions).
    analysis.units.clear();
    if (scope === 'repository') {
      addDomain(domain);
      domain = new Map();
    }
  });
  addDomain(domain);

  const repositoryStorage: RepositoryStorage[] = perRepository.map((analysis, index) => {
    const share = shares[index] ?? { attributed: 0, reclaimed: 0, untagged: 0 };
    return {
      name: analysis.name,
      accuracy: analysis.exact && listsUntagged ? 'exact' : 'estimate',
      images: analysis.images,
      blobs: analysis.blobs,
      bytes: {
        before: analysis.bytesBefore,
        attributed: share.attributed,
        after: share.attributed - share.reclaimed,
        reclaimed: share.reclaimed,
        untagged: share.untagged,
      },
      oldest: analysis.oldest[0] ?? null,
    };
  });

  const notes: string[] = [];
  const estimated = perRepository.filter((analysis) => !analysis.exact);
  for (const analysis of estimated) notes.push(...analysis.notes);
  if (!scopeComplete && scope === 'registry') {
    notes.push(
      `${input.registry} stores each blob once for the whole registry, but not every repository was listed: a blob ` +
        `shared with an unlisted repository may be counted as reclaimed, so "reclaimed" is an upper bound`,
    );
  }
  if (!listsUntagged) notes.push(untaggedInvisibleNote(input.registry));
  const accuracy: Accuracy =
    listsUntagged && estimated.length === 0 && (scopeComplete || scope === 'repository') ? 'exact' : 'estimate';
  return {
    name: input.registry,
    provider: input.provider,
    dedupScope: scope,
    accuracy,
    scopeComplete,
    listsUntagged,
    bytes: totals,
    blobs: blobTotals,
    repositories: repositoryStorage,
    oldest: mergeOldest(
      perRepository.map((analysis) => analysis.oldest),
      limit,
    ),
    notes,
  };
}

/**
 * Why a registry's figures are not exact when its API lists tags only, and what frees what it
 * cannot show. distribution 2.8's `--delete-untagged` also deletes the platform manifests of tagged
 * multi-arch indexes (distribution#3178, fixed in v3.0.0): the note warns before a user runs it.
 */
export function untaggedInvisibleNote(registry: string): string {
  return (
    `${registry}: the registry's API lists tags only, so untagged manifests that no tag reaches are not seen: ` +
    'their bytes are missing from "stored" and "untagged", and no figure here is exact. registry:2 removes them ' +
    'with `registry garbage-collect --delete-untagged CONFIG`, but on 2.8 (distribution#3178, fixed in 3.0) that ' +
    'flag also deletes the platform manifests of tagged multi-arch indexes, breaking them: use it there only ' +
    'when no tag points at an index'
  );
}

export interface AccountRepositoryInput extends RepositoryAccountInput {
  readonly registry: string;
  /** How many of the oldest images to consider for `oldest` (default 10). */
  readonly oldestLimit?: number;
}

/**
 * Accounts one repository on its own, each blob counted once within it whatever the registry's
 * dedup scope: its footprint before and after the deletions (`attributed` equals `before`).
 */
export function accountRepository(input: AccountRepositoryInput): RepositoryStorage {
  const analysis = analyseRepository(input, input.registry, input.oldestLimit ?? DEFAULT_OLDEST_LIMIT);
  let after = 0;
  let untagged = 0;
  for (const unit of analysis.units.values()) {
    if (unit.kept) after += unit.sizeBytes;
    if (!unit.reachableFromTagged) untagged += unit.sizeBytes;
  }
  return {
    name: analysis.name,
    accuracy: analysis.exact ? 'exact' : 'estimate',
    images: analysis.images,
    blobs: analysis.blobs,
    bytes: {
      before: analysis.bytesBefore,
      attributed: analysis.bytesBefore,
      after,
      reclaimed: analysis.bytesBefore - after,
      untagged,
    },
    oldest: analysis.oldest[0] ?? null,
  };
}

interface RepositoryAnalysis {
  readonly name: string;
  /** Each unit this repository references, once. */
  readonly units: Map<string, RepositoryUnit>;
  readonly exact: boolean;
  readonly notes: string[];
  readonly images: { before: number; after: number; untagged: number };
  readonly blobs: { before: number; after: number };
  readonly bytesBefore: number;
  /** Its `limit` oldest top-level images, oldest first. */
  readonly oldest: ImageSummary[];
}

function analyseRepository(
  { inventory, deleted }: RepositoryAccountInput,
  registry: string,
  limit: number,
): RepositoryAnalysis {
  // The planner's graph: one image per digest, with its listed children and referrers.
  const { graph } = buildReferenceGraph(inventory.images);
  const reachable = reachableFromTagged(graph);

  const units = new Map<string, RepositoryUnit>();
  const use = (key: string, sizeBytes: number, kept: boolean, reached: boolean) => {
    const unit = units.get(key);
    if (!unit) {
      units.set(key, { sizeBytes, kept, reachableFromTagged: reached });
      return;
    }
    if (sizeBytes > unit.sizeBytes) unit.sizeBytes = sizeBytes;
    unit.kept ||= kept;
    unit.reachableFromTagged ||= reached;
  };
  let sizedOnly = 0;
  let unknownSize = 0;
  let deletedPresent = 0;
  let untaggedImages = 0;
  // Without repeated digests the graph maps listing order to positions; with them, look each one up.
  const listingMaps = graph.images.length === inventory.images.length;
  for (let i = 0; i < inventory.images.length; i++) {
    const image = inventory.images[i]!;
    const kept = !deleted.has(image.digest);
    if (!kept) deletedPresent += 1;
    if (image.tags.length === 0) untaggedImages += 1;
    const at = listingMaps ? graph.listing[i]! : positionIn(graph.digests, image.digest)!;
    const reached = reachable[at] === 1;
    if (image.blobs !== undefined) {
      for (const blob of image.blobs) use(blob.digest, blob.sizeBytes, kept, reached);
      continue;
    }
    const units = ownUnits(image, graph, at);
    if (units.length > 0) sizedOnly += 1;
    else if (!(image.kind === 'index' && hasListedChild(graph, at))) unknownSize += 1;
    for (const unit of units) use(unit.key, unit.sizeBytes, kept, reached);
  }

  let bytesBefore = 0;
  let blobsAfter = 0;
  for (const unit of units.values()) {
    bytesBefore += unit.sizeBytes;
    if (unit.kept) blobsAfter += 1;
  }

  const notes: string[] = [];
  const where = `${registry}/${inventory.repository}`;
  if (sizedOnly > 0) {
    notes.push(
      `${where}: ${sizedOnly} of ${inventory.images.length} manifests have no blob list; their registry-reported ` +
        `sizes are used, which count a layer shared between images once per image (an over-estimate)`,
    );
  }
  if (unknownSize > 0) {
    notes.push(`${where}: ${unknownSize} manifests have neither a blob list nor a size; they count as 0 bytes`);
  }

  const oldest = topLevelPositions(graph)
    .sort((a, b) => byPushTime(graph.images[a]!, graph.images[b]!))
    .slice(0, limit)
    .map((at): ImageSummary => {
      const image = graph.images[at]!;
      return {
        registry,
        repository: inventory.repository,
        digest: image.digest,
        tags: image.tags,
        pushedAt: image.pushedAtMs === null ? null : new Date(image.pushedAtMs).toISOString(),
        bytes: imageBytes(graph, at),
      };
    });

  return {
    name: inventory.repository,
    units,
    exact: sizedOnly === 0 && unknownSize === 0,
    notes,
    images: {
      before: inventory.images.length,
      after: inventory.images.length - deletedPresent,
      untagged: untaggedImages,
    },
    blobs: { before: units.size, after: blobsAfter },
    bytesBefore,
    oldest,
  };
}

/** Oldest first by push time; unknown times last; ties by digest. */
function byPushTime(a: Image, b: Image): number {
  if (a.pushedAtMs !== b.pushedAtMs) {
    if (a.pushedAtMs === null) return 1;
    if (b.pushedAtMs === null) return -1;
    return a.pushedAtMs - b.pushedAtMs;
  }
  return compare(a.digest, b.digest);
}

/** The storage units a manifest itself references (an index's children count as their own images). */
function ownUnits(image: Image, graph: ReferenceGraph, at: number): Unit[] {
  if (image.blobs !== undefined) {
    return image.blobs.map((blob) => ({ key: blob.digest, sizeBytes: blob.sizeBytes }));
  }
  // ECR reports an index's size as its largest member, ACR its own figure: when the children are
  // listed they carry the bytes, and the index's figure would count them twice.
  if (image.kind === 'index' && hasListedChild(graph, at)) return [];
  if (image.sizeBytes === null) return [];
  return [{ key: `size:${image.digest}`, sizeBytes: image.sizeBytes }];
}

function hasListedChild(graph: ReferenceGraph, at: number): boolean {
  return childEnd(graph, at) > graph.refFrom[at]!;
}

/** 1 at each position a tagged manifest reaches: itself, its index children, and referrers of reached manifests. */
function reachableFromTagged(graph: ReferenceGraph): Uint8Array {
  const reached = new Uint8Array(graph.images.length);
  const queue: number[] = [];
  for (let at = 0; at < graph.images.length; at++) {
    if (graph.tags[at]!.length === 0) continue;
    reached[at] = 1;
    queue.push(at);
  }
  const reach = (target: number) => {
    if (reached[target] === 1) return;
    reached[target] = 1;
    queue.push(target);
  };
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!;
    for (let e = graph.refFrom[at]!; e < childEnd(graph, at); e++) reach(graph.refs[e]!);
    for (let e = graph.referrerStart[at]!; e < graph.referrerStart[at + 1]!; e++) reach(graph.referrers[e]!);
  }
  return reached;
}

/** Positions of images a user thinks of as images: not an index's child, not a referrer of a listed manifest. */
function topLevelPositions(graph: ReferenceGraph): number[] {
  const isChild = new Uint8Array(graph.images.length);
  for (let at = 0; at < graph.images.length; at++) {
    for (let e = graph.refFrom[at]!; e < childEnd(graph, at); e++) isChild[graph.refs[e]!] = 1;
  }
  const positions: number[] = [];
  for (let at = 0; at < graph.images.length; at++) {
    if (isChild[at] === 0 && graph.subjectAt[at]! < 0) positions.push(at);
  }
  return positions;
}

/** Unique bytes of one image: its own blobs and, for an index, its children's, each blob once. */
function imageBytes(graph: ReferenceGraph, from: number): number {
  const seen = new Map<string, number>();
  const visited = new Set<number>();
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.pop()!;
    if (visited.has(at)) continue;
    visited.add(at);
    for (const unit of ownUnits(graph.images[at]!, graph, at)) seen.set(unit.key, unit.sizeBytes);
    for (let e = graph.refFrom[at]!; e < childEnd(graph, at); e++) queue.push(graph.refs[e]!);
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
 * The share of `total` bytes at `position` when split into `count` whole shares: equal, the
 * remainder one byte each to the first positions, so the shares always add up to `total`.
 */
export function evenShare(total: number, count: number, position: number): number {
  const base = Math.floor(total / count);
  return base + (position < total - base * count ? 1 : 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
