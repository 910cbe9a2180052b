/**
 * Before a real `prune` deletes: the deletion caps (`--max-deletions`, a registry's `maxDeletions`)
 * and, in a terminal, a confirmation showing the counts. docs/cli.md, "Safety caps".
 */
import { createInterface } from 'node:readline/promises';
import type { Config } from '../config/schema.js';
import type { Report } from '../report/types.js';

/** What a preview (a dry run of the same scope) would delete, per registry. */
export interface DeletionCounts {
  readonly total: number;
  readonly bytes: number;
  readonly registries: ReadonlyArray<{ readonly name: string; readonly images: number; readonly repositories: number }>;
}

/** Counts a dry-run report's planned deletions. */
export function deletionCounts(report: Report): DeletionCounts {
  const registries = report.registries.map((registry) => ({
    name: registry.name,
    images: registry.repositories.reduce((sum, repository) => sum + repository.images.deleted, 0),
    repositories: registry.repositories.filter((repository) => repository.images.deleted > 0).length,
  }));
  const bytes = report.registries.reduce(
    (sum, registry) => sum + registry.repositories.reduce((inner, repository) => inner + repository.bytes.reclaimed, 0),
    0,
  );
  return { total: registries.reduce((sum, registry) => sum + registry.images, 0), bytes, registries };
}

export type GateDecision =
  | { readonly kind: 'proceed' }
  | { readonly kind: 'refuse'; readonly message: string }
  | { readonly kind: 'ask'; readonly question: string };

export interface GateInput {
  readonly counts: DeletionCounts;
  readonly config: Config;
  /** `--max-deletions`; undefined: only the config's caps. */
  readonly maxDeletions: number | undefined;
  /** `--yes`. */
  readonly yes: boolean;
  /** stdin and stderr are both terminals: someone is there to answer. */
  readonly interactive: boolean;
}

/** Whether a real run may go ahead: refused over a cap, asked in a terminal, else it proceeds. Pure. */
export function gateDecision(input: GateInput): GateDecision {
  const { counts, config } = input;
  if (input.maxDeletions !== undefined && counts.total > input.maxDeletions) {
    return {
      kind: 'refuse',
      message:
        `nothing deleted: this run would delete ${counts.total} images, more than --max-deletions ` +
        `${input.maxDeletions}; check with regprune plan, then raise --max-deletions or narrow the run ` +
        '(--repository, --registry, the rules)',
    };
  }
  for (const registry of counts.registries) {
    const cap = config.registries.find((candidate) => candidate.name === registry.name)?.maxDeletions;
    if (cap !== undefined && registry.images > cap) {
      return {
        kind: 'refuse',
        message:
          `nothing deleted: this run would delete ${registry.images} images in registry "${registry.name}", more ` +
          `than its maxDeletions ${cap} in the config; check with regprune plan, then raise maxDeletions or narrow ` +
          'the run',
      };
    }
  }
  if (counts.total === 0 || input.yes || !input.interactive) return { kind: 'proceed' };
  const perRegistry = counts.registries
    .filter((registry) => registry.images > 0)
    .map((registry) => `${registry.name}: ${registry.images} in ${registry.repositories} repositories`)
    .join('; ');
  return {
    kind: 'ask',
    question: `Delete ${counts.total} images (${perRegistry}; ${formatBytes(counts.bytes)})? [y/N] `,
  };
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]} reclaimed`;
}

/** Asks on the terminal; true only for an answer starting with y. */
export async function askOnTerminal(
  question: string,
  streams: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream },
): Promise<boolean> {
  const reader = createInterface({ input: streams.input, output: streams.output });
  try {
    const answer = await reader.question(question);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    reader.close();
  }
}
