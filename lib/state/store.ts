/**
 * Durable state behind one small interface: records under '/'-separated keys, written with
 * compare-and-swap. Locks, run history and (later) journals, cursors and caches are all records.
 * Backends (a local directory, an Azure Blob container, an S3 bucket) prove themselves by passing one
 * contract suite (test/unit/state-contract.test.ts). docs/design.md, "State store".
 */
import { createHash } from 'node:crypto';
import { describeError, StateConflictError, StateUnavailableError } from '../errors.js';

/** A record as read: its bytes and an opaque version that changes whenever the record is written. */
export interface StateRecord {
  readonly value: Uint8Array;
  /** Opaque (an ETag, a write id); compare only for equality and pass back to `replace`/`delete`. */
  readonly version: string;
}

/** The outcome of a conditional write: the new version, or a lost compare-and-swap. */
export type StateWrite = { readonly ok: true; readonly version: string } | { readonly ok: false };

/** The outcome of a delete: `ok: false` when the record changed (or vanished) since `version` was read. */
export type StateDelete = { readonly ok: boolean };

export interface StateStore {
  /** Where the records live, for messages (`/home/me/.cache/regprune`, `s3://bucket/`). */
  readonly location: string;
  /** The record at `key`, or null when there is none. */
  read(key: string): Promise<StateRecord | null>;
  /** Writes `key` only if it does not exist; `ok: false` when it does (someone else created it). */
  create(key: string, value: Uint8Array | string): Promise<StateWrite>;
  /** Writes `key` only if its version is still `version`; `ok: false` when it changed or vanished. */
  replace(key: string, value: Uint8Array | string, version: string): Promise<StateWrite>;
  /**
   * Deletes `key`. With `version`, only if unchanged (`ok: false` otherwise, also when it is gone);
   * without, unconditionally, and deleting a missing record is `ok: true`.
   */
  delete(key: string, version?: string): Promise<StateDelete>;
  /** Every key that starts with `prefix`, in lexicographic order (all pages). */
  list(prefix: string): Promise<string[]>;
}

/** One key segment: letters, digits and `._%-`; never `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9._%-]+$/;

/** Throws unless `key` is a '/'-separated path of plain segments, valid on every backend. */
export function assertStateKey(key: string): void {
  const segments = key.split('/');
  const bad = segments.find((segment) => !SEGMENT.test(segment) || segment === '.' || segment === '..');
  if (bad !== undefined || key.length > 512) {
    throw new Error(
      `invalid state key "${key}": use '/'-separated segments of letters, digits and ._%- ` +
        '(encode free text with keySegment())',
    );
  }
}

/** Throws unless `prefix` is empty or a key prefix (segments may be partial; no `..`). */
export function assertStatePrefix(prefix: string): void {
  if (prefix === '') return;
  assertStateKey(prefix.endsWith('/') ? `${prefix}x` : prefix);
}

/** Encodes free text (a registry host with a port, a repository) as one key segment. */
export function keySegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The key suffix of records kept per `repository` glob (a narrowed run's cursor, its continuation
 * marker): `.scope-` and 16 hex digits of the glob's SHA-256; empty for the whole registry.
 */
export function scopeSuffix(glob: string | undefined): string {
  return glob === undefined ? '' : `.scope-${createHash('sha256').update(glob).digest('hex').slice(0, 16)}`;
}

/** UTF-8 bytes of a string value; bytes as given. */
export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}

/** A JSON record as read. */
export interface JsonRecord {
  readonly value: unknown;
  readonly version: string;
}

/** Reads `key` and parses it as JSON (still `unknown`: parse it with zod at the caller). */
export async function readJson(store: StateStore, key: string): Promise<JsonRecord | null> {
  const record = await store.read(key);
  if (record === null) return null;
  return { value: JSON.parse(new TextDecoder().decode(record.value)), version: record.version };
}

/** Creates `key` as JSON; throws StateConflictError when it already exists. Returns the version. */
export async function createJson(store: StateStore, key: string, value: unknown): Promise<string> {
  return versionOrThrow(key, await store.create(key, JSON.stringify(value)));
}

/** Replaces `key` as JSON if still at `version`; throws StateConflictError otherwise. Returns the new version. */
export async function replaceJson(store: StateStore, key: string, value: unknown, version: string): Promise<string> {
  return versionOrThrow(key, await store.replace(key, JSON.stringify(value), version));
}

/** The new version of a won write, or StateConflictError for a lost one. */
export function versionOrThrow(key: string, write: StateWrite): string {
  if (!write.ok) throw new StateConflictError(key);
  return write.version;
}

/** A backend's failure to reach its store: what failed, where, why, and the backend's own fix (`hint`). */
export function stateFailure(
  what: string,
  key: string,
  location: string,
  error: unknown,
  hint: string,
): StateUnavailableError {
  return new StateUnavailableError(
    `cannot ${what} state record ${key} in ${location}: ${describeError(error)}; ${hint}`,
    {
      cause: error,
    },
  );
}
