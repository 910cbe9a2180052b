/** The JSON report, version 1 (DESIGN.md "Report"). Additive fields only within a version. */
import type { DeleteAction, LockAttribute } from '../model.js';
import type { ProviderKind } from '../providers/provider.js';
import type { KeepReason } from '../plan/types.js';
import type { StorageSection } from '../storage/types.js';
import type { CostSection } from '../cost/types.js';
import type { RunCaller } from '../run/caller.js';
import type { WhatIfSection } from './what-if.js';

/** When an image was pushed, its rank and its fate in words (additive to v1; lib/report/image-detail.ts). */
export interface EntryDetail {
  /** ISO 8601; null when the registry gave no push time. */
  readonly pushedAt?: string | null;
  /** 1 = newest of the tagged, unpinned images by the rule's `order`; absent for children, referrers, untagged. */
  readonly rank?: number;
  /** `pinned: latest`, `recent: 2 of 10`, `rank 12 > keep 10`, `follows index sha256:ab12…`. */
  readonly why?: string;
}

export interface KeptEntry extends EntryDetail {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly reason: KeepReason;
  /** For `locked`: which attributes lock it, on the image or a tag (additive to v1; ACR). */
  readonly locks?: readonly LockAttribute[];
  /** With reason `in-use`: who uses it, source and object (additive to v1; docs/design.md, "In-use protection"). */
  readonly usedBy?: readonly string[];
}

/** One usage source's reading in this run (additive to v1; docs/design.md, "In-use protection"). */
export interface InUseSourceReport {
  readonly name: string;
  readonly kind: 'kubernetes' | 'ecs' | 'lambda' | 'containerApps';
  /** Image references it found, and how many of them name a registry of this config. */
  readonly references: number;
  readonly matched: number;
  readonly apiCalls: number;
  readonly durationMs: number;
  /** Why it could not be read; with `onSourceError: fail` nothing was deleted in `protects`. */
  readonly error?: string;
  readonly onSourceError: 'fail' | 'warn';
  /** The registries (config names) it can protect. */
  readonly protects: readonly string[];
}

export interface DeletedEntry extends EntryDetail {
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
  /** A move lost on a registry that cannot say where it went: the digests it may have moved onto (additive). */
  readonly candidates?: string[];
  /** Where the tag was put back instead (where it pointed before the move), so it resolves and pulls (additive). */
  readonly putBackOnto?: string;
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
  /**
   * Archived images (ECR archive storage class) in the listing and their registry-reported bytes,
   * priced apart from active storage; absent when there are none (additive to v1; rule 16).
   */
  readonly archived?: ArchivedCount;
  /** Tags, manifests, unique blobs and bytes before the run and after it (additive to v1). */
  readonly footprint?: { readonly before: Footprint; readonly after: Footprint };
}

/** Archived images and their bytes (rule 16): counted apart, their storage is priced differently. */
export interface ArchivedCount {
  readonly images: number;
  readonly bytes: number;
  /** Of those, deleted by this run (only under `archived: delete`; in a dry run: would be). */
  readonly deleted: number;
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
  /** Repositories a rule matched (and the run examined). */
  repositories: number;
  /**
   * Repositories the byte figures cover, when `storage` is present: `regprune report` also counts the
   * ones no rule matches, so `bytesBefore` may cover more than `repositories` (additive to v1).
   */
  repositoriesAccounted?: number;
  imagesBefore: number;
  kept: number;
  deleted: number;
  failed: number;
  pending: number;
  bytesBefore: number;
  bytesReclaimed: number;
  apiCalls: number;
  /** Archived images and their bytes over every repository; absent when none (additive to v1). */
  archivedImages?: number;
  archivedBytes?: number;
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
  /** Who started the run: a schedule, an Entra principal, an IAM principal (additive to v1; lib/run/caller.ts). */
  readonly caller?: RunCaller;
  /** The usage sources read for in-use protection, what each found and cost (additive to v1). */
  readonly inUse?: readonly InUseSourceReport[];
  /** What each `keep` value would reclaim (`report --what-if`; additive to v1; lib/report/what-if.ts). */
  readonly whatIf?: WhatIfSection;
}
