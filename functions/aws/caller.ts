/**
 * Who started a Lambda run (lib/run/caller.ts). A function URL with AWS_IAM auth passes the SigV4
 * signer in `requestContext.authorizer.iam`, filled in by Lambda after it checked the signature, so
 * the handler can trust it; a scheduled event names its rule, or nothing (EventBridge Scheduler).
 */
import { z } from 'zod';
import type { RunCaller, ScheduleCaller } from '../../lib/run/caller.js';

/** What a scheduled invocation records when the event does not name its schedule. */
export const SCHEDULER_CALLER = 'EventBridge Scheduler';

// The fields of `authorizer.iam` kept: identities only (accessKey and cognitoIdentity are left out).
const IamAuthorizerSchema = z.object({
  accountId: z.string().optional(),
  callerId: z.string().optional(),
  principalOrgId: z.string().nullish(),
  userArn: z.string().optional(),
});

/** `requestContext.authorizer` of a function URL request (payload 2.0), as far as the caller goes. */
export const FunctionUrlAuthorizerSchema = z.object({ iam: IamAuthorizerSchema.optional() }).optional();

/** The caller of a function URL request from its (already parsed) authorizer. */
export function functionUrlCaller(authorizer: z.infer<typeof FunctionUrlAuthorizerSchema>): RunCaller {
  const iam = authorizer?.iam;
  if (!iam) return { kind: 'unauthenticated' };
  return {
    kind: 'aws-iam',
    ...(iam.userArn ? { userArn: iam.userArn } : {}),
    ...(iam.callerId ? { callerId: iam.callerId } : {}),
    ...(iam.accountId ? { accountId: iam.accountId } : {}),
    ...(iam.principalOrgId ? { principalOrgId: iam.principalOrgId } : {}),
  };
}

/** The caller of a scheduled invocation: an EventBridge rule's ARN from its envelope, else the Scheduler. */
export function scheduledCaller(event: unknown): ScheduleCaller {
  const resources = typeof event === 'object' && event !== null ? (event as { resources?: unknown }).resources : null;
  const rule = Array.isArray(resources) && typeof resources[0] === 'string' ? resources[0] : undefined;
  return { kind: 'schedule', schedule: rule ?? SCHEDULER_CALLER };
}
