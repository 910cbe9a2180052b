/** `regprune plan`'s listing: every image of every repository, kept (and why) or to be deleted. */
import type { Report, RepositoryReport } from './types.js';

function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

function tagList(tags: readonly string[]): string {
  return tags.length === 0 ? '(untagged)' : tags.join(', ');
}

function repositoryLines(registry: string, repository: RepositoryReport): string[] {
  const lines = [`${registry}/${repository.name}`];
  if (repository.error !== undefined) return [...lines, `  error: ${repository.error}`];
  for (const entry of repository.kept)
    lines.push(`  keep    ${shortDigest(entry.digest)}  ${tagList(entry.tags)}  (${entry.reason})`);
  for (const entry of repository.deleted) lines.push(`  delete  ${shortDigest(entry.digest)}  ${tagList(entry.tags)}`);
  for (const warning of repository.warnings) lines.push(`  note: ${warning}`);
  return lines;
}

/** One block per repository: keep/delete lines, then its warnings. */
export function formatPlanDetail(report: Report): string {
  const blocks = report.registries.flatMap((registry) =>
    registry.repositories.map((repository) => repositoryLines(registry.name, repository).join('\n')),
  );
  return blocks.length === 0 ? '' : blocks.join('\n\n') + '\n\n';
}
