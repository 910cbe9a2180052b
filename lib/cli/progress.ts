/** Progress on stderr: all of it on a terminal, only warnings and errors otherwise. */
import { streamLogger, type Logger } from '../log.js';
import type { CliIo } from './io.js';

/** The logger a CLI run uses. */
export function progressLogger(io: CliIo): Logger {
  const full = streamLogger({ stream: io.stderr });
  if (io.stderr.isTTY) return full;
  return { debug() {}, info() {}, warn: full.warn, error: full.error };
}
