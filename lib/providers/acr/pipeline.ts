/**
 * Pipeline policies added to every SDK client the ACR provider builds (registry client, content
 * clients, and through the SDK's shared options also its token-exchange client). Both sit next to
 * the wire (`perRetry`, after the Sign phase), where responses are still raw: further out,
 * core-client's deserialization policy has already turned a 429 into a thrown RestError.
 * - `callCounter` counts every HTTP request, retries and token exchanges included, so
 *   `stats.apiCalls` is what ACR actually saw.
 * - `throttleRetry` retries a 429 that carries no Retry-After. core-rest-pipeline's default retry
 *   retries 429 (and 503) at the server's pace only when Retry-After / retry-after-ms /
 *   x-ms-retry-after-ms is present (throttlingRetryStrategy), and its exponential strategy covers
 *   408 and 5xx (except 501/505) but not 429, so a bare 429 would surface at once as an error.
 */
import type { RequestBudget } from '../../throttle/index.js';
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import type { ProviderStats } from '../provider.js';

const RETRY_AFTER_HEADERS = ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms'] as const;

/** True when the SDK's own retry policy already honoured (and exhausted) a Retry-After on this response. */
function hasRetryAfter(response: PipelineResponse): boolean {
  return RETRY_AFTER_HEADERS.some((name) => response.headers.get(name) !== undefined);
}

/** Counts each request on the wire into `stats`; a request sent again after a 429 or 5xx counts as a retry. */
export function callCounter(stats: ProviderStats): PipelinePolicy {
  const lastStatus = new WeakMap<PipelineRequest, number>();
  return {
    name: 'regpruneCallCounter',
    async sendRequest(request, next) {
      stats.apiCalls += 1;
      const previous = lastStatus.get(request);
      if (previous !== undefined && (previous === 429 || previous >= 500)) stats.retries += 1;
      try {
        const response = await next(request);
        lastStatus.set(request, response.status);
        if (response.status === 429) stats.throttled += 1;
        return response;
      } catch (error) {
        lastStatus.set(request, 599);
        throw error;
      }
    },
  };
}

/** How long a server's `Retry-After` (seconds or HTTP date, or the `-ms` variants) says to wait, in ms. */
function retryAfterMs(response: PipelineResponse, nowMs: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms'] as const) {
    const value = Number(response.headers.get(name));
    if (response.headers.get(name) !== undefined && Number.isFinite(value)) return value;
  }
  const text = response.headers.get('retry-after');
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date - nowMs;
}

/**
 * Caps the wait a response asks for. core-rest-pipeline sleeps as long as any Retry-After says
 * (an hour, if a proxy says so), which would outlast a Functions invocation; a longer wait is
 * rewritten to `retry-after-ms: capMs`, the same 60 s cap as the OCI provider.
 */
export function capRetryAfter(capMs: number, nowMs: () => number): PipelinePolicy {
  return {
    name: 'regpruneCapRetryAfter',
    async sendRequest(request, next) {
      const response = await next(request);
      const wait = retryAfterMs(response, nowMs());
      if (wait !== undefined && wait > capMs) {
        for (const name of RETRY_AFTER_HEADERS) response.headers.delete(name);
        response.headers.set('retry-after-ms', String(capMs));
      }
      return response;
    },
  };
}

export interface ThrottleRetryOptions {
  /** Further attempts after the first 429 without Retry-After. */
  readonly maxRetries: number;
  /** First backoff; doubles each attempt, with full jitter, capped at `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Injectable for tests that must not wait; default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries 429 responses without a Retry-After header with exponential backoff and jitter. */
export function throttleRetry(options: ThrottleRetryOptions): PipelinePolicy {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  return {
    name: 'regpruneThrottleRetry',
    async sendRequest(request, next) {
      let response = await next(request);
      for (
        let attempt = 0;
        attempt < options.maxRetries && response.status === 429 && !hasRetryAfter(response);
        attempt++
      ) {
        const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
        // Half fixed, half jitter: spreads concurrent workers without ever retrying at once.
        await sleep(ceiling / 2 + random() * (ceiling / 2));
        response = await next(request);
      }
      return response;
    },
  };
}

/**
 * Every attempt takes a token of the registry's request budget (docs/design.md, "Request budget"):
 * deletes are ACR WriteOps, the rest ReadOps. A 429 slows the whole registry down, every
 * repository in flight, and its Retry-After holds them all.
 */
export function requestBudget(budget: RequestBudget, nowMs: () => number): PipelinePolicy {
  return {
    name: 'regpruneRequestBudget',
    async sendRequest(request, next) {
      const kind = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
      await budget.take(kind);
      const response = await next(request);
      if (response.status === 429) budget.throttled(kind, retryAfterMs(response, nowMs()));
      return response;
    },
  };
}
