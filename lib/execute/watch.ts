/**
 * Re-verification happens once, before the first deletion; a long deletion phase leaves a window
 * in which someone can tag a planned digest (promote an old build, say). While deleting, the tag
 * list is read again at most every `intervalMs`, and a digest a newly appeared tag points at is
 * protected like at re-verification. One tag listing per interval keeps the cost small.
 */
import type { Inventory } from '../model.js';
import type { DeleteDecision } from '../plan/types.js';
import type { Provider } from '../providers/provider.js';
import { protectedBy, seedsOf } from './guard.js';

/** How often, at most, the tag list is read again while deleting. */
export const DEFAULT_TAG_WATCH_INTERVAL_MS = 10_000;

export class NewTagWatch {
  private lastCheckMs: number;

  constructor(
    private readonly provider: Provider,
    private readonly inventory: Inventory,
    private readonly deletions: readonly DeleteDecision[],
    private readonly knownTags: Set<string>,
    private readonly intervalMs: number,
    private readonly clockMs: () => number,
  ) {
    this.lastCheckMs = clockMs();
  }

  /** Planned deletions that tags appearing since the last check protect (digest → why); empty when not due. */
  async check(): Promise<Map<string, string>> {
    if (this.clockMs() - this.lastCheckMs < this.intervalMs) return new Map();
    const repository = this.inventory.repository;
    const fresh = (await this.provider.listTags(repository)).filter((tag) => !this.knownTags.has(tag));
    this.lastCheckMs = this.clockMs();
    if (fresh.length === 0) return new Map();
    for (const tag of fresh) this.knownTags.add(tag);
    const resolved = await this.provider.resolveTags(repository, fresh);
    return protectedBy(seedsOf(fresh, resolved), this.provider, this.inventory, this.deletions);
  }
}
