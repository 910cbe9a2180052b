/**
 * The few error classes regprune raises. Branch on `instanceof` or `code`, never on message text.
 * Every message says what happened, where, and what to try next.
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_PROTOCOL'
  | 'THROTTLED'
  | 'RUN_IN_PROGRESS'
  | 'STATE_CONFLICT'
  | 'STATE_UNAVAILABLE';

/** Base class: a stable `code` and the original error as `cause`. */
export abstract class RegpruneError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad config file or config value: exit 2, and no registry was called. */
export class ConfigError extends RegpruneError {
  readonly code = 'CONFIG_INVALID';
  /** One line per problem, each `path: what is wrong`. */
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.issues = issues;
  }
}

/** Bad command-line flags or HTTP request body: exit 2 / HTTP 400, and no registry was called. */
export class UsageError extends RegpruneError {
  readonly code = 'USAGE';
}

/** The registry refused our credentials (401/403, AccessDenied). */
export class RegistryAuthError extends RegpruneError {
  readonly code = 'REGISTRY_AUTH';
}

/** The registry could not be reached or kept failing (connection refused, DNS, 5xx after retries). */
export class RegistryUnavailableError extends RegpruneError {
  readonly code = 'REGISTRY_UNAVAILABLE';
}

/** The repository, tag or manifest does not exist (404, RepositoryNotFoundException). */
export class NotFoundError extends RegpruneError {
  readonly code = 'REGISTRY_NOT_FOUND';
}

/** The registry answered something we cannot make sense of (bad JSON, digest mismatch). */
export class RegistryProtocolError extends RegpruneError {
  readonly code = 'REGISTRY_PROTOCOL';
}

/** The registry kept throttling us (429, ThrottlingException) after every retry. */
export class ThrottledError extends RegpruneError {
  readonly code = 'THROTTLED';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A compare-and-swap on the state store lost: the record was created, changed or deleted by someone
 * else since it was read. Re-read and decide again; never retry the same write blindly.
 */
export class StateConflictError extends RegpruneError {
  readonly code = 'STATE_CONFLICT';
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`state record ${key} changed since it was read (another run wrote it); read it again and retry`, options);
    this.key = key;
  }
}

/** The state store (directory, Blob container, S3 bucket) could not be read or written. */
export class StateUnavailableError extends RegpruneError {
  readonly code = 'STATE_UNAVAILABLE';
}

/** Exhaustiveness check for `switch` over closed unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** A one-line message for any thrown value, without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
