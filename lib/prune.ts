/**
 * The one pipeline every entry point calls: for each configured registry and each repository a
 * rule matches, list → plan → execute → report.
 */
import type { Config, RegistryConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { Provider } from './providers/provider.js';
import type { Report } from './report/types.js';

export interface PruneOptions {
  readonly config: Config;
  /** The clock, read once by the entry point. */
  readonly now: Date;
  /** Overrides `config.dryRun`. `regprune plan` passes true. */
  readonly dryRun?: boolean;
  /** Only these registries (by config name). */
  readonly registries?: readonly string[];
  /** Only repositories matching this glob or /regex/ (and a config rule): narrows, never widens. */
  readonly repositories?: string;
  /** Builds a provider per registry; default `createProvider` from lib/providers. */
  readonly providerFor?: (registry: RegistryConfig) => Promise<Provider>;
  /**
   * Time left in the host's budget (Lambda, Functions, HTTP response limit), in ms. When it falls
   * under the safety margin, no new deletion starts; the rest is reported as `pending`.
   */
  readonly remainingMs?: () => number;
  readonly log?: Logger;
}

/** Runs the whole flow and returns the report; per-image failures are in the report, not thrown. */
export async function prune(options: PruneOptions): Promise<Report> {
  void options;
  throw new Error('prune: not implemented yet');
}
