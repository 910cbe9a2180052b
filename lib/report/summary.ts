/** The short human summary printed after a run (the JSON report carries the detail). */
import { untaggedInvisibleNote } from '../storage/account.js';
import { formatDataTable } from './data-table.js';
import { inUseLines } from './in-use-summary.js';
import type { JournalFinished, RegistryReport, Report, RepositoryReport } from './types.js';
import { formatBytes, formatCount } from './units.js';

function repositoryLine(repository: RepositoryReport, dryRun: boolean, nameWidth: number): string {
  const name = repository.name.padEnd(nameWidth);
  if (repository.error !== undefined) return `  ${name}  error: ${repository.error}`;
  const { before, kept, deleted, failed, pending } = repository.images;
  const parts = [
    `images ${formatCount(before)}`,
    `kept ${formatCount(kept)}`,
    `${dryRun ? 'would delete' : 'deleted'} ${formatCount(deleted)}`,
  ];
  if (failed > 0) parts.push(`failed ${formatCount(failed)}`);
  if (pending > 0) parts.push(`pending ${formatCount(pending)}`);
  const bytes =
    `bytes ${formatBytes(repository.bytes.before)}, ${dryRun ? 'would reclaim' : 'reclaimed'} ` +
    `${formatBytes(repository.bytes.reclaimed)}`;
  return `  ${name}  ${parts.join(', ')}; ${bytes}`;
}

function registryLines(registry: RegistryReport, dryRun: boolean): string[] {
  const lines = [`registry ${registry.name} (${registry.provider}): ${formatCount(registry.apiCalls)} API calls`];
  if (registry.error !== undefined) lines.push(`  error: ${registry.error}`);
  if (registry.repositories.length === 0 && registry.error === undefined) lines.push('  no repository matched a rule');
  const width = Math.max(0, ...registry.repositories.map((repository) => repository.name.length));
  for (const repository of registry.repositories) lines.push(repositoryLine(repository, dryRun, width));
  for (const entry of registry.journal ?? []) lines.push(journalLine(entry, dryRun));
  return lines;
}

/** What the run finished of an interrupted run's deletions (docs/design.md, "Crash"). */
function journalLine(entry: JournalFinished, dryRun: boolean): string {
  const parts = [`${dryRun ? 'would finish' : 'finished'} ${formatCount(entry.finished.length)}`];
  if (entry.failed.length > 0) parts.push(`failed ${formatCount(entry.failed.length)} (left for the next run)`);
  if (entry.warnings.length > 0) parts.push(`${formatCount(entry.warnings.length)} warning(s)`);
  return `  ${entry.repository}: from the journal of an interrupted run: ${parts.join(', ')}`;
}

function totalsLine(report: Report): string {
  const t = report.totals;
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const extra = [
    t.failed > 0 ? `failed ${formatCount(t.failed)}` : '',
    t.pending > 0 ? `pending ${formatCount(t.pending)}` : '',
  ]
    .filter(Boolean)
    .map((part) => `, ${part}`)
    .join('');
  return (
    `total: ${formatCount(t.repositories)} ${t.repositories === 1 ? 'repository' : 'repositories'}, images ` +
    `${formatCount(t.imagesBefore)}, kept ${formatCount(t.kept)}, ` +
    `${verb} ${formatCount(t.deleted)}${extra}; bytes ${formatBytes(t.bytesBefore)}, ` +
    `${report.dryRun ? 'would reclaim' : 'reclaimed'} ${formatBytes(t.bytesReclaimed)}`
  );
}

function storageNotes(report: Report): string[] {
  const kinds = new Set(report.registries.map((registry) => registry.provider));
  const notes: string[] = [];
  if (kinds.has('oci')) {
    notes.push(
      'Note: a self-hosted registry (registry:2, Harbor, zot) frees disk only after its garbage collection runs ' +
        '(registry:2: `registry garbage-collect CONFIG`, with the registry read-only or stopped).',
    );
  }
  if (kinds.has('acr') || kinds.has('ecr'))
    notes.push('Note: ACR and ECR free the storage of deleted images themselves.');
  for (const registry of report.storage?.registries ?? [])
    if (registry.listsUntagged === false) notes.push(`Note: ${untaggedInvisibleNote(registry.name)}.`);
  return notes;
}

/** Per repository one line, the totals, the before/after data table and the storage note. */
export function formatSummary(report: Report): string {
  const lines: string[] = [];
  if (report.dryRun) {
    lines.push(
      'DRY RUN: nothing was deleted; "would delete" is what a real run would delete.',
      'To delete, set dryRun: false in the config or pass --no-dry-run to regprune prune.',
      '',
    );
  }
  for (const registry of report.registries) lines.push(...registryLines(registry, report.dryRun));
  const inUse = inUseLines(report);
  if (inUse.length > 0) lines.push('', ...inUse);
  lines.push('', totalsLine(report));
  if (report.stopped !== undefined)
    lines.push(
      `Incomplete: ${report.stopped}; pending deletions and unexamined repositories are left for the next run.`,
    );
  else if (!report.complete)
    lines.push('Incomplete: the time budget ran out; pending deletions are left for the next run.');
  lines.push('', ...formatDataTable(report), '', ...storageNotes(report));
  return lines.join('\n') + '\n';
}
