/**
 * Lambda handler for the function URL (payload 2.0, IAM-authenticated by the URL itself). POST a
 * JSON body that may only narrow the configured run; the answer is lib/run/http-answer.ts's.
 */
import { z } from 'zod';
import { UsageError } from '../../lib/errors.js';
import {
  answerForError,
  answerHttp,
  methodNotAllowed,
  parseRequestBody,
  type HttpAnswer,
} from '../../lib/run/http-answer.js';
import { FunctionUrlAuthorizerSchema, functionUrlCaller } from './caller.js';
import { processDeps, runOnAws, type AwsDeps, type LambdaContext } from './run.js';

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const FunctionUrlEventSchema = z.object({
  requestContext: z.object({ http: z.object({ method: z.string() }), authorizer: FunctionUrlAuthorizerSchema }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

function functionUrlResult(answer: HttpAnswer): FunctionUrlResult {
  return { statusCode: answer.status, headers: answer.headers, body: JSON.stringify(answer.body, null, 2) };
}

/** The function URL handler on `deps`. */
export function functionUrlHandlerWith(deps: AwsDeps) {
  return async (event: unknown, context: LambdaContext): Promise<FunctionUrlResult> => {
    const parsed = FunctionUrlEventSchema.safeParse(event);
    if (!parsed.success) {
      return functionUrlResult(
        answerForError(new UsageError('not a Lambda function URL request (payload 2.0)'), deps.log),
      );
    }
    if (parsed.data.requestContext.http.method !== 'POST') return functionUrlResult(methodNotAllowed());
    const { body = '', isBase64Encoded } = parsed.data;
    const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const caller = functionUrlCaller(parsed.data.requestContext.authorizer);
    const run = () => runOnAws({ trigger: 'http', request: parseRequestBody(text), context, caller }, deps);
    return functionUrlResult(await answerHttp(run, deps.log));
  };
}

/** On-demand prune over the function URL. */
export const functionUrlPrune = functionUrlHandlerWith(processDeps());
