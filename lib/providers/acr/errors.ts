/** ACR failures → regprune's errors, in one place. */
import {
  NotFoundError,
  RegistryAuthError,
  RegistryProtocolError,
  RegistryUnavailableError,
  ThrottledError,
  type RegpruneError,
} from '../../errors.js';

/** The fields of an SDK `RestError` we branch on, read structurally so no SDK type leaks. */
function restFields(error: unknown): { statusCode?: number; code?: string; retryAfterMs?: number } {
  if (typeof error !== 'object' || error === null) return {};
  const record = error as {
    statusCode?: unknown;
    code?: unknown;
    response?: { headers?: { get?: (name: string) => string | undefined } };
  };
  const statusCode = typeof record.statusCode === 'number' ? record.statusCode : undefined;
  const code = typeof record.code === 'string' ? record.code : undefined;
  const retryAfter = record.response?.headers?.get?.('retry-after');
  const retryAfterMs = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  return { statusCode, code, retryAfterMs };
}

/**
 * ACR's own error code (`errors[0].code` of the `AcrErrors` body, e.g. `REGISTRY_DISALLOWED_OPERATION`),
 * which the SDK leaves in `details` (or only in the raw body) rather than in `code`.
 */
export function acrCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { details?: unknown; response?: { bodyAsText?: unknown } };
  let body: unknown = record.details;
  if (typeof record.response?.bodyAsText === 'string') {
    try {
      body ??= JSON.parse(record.response.bodyAsText);
    } catch {
      // Not JSON: no ACR code to read.
    }
  }
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
  const code = (first as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** HTTP status of an SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return restFields(error).statusCode;
}

/** @azure/identity's "no credential worked" errors (by class name: the classes live in the identity package). */
function isCredentialError(error: unknown): boolean {
  return (
    error instanceof Error &&
    ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError'].includes(error.name)
  );
}

const NETWORK_CODES = new Set([
  'REQUEST_SEND_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ESOCKETTIMEDOUT',
]);

/**
 * The regprune error for an SDK failure during `what` (e.g. `listing manifests of app/web`) on the
 * registry `endpoint`. Messages say what to try next.
 */
export function acrError(error: unknown, endpoint: string, what: string): RegpruneError {
  if (isCredentialError(error)) {
    return new RegistryAuthError(
      `No Azure credential worked while ${what} on ${endpoint}: ${(error as Error).message.split('\n')[0]}. ` +
        "In Azure, enable the function app's managed identity; on a laptop run `az login` or set " +
        'AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET.',
      { cause: error },
    );
  }
  const { statusCode, code, retryAfterMs } = restFields(error);
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (statusCode === 401 || statusCode === 403) {
    return new RegistryAuthError(
      `ACR refused our credentials (HTTP ${statusCode}) while ${what} on ${endpoint}. Grant the identity regprune ` +
        `runs as ` +
        'AcrPull + AcrDelete on the registry (or, on an ABAC-mode registry, Container Registry Repository ' +
        'Contributor + Catalog Lister).',
      { cause: error },
    );
  }
  if (statusCode === 404)
    return new NotFoundError(`ACR has no such item while ${what} on ${endpoint} (HTTP 404).`, { cause: error });
  if (statusCode === 429) {
    return new ThrottledError(
      `ACR kept throttling us (HTTP 429) while ${what} on ${endpoint}, after every retry. Lower \`concurrency\` for ` +
        `this registry, or run at a quieter time.`,
      retryAfterMs,
      { cause: error },
    );
  }
  if ((statusCode !== undefined && statusCode >= 500) || (code !== undefined && NETWORK_CODES.has(code))) {
    return new RegistryUnavailableError(
      `ACR at ${endpoint} is unreachable or failing while ${what} ` +
        `(${statusCode !== undefined ? `HTTP ${statusCode}` : code}: ${detail}). Check the endpoint and network, ` +
        `then run again.`,
      { cause: error },
    );
  }
  return new RegistryProtocolError(`Unexpected answer from ACR at ${endpoint} while ${what}: ${detail}`, {
    cause: error,
  });
}
