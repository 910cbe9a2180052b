/** The whole report, version 1 (DESIGN "Report"), from the registries' parts. */
import { totalsOf } from './totals.js';
import type { RegistryReport, Report } from './types.js';

export interface ReportParts {
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly registries: RegistryReport[];
  /** False when work was left for the next run beyond the repositories' `pending` (not examined). */
  readonly allExamined?: boolean;
}

/** Assembles the report and its totals. */
export function buildReport(parts: ReportParts): Report {
  const totals = totalsOf(parts.registries);
  return {
    version: 1,
    dryRun: parts.dryRun,
    startedAt: parts.startedAt.toISOString(),
    finishedAt: parts.finishedAt.toISOString(),
    complete: (parts.allExamined ?? true) && totals.pending === 0,
    registries: parts.registries,
    totals,
  };
}
