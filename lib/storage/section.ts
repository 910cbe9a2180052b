/** Assembles the report's `storage` section and the deletion sets accounting needs. */
import type { Plan } from '../plan/types.js';
import { mergeOldest } from './account.js';
import type { RegistryStorage, StorageSection } from './types.js';

const SECTION_OLDEST_LIMIT = 10;

/** Totals over registries; each registry's bytes are already unique within its dedup scope. */
export function storageSection(registries: readonly RegistryStorage[]): StorageSection {
  const totals = { bytesBefore: 0, bytesAfter: 0, bytesReclaimed: 0, bytesUntagged: 0 };
  for (const registry of registries) {
    totals.bytesBefore += registry.bytes.before;
    totals.bytesAfter += registry.bytes.after;
    totals.bytesReclaimed += registry.bytes.reclaimed;
    totals.bytesUntagged += registry.bytes.untagged;
  }
  return {
    registries,
    totals: {
      ...totals,
      accuracy: registries.every((registry) => registry.accuracy === 'exact') ? 'exact' : 'estimate',
    },
    oldest: mergeOldest(
      registries.map((registry) => registry.oldest),
      SECTION_OLDEST_LIMIT,
    ),
  };
}

/** The manifests a plan would delete (untagging frees nothing: the manifest stays). */
export function plannedDeletions(plan: Plan): Set<string> {
  return new Set(
    plan.delete.filter((decision) => decision.action === 'delete-manifest').map((decision) => decision.digest),
  );
}

/** The manifests a run did delete, from its report entries (failed and pending ones are not in `deleted`). */
export function doneDeletions(deleted: readonly { readonly digest: string; readonly action: string }[]): Set<string> {
  return new Set(deleted.filter((entry) => entry.action === 'delete-manifest').map((entry) => entry.digest));
}
