/**
 * Where run summaries are kept. `HistoryStore` is the seam: a JSON Lines file now; an Azure blob
 * (append blob) or an S3 object (read, append, conditional put with If-Match) for the functions
 * later. A store only appends and reads; it never rewrites a past line.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError } from '../errors.js';
import { formatIssues } from '../config/load.js';
import { HistoryEntrySchema, type HistoryEntry } from './entry.js';

export interface HistoryRead {
  /** Entries in file order (oldest first). */
  readonly entries: HistoryEntry[];
  /** Lines that could not be read, each `where: why`; they are skipped, never fatal. */
  readonly skipped: string[];
}

export interface HistoryStore {
  /** Where the history lives, for messages (`history.jsonl`, `https://…/history.jsonl`). */
  readonly location: string;
  /** Adds one run's summary after the others. */
  append(entry: HistoryEntry): Promise<void>;
  /** Every readable entry, oldest first. */
  read(): Promise<HistoryRead>;
}

/** History in a local JSON Lines file: one summary per line, appended with O_APPEND. */
export class FileHistoryStore implements HistoryStore {
  constructor(readonly location: string) {}

  async append(entry: HistoryEntry): Promise<void> {
    const line = `${JSON.stringify(HistoryEntrySchema.parse(entry))}\n`;
    try {
      await mkdir(dirname(this.location), { recursive: true });
      // One write of one line: concurrent appenders interleave whole lines, never parts of them.
      await appendFile(this.location, line, { encoding: 'utf8', flag: 'a' });
    } catch (error) {
      throw new Error(
        `cannot append to history file ${this.location}: ${describeError(error)}; check the path given to --history`,
        {
          cause: error,
        },
      );
    }
  }

  async read(): Promise<HistoryRead> {
    let text: string;
    try {
      text = await readFile(this.location, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: [] };
      throw new Error(
        `cannot read history file ${this.location}: ${describeError(error)}; check the path given to --history`,
        {
          cause: error,
        },
      );
    }
    return parseHistoryLines(text, this.location);
  }
}

/** Parses JSON Lines; a bad line (a torn write, a hand edit) is reported and skipped. */
export function parseHistoryLines(text: string, location: string): HistoryRead {
  const entries: HistoryEntry[] = [];
  const skipped: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${location}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped.push(`${where}: not JSON; skipped`);
      return;
    }
    const parsed = HistoryEntrySchema.safeParse(value);
    if (parsed.success) entries.push(parsed.data);
    else skipped.push(`${where}: ${formatIssues(parsed.error.issues, value).join('; ')}; skipped`);
  });
  return { entries, skipped };
}
