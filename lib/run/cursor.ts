/**
 * The fair cursor (docs/design.md, "Fair cursor"): a run cut short by its time budget records, per
 * registry, the first repository it did not finish; the next run starts there and wraps around, so
 * a registry whose repositories outlast one run's budget is covered in consecutive runs, each
 * repository once, instead of its tail never being reached. One record per registry,
 * `cursor/<registry endpoint>.json`, written by the run that holds the registry's lock.
 */
import { z } from 'zod';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { keySegment, scopeSuffix, type StateStore } from '../state/store.js';

export const CURSOR_PREFIX = 'cursor/';

const CursorSchema = z.object({
  /** The repository the next run starts at. */
  repository: z.string().min(1),
  /** When the run that wrote it started (ISO 8601), for people reading the store. */
  savedAt: z.string(),
});

export type Cursor = z.infer<typeof CursorSchema>;

/**
 * The record key of a registry's cursor (`lockKey`: its normalized endpoint, like the run lock);
 * a run narrowed to a `repository` glob keeps a cursor of its own for that glob.
 */
export function cursorKey(lockKey: string, scope?: string): string {
  return `${CURSOR_PREFIX}${keySegment(lockKey)}${scopeSuffix(scope)}.json`;
}

/**
 * The repository the last cut-short run stopped at, or null (no record, or one this version cannot
 * read: a warning, and the run starts at the beginning, which is safe, only less fair).
 */
export async function readCursor(
  store: StateStore,
  lockKey: string,
  log: Logger,
  scope?: string,
): Promise<string | null> {
  const key = cursorKey(lockKey, scope);
  try {
    const record = await store.read(key);
    if (record === null) return null;
    const parsed = CursorSchema.safeParse(JSON.parse(new TextDecoder().decode(record.value)));
    if (parsed.success) return parsed.data.repository;
    log.warn(`ignoring the unreadable cursor ${key} in ${store.location}: this run starts at the first repository`);
  } catch (error) {
    log.warn(`could not read the cursor ${key} (${describeError(error)}): this run starts at the first repository`);
  }
  return null;
}

/**
 * Records where the next run starts (`repository`), or clears the record when the run covered
 * everything (`null`). A failure is a warning: the next run then starts at the beginning.
 */
export async function writeCursor(
  store: StateStore,
  lockKey: string,
  repository: string | null,
  savedAt: Date,
  log: Logger,
  scope?: string,
): Promise<void> {
  const key = cursorKey(lockKey, scope);
  try {
    if (repository === null) {
      await store.delete(key);
      return;
    }
    const value = JSON.stringify({ repository, savedAt: savedAt.toISOString() } satisfies Cursor);
    const existing = await store.read(key);
    // The run holds the registry's lock: no other writer; create-or-replace is enough.
    const write =
      existing === null ? await store.create(key, value) : await store.replace(key, value, existing.version);
    if (!write.ok) log.warn(`the cursor ${key} changed while this run wrote it; the next run may start elsewhere`);
  } catch (error) {
    log.warn(`could not record the cursor ${key} (${describeError(error)}): the next run starts at the beginning`);
  }
}

/**
 * The order a run works through `names` in: from the cursor's repository on, then around from the
 * start. Where the cursor's repository is gone, from the first name that sorts after it.
 * Returns positions into `names`.
 */
export function rotatedOrder(names: readonly string[], cursor: string | null): number[] {
  const positions = names.map((_, index) => index);
  if (cursor === null || names.length === 0) return positions;
  let start = names.indexOf(cursor);
  if (start < 0) start = names.findIndex((name) => name > cursor);
  if (start <= 0) return positions;
  return [...positions.slice(start), ...positions.slice(0, start)];
}
