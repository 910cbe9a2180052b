/**
 * The inventory cache: per registry and repository, what never changes for a digest (a manifest's
 * bytes, a config blob's `created`), kept in the state store so that a repeat run reads no manifest
 * or config it already knows. docs/design.md, "Inventory cache".
 *
 * One record per repository (`cache/v1/<registry endpoint>/<repository>`): a run loads and writes one
 * repository at a time, so memory follows the largest repository, and runs against different
 * registries never write the same record. Records are written with compare-and-swap; a lost race is
 * merged and written again, so concurrent runs keep each other's entries. The cache only saves reads:
 * a manifest entry is checked against its digest before use, and where tags point is always asked
 * afresh, so plans with and without it are the same.
 */
import { z } from 'zod';
import { mapConcurrent } from '../concurrency.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { CachedManifest, InventoryCachePort, RepositoryCache } from '../providers/provider.js';
import { keySegment, type StateStore } from '../state/store.js';

/** Key prefix of every cache record. */
export const CACHE_PREFIX = 'cache/v1/';
/** Entries not used for this many listings of their repository are dropped (the cache stays bounded). */
export const DEFAULT_MAX_IDLE_RUNS = 10;
/** A registry without a referrers API is asked again after this many listings (it may have been upgraded). */
export const REFERRERS_RECHECK_RUNS = 7;
/** Compare-and-swap attempts before a save gives up (with a warning; the next run writes again). */
const SAVE_ATTEMPTS = 5;
/** Stale records deleted at once: a few requests to the state store, not thousands one after another. */
const FORGET_CONCURRENCY = 8;

const ManifestEntrySchema = z.object({ m: z.string(), b: z.string(), s: z.number().int() });
const ConfigEntrySchema = z.object({ c: z.string().optional(), s: z.number().int() });
const RecordSchema = z.object({
  version: z.literal(1),
  /** How many cached listings of this repository there have been. */
  run: z.number().int().nonnegative(),
  manifests: z.record(z.string(), ManifestEntrySchema),
  configs: z.record(z.string(), ConfigEntrySchema),
  /** The run at which the registry answered that it has no referrers API. */
  referrersUnsupportedAt: z.number().int().optional(),
});
type CacheRecord = z.infer<typeof RecordSchema>;

export interface InventoryCacheOptions {
  readonly store: StateStore;
  /** The registry's normalized endpoint (`lockKeyFor`): the cache is per registry, not per config name. */
  readonly registryKey: string;
  readonly maxIdleRuns?: number;
  readonly log?: Logger;
}

/** The state-store key of one repository's cache record. */
export function cacheKeyOf(registryKey: string, repository: string): string {
  return `${CACHE_PREFIX}${keySegment(registryKey)}/${keySegment(repository)}`;
}

/** The inventory cache of one registry on a state store; hand it to the provider as its `cache`. */
export class InventoryCache implements InventoryCachePort {
  private readonly log: Logger;
  private readonly maxIdleRuns: number;

  constructor(private readonly options: InventoryCacheOptions) {
    this.log = options.log ?? silentLogger;
    this.maxIdleRuns = options.maxIdleRuns ?? DEFAULT_MAX_IDLE_RUNS;
  }

  /** Loads one repository's record. A record that cannot be read or parsed is rebuilt, with a warning. */
  async open(repository: string): Promise<RepositoryCache> {
    const key = cacheKeyOf(this.options.registryKey, repository);
    const loaded = await this.load(key);
    return new RepositoryCacheRecord({
      store: this.options.store,
      key,
      log: this.log,
      maxIdleRuns: this.maxIdleRuns,
      ...loaded,
    });
  }

  /**
   * Drops the records of repositories the registry no longer has: `listed` is every repository of a
   * complete, unnarrowed catalog listing (matched by a rule or not). Returns how many records went.
   * A failure is a warning: the records stay (they only take space), the next run tries again. So is
   * `shouldStop` (the time budget, the host's stop): the rest go in a later run. After a team deleted
   * thousands of repositories one run would otherwise spend minutes past its budget on this.
   */
  async forgetAllBut(listed: Iterable<string>, shouldStop: () => boolean = () => false): Promise<number> {
    const { store, registryKey } = this.options;
    const present = new Set<string>();
    for (const repository of listed) present.add(cacheKeyOf(registryKey, repository));
    let forgotten = 0;
    let stopped = false;
    try {
      const stale = (await store.list(`${CACHE_PREFIX}${keySegment(registryKey)}/`)).filter((key) => !present.has(key));
      await mapConcurrent(stale, FORGET_CONCURRENCY, async (key) => {
        if (stopped || shouldStop()) {
          stopped = true;
          return;
        }
        await store.delete(key);
        forgotten++;
      });
      if (stopped) {
        this.log.warn(
          `dropped ${forgotten} of ${stale.length} inventory cache records of deleted repositories before the ` +
            'run had to stop (time budget or a stop signal); the next complete run drops the rest',
        );
      }
    } catch (error) {
      this.log.warn(
        `could not drop the inventory cache of deleted repositories in ${store.location} (${describeError(error)}); ` +
          'the next complete run tries again',
      );
    }
    return forgotten;
  }

  private async load(key: string): Promise<{ record: CacheRecord | null; version: string | null; usable: boolean }> {
    let stored: Awaited<ReturnType<StateStore['read']>>;
    try {
      stored = await this.options.store.read(key);
    } catch (error) {
      this.log.warn(
        `inventory cache ${key} in ${this.options.store.location} cannot be read (${describeError(error)}); this ` +
          'listing reads every manifest from the registry and does not update the cache',
      );
      return { record: null, version: null, usable: false };
    }
    if (stored === null) return { record: null, version: null, usable: true };
    const record = parseRecord(stored.value);
    if (record === null) {
      this.log.warn(
        `inventory cache ${key} in ${this.options.store.location} is corrupt; it is rebuilt from the registry ` +
          '(this listing reads every manifest again)',
      );
    }
    return { record, version: stored.version, usable: true };
  }
}

/** Parses a stored record; null when it is not one (truncated, hand-edited, another version). */
function parseRecord(bytes: Uint8Array): CacheRecord | null {
  try {
    const parsed = RecordSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function emptyRecord(): CacheRecord {
  return { version: 1, run: 0, manifests: {}, configs: {} };
}

/** One repository's cache during one listing: reads from the loaded record, collects what is new. */
class RepositoryCacheRecord implements RepositoryCache {
  readonly known: boolean;
  private readonly record: CacheRecord;
  private readonly run: number;
  private version: string | null;

  constructor(
    private readonly context: {
      readonly store: StateStore;
      readonly key: string;
      readonly log: Logger;
      readonly maxIdleRuns: number;
      readonly record: CacheRecord | null;
      readonly version: string | null;
      readonly usable: boolean;
    },
  ) {
    this.known = context.record !== null && context.record.run > 0;
    this.record = context.record ?? emptyRecord();
    this.run = this.record.run + 1;
    this.version = context.version;
  }

  manifest(digest: string): CachedManifest | undefined {
    const entry = this.record.manifests[digest];
    if (entry === undefined) return undefined;
    entry.s = this.run;
    return { mediaType: entry.m, body: entry.b };
  }

  rememberManifest(digest: string, manifest: CachedManifest): void {
    this.record.manifests[digest] = { m: manifest.mediaType, b: manifest.body, s: this.run };
  }

  config(digest: string): { readonly created: string | undefined } | undefined {
    const entry = this.record.configs[digest];
    if (entry === undefined) return undefined;
    entry.s = this.run;
    return { created: entry.c };
  }

  rememberConfig(digest: string, created: string | undefined): void {
    this.record.configs[digest] = { ...(created !== undefined ? { c: created } : {}), s: this.run };
  }

  referrersUnsupported(): boolean {
    const at = this.record.referrersUnsupportedAt;
    return at !== undefined && this.run - at < REFERRERS_RECHECK_RUNS;
  }

  rememberReferrers(supported: boolean): void {
    if (supported) delete this.record.referrersUnsupportedAt;
    else if (!this.referrersUnsupported()) this.record.referrersUnsupportedAt = this.run;
  }

  async save(): Promise<void> {
    const { store, key, log } = this.context;
    // An unreadable store is not written (it would only fail again). Every listing writes, even one
    // that learned nothing: the run count it advances is what ages unused entries out.
    if (!this.context.usable) return;
    let mine = this.pruned({ ...this.record, run: this.run });
    try {
      for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
        const body = JSON.stringify(mine);
        const write =
          this.version === null ? await store.create(key, body) : await store.replace(key, body, this.version);
        if (write.ok) {
          this.version = write.version;
          return;
        }
        // Someone else wrote it since we read it: keep both sides' entries and try again.
        const theirs = await store.read(key);
        this.version = theirs?.version ?? null;
        const parsed = theirs === null ? null : parseRecord(theirs.value);
        mine = parsed === null ? mine : this.pruned(merge(mine, parsed));
      }
      log.warn(`inventory cache ${key}: ${SAVE_ATTEMPTS} concurrent writers in a row; not updated this run`);
    } catch (error) {
      log.warn(
        `inventory cache ${key} in ${store.location} cannot be written (${describeError(error)}); the next run ` +
          'reads the manifests this one read again',
      );
    }
  }

  /** Drops entries not used in the last `maxIdleRuns` listings. */
  private pruned(record: CacheRecord): CacheRecord {
    const oldest = record.run - this.context.maxIdleRuns;
    const keep = <T extends { s: number }>(entries: Record<string, T>) =>
      Object.fromEntries(Object.entries(entries).filter(([, entry]) => entry.s > oldest));
    return { ...record, manifests: keep(record.manifests), configs: keep(record.configs) };
  }
}

/** Both records' entries, each at its latest use; the higher run count. */
function merge(mine: CacheRecord, theirs: CacheRecord): CacheRecord {
  const latest = <T extends { s: number }>(a: Record<string, T>, b: Record<string, T>) => {
    const out: Record<string, T> = { ...b };
    for (const [digest, entry] of Object.entries(a)) {
      const other = out[digest];
      if (other === undefined || other.s <= entry.s) out[digest] = entry;
    }
    return out;
  };
  const unsupportedAt = mine.referrersUnsupportedAt ?? theirs.referrersUnsupportedAt;
  return {
    version: 1,
    run: Math.max(mine.run, theirs.run),
    manifests: latest(mine.manifests, theirs.manifests),
    configs: latest(mine.configs, theirs.configs),
    ...(unsupportedAt !== undefined ? { referrersUnsupportedAt: unsupportedAt } : {}),
  };
}

/** The manifest bytes as cacheable text, or undefined when they are not exact UTF-8 (such a manifest is not cached). */
export function manifestText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
