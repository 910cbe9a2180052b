/** When and how long to wait before sending a request again. */

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Longest backoff between attempts. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 20_000 };

/** A registry asking for more than this in `Retry-After` gets this: a run should fail visibly rather than hang. */
export const RETRY_AFTER_CAP_MS = 60_000;

/** Statuses worth another attempt: throttling and gateway/overload answers, which pass on their own. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** `Retry-After` as ms to wait (delta-seconds or an HTTP-date), capped; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Number(text) * 1000, RETRY_AFTER_CAP_MS);
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.min(Math.max(0, dateMs - nowMs), RETRY_AFTER_CAP_MS);
}

/** Exponential backoff with jitter for attempt 1, 2, …: between half and all of base·2^(attempt-1), capped. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Which budget a request draws on: deletes and puts are writes (ACR's WriteOps), the rest reads. */
export function requestKindOf(method: string): 'read' | 'write' {
  return method === 'DELETE' || method === 'PUT' || method === 'POST' || method === 'PATCH' ? 'write' : 'read';
}
