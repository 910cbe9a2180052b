/**
 * A registry's `maxDeletions` on every host (docs/design.md, "Config"): a real run first plans the
 * same scope as a dry run, and a registry whose plan would delete more than its cap is not pruned
 * at all; the report says so and the run exits 1. The CLI's `--max-deletions` and its terminal
 * confirmation are in lib/cli/deletion-gate.ts.
 */
import type { Config, RegistryConfig } from '../config/schema.js';
import type { RegistryReport, Report } from '../report/types.js';

/** Whether any of these registries has a cap, so a real run must count first. */
export function hasDeletionCap(config: Config, names: readonly string[]): boolean {
  return config.registries.some((registry) => names.includes(registry.name) && registry.maxDeletions !== undefined);
}

/** Registry name → why it may not be pruned: its dry-run plan deletes more than its `maxDeletions`. */
export function registriesOverCap(preview: Report, config: Config): Map<string, string> {
  const over = new Map<string, string>();
  for (const registry of preview.registries) {
    const cap = config.registries.find((candidate) => candidate.name === registry.name)?.maxDeletions;
    if (cap === undefined) continue;
    const images = registry.repositories.reduce((sum, repository) => sum + repository.images.deleted, 0);
    if (images > cap) {
      over.set(
        registry.name,
        `nothing deleted in registry "${registry.name}": this run would delete ${images} images, more than its ` +
          `maxDeletions ${cap}; check with regprune plan, then raise maxDeletions or narrow the rules`,
      );
    }
  }
  return over;
}

/** The report entry of a registry the cap held back. */
export function cappedRegistryReport(registry: RegistryConfig, error: string): RegistryReport {
  return { name: registry.name, provider: registry.provider, repositories: [], error, apiCalls: 0 };
}
