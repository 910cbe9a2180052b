/** What both renderers show, worked out once from a report (and its history). */
import type { RegistryCost } from '../cost/types.js';
import { trendOf, type HistoryEntry, type Trend } from '../history/index.js';
import type { Report } from '../report/types.js';
import type { Accuracy, ImageSummary } from '../storage/types.js';
import { formatPrice } from './format.js';

export interface RenderOptions {
  /** Which command produced the report: `report` plans only. Default: `prune`. */
  readonly command?: 'report' | 'prune' | 'plan';
  /** Recorded runs (including this one) for the trend; omitted = no trend section. */
  readonly history?: readonly HistoryEntry[];
  /** How many repositories to list and chart (largest first); default 20. */
  readonly topRepositories?: number;
}

export interface RegistryRow {
  readonly name: string;
  readonly provider: string;
  readonly dedupScope: string;
  readonly accuracy: Accuracy;
  readonly before: number;
  readonly after: number;
  readonly reclaimed: number;
  readonly untagged: number;
  readonly cost: RegistryCost | null;
  readonly error: string | null;
}

export interface RepositoryRow {
  readonly registry: string;
  readonly name: string;
  readonly images: { before: number; kept: number; deleted: number; failed: number };
  /** Unique bytes this repository references (shared blobs in full). */
  readonly bytes: number;
  /** Its apportioned share of the registry, before and after. */
  readonly attributed: number;
  readonly after: number;
  readonly reclaimed: number;
  readonly untagged: number;
  readonly accuracy: Accuracy;
  readonly costBefore: number | null;
  readonly costSaved: number | null;
}

export interface OldestRow extends ImageSummary {
  readonly fate: 'deleted' | 'would delete' | 'failed' | null;
}

export interface ReportView {
  readonly title: string;
  readonly subtitle: string;
  /** `would reclaim` for a dry run or `regprune report`, `reclaimed` for a real run. */
  readonly reclaimVerb: string;
  /** Heading of the deleted-images column: `Would delete` or `Deleted`. */
  readonly deleteHeading: string;
  readonly totals: {
    readonly before: number;
    readonly after: number;
    readonly reclaimed: number;
    readonly untagged: number;
    readonly accuracy: Accuracy;
    readonly images: number;
    readonly deleted: number;
    readonly failed: number;
    readonly repositories: number;
  };
  readonly currency: string | null;
  readonly cost: { before: number; after: number; saved: number; fixedMonthly: number } | null;
  readonly registries: readonly RegistryRow[];
  /** Largest first, by apportioned bytes; at most `topRepositories`. */
  readonly repositories: readonly RepositoryRow[];
  /** How many repositories exist in all (the list may be cut). */
  readonly repositoryCount: number;
  /** With what this run did to each: `deleted`, `would delete`, `failed`, or null (still there). */
  readonly oldest: readonly OldestRow[];
  /** One line per registry: the prices used and their source. */
  readonly prices: readonly string[];
  readonly costMethod: string | null;
  readonly notes: readonly string[];
  readonly trend: Trend | null;
}

const DEFAULT_TOP = 20;

/** Builds the view both renderers draw. */
export function reportView(report: Report, options: RenderOptions = {}): ReportView {
  const command = options.command ?? 'prune';
  const planned = command !== 'prune' || report.dryRun;
  const storage = report.storage;
  const cost = report.cost;
  const registries: RegistryRow[] = report.registries.map((registry) => {
    const accounted = storage?.registries.find((candidate) => candidate.name === registry.name);
    const before = accounted?.bytes.before ?? sum(registry.repositories.map((repository) => repository.bytes.before));
    const reclaimed =
      accounted?.bytes.reclaimed ?? sum(registry.repositories.map((repository) => repository.bytes.reclaimed));
    return {
      name: registry.name,
      provider: registry.provider,
      dedupScope: accounted?.dedupScope ?? '–',
      accuracy: accounted?.accuracy ?? 'estimate',
      before,
      after: accounted?.bytes.after ?? Math.max(0, before - reclaimed),
      reclaimed,
      untagged: accounted?.bytes.untagged ?? 0,
      cost: cost?.registries.find((candidate) => candidate.name === registry.name) ?? null,
      error: registry.error ?? null,
    };
  });

  const repositories: RepositoryRow[] = report.registries.flatMap((registry) => {
    const accounted = storage?.registries.find((candidate) => candidate.name === registry.name);
    const registryCost = cost?.registries.find((candidate) => candidate.name === registry.name);
    return registry.repositories.map((repository) => {
      const bytes = accounted?.repositories.find((candidate) => candidate.name === repository.name);
      const repositoryCost = registryCost?.repositories.find((candidate) => candidate.name === repository.name);
      return {
        registry: registry.name,
        name: repository.name,
        images: {
          before: repository.images.before,
          kept: repository.images.kept,
          deleted: repository.images.deleted,
          failed: repository.images.failed,
        },
        bytes: bytes?.bytes.before ?? repository.bytes.before,
        attributed: bytes?.bytes.attributed ?? repository.bytes.before,
        after: bytes?.bytes.after ?? Math.max(0, repository.bytes.before - repository.bytes.reclaimed),
        reclaimed: bytes?.bytes.reclaimed ?? repository.bytes.reclaimed,
        untagged: bytes?.bytes.untagged ?? 0,
        accuracy: bytes?.accuracy ?? 'estimate',
        costBefore: repositoryCost?.monthly.before ?? null,
        costSaved: repositoryCost?.monthly.saved ?? null,
      };
    });
  });
  // Repositories listed only for accounting (`regprune report` lists those no rule matches).
  for (const accounted of storage?.registries ?? []) {
    const registryCost = cost?.registries.find((candidate) => candidate.name === accounted.name);
    for (const repository of accounted.repositories) {
      if (repositories.some((row) => row.registry === accounted.name && row.name === repository.name)) continue;
      const repositoryCost = registryCost?.repositories.find((candidate) => candidate.name === repository.name);
      repositories.push({
        registry: accounted.name,
        name: repository.name,
        images: {
          before: repository.images.before,
          kept: repository.images.after,
          deleted: repository.images.before - repository.images.after,
          failed: 0,
        },
        bytes: repository.bytes.before,
        attributed: repository.bytes.attributed,
        after: repository.bytes.after,
        reclaimed: repository.bytes.reclaimed,
        untagged: repository.bytes.untagged,
        accuracy: repository.accuracy,
        costBefore: repositoryCost?.monthly.before ?? null,
        costSaved: repositoryCost?.monthly.saved ?? null,
      });
    }
  }
  repositories.sort(
    (a, b) => b.attributed - a.attributed || compare(a.registry, b.registry) || compare(a.name, b.name),
  );

  const notes = [
    ...(storage?.registries.flatMap((registry) => registry.notes) ?? []),
    ...(cost?.registries.flatMap((registry) => registry.notes) ?? []),
    ...registries
      .filter((registry) => registry.error !== null)
      .map((registry) => `${registry.name}: ${registry.error}`),
  ];
  if (registries.some((registry) => registry.provider === 'oci') && !planned) {
    notes.push(
      'A self-hosted registry frees disk only after `garbage-collect` (Debian: `docker-registry garbage-collect ' +
        'CONFIG`).',
    );
  }

  const totals = {
    before: storage?.totals.bytesBefore ?? report.totals.bytesBefore,
    after: storage?.totals.bytesAfter ?? Math.max(0, report.totals.bytesBefore - report.totals.bytesReclaimed),
    reclaimed: storage?.totals.bytesReclaimed ?? report.totals.bytesReclaimed,
    untagged: storage?.totals.bytesUntagged ?? 0,
    accuracy: storage?.totals.accuracy ?? ('estimate' as const),
    // From the same rows as the tables, so the headline adds up to them (`report` lists unmatched ones too).
    images: sum(repositories.map((row) => row.images.before)),
    deleted: sum(repositories.map((row) => row.images.deleted)),
    failed: sum(repositories.map((row) => row.images.failed)),
    repositories: repositories.length,
  };
  const modeText =
    command === 'report'
      ? 'storage report (read-only: nothing was deleted)'
      : report.dryRun || command === 'plan'
        ? 'dry run (nothing was deleted)'
        : 'prune';
  return {
    title: 'regprune: registry storage and cost',
    subtitle:
      `${modeText} · ${report.finishedAt.slice(0, 16).replace('T', ' ')} ` +
      `UTC${report.complete ? '' : ' · stopped early: some deletions are pending'}`,
    reclaimVerb: planned ? 'would reclaim' : 'reclaimed',
    deleteHeading: planned ? 'Would delete' : 'Deleted',
    totals,
    currency: cost?.currency ?? null,
    cost: cost?.totals ?? null,
    registries,
    repositories: repositories.slice(0, options.topRepositories ?? DEFAULT_TOP),
    repositoryCount: repositories.length,
    oldest: (storage?.oldest ?? []).map((image) => ({ ...image, fate: fateOf(report, image, planned) })),
    prices: cost?.registries.map((registry) => describePrice(registry)) ?? [],
    costMethod: cost?.method ?? null,
    notes,
    trend: options.history && options.history.length > 0 ? trendOf(options.history) : null,
  };
}

/** What this run did to one of the oldest images: they are often the ones it deletes. */
function fateOf(report: Report, image: ImageSummary, planned: boolean): OldestRow['fate'] {
  const repository = report.registries
    .find((registry) => registry.name === image.registry)
    ?.repositories.find((candidate) => candidate.name === image.repository);
  if (repository === undefined) return null;
  if (repository.deleted.some((entry) => entry.digest === image.digest)) return planned ? 'would delete' : 'deleted';
  if (repository.failed.some((entry) => entry.digest === image.digest)) return 'failed';
  return null;
}

function describePrice(registry: RegistryCost): string {
  const price = registry.price;
  const currency = price.currency;
  const model = price.model;
  const figures =
    model.kind === 'per-gb-month'
      ? `${formatPrice(model.perGBMonth, currency)} per GB-month`
      : `ACR ${model.sku}${model.skuAssumed ? ' (assumed)' : ''}: ${model.includedGiB} GiB included, ` +
        `${formatPrice(model.overagePerGiBDay, currency)} per GiB-day beyond, registry fee ` +
        `${formatPrice(model.feePerDay, currency)}/day`;
  // A price from the config was not "checked" by regprune: the defaults' date belongs to the defaults only.
  const fromConfig = price.source.startsWith('config');
  const origin = fromConfig
    ? price.source.includes('defaults from')
      ? `source: ${price.source} (the defaults checked ${price.asOf})`
      : 'source: set in the config (pricing:)'
    : `source: ${price.source}, checked ${price.asOf}`;
  return `${registry.name} (${registry.provider}): ${figures}; ${origin}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
