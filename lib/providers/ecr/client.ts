/** Builds the ECR SDK client: region from the registry host, adaptive retries, every attempt counted. */
import { ECRClient, type ECRClientConfig } from '@aws-sdk/client-ecr';
import type { RequestBudget } from '../../throttle/index.js';
import type { ProviderStats } from '../provider.js';
import { isEcrThrottling } from './errors.js';

/** Most attempts per call (first try included) under throttling or transient failures. */
export const ECR_MAX_ATTEMPTS = 8;

/** Test and deployment hooks; none needed in AWS, where the default chain finds everything. */
export interface EcrClientHooks {
  /** API URL; overrides `apiEndpoint` and AWS_ENDPOINT_URL_ECR. */
  readonly endpoint?: string;
  /** Static credentials (tests); otherwise the SDK's default chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly maxAttempts?: number;
  /** A retry strategy in place of the SDK's adaptive one (tests shorten its backoff). */
  readonly retryStrategy?: NonNullable<ECRClientConfig['retryStrategy']>;
}

/** An ECR client whose every HTTP attempt (retries included) lands in `stats`. */
export function createEcrClient(options: {
  region: string;
  endpoint: string | undefined;
  hooks: EcrClientHooks;
  stats: ProviderStats;
  /** The registry's request budget (docs/design.md, "Request budget"): every attempt takes a token. */
  budget?: RequestBudget;
}): ECRClient {
  const { hooks, stats } = options;
  const endpoint = hooks.endpoint ?? options.endpoint;
  const client = new ECRClient({
    region: options.region,
    ...(endpoint ? { endpoint } : {}),
    ...(hooks.credentials ? { credentials: hooks.credentials } : {}),
    maxAttempts: hooks.maxAttempts ?? ECR_MAX_ATTEMPTS,
    // ECR publishes no TPS for these calls: something must slow the client down when throttled. With
    // a request budget that is the budget, shared by every repository in flight (the SDK's adaptive
    // limiter on top would halve the rate a second time); without one, the SDK's adaptive mode.
    ...(hooks.retryStrategy
      ? { retryStrategy: hooks.retryStrategy }
      : { retryMode: options.budget !== undefined ? 'standard' : 'adaptive' }),
  });
  // The retry middleware (finalizeRequest, high priority) calls the rest of the stack once per
  // attempt, so a deserialize-step middleware sees every HTTP request, retries included.
  client.middlewareStack.add(
    (next) => async (args) => {
      stats.apiCalls += 1;
      const request = args.request as { headers?: Record<string, string> };
      const attempt = Number(/attempt=(\d+)/.exec(request.headers?.['amz-sdk-request'] ?? '')?.[1] ?? 1);
      if (attempt > 1) stats.retries += 1;
      try {
        return await next(args);
      } catch (error) {
        if (isEcrThrottling(error)) stats.throttled += 1;
        throw error;
      }
    },
    { step: 'deserialize', priority: 'high', name: 'regpruneCountAttempts' },
  );
  const { budget } = options;
  if (budget !== undefined) {
    // Per attempt too (inside the retry middleware): a throttled answer slows every repository in flight.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const kind = context.commandName === 'BatchDeleteImageCommand' ? 'write' : 'read';
        await budget.take(kind);
        try {
          return await next(args);
        } catch (error) {
          if (isEcrThrottling(error)) budget.throttled(kind);
          throw error;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'regpruneRequestBudget' },
    );
  }
  return client;
}
