/**
 * What-if (`regprune report --what-if 1,3,5,10,20`): for each `keep` value, what the configured
 * rules would reclaim with that `keep` in place of theirs, per repository and in total: images,
 * bytes (lib/storage's accounting: a blob another kept image shares is not freed, and counts
 * once) and monthly cost (lib/cost). Pure. docs/report.md, "What-if".
 */
import type { Policy } from '../config/policy.js';
import { costRegistry, priceFor } from '../cost/cost.js';
import type { Pricing } from '../cost/schema.js';
import type { Inventory } from '../model.js';
import { plan } from '../plan/index.js';
import type { ProviderKind } from '../providers/provider.js';
import { accountRegistry } from '../storage/account.js';
import { plannedDeletions } from '../storage/section.js';

/** What one `keep` value would reclaim. */
export interface WhatIfPoint {
  readonly keep: number;
  readonly images: number;
  readonly bytes: number;
  /** Monthly storage cost saved, in the registry's currency. */
  readonly monthlyCost: number;
}

export interface WhatIfRepository {
  readonly registry: string;
  readonly name: string;
  readonly points: readonly WhatIfPoint[];
}

export interface WhatIfRegistry {
  readonly name: string;
  readonly currency: string;
  readonly points: readonly WhatIfPoint[];
  readonly repositories: readonly WhatIfRepository[];
}

/** The report's `whatIf` section (additive to report v1). */
export interface WhatIfSection {
  readonly keeps: readonly number[];
  /** Null when registries price in different currencies: then `totals` has no cost. */
  readonly currency: string | null;
  readonly totals: readonly WhatIfPoint[];
  readonly registries: readonly WhatIfRegistry[];
  /** How it is worked out, in one sentence for the reader. */
  readonly method: string;
}

export const WHAT_IF_METHOD =
  'Each keep value replaces the keep of every rule and tag class; everything else (pinned, minAge, olderThan, ' +
  'references, locks) stays as configured. Bytes are unique blobs freed, shared layers counted once.';

/** A repository as the report listed it: its inventory, and its policy when a rule matched it. */
export interface WhatIfInput {
  readonly inventory: Inventory;
  /** Null for a repository no rule matches: listed for accounting, never pruned. */
  readonly policy: Policy | null;
}

/** The policy with `keep` in place of the rule's and every tag class's. */
export function withKeep(policy: Policy, keep: number): Policy {
  return policy.classes === undefined
    ? { ...policy, keep }
    : { ...policy, keep, classes: policy.classes.map((tagClass) => ({ ...tagClass, keep })) };
}

/** One registry's what-if over the keep values. */
export function whatIfRegistry(input: {
  readonly registry: string;
  readonly provider: ProviderKind;
  readonly listsUntagged?: boolean;
  readonly repositories: readonly WhatIfInput[];
  readonly keeps: readonly number[];
  readonly pricing?: Pricing;
  readonly now: Date;
}): WhatIfRegistry {
  const price = priceFor({ name: input.registry, provider: input.provider }, input.pricing);
  const perKeep = input.keeps.map((keep) => {
    const deleted = input.repositories.map(({ inventory, policy }) =>
      policy === null ? new Set<string>() : plannedDeletions(plan(inventory, withKeep(policy, keep), input.now)),
    );
    const storage = accountRegistry({
      registry: input.registry,
      provider: input.provider,
      ...(input.listsUntagged !== undefined ? { listsUntagged: input.listsUntagged } : {}),
      repositories: input.repositories.map(({ inventory }, index) => ({ inventory, deleted: deleted[index]! })),
    });
    const cost = costRegistry(storage, price);
    return { keep, deleted, storage, cost };
  });
  const repositories = input.repositories
    .map(
      ({ inventory }, index): WhatIfRepository => ({
        registry: input.registry,
        name: inventory.repository,
        points: perKeep.map(({ keep, deleted, storage, cost }) => ({
          keep,
          images: deleted[index]!.size,
          bytes: storage.repositories.find((r) => r.name === inventory.repository)?.bytes.reclaimed ?? 0,
          monthlyCost: cost.repositories.find((r) => r.name === inventory.repository)?.monthly.saved ?? 0,
        })),
      }),
    )
    .filter((_, index) => input.repositories[index]!.policy !== null);
  return {
    name: input.registry,
    currency: price.currency,
    points: perKeep.map(({ keep, deleted, storage, cost }) => ({
      keep,
      images: deleted.reduce((sum, set) => sum + set.size, 0),
      bytes: storage.bytes.reclaimed,
      monthlyCost: cost.monthly.saved,
    })),
    repositories,
  };
}

/** The section over every registry: totals per keep value. */
export function whatIfSection(keeps: readonly number[], registries: readonly WhatIfRegistry[]): WhatIfSection {
  const currencies = new Set(registries.map((registry) => registry.currency));
  const currency = currencies.size <= 1 ? (registries[0]?.currency ?? null) : null;
  const totals = keeps.map((keep, index) => ({
    keep,
    images: registries.reduce((sum, registry) => sum + (registry.points[index]?.images ?? 0), 0),
    bytes: registries.reduce((sum, registry) => sum + (registry.points[index]?.bytes ?? 0), 0),
    // Sums of different currencies mean nothing: no total cost then (`currency` is null).
    monthlyCost:
      currency === null
        ? 0
        : Math.round(
            registries.reduce((sum, registry) => sum + (registry.points[index]?.monthlyCost ?? 0), 0) * 10_000,
          ) / 10_000,
  }));
  return { keeps, currency, totals, registries, method: WHAT_IF_METHOD };
}
