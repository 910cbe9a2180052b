/** One repository's part of the report, from its listing, its plan and what the executor did. */
import type { Outcome } from '../execute/types.js';
import type { Inventory } from '../model.js';
import type { Plan } from '../plan/types.js';
import { archivedCount } from './archived.js';
import { footprints } from './footprint.js';
import type { RepositoryReport } from './types.js';

/** The report of a repository that was listed, planned and executed. */
export function repositoryReport(inventory: Inventory, plan: Plan, outcome: Outcome): RepositoryReport {
  const footprint = footprints(inventory.images, new Set(outcome.deleted.map((entry) => entry.digest)));
  const error = outcome.error === undefined ? {} : { error: describe(outcome.error) };
  return {
    name: inventory.repository,
    images: {
      before: inventory.images.length,
      kept: outcome.kept.length,
      deleted: outcome.deleted.length,
      failed: outcome.failed.length,
      pending: outcome.pending.length,
    },
    bytes: { before: footprint.before.bytes, reclaimed: footprint.before.bytes - footprint.after.bytes },
    kept: outcome.kept,
    deleted: outcome.deleted,
    failed: outcome.failed,
    pending: outcome.pending,
    warnings: [...inventory.warnings, ...plan.warnings, ...outcome.warnings],
    ...error,
    ...(outcome.restoredTags.length > 0 ? { restoredTags: outcome.restoredTags } : {}),
    ...(outcome.lostTags.length > 0 ? { lostTags: outcome.lostTags } : {}),
    ...archivedCount(inventory.images, outcome.deleted),
    footprint,
  };
}

/** The report of a repository that could not be listed (or was not reached): nothing was deleted. */
export function unlistedRepositoryReport(name: string, error: string): RepositoryReport {
  return {
    name,
    images: { before: 0, kept: 0, deleted: 0, failed: 0, pending: 0 },
    bytes: { before: 0, reclaimed: 0 },
    kept: [],
    deleted: [],
    failed: [],
    pending: [],
    warnings: [],
    error,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
