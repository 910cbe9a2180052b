/**
 * A finished repository's entry lists, held compressed until read (issue 12, "Memory").
 *
 * A report names every image it kept and deleted (docs/design.md, "Report"); at a million images
 * those entries are most of a run's heap (about 290 bytes each as objects, about 50 deflated). So
 * once a repository is finished, its `kept`, `deleted` and `pending` lists are stored as deflated
 * JSON and read back when asked for. They stay own, enumerable properties (getters), so
 * `JSON.stringify`, spreads and the renderers see ordinary arrays; a list read back is frozen,
 * because a change to it would not be kept.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RepositoryReport } from './types.js';

/** Lists shorter than this (over the three) cost more packed than as objects: they stay as they are. */
export const PACK_MIN_ENTRIES = 64;

const PACKED_KEYS = ['kept', 'deleted', 'pending'] as const;
type PackedKey = (typeof PACKED_KEYS)[number];
type Reader = () => readonly unknown[];

/** The readers of a packed report's lists, so that a copy made by `withReportFields` packs nothing twice. */
const readersOf = new WeakMap<RepositoryReport, ReadonlyMap<PackedKey, Reader>>();

/** `report` with its entry lists packed, or `report` itself when they are short. */
export function packEntries(report: RepositoryReport): RepositoryReport {
  if (readersOf.has(report)) return report;
  const entries = report.kept.length + report.deleted.length + report.pending.length;
  if (entries < PACK_MIN_ENTRIES) return report;
  const readers = new Map<PackedKey, Reader>(PACKED_KEYS.map((key) => [key, packedList(report[key])]));
  return build(report, {}, readers);
}

/**
 * A copy of `report` with `changes` (not its entry lists) applied, packed as `report` was: a spread
 * would read every list back and hold it as objects again.
 */
export function withReportFields(
  report: RepositoryReport,
  changes: Partial<Omit<RepositoryReport, PackedKey>>,
): RepositoryReport {
  const readers = readersOf.get(report);
  return readers === undefined ? { ...report, ...changes } : build(report, changes, readers);
}

/** Whether `report`'s entry lists are packed (for tests and the memory bench). */
export function isPacked(report: RepositoryReport): boolean {
  return readersOf.has(report);
}

/** The report's own keys in their order (so JSON output is unchanged), the lists as getters. */
function build(
  report: RepositoryReport,
  changes: Partial<RepositoryReport>,
  readers: ReadonlyMap<PackedKey, Reader>,
): RepositoryReport {
  const out = {};
  const keys = [...Object.keys(report), ...Object.keys(changes).filter((key) => !Object.hasOwn(report, key))];
  for (const key of keys) {
    const reader = readers.get(key as PackedKey);
    const descriptor: PropertyDescriptor =
      reader !== undefined
        ? { get: reader, enumerable: true, configurable: false }
        : {
            value: Object.hasOwn(changes, key) ? changes[key as keyof RepositoryReport] : Reflect.get(report, key),
            enumerable: true,
            writable: false,
            configurable: false,
          };
    Object.defineProperty(out, key, descriptor);
  }
  const packed = out as RepositoryReport;
  readersOf.set(packed, readers);
  return packed;
}

/**
 * The lists read back most recently, so that code reading one list again and again (a lookup per
 * image) inflates it once. A few, held strongly: weak references would not do, as a target read in
 * a synchronous loop (writing every repository's JSON) stays alive until that loop ends.
 */
const RECENT_LISTS = 4;
const recent: Array<{ readonly reader: Reader; readonly list: readonly unknown[] }> = [];

/**
 * A list as deflated JSON in a one-byte string (a heap string of exactly its size: a small Buffer
 * would pin an 8 KB pool slab), read back on demand.
 */
function packedList(values: readonly unknown[]): Reader {
  if (values.length === 0) {
    const empty = Object.freeze([]);
    return () => empty;
  }
  const packed = deflateRawSync(JSON.stringify(values), { level: 1 }).toString('latin1');
  const reader: Reader = () => {
    const at = recent.findIndex((entry) => entry.reader === reader);
    if (at >= 0) {
      const [held] = recent.splice(at, 1);
      recent.unshift(held!);
      return held!.list;
    }
    const list = Object.freeze(JSON.parse(inflateRawSync(Buffer.from(packed, 'latin1')).toString('utf8')) as unknown[]);
    recent.unshift({ reader, list });
    recent.length = Math.min(recent.length, RECENT_LISTS);
    return list;
  };
  return reader;
}
