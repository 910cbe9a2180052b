/** The JSON report, version 1 (DESIGN.md "Report"). Additive fields only within a version. */
import type { DeleteAction } from '../model.js';
import type { ProviderKind } from '../providers/provider.js';
import type { KeepReason } from '../plan/types.js';
import type { StorageSection } from '../storage/types.js';
import type { CostSection } from '../cost/types.js';
import type { WhatIfSection } from './what-if.js';

export interface KeptEntry {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly reason: KeepReason;
}

export interface DeletedEntry {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly action: DeleteAction;
}

/** A planned deletion left for the next run; `reason` when a stop (signal, lost lock) left it (additive to v1). */
export interface PendingEntry extends DeletedEntry {
  readonly reason?: string;
}

export interface FailedEntry {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly error: string;
}

/** A protected tag that vanished with a manifest the run deleted and was put back onto it (additive to v1). */
export interface RestoredTag {
  readonly tag: string;
  readonly digest: string;
}

/** A protected tag the run lost and could not put back (additive to v1): the run exits 1. */
export interface LostTag {
  readonly tag: string;
  /** Where it pointed last as far as the run knows; null when unknown. */
  readonly digest: string | null;
  readonly error: string;
}

/** What a repository occupies (additive to v1). Blobs are unique by digest. */
export interface Footprint {
  tags: number;
  manifests: number;
  blobs: number;
  bytes: number;
}

export interface RepositoryReport {
  readonly name: string;
  readonly images: { before: number; kept: number; deleted: number; failed: number; pending: number };
  readonly bytes: { before: number; reclaimed: number };
  readonly kept: KeptEntry[];
  /** In a dry run: what would be deleted. */
  readonly deleted: DeletedEntry[];
  readonly failed: FailedEntry[];
  /** Planned deletions not attempted (time budget, a stop); the next run picks them up. */
  readonly pending: PendingEntry[];
  readonly warnings: string[];
  /** Set when the repository could not be listed or re-verified; its deletions were not attempted. */
  readonly error?: string;
  /** Protected tags put back after a deletion took them (additive to v1; docs/design.md section 5). */
  readonly restoredTags?: RestoredTag[];
  /** Protected tags lost and not put back (additive to v1): the run exits 1. */
  readonly lostTags?: LostTag[];
  /** Tags, manifests, unique blobs and bytes before the run and after it (additive to v1). */
  readonly footprint?: { readonly before: Footprint; readonly after: Footprint };
}

export interface RegistryReport {
  readonly name: string;
  readonly provider: ProviderKind;
  readonly repositories: RepositoryReport[];
  /** Set when the registry as a whole failed (unreachable, auth); its repositories may be partial. */
  readonly error?: string;
  readonly apiCalls: number;
  /**
   * What this run finished (a dry run: would finish) of deletions interrupted runs left in the
   * journal, per repository; absent when the journal held nothing (additive to v1).
   */
  readonly journal?: JournalFinished[];
}

/** Deletions an interrupted run left in the journal, finished by this run in one repository. */
export interface JournalFinished {
  readonly repository: string;
  /** Deleted now (in a dry run: would be); a manifest already gone counts. */
  readonly finished: DeletedEntry[];
  /** Still on record: the next run tries again. */
  readonly failed: FailedEntry[];
  /** Followers struck off because something kept references them again, and re-checks that could not run. */
  readonly warnings: string[];
}

export interface ReportTotals {
  repositories: number;
  imagesBefore: number;
  kept: number;
  deleted: number;
  failed: number;
  pending: number;
  bytesBefore: number;
  bytesReclaimed: number;
  apiCalls: number;
}

export interface Report {
  readonly version: 1;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** False when the run stopped early (time budget) and left `pending` work for the next run. */
  readonly complete: boolean;
  readonly registries: RegistryReport[];
  readonly totals: ReportTotals;
  /** Why the run stopped before its end (`stopped by SIGINT`); absent when it was not stopped (additive to v1). */
  readonly stopped?: string;
  /** About the run as a whole, e.g. a registry skipped because another run held its lock (additive to v1). */
  readonly warnings?: readonly string[];
  /** Unique-blob bytes per registry and repository, exact or estimated (additive to v1; lib/storage). */
  readonly storage?: StorageSection;
  /** Monthly storage cost before, after and saved, and the prices used (additive to v1; lib/cost). */
  readonly cost?: CostSection;
  /** What each `keep` value would reclaim (`report --what-if`; additive to v1; lib/report/what-if.ts). */
  readonly whatIf?: WhatIfSection;
}
