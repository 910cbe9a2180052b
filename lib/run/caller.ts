/**
 * Who started a run, as the hosts know it: recorded in the run log line and the report
 * (docs/design.md, "Report" and "HTTP"). Identities only, never a token, key or signature.
 */
import { assertNever } from '../errors.js';

/** A run the host's own schedule started (the Azure timer, EventBridge Scheduler or an EventBridge rule). */
export interface ScheduleCaller {
  readonly kind: 'schedule';
  /** The schedule: an NCRONTAB expression, a rule ARN, or the scheduler's name when nothing more is known. */
  readonly schedule: string;
}

/** An Azure HTTP run without Entra authentication: whoever holds a function key; nothing more is known. */
export interface FunctionKeyCaller {
  readonly kind: 'function-key';
}

/** An Azure HTTP run through App Service authentication (Microsoft Entra ID), from `x-ms-client-principal`. */
export interface EntraCaller {
  readonly kind: 'entra';
  /** Display name or user principal name; absent for an application (client credentials). */
  readonly name?: string;
  /** The caller's object id (`oid`): a user or a service principal. */
  readonly objectId?: string;
  /** The client application the token was issued to (`appid` / `azp`). */
  readonly appId?: string;
  readonly tenantId?: string;
  /** The app roles the token carries (`roles`). */
  readonly roles: readonly string[];
}

/** A Lambda function URL run with AWS_IAM auth: the signer from `requestContext.authorizer.iam`. */
export interface AwsIamCaller {
  readonly kind: 'aws-iam';
  readonly userArn?: string;
  /** The principal's unique id (`AIDA…`, or `AROA…:session` for an assumed role). */
  readonly callerId?: string;
  readonly accountId?: string;
  readonly principalOrgId?: string;
}

/** A function URL request that carried no IAM authorizer (the URL's auth type is not AWS_IAM). */
export interface UnauthenticatedCaller {
  readonly kind: 'unauthenticated';
}

export type RunCaller = ScheduleCaller | FunctionKeyCaller | EntraCaller | AwsIamCaller | UnauthenticatedCaller;

/** The caller of a scheduled run. */
export function scheduleCaller(schedule: string): ScheduleCaller {
  return { kind: 'schedule', schedule };
}

/** One short line naming the caller, for log messages: `entra alice@example.com (oid …)`. */
export function describeCaller(caller: RunCaller): string {
  switch (caller.kind) {
    case 'schedule':
      return `schedule ${caller.schedule}`;
    case 'function-key':
      return 'a function key holder';
    case 'entra': {
      const who = caller.name ?? caller.appId ?? caller.objectId ?? 'unknown principal';
      return caller.objectId && caller.objectId !== who ? `entra ${who} (oid ${caller.objectId})` : `entra ${who}`;
    }
    case 'aws-iam':
      return `aws-iam ${caller.userArn ?? caller.callerId ?? 'unknown principal'}`;
    case 'unauthenticated':
      return 'an unauthenticated caller';
    default:
      return assertNever(caller);
  }
}
