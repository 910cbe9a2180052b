/**
 * Re-verification happens once, before the first deletion; a long deletion phase leaves a window
 * in which someone can point a tag at a planned digest: roll `latest` back to an old build, or
 * tag one as a hotfix. While deleting, at most every `intervalMs`, the tag list is read again and
 * the kept tags plus any tag that appeared since are resolved again; a planned digest any of them
 * now points at is protected like at re-verification.
 *
 * Cost per check: the tag list, plus one resolution per kept or new tag (OCI: a HEAD each; ACR and
 * ECR list each tag with its digest, so the tag list answers it). Only a tag that points somewhere
 * new is looked into further (a fresh listing when it points at a digest pushed since), so
 * `latest` moving to each new CI build does not re-list the repository on every check. Tags
 * planned to go with a deleted manifest are not followed.
 */
import type { Inventory } from '../model.js';
import type { DeleteDecision } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import { protectedBy, seedsOf } from './guard.js';
import { targetsOf } from './reverify.js';

/** How often, at most, the tags are checked again while deleting. */
export const DEFAULT_TAG_WATCH_INTERVAL_MS = 10_000;

export class TagWatch {
  private lastCheckMs: number;
  /** Tags whose target must not be deleted (the kept tags, then each tag that appears) → where each pointed last. */
  private readonly guardTargets: Map<string, string | null>;

  constructor(
    private readonly provider: Provider,
    private readonly inventory: Inventory,
    private readonly deletions: readonly DeleteDecision[],
    private readonly knownTags: Set<string>,
    guardTargets: ReadonlyMap<string, string | null>,
    private readonly intervalMs: number,
    private readonly clockMs: () => number,
  ) {
    this.lastCheckMs = clockMs();
    this.guardTargets = new Map(guardTargets);
  }

  /** Planned deletions that kept or new tags now point at (digest → why); empty when not due. */
  async check(): Promise<Map<string, string>> {
    if (this.clockMs() - this.lastCheckMs < this.intervalMs) return new Map();
    const repository = this.inventory.repository;
    const listing = await this.provider.listTags(repository);
    for (const tag of listing.tags) {
      if (this.knownTags.has(tag)) continue;
      this.knownTags.add(tag);
      this.guardTargets.set(tag, null);
    }
    const present = new Set(listing.tags);
    const guard = [...this.guardTargets.keys()].filter((tag) => present.has(tag));
    const resolved = await targetsOf(this.provider, repository, listing, guard);
    this.lastCheckMs = this.clockMs();
    // What an unmoved tag protects was settled at an earlier check (the executor keeps it).
    const moved = guard.filter((tag) => (resolved.get(tag) ?? null) !== this.guardTargets.get(tag));
    for (const tag of moved) this.guardTargets.set(tag, resolved.get(tag) ?? null);
    return protectedBy(seedsOf(moved, resolved), this.provider, this.inventory, this.deletions);
  }
}
