/**
 * The one place where what the registry answered (an HTTP status, or a failure to connect) becomes
 * one of regprune's errors. Messages name the registry and the request, and say what to try.
 */
import {
  NotFoundError,
  RegistryAuthError,
  RegistryProtocolError,
  RegistryUnavailableError,
  ThrottledError,
  type RegpruneError,
} from '../../errors.js';

/** What went wrong with one request, after retries. */
export type RequestFailure =
  | {
      readonly kind: 'status';
      readonly status: number;
      /** The first `errors[].code` of a Distribution error body (`NAME_UNKNOWN`, `DENIED`…), if any. */
      readonly registryCode: string | undefined;
      readonly retryAfterMs: number | undefined;
      readonly attempts: number;
    }
  | {
      readonly kind: 'network';
      /** `ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `TimeoutError`… */
      readonly code: string;
      readonly attempts: number;
      readonly cause: unknown;
    }
  | { readonly kind: 'token-refused'; readonly status: number; readonly tokenHost: string };

export interface RequestContext {
  /** The registry's name in the config. */
  readonly registry: string;
  readonly endpoint: string;
  /** `GET /v2/app/web/tags/list`. */
  readonly request: string;
  /** Which variables hold the credentials, or undefined when none are configured. */
  readonly credentialVariables: string | undefined;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO/;

/** Maps a failed request to the error a caller sees. */
export function ociError(failure: RequestFailure, context: RequestContext): RegpruneError {
  const where = `registry "${context.registry}" (${context.endpoint})`;
  const credentialHint = context.credentialVariables
    ? `Check the variables ${context.credentialVariables} (named in the registry's auth), and that the account may ` +
      `do this.`
    : 'The registry wants credentials: add auth with usernameEnv/passwordEnv or tokenEnv to the registry in the ' +
      'config.';
  const tries = (attempts: number) => (attempts > 1 ? ` after ${attempts} attempts` : '');
  switch (failure.kind) {
    case 'token-refused':
      return new RegistryAuthError(
        `${where}: the token service at ${failure.tokenHost} refused our credentials (${failure.status}) for ` +
          `${context.request}. ${credentialHint}`,
      );
    case 'network': {
      if (TLS_CODES.test(failure.code)) {
        return new RegistryUnavailableError(
          `cannot reach ${context.endpoint} (${failure.code}): the TLS certificate was not accepted. For a private ` +
            `CA set NODE_EXTRA_CA_CERTS=/path/to/ca.pem; check endpoint of registry "${context.registry}" in the ` +
            `config.`,
          { cause: failure.cause },
        );
      }
      if (failure.code === 'bad port') {
        return new RegistryUnavailableError(
          `cannot reach ${context.endpoint} (bad port): Node's fetch refuses this port as unsafe (1, 6000, ` +
            `6665-6669…). Run the registry on another port and update endpoint of registry "${context.registry}" in ` +
            `the config.`,
          { cause: failure.cause },
        );
      }
      return new RegistryUnavailableError(
        `cannot reach ${context.endpoint} (${failure.code})${tries(failure.attempts)} on ${context.request}: is the ` +
          `registry running and reachable from here? Check endpoint of registry "${context.registry}" in the config.`,
        { cause: failure.cause },
      );
    }
    case 'status': {
      const code = failure.registryCode ? ` ${failure.registryCode}` : '';
      const answered = `${where} answered ${failure.status}${code} to ${context.request}`;
      if (failure.status === 401 || failure.status === 403) {
        return new RegistryAuthError(`${answered}. ${credentialHint}`);
      }
      if (failure.status === 404) return new NotFoundError(`${answered}: it does not exist (any more).`);
      if (failure.status === 429) {
        return new ThrottledError(
          `${answered}${tries(failure.attempts)}: the registry keeps throttling us. Lower concurrency for this ` +
            `registry in the config, or run at a quieter time.`,
          failure.retryAfterMs,
        );
      }
      if (failure.status >= 500) {
        return new RegistryUnavailableError(
          `${answered}${tries(failure.attempts)}: the registry is failing. Check its health and logs, then run again ` +
            `(a run picks up where this one stopped).`,
        );
      }
      return new RegistryProtocolError(
        `${answered}: regprune did not expect this answer. Check that the endpoint is an OCI Distribution (v2) ` +
          `registry.`,
      );
    }
  }
}

/** The first `errors[].code` of a Distribution error body. */
export function registryErrorCode(body: Uint8Array): string | undefined {
  if (body.length === 0 || body.length > 65_536) return undefined;
  try {
    const json: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (typeof json !== 'object' || json === null || !('errors' in json) || !Array.isArray(json.errors))
      return undefined;
    const first: unknown = json.errors[0];
    if (typeof first === 'object' && first !== null && 'code' in first && typeof first.code === 'string')
      return first.code;
    return undefined;
  } catch {
    return undefined;
  }
}
