/**
 * `regprune plan`'s listing, and the list `prune` ends with: per repository, newest first, each
 * image's age and push time, short digest, tags, fate and reason. Long lists fold.
 */
import type { DeletedEntry, KeptEntry, Report, RepositoryReport } from './types.js';
import { formatCount } from './units.js';

/** Colours for a terminal; identity functions when colour is off. */
export interface Paint {
  readonly keep: (text: string) => string;
  readonly remove: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

const PLAIN: Paint = { keep: (t) => t, remove: (t) => t, dim: (t) => t, bold: (t) => t };

export interface PlanDetailOptions {
  /** Every line, no folding (`--all`). */
  readonly all?: boolean;
  /** Lines of each fate shown per repository before folding; default 20. */
  readonly foldAfter?: number;
  readonly paint?: Paint;
  /** Only what was deleted (the end of `prune`). */
  readonly deletedOnly?: boolean;
}

const DEFAULT_FOLD = 20;

interface Line {
  readonly fate: 'keep' | 'delete' | 'failed' | 'pending';
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAt: string | null;
  readonly why: string;
}

function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

/** `45m`, `5h`, `12d`, from the run's start; `?` when the push time is unknown. */
export function formatAge(pushedAt: string | null, nowMs: number): string {
  if (pushedAt === null) return '?';
  const ms = nowMs - Date.parse(pushedAt);
  if (!Number.isFinite(ms)) return '?';
  if (ms < 3_600_000) return `${Math.max(0, Math.floor(ms / 60_000))}m`;
  if (ms < 48 * 3_600_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}

function pushTime(pushedAt: string | null): string {
  return pushedAt === null ? 'unknown push time' : `${pushedAt.slice(0, 16).replace('T', ' ')}`;
}

function linesOf(repository: RepositoryReport, deletedOnly: boolean): Line[] {
  const kept = (entry: KeptEntry): Line => ({
    fate: 'keep',
    digest: entry.digest,
    tags: entry.tags,
    pushedAt: entry.pushedAt ?? null,
    why: entry.why ?? entry.reason,
  });
  const gone =
    (fate: Line['fate']) =>
    (entry: DeletedEntry): Line => ({
      fate,
      digest: entry.digest,
      tags: entry.tags,
      pushedAt: entry.pushedAt ?? null,
      why: entry.why ?? '',
    });
  const lines = [
    ...(deletedOnly ? [] : repository.kept.map(kept)),
    ...repository.deleted.map(gone('delete')),
    ...(deletedOnly ? [] : repository.pending.map(gone('pending'))),
  ];
  // Newest first, unknown times last, then by digest: the order a person checks a registry in.
  return lines.sort(
    (a, b) =>
      (b.pushedAt === null ? -Infinity : Date.parse(b.pushedAt)) -
        (a.pushedAt === null ? -Infinity : Date.parse(a.pushedAt)) || (a.digest < b.digest ? -1 : 1),
  );
}

function repositoryBlock(
  registry: string,
  repository: RepositoryReport,
  nowMs: number,
  dryRun: boolean,
  options: PlanDetailOptions,
): string[] {
  const paint = options.paint ?? PLAIN;
  const head = [paint.bold(`${registry}/${repository.name}`)];
  if (repository.error !== undefined) return [...head, `  error: ${repository.error}`];
  const lines = linesOf(repository, options.deletedOnly ?? false);
  if (lines.length === 0) return [...head, '  (no images)'];
  const tagsWidth = Math.min(32, Math.max(10, ...lines.map((line) => tagText(line.tags).length)));
  const foldAfter = options.all ? Infinity : (options.foldAfter ?? DEFAULT_FOLD);
  const shown = new Map<Line['fate'], number>();
  const folded = new Map<Line['fate'], number>();
  const foldAt = new Map<Line['fate'], number>();
  const out = [...head];
  for (const line of lines) {
    const count = shown.get(line.fate) ?? 0;
    if (count >= foldAfter) {
      // The fold line stands where the first folded line would have: the list stays in time order.
      if (!folded.has(line.fate)) foldAt.set(line.fate, out.push('') - 1);
      folded.set(line.fate, (folded.get(line.fate) ?? 0) + 1);
      continue;
    }
    shown.set(line.fate, count + 1);
    const fate = fateWord(line.fate, dryRun, options.deletedOnly ?? false);
    const painted = line.fate === 'keep' ? paint.keep(fate) : paint.remove(fate);
    const tags = tagText(line.tags);
    out.push(
      `  ${formatAge(line.pushedAt, nowMs).padStart(4)}  ${paint.dim(pushTime(line.pushedAt).padEnd(16))}  ` +
        `${shortDigest(line.digest)}  ${tags.length > tagsWidth ? tags : tags.padEnd(tagsWidth)}  ` +
        `${painted}  ${line.why}`,
    );
  }
  for (const [fate, count] of folded) {
    const noun = fate === 'keep' ? 'kept' : fate === 'pending' ? 'pending' : deletionNoun(count);
    out[foldAt.get(fate)!] = paint.dim(`  … ${formatCount(count)} more ${noun}, --all to show`);
  }
  for (const warning of options.deletedOnly ? [] : repository.warnings) out.push(`  note: ${warning}`);
  return out;
}

function deletionNoun(count: number): string {
  return count === 1 ? 'deletion' : 'deletions';
}

function fateWord(fate: Line['fate'], dryRun: boolean, deletedOnly: boolean): string {
  if (fate === 'keep') return 'keep  ';
  if (fate === 'pending') return 'pending';
  return deletedOnly && !dryRun ? 'deleted' : 'delete';
}

function tagText(tags: readonly string[]): string {
  return tags.length === 0 ? '(untagged)' : tags.join(', ');
}

/** One block per repository: its images newest first with fate and reason, then its notes. */
export function formatPlanDetail(report: Report, options: PlanDetailOptions = {}): string {
  const nowMs = Date.parse(report.startedAt);
  const blocks = report.registries.flatMap((registry) =>
    registry.repositories
      .filter((repository) => !options.deletedOnly || repository.deleted.length > 0)
      .map((repository) => repositoryBlock(registry.name, repository, nowMs, report.dryRun, options).join('\n')),
  );
  if (blocks.length === 0) return '';
  const title = options.deletedOnly ? [report.dryRun ? 'Would delete:' : 'Deleted:', ''] : [];
  return [...title, blocks.join('\n\n')].join('\n') + '\n\n';
}
