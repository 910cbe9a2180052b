/** What the CLI touches outside itself: its streams, the clock, the environment and, for tests, the providers. */
import { lstat, rename, rm, writeFile } from 'node:fs/promises';
import type { PruneOptions } from '../run/prune.js';
import type { SignalSource } from '../run/stop.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  /** Progress and diagnostics; `isTTY` decides whether progress is shown. */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Read once per run. */
  readonly clock: () => Date;
  /** Writes a file whole; a big JSON report comes as pieces (lib/render/json.ts), written one after another. */
  readonly writeFile: (path: string, text: string | Iterable<string>) => Promise<void>;
  /** Credentials named in the config, REGPRUNE_STATE and the hosts' store settings; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Builds providers without a real registry (tests); default: the configured provider. */
  readonly providerFor?: PruneOptions['providerFor'];
  /** SIGINT and SIGTERM stop a run gracefully (lib/run/stop.ts); absent = signals keep their default. */
  readonly signals?: SignalSource;
  /** Ends the process at once (a second signal); default `process.exit`. */
  readonly exit?: (code: number) => void;
}

/** The real process. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    clock: () => new Date(),
    writeFile: writeWhole,
    signals: process,
    exit: (code) => process.exit(code),
  };
}

/**
 * Writes `path` whole or not at all: into a temporary file beside it, then renamed over it, so a
 * report that fails half-way (pieces come from a generator) never leaves a truncated file behind,
 * nor replaces a good one. A path that is not a plain file (`/dev/stdout`, a pipe, a symlink) is
 * written as it is.
 */
async function writeWhole(path: string, text: string | Iterable<string>): Promise<void> {
  const existing = await lstat(path).catch(() => null);
  if (existing !== null && !existing.isFile()) return writeFile(path, text, 'utf8');
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
