/** Appends a run to its history and returns every recorded run, for the trend. */
import type { Logger } from '../log.js';
import { historyEntryOf, type HistoryEntry, type ReportWithStorage } from './entry.js';
import type { HistoryStore } from './store.js';

/** Reads the history, appends this run's summary, and returns the history including it. */
export async function recordRun(store: HistoryStore, report: ReportWithStorage, log?: Logger): Promise<HistoryEntry[]> {
  const { entries, skipped } = await store.read();
  for (const line of skipped) log?.warn(`history ${line}`);
  const entry = historyEntryOf(report);
  await store.append(entry);
  return [...entries, entry];
}
