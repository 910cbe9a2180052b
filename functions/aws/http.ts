/**
 * Lambda handler for the function URL (payload 2.0, IAM-authenticated by the URL itself). POST a
 * JSON body that may only narrow the configured run; the answer is the JSON report.
 */
import { z } from 'zod';
import { ConfigError, describeError, UsageError } from '../../lib/errors.js';
import { runOnAws, type LambdaContext } from './run.js';

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const FunctionUrlEventSchema = z.object({
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

function json(statusCode: number, value: unknown, headers: Record<string, string> = {}): FunctionUrlResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value, null, 2),
  };
}

/** The request body as JSON (`undefined` when empty), or a UsageError saying what is wrong. */
function parseBody(event: z.infer<typeof FunctionUrlEventSchema>): unknown {
  const text =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `request body is not JSON (${describeError(error)}); send e.g. {"repository":"team-a/**","dryRun":true}`,
    );
  }
}

/** POST → 200 with the report; 400 bad body; 405 other methods; 409 a run in progress; 500 bad config. */
export async function handler(event: unknown, context: LambdaContext): Promise<FunctionUrlResult> {
  const parsed = FunctionUrlEventSchema.safeParse(event);
  if (!parsed.success) return json(400, { error: 'not a Lambda function URL request (payload format 2.0)' });
  if (parsed.data.requestContext.http.method !== 'POST') {
    return json(405, { error: 'use POST with a JSON body such as {"dryRun":true}' }, { allow: 'POST' });
  }
  try {
    const report = await runOnAws({ request: parseBody(parsed.data), context });
    return json(200, report);
  } catch (error) {
    if (error instanceof UsageError) return json(400, { error: error.message });
    if (error instanceof ConfigError) return json(500, { error: `regprune's own config is invalid: ${error.message}` });
    return json(500, { error: describeError(error) });
  }
}
