/** The trend of bytes and cost over recorded runs, for the Markdown and HTML reports. */
import type { HistoryEntry } from './entry.js';

export interface TrendPoint {
  readonly at: string;
  readonly dryRun: boolean;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly costBefore: number | null;
  readonly costAfter: number | null;
}

export interface Trend {
  readonly points: readonly TrendPoint[];
  /** Change in stored bytes (before) from the first point to the last; null with fewer than 2 points. */
  readonly bytesChange: number | null;
  readonly costChange: number | null;
  readonly currency: string | null;
}

/** How many of the most recent runs a report charts. */
export const TREND_POINTS = 30;

/** The last `limit` runs in time order, with the change from the first to the last. */
export function trendOf(entries: readonly HistoryEntry[], limit = TREND_POINTS): Trend {
  const points = [...entries]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .slice(-limit)
    .map((entry) => ({
      at: entry.at,
      dryRun: entry.dryRun,
      bytesBefore: entry.totals.bytesBefore,
      bytesAfter: entry.totals.bytesAfter,
      costBefore: entry.totals.costBefore,
      costAfter: entry.totals.costAfter,
    }));
  const first = points[0];
  const last = points[points.length - 1];
  const comparable = first !== undefined && last !== undefined && points.length >= 2;
  const currencies = new Set(entries.slice(-limit).map((entry) => entry.totals.currency));
  return {
    points,
    bytesChange: comparable ? last.bytesBefore - first.bytesBefore : null,
    costChange:
      comparable && first.costBefore !== null && last.costBefore !== null && currencies.size === 1
        ? last.costBefore - first.costBefore
        : null,
    currency: currencies.size === 1 ? ([...currencies][0] ?? null) : null,
  };
}
