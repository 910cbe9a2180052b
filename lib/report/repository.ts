/** One repository's part of the report, from its listing, its plan and what the executor did. */
import type { Outcome } from '../execute/types.js';
import type { Inventory } from '../model.js';
import type { Plan } from '../plan/types.js';
import type { Policy } from '../config/policy.js';
import { archivedCount } from './archived.js';
import { footprints } from './footprint.js';
import { type ImageDetail, imageDetails } from './image-detail.js';
import type { DeletedEntry, RepositoryReport } from './types.js';

/**
 * The report of a repository that was listed, planned and executed. With the `policy` it was
 * planned by, every kept and deleted entry also says when it was pushed, its rank and why.
 */
export function repositoryReport(
  inventory: Inventory,
  plan: Plan,
  outcome: Outcome,
  policy?: Policy,
): RepositoryReport {
  const detailed = policy === undefined ? outcome : withDetails(inventory, policy, outcome);
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
    kept: detailed.kept,
    deleted: detailed.deleted,
    failed: outcome.failed,
    pending: detailed.pending,
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

function withDetails(
  inventory: Inventory,
  policy: Policy,
  outcome: Outcome,
): Pick<Outcome, 'kept' | 'deleted' | 'pending'> {
  const kept = new Map(outcome.kept.map((entry) => [entry.digest, entry.reason]));
  const deleted = new Set([...outcome.deleted, ...outcome.pending].map((entry) => entry.digest));
  const details = imageDetails(inventory, policy, kept, deleted);
  const add = <T extends { digest: string }>(entry: T): T => ({ ...entry, ...details.get(entry.digest) });
  const addToDeleted = (entry: DeletedEntry): DeletedEntry => detailedDeletion(entry, details.get(entry.digest));
  return { kept: outcome.kept.map(add), deleted: outcome.deleted.map(addToDeleted), pending: outcome.pending.map(add) };
}

/**
 * A deleted entry with its details, built as one literal: deletions are most of a big report, and an
 * object spread twice keeps its extra fields out of line (issue 12, "Memory": ~40 bytes an entry).
 */
function detailedDeletion(entry: DeletedEntry, detail: ImageDetail | undefined): DeletedEntry {
  if (detail === undefined) return entry;
  const { digest, tags, action } = entry;
  const { pushedAt, rank, why } = detail;
  return rank === undefined ? { digest, tags, action, pushedAt, why } : { digest, tags, action, pushedAt, rank, why };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
