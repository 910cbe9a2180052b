/** The whole report, version 1 (DESIGN "Report"), from the registries' parts. */
import type { CostSection } from '../cost/types.js';
import type { StorageSection } from '../storage/types.js';
import { totalsOf } from './totals.js';
import type { RegistryReport, Report } from './types.js';

export interface ReportParts {
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly registries: RegistryReport[];
  /** False when work was left for the next run beyond the repositories' `pending` (not examined). */
  readonly allExamined?: boolean;
  /** Byte accounting (lib/storage); when given, the totals' bytes come from it (unique per dedup scope). */
  readonly storage?: StorageSection;
  readonly cost?: CostSection;
}

/** Assembles the report and its totals. */
export function buildReport(parts: ReportParts): Report {
  const totals = totalsOf(parts.registries);
  if (parts.storage) {
    // Repositories of one registry can share blobs: the registry-wide figures count each once.
    totals.bytesBefore = parts.storage.totals.bytesBefore;
    totals.bytesReclaimed = parts.storage.totals.bytesReclaimed;
    // Say which repositories those bytes are of: `report` counts unmatched ones too.
    totals.repositoriesAccounted = parts.storage.registries.reduce(
      (count, registry) => count + registry.repositories.length,
      0,
    );
  }
  return {
    version: 1,
    dryRun: parts.dryRun,
    startedAt: parts.startedAt.toISOString(),
    finishedAt: parts.finishedAt.toISOString(),
    complete: (parts.allExamined ?? true) && totals.pending === 0,
    registries: parts.registries,
    totals,
    ...(parts.storage ? { storage: parts.storage } : {}),
    ...(parts.cost ? { cost: parts.cost } : {}),
  };
}
