/**
 * `StateStore` in a local directory, for the CLI. Each record is one file `<key>.rec` holding a
 * random write id on its first line and the value after it; the write id is the version, so it
 * changes on every write even when the bytes do not. Writes go to a temp file renamed into place
 * (readers never see half a record); compare-and-swap holds a per-key lock file created with
 * O_EXCL (`open(…, 'wx')`), so two processes racing on one key never both win.
 */
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { StateUnavailableError } from '../errors.js';
import {
  assertStateKey,
  assertStatePrefix,
  stateFailure,
  toBytes,
  type StateDelete,
  type StateRecord,
  type StateStore,
  type StateWrite,
} from './store.js';

const RECORD_SUFFIX = '.rec';
const LOCK_SUFFIX = '.lock';
/** A CAS holds its lock for a read and a rename; a lock this old was left by a killed process. */
export const LOCAL_STALE_LOCK_MS = 30_000;
/** How long a CAS waits for another process's lock before giving up. */
const LOCK_WAIT_MS = 10_000;

/** The CLI state directory: `--state`, `REGPRUNE_STATE`, else `$XDG_CACHE_HOME/regprune` or `~/.cache/regprune`. */
export function resolveStateDir(env: NodeJS.ProcessEnv, flag?: string, home: string = homedir()): string {
  const explicit = flag?.trim() || env.REGPRUNE_STATE?.trim();
  if (explicit) return explicit;
  const cache = env.XDG_CACHE_HOME?.trim();
  return join(cache ? cache : join(home, '.cache'), 'regprune');
}

export interface LocalStateStoreOptions {
  /** Age after which another process's CAS lock file is treated as abandoned. */
  readonly staleLockMs?: number;
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `StateStore` in a directory on local disk. */
export class LocalStateStore implements StateStore {
  private readonly staleLockMs: number;

  constructor(
    readonly location: string,
    options: LocalStateStoreOptions = {},
  ) {
    this.staleLockMs = options.staleLockMs ?? LOCAL_STALE_LOCK_MS;
  }

  private pathOf(key: string): string {
    assertStateKey(key);
    return join(this.location, ...key.split('/')) + RECORD_SUFFIX;
  }

  private unavailable(what: string, key: string, error: unknown): StateUnavailableError {
    return stateFailure(
      what,
      key,
      this.location,
      error,
      'check the directory given to --state or REGPRUNE_STATE is writable',
    );
  }

  async read(key: string): Promise<StateRecord | null> {
    const path = this.pathOf(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw this.unavailable('read', key, error);
    }
    const newline = bytes.indexOf(0x0a);
    if (newline < 0) throw this.unavailable('read', key, new Error('no version line; the file is not a record'));
    return { version: bytes.subarray(0, newline).toString('utf8'), value: new Uint8Array(bytes.subarray(newline + 1)) };
  }

  create(key: string, value: Uint8Array | string): Promise<StateWrite> {
    return this.underLock(key, 'create', async (path) => {
      if ((await this.read(key)) !== null) return { ok: false };
      return { ok: true, version: await this.write(path, value) };
    });
  }

  replace(key: string, value: Uint8Array | string, version: string): Promise<StateWrite> {
    return this.underLock(key, 'replace', async (path) => {
      if ((await this.read(key))?.version !== version) return { ok: false };
      return { ok: true, version: await this.write(path, value) };
    });
  }

  delete(key: string, version?: string): Promise<StateDelete> {
    return this.underLock(key, 'delete', async (path) => {
      if (version !== undefined && (await this.read(key))?.version !== version) return { ok: false };
      await rm(path, { force: true });
      return { ok: true };
    });
  }

  async list(prefix: string): Promise<string[]> {
    assertStatePrefix(prefix);
    // Walk only the deepest directory the prefix names completely.
    const directory = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return;
        throw this.unavailable('list', prefix, error);
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && entry.name.endsWith(RECORD_SUFFIX)) {
          const key = relative(this.location, path).split(sep).join('/').slice(0, -RECORD_SUFFIX.length);
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(join(this.location, ...directory.split('/').filter(Boolean)));
    return keys.sort();
  }

  /** Writes a new version to a temp file in the same directory and renames it over the record. */
  private async write(path: string, value: Uint8Array | string): Promise<string> {
    const version = randomUUID();
    const temp = `${path}.${version}.tmp`;
    const file = await open(temp, 'wx');
    try {
      await file.write(`${version}\n`);
      await file.write(toBytes(value));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    return version;
  }

  /** Runs `task` holding the key's O_EXCL lock file; one process at a time per key. */
  private async underLock<T>(key: string, what: string, task: (path: string) => Promise<T>): Promise<T> {
    const path = this.pathOf(key);
    const lockPath = `${path}${LOCK_SUFFIX}`;
    const started = Date.now();
    try {
      await mkdir(dirname(path), { recursive: true });
      for (let attempt = 0; ; attempt++) {
        try {
          const file = await open(lockPath, 'wx');
          await file.write(`${process.pid}\n`);
          await file.close();
          break;
        } catch (error) {
          if (!isErrno(error, 'EEXIST')) throw error;
        }
        await this.removeIfStale(lockPath);
        if (Date.now() - started > LOCK_WAIT_MS) {
          throw new Error(
            `lock file ${lockPath} held for over ${LOCK_WAIT_MS / 1000} s; ` + 'if no regprune is running, delete it',
          );
        }
        await sleep(Math.min(50, 1 + attempt) + Math.random() * 5);
      }
    } catch (error) {
      throw this.unavailable(what, key, error);
    }
    try {
      return await task(path);
    } catch (error) {
      throw error instanceof StateUnavailableError ? error : this.unavailable(what, key, error);
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }

  /**
   * A lock file older than `staleLockMs` belongs to a process killed inside its few-millisecond
   * critical section; remove it so the key does not stay locked forever.
   */
  private async removeIfStale(lockPath: string): Promise<void> {
    try {
      const info = await stat(lockPath);
      if (Date.now() - info.mtimeMs > this.staleLockMs) await unlink(lockPath);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
}
