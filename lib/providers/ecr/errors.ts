/**
 * The one place ECR's answers become regprune errors: service error names, HTTP status and
 * network failures, each with a message saying what to do.
 */
import {
  NotFoundError,
  RegistryAuthError,
  RegistryProtocolError,
  RegistryUnavailableError,
  RegpruneError,
  ThrottledError,
} from '../../errors.js';

/** What was being done when ECR failed, for the message. */
export interface EcrCallSite {
  readonly registry: string;
  readonly operation: string;
  readonly repository?: string;
}

const AUTH_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
  'InvalidClientTokenId',
]);
const THROTTLING_ERRORS = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** True for an SDK error ECR sends when it throttles us. */
export function isEcrThrottling(error: unknown): boolean {
  const { name, $metadata } = shape(error);
  return (typeof name === 'string' && THROTTLING_ERRORS.has(name)) || $metadata?.httpStatusCode === 429;
}

/** Maps anything the SDK throws to a `RegpruneError` that says where and what to try. */
export function ecrError(error: unknown, site: EcrCallSite): RegpruneError {
  if (error instanceof RegpruneError) return error;
  const { name, code, message, $metadata } = shape(error);
  const errorName = typeof name === 'string' ? name : 'Error';
  const status = $metadata?.httpStatusCode;
  const where = site.repository ? `${site.operation} on ${site.repository}` : site.operation;
  const detail = typeof message === 'string' && message.length > 0 ? `: ${message}` : '';
  const registry = `registry "${site.registry}"`;

  if (AUTH_ERRORS.has(errorName) || status === 401 || status === 403) {
    return new RegistryAuthError(
      `ECR denied ${where} (${errorName}) in ${registry}. Grant ecr:${site.operation} to the role regprune runs as ` +
        `(or check the AWS credentials: AWS_PROFILE, SSO login, the Lambda role), or narrow the repositories.`,
      { cause: error },
    );
  }
  if (errorName === 'RepositoryNotFoundException' || errorName === 'RegistryNotFoundException') {
    return new NotFoundError(
      `ECR has no such repository for ${where} in ${registry} (${errorName}); check the name and the account in the ` +
        `endpoint`,
      {
        cause: error,
      },
    );
  }
  if (isEcrThrottling(error)) {
    return new ThrottledError(
      `ECR kept throttling ${where} in ${registry} after every retry (${errorName}); lower "concurrency" or run less ` +
        `often`,
      undefined,
      { cause: error },
    );
  }
  if (
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    errorName === 'TimeoutError' ||
    (status !== undefined && status >= 500)
  ) {
    return new RegistryUnavailableError(
      `ECR could not be reached for ${where} in ${registry} ` +
        `(${typeof code === 'string' ? code : errorName}${detail}); ` +
        'check the network, the region, and AWS_ENDPOINT_URL_ECR or apiEndpoint if set',
      { cause: error },
    );
  }
  return new RegistryProtocolError(`ECR refused ${where} in ${registry} (${errorName}${detail})`, { cause: error });
}
