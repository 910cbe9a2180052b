/** Progress and diagnostics. Always to stderr (or the host's logger), never to stdout, never with secrets. */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Discards everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Human lines on a stream (stderr by default): `regprune: message key=value`. */
export function streamLogger(options: { stream?: NodeJS.WritableStream; verbose?: boolean } = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const write = (level: string, message: string, fields?: LogFields) => {
    const extra = fields
      ? Object.entries(fields)
          .filter(([, value]) => value !== undefined)
          .map(
            ([key, value]) =>
              ` ${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)}`,
          )
          .join('')
      : '';
    stream.write(`regprune: ${level === 'info' ? '' : `${level}: `}${message}${extra}\n`);
  };
  return {
    debug: (message, fields) => {
      if (options.verbose) write('debug', message, fields);
    },
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}
