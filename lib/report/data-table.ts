/** The before/after data table: repositories, tags, manifests, unique blobs, bytes. */
import type { Footprint, Report } from './types.js';
import { formatBytes, formatCount } from './units.js';

interface Column {
  repositories: number;
  footprint: Footprint;
}

function columns(report: Report): { before: Column; after: Column } {
  const zero = (): Footprint => ({ tags: 0, manifests: 0, blobs: 0, bytes: 0 });
  const before: Column = { repositories: 0, footprint: zero() };
  const after: Column = { repositories: 0, footprint: zero() };
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      if (!repository.footprint) continue;
      const add = (column: Column, footprint: Footprint) => {
        if (footprint.manifests > 0) column.repositories++;
        column.footprint.tags += footprint.tags;
        column.footprint.manifests += footprint.manifests;
        column.footprint.blobs += footprint.blobs;
        column.footprint.bytes += footprint.bytes;
      };
      add(before, repository.footprint.before);
      add(after, repository.footprint.after);
    }
  }
  // Repositories of one registry can share blobs: where the registry-wide accounting exists,
  // blobs and bytes come from it so each blob counts once per dedup scope.
  if (report.storage) {
    before.footprint.blobs = after.footprint.blobs = before.footprint.bytes = after.footprint.bytes = 0;
    for (const registry of report.storage.registries) {
      before.footprint.blobs += registry.blobs.before;
      after.footprint.blobs += registry.blobs.after;
      before.footprint.bytes += registry.bytes.before;
      after.footprint.bytes += registry.bytes.after;
    }
  }
  return { before, after };
}

/** A fixed-width table; in a dry run the second column is what a real run would leave. */
export function formatDataTable(report: Report): string[] {
  const { before, after } = columns(report);
  const rows: Array<[string, string, string]> = [
    ['', 'before', report.dryRun ? 'after (would be)' : 'after'],
    ['repositories', formatCount(before.repositories), formatCount(after.repositories)],
    ['tags', formatCount(before.footprint.tags), formatCount(after.footprint.tags)],
    ['manifests', formatCount(before.footprint.manifests), formatCount(after.footprint.manifests)],
    ['unique blobs', formatCount(before.footprint.blobs), formatCount(after.footprint.blobs)],
    ['bytes', formatBytes(before.footprint.bytes), formatBytes(after.footprint.bytes)],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i as 0 | 1 | 2].length)));
  return rows.map(
    ([label, b, a]) => `  ${label.padEnd(widths[0]!)}  ${b.padStart(widths[1]!)}  ${a.padStart(widths[2]!)}`,
  );
}
