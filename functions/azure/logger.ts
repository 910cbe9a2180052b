/** Our Logger on top of the invocation's logger, so lines land in Application Insights traces. */
import type { InvocationContext } from '@azure/functions';
import type { LogFields, Logger } from '../../lib/log.js';

function line(message: string, fields?: LogFields): string {
  if (!fields) return message;
  const extra = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)}`,
    );
  return extra.length > 0 ? `${message} ${extra.join(' ')}` : message;
}

/** A Logger writing through `context.debug/log/warn/error`. */
export function invocationLogger(context: InvocationContext): Logger {
  return {
    debug: (message, fields) => context.debug(line(message, fields)),
    info: (message, fields) => context.log(line(message, fields)),
    warn: (message, fields) => context.warn(line(message, fields)),
    error: (message, fields) => context.error(line(message, fields)),
  };
}
