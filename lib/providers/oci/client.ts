/**
 * The HTTP client every OCI call goes through: authentication (basic, static bearer, or the token
 * flow on a `WWW-Authenticate: Bearer` challenge), retries with backoff and `Retry-After`, bounded
 * concurrency, call counting, and the mapping of failures to regprune's errors. Nothing HTTP-shaped
 * leaves the oci/ folder.
 */
import { RegistryProtocolError, type RegpruneError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ProviderStats } from '../provider.js';
import {
  parseBearerChallenge,
  parseTokenResponse,
  tokenUrl,
  type BearerChallenge,
  type Credentials,
  type IssuedToken,
} from './auth.js';
import { registryErrorCode, ociError, type RequestFailure } from './registry-errors.js';
import type { RequestBudget } from '../../throttle/index.js';
import { backoffDelayMs, parseRetryAfterMs, RETRYABLE_STATUSES, requestKindOf, type RetryPolicy } from './retry.js';

export type HttpMethod = 'GET' | 'HEAD' | 'DELETE' | 'PUT';

export interface OciRequest {
  readonly method: HttpMethod;
  /** `/v2/…` (resolved against the endpoint) or an absolute URL from a `Link` header. */
  readonly path: string;
  readonly accept?: string;
  /** Token scope the request needs (`repository:app/web:pull`). */
  readonly scope: string;
  /** Statuses handed back to the caller instead of becoming errors (delete reads 404/405 itself). */
  readonly passStatuses?: readonly number[];
  /** What a PUT sends (a manifest put back under its tag). */
  readonly body?: { readonly bytes: Uint8Array; readonly contentType: string };
}

export interface OciResponse {
  readonly status: number;
  readonly url: string;
  header(name: string): string | null;
  readonly body: Uint8Array;
}

export interface OciClientOptions {
  readonly registry: string;
  readonly endpoint: string;
  readonly credentials: Credentials;
  readonly fetch: typeof fetch;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly stats: ProviderStats;
  readonly sleep: (ms: number) => Promise<void>;
  readonly nowMs: () => number;
  readonly log: Logger;
  readonly requestTimeoutMs: number;
  /** The registry's request budget (docs/design.md, "Request budget"): every attempt takes a token. */
  readonly budget?: RequestBudget;
}

/** Connection failures that pass on their own: worth another attempt. Refused connections are not: fail fast. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
]);

type Attempt =
  | { readonly kind: 'response'; readonly response: OciResponse }
  | { readonly kind: 'network'; readonly code: string; readonly cause: unknown };

/** At most `limit` requests in flight; waits are FIFO. */
class RequestSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.free = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Talks to one registry. */
export class OciClient {
  private readonly slots: RequestSlots;
  private challenge: BearerChallenge | undefined;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly pendingTokens = new Map<string, Promise<IssuedToken>>();

  constructor(private readonly options: OciClientOptions) {
    this.slots = new RequestSlots(options.concurrency);
  }

  /** Sends a request with auth and retries; returns a 2xx (or passed-through) response, else throws a RegpruneError. */
  async request(request: OciRequest): Promise<OciResponse> {
    const url = new URL(request.path, this.options.endpoint);
    const label = `${request.method} ${url.pathname}`;
    if (url.origin !== new URL(this.options.endpoint).origin) {
      // A Link to another host must not receive our credentials.
      throw new RegistryProtocolError(
        `registry "${this.options.registry}" pointed ${label} at another host (${url.origin}); regprune only talks ` +
          `to ${this.options.endpoint}.`,
      );
    }
    let reauthenticated = false;
    for (;;) {
      const { response, attempts } = await this.exchange(url, request.method, label, request.body?.bytes, async () => {
        const headers: Record<string, string> = {};
        if (request.accept) headers.accept = request.accept;
        if (request.body) headers['content-type'] = request.body.contentType;
        const authorization = await this.authorizationFor(request.scope, label);
        if (authorization) headers.authorization = authorization;
        return headers;
      });
      if (response.status === 401 && !reauthenticated && this.options.credentials.kind !== 'bearer') {
        const challenge = parseBearerChallenge(response.header('www-authenticate'));
        if (challenge) {
          // First contact, or our token expired or lacks the scope: get one for what the registry asks.
          this.challenge = challenge;
          this.tokens.delete(request.scope);
          await this.token(request.scope, challenge.scope, label);
          reauthenticated = true;
          continue;
        }
      }
      if ((response.status >= 200 && response.status < 300) || request.passStatuses?.includes(response.status)) {
        return response;
      }
      throw this.failure(
        {
          kind: 'status',
          status: response.status,
          registryCode: registryErrorCode(response.body),
          retryAfterMs: parseRetryAfterMs(response.header('retry-after'), this.options.nowMs()),
          attempts,
        },
        label,
      );
    }
  }

  /** The error for a response the caller asked to see (`passStatuses`) but cannot use after all. */
  errorFor(response: OciResponse, method: HttpMethod): RegpruneError {
    return this.failure(
      {
        kind: 'status',
        status: response.status,
        registryCode: registryErrorCode(response.body),
        retryAfterMs: undefined,
        attempts: 1,
      },
      `${method} ${new URL(response.url).pathname}`,
    );
  }

  private failure(failure: RequestFailure, label: string) {
    const { credentials } = this.options;
    return ociError(failure, {
      registry: this.options.registry,
      endpoint: this.options.endpoint,
      request: label,
      credentialVariables: credentials.kind === 'anonymous' ? undefined : credentials.variables,
    });
  }

  private async authorizationFor(scope: string, label: string): Promise<string | undefined> {
    const { credentials } = this.options;
    if (credentials.kind === 'bearer') return credentials.header;
    // Once the registry has told us where its token service is, fetch a token for each new scope
    // up front: one token call instead of a 401 and then a token call.
    if (this.challenge) return (await this.token(scope, undefined, label)).header;
    return credentials.kind === 'basic' ? credentials.header : undefined;
  }

  /** A token for `scope` (cached until shortly before it expires; concurrent askers share one fetch). */
  private async token(scope: string, challengeScope: string | undefined, label: string): Promise<IssuedToken> {
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAtMs > this.options.nowMs()) return cached;
    const pending = this.pendingTokens.get(scope);
    if (pending) return pending;
    const fetching = this.fetchToken(scope, challengeScope, label).finally(() => this.pendingTokens.delete(scope));
    this.pendingTokens.set(scope, fetching);
    const token = await fetching;
    this.tokens.set(scope, token);
    return token;
  }

  private async fetchToken(scope: string, challengeScope: string | undefined, label: string): Promise<IssuedToken> {
    const challenge = this.challenge!;
    const scopes = challengeScope && challengeScope !== scope ? [scope, ...challengeScope.split(' ')] : [scope];
    const url = tokenUrl(challenge, [...new Set(scopes)]);
    const { credentials } = this.options;
    const { response, attempts } = await this.exchange(
      url,
      'GET',
      label,
      undefined,
      async (): Promise<Record<string, string>> =>
        credentials.kind === 'basic' ? { authorization: credentials.header } : {},
    );
    if (response.status === 401 || response.status === 403) {
      throw this.failure({ kind: 'token-refused', status: response.status, tokenHost: url.host }, label);
    }
    if (response.status < 200 || response.status >= 300) {
      throw this.failure(
        {
          kind: 'status',
          status: response.status,
          registryCode: registryErrorCode(response.body),
          retryAfterMs: undefined,
          attempts,
        },
        `GET token from ${url.host}`,
      );
    }
    const token = parseTokenResponse(response.body, this.options.nowMs());
    if (!token) {
      throw new RegistryProtocolError(
        `registry "${this.options.registry}": the token service at ${url.host} answered without a token (expected ` +
          `JSON with "token" or "access_token").`,
      );
    }
    return token;
  }

  /**
   * One logical request: attempts until a non-retryable answer or the attempts run out. Returns
   * the last response (whatever its status); throws only when the connection itself keeps failing.
   */
  private async exchange(
    url: URL,
    method: HttpMethod,
    label: string,
    body: Uint8Array | undefined,
    headersFor: () => Promise<Record<string, string>>,
  ): Promise<{ response: OciResponse; attempts: number }> {
    const { retry, stats, log } = this.options;
    for (let attempt = 1; ; attempt++) {
      const headers = await headersFor();
      const kind = requestKindOf(method);
      await this.options.budget?.take(kind);
      const outcome = await this.slots.run(() => this.attempt(url, method, headers, body));
      const last = attempt >= retry.maxAttempts;
      if (outcome.kind === 'network') {
        if (!TRANSIENT_NETWORK_CODES.has(outcome.code) || last) {
          throw this.failure({ kind: 'network', code: outcome.code, attempts: attempt, cause: outcome.cause }, label);
        }
        stats.retries++;
        const delayMs = backoffDelayMs(attempt, retry);
        log.debug('retrying after a connection failure', {
          registry: this.options.registry,
          request: label,
          code: outcome.code,
          delayMs,
        });
        await this.options.sleep(delayMs);
        continue;
      }
      const { response } = outcome;
      if (response.status === 429) {
        stats.throttled++;
        // Every repository in flight draws on the same budget: all of them slow down, not just this one.
        this.options.budget?.throttled(kind, parseRetryAfterMs(response.header('retry-after'), this.options.nowMs()));
      }
      if (!RETRYABLE_STATUSES.has(response.status) || last) return { response, attempts: attempt };
      stats.retries++;
      const delayMs =
        parseRetryAfterMs(response.header('retry-after'), this.options.nowMs()) ?? backoffDelayMs(attempt, retry);
      log.debug('retrying', { registry: this.options.registry, request: label, status: response.status, delayMs });
      await this.options.sleep(delayMs);
    }
  }

  private async attempt(
    url: URL,
    method: HttpMethod,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
  ): Promise<Attempt> {
    this.options.stats.apiCalls++;
    try {
      const response = await this.options.fetch(url, {
        method,
        headers,
        ...(body ? { body: new Blob([new Uint8Array(body)]) } : {}),
        redirect: 'follow',
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      // Read the body inside the attempt: a connection reset mid-body is as retryable as one before it.
      const answered = method === 'HEAD' ? new Uint8Array() : new Uint8Array(await response.arrayBuffer());
      return {
        kind: 'response',
        response: {
          status: response.status,
          url: response.url || url.href,
          header: (name) => response.headers.get(name),
          body: answered,
        },
      };
    } catch (error) {
      return { kind: 'network', code: networkErrorCode(error), cause: error };
    }
  }
}

/** `ECONNREFUSED`, `UND_ERR_SOCKET`, `TimeoutError`…: the most specific name a fetch failure carries. */
function networkErrorCode(error: unknown): string {
  const described = (value: unknown): string | undefined => {
    if (typeof value !== 'object' || value === null) return undefined;
    const code = 'code' in value && typeof value.code === 'string' ? value.code : undefined;
    if (code) return code;
    if (value instanceof AggregateError) return described(value.errors[0]);
    return undefined;
  };
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'TimeoutError';
    const fromCause = described(error.cause) ?? described(error);
    if (fromCause) return fromCause;
    if (error.cause instanceof Error && error.cause.message) return error.cause.message;
    return error.message;
  }
  return String(error);
}
