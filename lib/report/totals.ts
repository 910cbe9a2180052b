/** Report totals: sums over every repository of every registry. */
import type { RegistryReport, ReportTotals } from './types.js';

/** Sums the repositories' counts and the registries' API calls. */
export function totalsOf(registries: readonly RegistryReport[]): ReportTotals {
  const totals: ReportTotals = {
    repositories: 0,
    imagesBefore: 0,
    kept: 0,
    deleted: 0,
    failed: 0,
    pending: 0,
    bytesBefore: 0,
    bytesReclaimed: 0,
    apiCalls: 0,
  };
  for (const registry of registries) {
    totals.apiCalls += registry.apiCalls;
    for (const repository of registry.repositories) {
      totals.repositories++;
      totals.imagesBefore += repository.images.before;
      totals.kept += repository.images.kept;
      totals.deleted += repository.images.deleted;
      totals.failed += repository.images.failed;
      totals.pending += repository.images.pending;
      totals.bytesBefore += repository.bytes.before;
      totals.bytesReclaimed += repository.bytes.reclaimed;
      if (repository.archived) {
        totals.archivedImages = (totals.archivedImages ?? 0) + repository.archived.images;
        totals.archivedBytes = (totals.archivedBytes ?? 0) + repository.archived.bytes;
      }
    }
  }
  return totals;
}
