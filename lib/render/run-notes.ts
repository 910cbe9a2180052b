/**
 * What a report says beyond its figures, for the Markdown and HTML renderings: the run-wide
 * warnings, protected tags the run lost (it exits 1 for them), and what it finished of an
 * interrupted run's journal (docs/design.md, section 5, "Crash and stop").
 */
import type { Report } from '../report/types.js';

export interface RunNotes {
  /** The report's top-level warnings, then one line per lost protected tag. */
  readonly warnings: readonly string[];
  /** One line per repository whose journal this run finished, then the journal's warnings. */
  readonly journal: readonly string[];
}

/** The warnings and journal lines of a report, in report order. */
export function runNotes(report: Report): RunNotes {
  const warnings = [...(report.warnings ?? [])];
  const journal: string[] = [];
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      for (const lost of repository.lostTags ?? []) warnings.push(`${registry.name}/${repository.name}: ${lost.error}`);
    }
    for (const entry of registry.journal ?? []) {
      const where = `${registry.name}/${entry.repository}`;
      const verb = report.dryRun ? 'would finish' : 'finished';
      const failed = entry.failed.length > 0 ? `; ${entry.failed.length} still on record (the next run retries)` : '';
      journal.push(`${where}: ${verb} ${entry.finished.length} deletion(s) an interrupted run left${failed}`);
      journal.push(...entry.warnings.map((warning) => `${where}: ${warning}`));
    }
  }
  return { warnings, journal };
}
