/**
 * The summary's "in use" lines (docs/design.md, "In-use protection"): what each usage source found
 * or why it could not be read, and which images it keeps, by whom; long lists fold.
 */
import type { Report } from './types.js';
import { formatCount } from './units.js';

const MAX_IMAGE_LINES = 20;

/** No lines when the config has no `inUse:` sources. */
export function inUseLines(report: Report): string[] {
  const sources = report.inUse ?? [];
  if (sources.length === 0) return [];
  const lines = ['in use (read before listing):'];
  for (const source of sources) {
    const head = `  ${source.name} (${source.kind})`;
    if (source.error !== undefined) {
      const effect =
        source.onSourceError === 'fail'
          ? `nothing deleted in ${source.protects.join(', ')}`
          : 'the run went on without it (onSourceError: warn)';
      lines.push(`${head}: could not be read: ${source.error}; ${effect}`);
    } else {
      lines.push(
        `${head}: ${formatCount(source.references)} image references, ${formatCount(source.matched)} ` +
          `in these registries; ${formatCount(source.apiCalls)} API calls, ${(source.durationMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const kept: string[] = [];
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      for (const entry of repository.kept) {
        if (entry.reason !== 'in-use') continue;
        const tags = entry.tags.length > 0 ? ` (${entry.tags.join(', ')})` : '';
        const digest = entry.digest.slice(0, 'sha256:'.length + 12);
        kept.push(`  keeps ${registry.name}/${repository.name}@${digest}${tags}: ${(entry.usedBy ?? []).join('; ')}`);
      }
    }
  }
  lines.push(...kept.slice(0, MAX_IMAGE_LINES));
  if (kept.length > MAX_IMAGE_LINES) {
    lines.push(`  … ${formatCount(kept.length - MAX_IMAGE_LINES)} more images in use (--json lists every one)`);
  }
  return lines;
}
