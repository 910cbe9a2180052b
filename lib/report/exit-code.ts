/** The process exit code a report stands for (DESIGN "CLI contract"). */
import type { Report } from './types.js';

/**
 * 1 when anything failed at run time: a registry or repository error, a failed deletion (also one an
 * interrupted run left in the journal), or a protected tag lost and not put back.
 * Pending work (time budget) alone is not a failure: the next run picks it up.
 */
export function exitCodeFor(report: Report): 0 | 1 {
  for (const registry of report.registries) {
    if (registry.error !== undefined) return 1;
    if (registry.journal?.some((entry) => entry.failed.length > 0)) return 1;
    for (const repository of registry.repositories) {
      if (repository.error !== undefined || repository.failed.length > 0) return 1;
      if ((repository.lostTags?.length ?? 0) > 0) return 1;
    }
  }
  return 0;
}
