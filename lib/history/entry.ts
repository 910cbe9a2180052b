/** One line of the history file: a run's summary, small enough to keep thousands of them. */
import { z } from 'zod';
import type { CostSection } from '../cost/types.js';
import type { Report } from '../report/types.js';
import type { StorageSection } from '../storage/types.js';

const bytes = z.number().int().min(0);
const money = z.number().nullable();

const RegistrySummarySchema = z.looseObject({
  name: z.string(),
  provider: z.string(),
  bytesBefore: bytes,
  bytesAfter: bytes,
  bytesReclaimed: bytes,
  costBefore: money,
  costAfter: money,
});

/** Loose objects: a newer regprune may add fields; an older one still reads the line. */
export const HistoryEntrySchema = z.looseObject({
  version: z.literal(1),
  /** When the run finished (ISO 8601). */
  at: z.string().refine((text) => !Number.isNaN(Date.parse(text)), { error: 'expected an ISO 8601 time' }),
  dryRun: z.boolean(),
  complete: z.boolean(),
  totals: z.looseObject({
    repositories: z.number().int().min(0),
    imagesBefore: z.number().int().min(0),
    deleted: z.number().int().min(0),
    failed: z.number().int().min(0),
    bytesBefore: bytes,
    bytesAfter: bytes,
    bytesReclaimed: bytes,
    bytesUntagged: bytes,
    accuracy: z.enum(['exact', 'estimate']),
    currency: z.string().nullable(),
    costBefore: money,
    costAfter: money,
    costSaved: money,
  }),
  registries: z.array(RegistrySummarySchema),
});

export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** A report with the optional storage and cost sections. */
export type ReportWithStorage = Report & { readonly storage?: StorageSection; readonly cost?: CostSection };

/** The summary of a run that the history file keeps. */
export function historyEntryOf(report: ReportWithStorage): HistoryEntry {
  const storage = report.storage;
  const cost = report.cost;
  const totals = storage?.totals;
  return {
    version: 1,
    at: report.finishedAt,
    dryRun: report.dryRun,
    complete: report.complete,
    totals: {
      repositories: report.totals.repositories,
      imagesBefore: report.totals.imagesBefore,
      deleted: report.totals.deleted,
      failed: report.totals.failed,
      bytesBefore: totals?.bytesBefore ?? report.totals.bytesBefore,
      bytesAfter: totals?.bytesAfter ?? Math.max(0, report.totals.bytesBefore - report.totals.bytesReclaimed),
      bytesReclaimed: totals?.bytesReclaimed ?? report.totals.bytesReclaimed,
      bytesUntagged: totals?.bytesUntagged ?? 0,
      accuracy: totals?.accuracy ?? 'estimate',
      currency: cost?.currency ?? null,
      costBefore: cost?.totals?.before ?? null,
      costAfter: cost?.totals?.after ?? null,
      costSaved: cost?.totals?.saved ?? null,
    },
    registries: (storage?.registries ?? []).map((registry) => {
      const registryCost = cost?.registries.find((candidate) => candidate.name === registry.name);
      return {
        name: registry.name,
        provider: registry.provider,
        bytesBefore: registry.bytes.before,
        bytesAfter: registry.bytes.after,
        bytesReclaimed: registry.bytes.reclaimed,
        costBefore: registryCost?.monthly.before ?? null,
        costAfter: registryCost?.monthly.after ?? null,
      };
    }),
  };
}
