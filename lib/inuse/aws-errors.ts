/** What an AWS usage source's failure means and what to do, in one line (docs/design.md, "In-use protection"). */

/** Turns an SDK error into one naming the cause and the fix; other errors pass through. */
export function awsSourceError(error: unknown, service: 'ecs' | 'lambda'): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'CredentialsProviderError') {
    return new Error(
      `no AWS credentials (${error.message}); run with the function's role, AWS_PROFILE or AWS_ACCESS_KEY_ID set`,
    );
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (error.name === 'AccessDeniedException' || error.name === 'AccessDenied' || status === 403) {
    return new Error(`${error.message}; grant the read actions (Terraform: in_use_${service} = true)`);
  }
  return error;
}
