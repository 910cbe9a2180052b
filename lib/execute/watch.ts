/**
 * The protected tags of one repository while it is being pruned (docs/design.md, section 5, "Tags
 * that move during a run"): the kept tags, every tag that appears, and where each pointed last.
 *
 * One tag listing per batch, taken after it (the first batch uses re-verification's listing), does
 * both jobs: it shows the tags that appeared (only those are resolved: on an OCI registry a HEAD
 * each; ACR and ECR list targets, so every move is seen for free) and the protected tags that
 * vanished. A protected tag that vanished together with a digest this run deleted is put back
 * (`Provider.restoreTag`) where the registry cannot delete a tag alone (registry 2.8); what the
 * restored manifest references is then protected like at re-verification. At the end every
 * protected tag is resolved once more. So the re-checks cost one listing per batch plus one
 * resolution of the protected tags per repository, not a resolution of every kept tag per batch.
 */
import { describeError } from '../errors.js';
import type { Inventory } from '../model.js';
import type { DeleteDecision } from '../plan/types.js';
import type { Provider, TagListing } from '../providers/provider.js';
import type { LostTag, RestoredTag } from '../report/types.js';
import { protectedBy, seedsOf } from './guard.js';
import { type AfterBatch, type LeftOverRepair, repairLeftOverTags } from './left-over.js';
import { targetsOf } from './reverify.js';
import { FRESH_LISTING_MS } from './types.js';

export type { AfterBatch } from './left-over.js';

/**
 * Deletions sent one at a time (each followed by the batch's tag listing) after a check saw tags
 * appear, move or vanish: someone is tagging in this repository right now, and a move onto a digest
 * deleted alone can be put back exactly, where one onto several digests of a batch cannot. Costs a
 * listing per deletion for these few, and nothing in a repository nobody is tagging.
 */
export const DELETES_ALONE_AFTER_TAG_ACTIVITY = 8;

export class TagGuard {
  /** Protected tag → where it pointed when last seen (`null`: not resolved yet). */
  readonly protectedTags: Map<string, string | null>;
  /** The listing taken after the last batch, not yet used to check the next one. */
  private fresh: TagListing | null;
  /** The latest listing taken: no deletion happened since it. */
  private latest: TagListing;
  private readonly deletedInRun = new Set<string>();
  readonly restored: RestoredTag[] = [];
  readonly lost: LostTag[] = [];
  /** Deletions still to send alone since tag activity was last seen. */
  private deletesAlone = 0;
  /** A tag listing was taken (and vanished tags put back) after the last batch that deleted. */
  private listedSinceDelete = false;

  constructor(
    readonly provider: Provider,
    readonly inventory: Inventory,
    readonly deletions: readonly DeleteDecision[],
    readonly knownTags: Set<string>,
    guardTargets: ReadonlyMap<string, string | null>,
    listing: TagListing,
    /**
     * When the listing was taken, on a monotonic clock: a batch's check then reuses a listing with
     * targets younger than `FRESH_LISTING_MS` rather than list again. Absent: never reused.
     */
    private readonly clock?: { readonly nowMs: () => number; readonly listedAtMs: number },
  ) {
    this.protectedTags = new Map(guardTargets);
    this.fresh = listing;
    this.latest = listing;
    this.latestAtMs = clock?.listedAtMs ?? 0;
  }

  /** When `latest` was taken (the clock's time). */
  private latestAtMs: number;

  /**
   * The latest listing, if it shows targets (ACR, ECR, the inventory's) and is younger than
   * `FRESH_LISTING_MS`: as recent as a new one would be by the time the batch is sent.
   */
  private freshLatest(): TagListing | null {
    if (this.clock === undefined || this.latest.targets === null) return null;
    return this.clock.nowMs() - this.latestAtMs < FRESH_LISTING_MS ? this.latest : null;
  }

  private async list(): Promise<TagListing> {
    const listing = await this.provider.listTags(this.inventory.repository);
    this.latest = listing;
    this.latestAtMs = this.clock?.nowMs() ?? 0;
    return listing;
  }

  /**
   * The tags of a planned deletion that still point at it, as the latest listing shows (ACR, ECR);
   * all of them where the listing has no targets. A registry that deletes by tag must not be sent a
   * planned tag that was moved onto another manifest meanwhile: it would take the tag from there.
   */
  tagsStillOn(digest: string, tags: readonly string[]): readonly string[] {
    const targets = this.latest.targets;
    return targets === null ? tags : tags.filter((tag) => targets.get(tag) === digest);
  }

  /** How many of the `remaining` deletions of a batch to send next: one while tags were active lately. */
  nextPartSize(remaining: number): number {
    if (this.deletesAlone === 0) return remaining;
    this.deletesAlone--;
    return 1;
  }

  private sawActivity(): void {
    this.deletesAlone = DELETES_ALONE_AFTER_TAG_ACTIVITY;
  }

  /** Protects the tags of a planned manifest that re-verification kept (they stay with it). */
  protect(tags: readonly string[], digest: string): void {
    for (const tag of tags) if (!this.protectedTags.has(tag)) this.protectedTags.set(tag, digest);
  }

  /**
   * Before a batch: planned deletions that tags which appeared, or moved (where the listing shows
   * targets), now point at (digest → why). Uses the listing taken after the previous batch.
   */
  async beforeBatch(): Promise<Map<string, string>> {
    const listing = this.fresh ?? this.freshLatest() ?? (await this.list());
    this.fresh = null;
    const fresh: string[] = [];
    for (const tag of listing.tags) {
      if (this.knownTags.has(tag)) continue;
      this.knownTags.add(tag);
      this.protectedTags.set(tag, null);
      fresh.push(tag);
    }
    const present = new Set(listing.tags);
    // Names-only listings (OCI) cannot show a move; resolving every kept tag per batch would cost a
    // HEAD each, so only new tags are resolved and a move onto a deleted digest is caught after.
    const toResolve =
      listing.targets === null ? fresh : [...this.protectedTags.keys()].filter((tag) => present.has(tag));
    const resolved = await targetsOf(this.provider, this.inventory.repository, listing, toResolve);
    const moved = toResolve.filter((tag) => (resolved.get(tag) ?? null) !== this.protectedTags.get(tag));
    for (const tag of moved) this.protectedTags.set(tag, resolved.get(tag) ?? null);
    if (fresh.length > 0 || moved.length > 0) this.sawActivity();
    return protectedBy(seedsOf(moved, resolved), this.provider, this.inventory, this.deletions);
  }

  /**
   * After a batch that deleted `deleted`: lists the tags once (kept for the next batch's check) and
   * puts back every protected tag that vanished with a digest this run deleted.
   */
  async afterBatch(
    deleted: readonly string[],
    isDeleted: (digest: string) => boolean,
    byDigest = true,
    repair: LeftOverRepair = { goneAlready: new Set(), mayWrite: () => null },
  ): Promise<AfterBatch> {
    for (const digest of deleted) this.deletedInRun.add(digest);
    this.listedSinceDelete = false;
    if (this.provider.restoreTag === undefined && !byDigest) {
      // Deleted by tag (ACR, ECR): a manifest goes only once no tag points at it, so no protected
      // tag can have gone with it; the next batch's check lists (or reuses a fresh listing).
      return { protectedDigests: new Map(), restoredDigests: new Map(), warnings: [] };
    }
    const listing = await this.list();
    this.fresh = listing;
    this.listedSinceDelete = true;
    const present = new Set(listing.tags);
    const vanished = [...this.protectedTags].filter(([tag, digest]) => digest !== null && !present.has(tag));
    if (vanished.length > 0 || listing.tags.some((tag) => !this.knownTags.has(tag))) this.sawActivity();
    const after = await this.putBack(vanished, deleted, isDeleted);
    const leftOver = await repairLeftOverTags(this, deleted, present, isDeleted, repair);
    // Deleted again after the listing: the end of the repository resolves every protected tag again.
    if (leftOver.deletedAgain) this.listedSinceDelete = false;
    return {
      protectedDigests: new Map([...after.protectedDigests, ...leftOver.protectedDigests]),
      restoredDigests: new Map([...after.restoredDigests, ...leftOver.restoredDigests]),
      warnings: [...after.warnings, ...leftOver.warnings],
    };
  }

  /**
   * The end of the repository's run: every protected tag resolved once more; one that is gone with
   * a digest this run deleted is put back, else named in `lost`.
   */
  async finish(isDeleted: (digest: string) => boolean): Promise<AfterBatch> {
    const none: AfterBatch = { protectedDigests: new Map(), restoredDigests: new Map(), warnings: [] };
    if (this.deletedInRun.size === 0) return none;
    let tags = [...this.protectedTags.keys()];
    if (this.listedSinceDelete) {
      // A listing taken after the last deletion already showed every protected tag that vanished with
      // it (and put it back); a tag gone since went by another client's hand. Resolved still: those
      // last seen on a digest this run deleted (a tag put back, or one a listing that lags the
      // registry's deletes still shows), so a tag that names nothing is not left unreported.
      tags = tags.filter((tag) => this.deletedInRun.has(this.protectedTags.get(tag) ?? ''));
      if (tags.length === 0) return none;
    }
    // A listing with targets (ACR, ECR) taken after the last batch already resolves every tag.
    const listing = this.latest;
    const resolved =
      listing.targets !== null
        ? await targetsOf(this.provider, this.inventory.repository, listing, tags)
        : await this.provider.resolveTags(this.inventory.repository, tags);
    const vanished: Array<[string, string | null]> = [];
    for (const tag of tags) {
      const now = resolved.get(tag) ?? null;
      const before = this.protectedTags.get(tag) ?? null;
      if (now === null && before !== null) vanished.push([tag, before]);
      else if (now !== null) this.protectedTags.set(tag, now);
    }
    // No listing followed the last deletion (it failed) where a delete takes tags with it: a protected
    // tag gone since it was last seen may have gone with any digest this run deleted. Put back or named
    // as a lost move, never dropped unreported.
    const candidates = !this.listedSinceDelete && this.provider.restoreTag !== undefined ? [...this.deletedInRun] : [];
    return this.putBack(vanished, candidates, isDeleted);
  }

  /**
   * Puts each vanished tag back onto the digest it went with: the one it pointed at when last seen
   * if this run deleted it, else (it was moved since) the one digest the last batch deleted. With
   * several candidates the registry keeps no trace of which took it: the tag is put back where it
   * pointed when last seen (that manifest still exists, so it resolves and pulls) and named as a
   * lost move, with the candidates.
   */
  private async putBack(
    vanished: ReadonlyArray<readonly [string, string | null]>,
    lastBatch: readonly string[],
    isDeleted: (digest: string) => boolean,
  ): Promise<AfterBatch> {
    const warnings: string[] = [];
    const seeds = new Map<string, string[]>();
    const restoredDigests = new Map<string, string[]>();
    for (const [tag, lastSeen] of vanished) {
      const wentWith = lastSeen !== null && this.deletedInRun.has(lastSeen) ? lastSeen : null;
      const target = wentWith ?? (lastBatch.length === 1 ? lastBatch[0]! : null);
      if (target === null) {
        // Not gone with a digest this run deleted as far as can be told: another client's doing, or
        // moved onto one of several digests of the last batch.
        if (lastBatch.length > 1) warnings.push(await this.loseMove(tag, lastSeen, lastBatch));
        else this.protectedTags.set(tag, null);
        continue;
      }
      if (!(await this.putTag(tag, target))) continue;
      warnings.push(
        `tag "${tag}" was moved onto ${target} while it was being deleted; the tag was put back onto it ` +
          '(its blobs stay until garbage-collect, so it pulls completely)',
      );
      seeds.set(target, [...(seeds.get(target) ?? []), tag]);
      if (isDeleted(target)) restoredDigests.set(target, [...(restoredDigests.get(target) ?? []), tag]);
    }
    const protectedDigests = await protectedBy(seeds, this.provider, this.inventory, this.deletions);
    for (const digest of protectedDigests.keys()) {
      if (!isDeleted(digest) || seeds.has(digest)) continue;
      warnings.push(
        `${digest} is referenced by a manifest whose tag was put back, but it was already deleted: the restored ` +
          'tag does not pull completely. Push that image again.',
      );
    }
    return { protectedDigests, restoredDigests, warnings };
  }

  /** PUTs the tag onto `digest`; false (and the tag named as lost) when that fails. */
  private async putTag(tag: string, digest: string): Promise<boolean> {
    if (this.provider.restoreTag === undefined) {
      this.lose(tag, digest, 'this registry cannot put a tag back');
      return false;
    }
    try {
      await this.provider.restoreTag(this.inventory.repository, tag, digest);
    } catch (error) {
      this.lose(tag, digest, describeError(error));
      return false;
    }
    this.protectedTags.set(tag, digest);
    this.restored.push({ tag, digest });
    return true;
  }

  /**
   * A protected tag that vanished while a batch deleted several digests, though where it pointed
   * last was not deleted: it was moved onto one of them, and registry 2.8 keeps no trace of which.
   * It goes back where it pointed last when that manifest still exists (so it resolves and pulls,
   * though not where its mover wanted), and is a lost move either way (exit 1). Returns the warning.
   */
  private async loseMove(tag: string, lastSeen: string | null, candidates: readonly string[]): Promise<string> {
    const hint =
      `Point "${tag}" at the build it should name again (push or tag it from CI); the candidates' blobs stay ` +
      'until the next garbage-collect';
    const moved = `it vanished while ${candidates.length} manifests were deleted and was moved onto one of them`;
    let putBackOnto: string | null = null;
    // Resolving a digest as a reference is a HEAD on an OCI registry, the only kind that restores.
    if (lastSeen !== null && this.provider.restoreTag !== undefined) {
      try {
        const now = (await this.provider.resolveTags(this.inventory.repository, [lastSeen])).get(lastSeen);
        if (now === lastSeen) {
          await this.provider.restoreTag(this.inventory.repository, tag, lastSeen);
          putBackOnto = lastSeen;
        }
      } catch {
        // Reported below as not put back at all.
      }
    }
    const where =
      putBackOnto === null
        ? 'it was not put back'
        : `it was put back onto ${putBackOnto}, where it pointed before, so it resolves and pulls`;
    const error =
      `protected tag "${tag}" lost a move made during the run: ${moved} (${candidates.join(', ')}), and this ` +
      `registry cannot say which; ${where}. ${hint}.`;
    if (putBackOnto === null) this.protectedTags.delete(tag);
    else this.protectedTags.set(tag, putBackOnto);
    this.lost.push({
      tag,
      digest: lastSeen,
      error,
      candidates: [...candidates],
      ...(putBackOnto ? { putBackOnto } : {}),
    });
    return error;
  }

  private lose(tag: string, digest: string | null, why: string): void {
    this.protectedTags.delete(tag);
    this.lost.push({ tag, digest, error: `protected tag "${tag}" was lost and could not be put back: ${why}` });
  }
}
