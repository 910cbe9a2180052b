/**
 * Byte accounting for one registry: unique blobs per dedup scope, before and after a set of
 * manifest deletions (planned, for a dry run or `regprune report`; done, for a real run).
 * Pure: data in, data out.
 */
import { createHash } from 'node:crypto';
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

const DEFAULT_OLDEST_LIMIT = 10;

/** Accounts one registry's bytes: before, after, reclaimed and untagged, per repository and in total. */
export function accountRegistry(input: AccountRegistryInput): RegistryStorage {
  const accountant = new RegistryAccountant(input);
  for (const repository of input.repositories) accountant.add(repository);
  return accountant.finish(input);
}

/** What a `RegistryAccountant` needs before the first repository. */
export interface RegistryAccountantOptions {
  readonly registry: string;
  readonly provider: ProviderKind;
  readonly dedupScope?: DedupScope;
  readonly oldestLimit?: number;
}

/** What is known only once every repository has been added. */
export interface RegistryAccountantFinish {
  readonly scopeComplete?: boolean;
  readonly listsUntagged?: boolean;
}

/**
 * `accountRegistry` one repository at a time: `add` reduces a repository's inventory to its units
 * at once, so a run need not hold every inventory of a registry until the end (a registry of a
 * million images). What stays is one compact slot per unique unit of the dedup scope. The result
 * does not depend on the order repositories are added in.
 */
export class RegistryAccountant {
  private readonly scope: DedupScope;
  private readonly limit: number;
  private readonly analyses: RepositoryAnalysis[] = [];
  private readonly shares: Array<{ attributed: number; reclaimed: number; untagged: number }> = [];
  private readonly totals = { before: 0, after: 0, reclaimed: 0, untagged: 0 };
  private readonly blobTotals = { before: 0, after: 0 };
  private domain = new UnitDomain();

  constructor(private readonly options: RegistryAccountantOptions) {
    this.scope = options.dedupScope ?? dedupScopeOf(options.provider);
    this.limit = options.oldestLimit ?? DEFAULT_OLDEST_LIMIT;
  }

  /** Repositories added so far. */
  get count(): number {
    return this.analyses.length;
  }

  /** Accounts one repository's inventory; the inventory is not kept. */
  add(input: RepositoryAccountInput): void {
    const analysis = analyseRepository(input, this.options.registry, this.limit);
    const index = this.analyses.length;
    this.analyses.push(analysis);
    this.shares.push({ attributed: 0, reclaimed: 0, untagged: 0 });
    for (const [key, unit] of analysis.units) this.domain.use(key, unit, index);
    // Merged: the repository's own map is no longer needed (large registries hold millions).
    analysis.units.clear();
    if (this.scope === 'repository') {
      this.addDomain(this.domain, null);
      this.domain = new UnitDomain();
    }
  }

  /** The registry's storage figures over every repository added. */
  finish(finish: RegistryAccountantFinish = {}): RegistryStorage {
    const { registry, provider } = this.options;
    const scopeComplete = finish.scopeComplete ?? true;
    const listsUntagged = finish.listsUntagged ?? listsUntaggedManifests(provider);
    // Name order decides who gets a shared unit's odd bytes, whatever order repositories came in.
    const order = this.analyses
      .map((_, index) => index)
      .sort((a, b) => compare(this.analyses[a]!.name, this.analyses[b]!.name));
    const rank = new Int32Array(order.length);
    order.forEach((index, position) => {
      rank[index] = position;
    });
    if (this.scope === 'registry') this.addDomain(this.domain, rank);
    this.domain = new UnitDomain();

    const repositoryStorage: RepositoryStorage[] = order.map((index) => {
      const analysis = this.analyses[index]!;
      const share = this.shares[index]!;
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

    const sorted = order.map((index) => this.analyses[index]!);
    const notes: string[] = [];
    const estimated = sorted.filter((analysis) => !analysis.exact);
    for (const analysis of estimated) notes.push(...analysis.notes);
    if (!scopeComplete && this.scope === 'registry') {
      notes.push(
        `${registry} stores each blob once for the whole registry, but not every repository was listed: a blob ` +
          `shared with an unlisted repository may be counted as reclaimed, so "reclaimed" is an upper bound`,
      );
    }
    if (!listsUntagged) notes.push(untaggedInvisibleNote(registry));
    const accuracy: Accuracy =
      listsUntagged && estimated.length === 0 && (scopeComplete || this.scope === 'repository') ? 'exact' : 'estimate';
    return {
      name: registry,
      provider,
      dedupScope: this.scope,
      accuracy,
      scopeComplete,
      listsUntagged,
      bytes: { ...this.totals },
      blobs: { ...this.blobTotals },
      repositories: repositoryStorage,
      oldest: mergeOldest(
        sorted.map((analysis) => analysis.oldest),
        this.limit,
      ),
      notes,
    };
  }

  /** Adds a domain's units to the totals and shares; `rank` orders repositories by name (null: one repository). */
  private addDomain(domain: UnitDomain, rank: Int32Array | null): void {
    const { totals, blobTotals, shares } = this;
    domain.forEach((sizeBytes, kept, reachableFromTagged, repositories) => {
      totals.before += sizeBytes;
      blobTotals.before += 1;
      if (kept) {
        totals.after += sizeBytes;
        blobTotals.after += 1;
      } else {
        totals.reclaimed += sizeBytes;
      }
      if (!reachableFromTagged) totals.untagged += sizeBytes;
      const users =
        rank === null || repositories.length < 2 ? repositories : [...repositories].sort((a, b) => rank[a]! - rank[b]!);
      // Equal whole-byte shares, the remainder one byte each to the first repositories by name.
      const count = users.length;
      for (let position = 0; position < count; position++) {
        const share = evenShare(sizeBytes, count, position);
        const entry = shares[users[position]!]!;
        entry.attributed += share;
        if (!kept) entry.reclaimed += share;
        if (!reachableFromTagged) entry.untagged += share;
      }
    });
  }
}

const KEPT = 1;
const REACHED = 2;
const INITIAL_SLOTS = 1024;

/**
 * Every unique unit of a dedup scope, compactly: per slot its size, flags and first repository in
 * typed arrays, found through a `FingerprintTable` (a registry of a million images has millions of
 * units, and a string key each would cost more than the rest of the accounting).
 */
class UnitDomain {
  private readonly slots = new FingerprintTable();
  private sizes = new Float64Array(INITIAL_SLOTS);
  private flags = new Uint8Array(INITIAL_SLOTS);
  private firstRepository = new Int32Array(INITIAL_SLOTS);
  /** Slots used by more than one repository: every repository, in the order they were added. */
  private readonly shared = new Map<number, number[]>();

  use(key: string, unit: RepositoryUnit, repository: number): void {
    const flags = (unit.kept ? KEPT : 0) | (unit.reachableFromTagged ? REACHED : 0);
    const { slot, added } = this.slots.slotOf(key);
    if (added) {
      const next = slot;
      this.grow(next + 1);
      this.sizes[next] = unit.sizeBytes;
      this.flags[next] = flags;
      this.firstRepository[next] = repository;
      return;
    }
    this.sizes[slot] = Math.max(this.sizes[slot]!, unit.sizeBytes);
    this.flags[slot]! |= flags;
    const users = this.shared.get(slot) ?? [this.firstRepository[slot]!];
    users.push(repository);
    this.shared.set(slot, users);
  }

  forEach(visit: (sizeBytes: number, kept: boolean, reached: boolean, repositories: readonly number[]) => void): void {
    for (let slot = 0; slot < this.slots.size; slot++) {
      const flags = this.flags[slot]!;
      visit(
        this.sizes[slot]!,
        (flags & KEPT) !== 0,
        (flags & REACHED) !== 0,
        this.shared.get(slot) ?? [this.firstRepository[slot]!],
      );
    }
  }

  private grow(needed: number): void {
    if (needed <= this.sizes.length) return;
    const length = this.sizes.length * 2;
    const sizes = new Float64Array(length);
    sizes.set(this.sizes);
    const flags = new Uint8Array(length);
    flags.set(this.flags);
    const first = new Int32Array(length);
    first.set(this.firstRepository);
    this.sizes = sizes;
    this.flags = flags;
    this.firstRepository = first;
  }
}

const SHA256_KEY = /^sha256:[a-f0-9]{64}$/;
const FINGERPRINT_WORDS = 3;

/**
 * Unit key → slot (0, 1, 2, … in order of first use), keyed by a 96-bit fingerprint: the
 * fingerprints sit densely by slot, and an open-addressing index of slot numbers (at most 3/4 full)
 * finds them, about 20 bytes a unit instead of a string and a map entry. A sha256 digest's
 * fingerprint is its first 96 bits; any other key's, the first 96 bits of its hash. Two units share a
 * fingerprint with odds of about n² / 2⁹⁷ (1 in 10¹⁶ at a million units).
 */
class FingerprintTable {
  size = 0;
  private words = new Uint32Array(INITIAL_SLOTS * FINGERPRINT_WORDS);
  private index = new Int32Array(INITIAL_SLOTS * 2).fill(-1);

  /** The key's slot, and whether this call added it. */
  slotOf(key: string): { slot: number; added: boolean } {
    const hex = SHA256_KEY.test(key) ? key.slice(7, 31) : createHash('sha256').update(key).digest('hex').slice(0, 24);
    const a = Number.parseInt(hex.slice(0, 8), 16) >>> 0;
    const b = Number.parseInt(hex.slice(8, 16), 16) >>> 0;
    const c = Number.parseInt(hex.slice(16, 24), 16) >>> 0;
    const at = this.find(a, b, c);
    const existing = this.index[at]!;
    if (existing >= 0) return { slot: existing, added: false };
    const slot = this.size;
    if ((slot + 1) * FINGERPRINT_WORDS > this.words.length) {
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
    }
    this.words.set([a, b, c], slot * FINGERPRINT_WORDS);
    this.size += 1;
    if (this.size * 4 > this.index.length * 3) this.reindex();
    else this.index[at] = slot;
    return { slot, added: true };
  }

  /** Where the fingerprint is in the index, or the free place it would go. */
  private find(a: number, b: number, c: number): number {
    const mask = this.index.length - 1;
    for (let at = (a ^ c) & mask; ; at = (at + 1) & mask) {
      const slot = this.index[at]!;
      if (slot < 0) return at;
      const w = slot * FINGERPRINT_WORDS;
      if (this.words[w] === a && this.words[w + 1] === b && this.words[w + 2] === c) return at;
    }
  }

  private reindex(): void {
    this.index = new Int32Array(this.index.length * 2).fill(-1);
    for (let slot = 0; slot < this.size; slot++) {
      const w = slot * FINGERPRINT_WORDS;
      this.index[this.find(this.words[w]!, this.words[w + 1]!, this.words[w + 2]!)] = slot;
    }
  }
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
