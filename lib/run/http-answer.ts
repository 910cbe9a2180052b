/**
 * The HTTP answer of an on-demand run, the same on both clouds (docs/design.md, "HTTP"):
 *
 * | status | when                                                        | body                   |
 * |--------|-------------------------------------------------------------|------------------------|
 * | 200    | the run examined everything it was asked to (`?wait=true`)  | the report             |
 * | 202    | queued (async, default): `Location` is the status URL       | `{ runId, state, … }`  |
 * | 202    | `?wait=true`: some registries busy, or the budget ran out   | the report             |
 * | 400    | the request is bad (not JSON, unknown key, widens the run)  | `{ error }`            |
 * | 405    | not POST                                                    | `{ error }`            |
 * | 409    | every requested registry is locked by another run           | `{ error, busy }`      |
 * | 500    | the deployed config is broken, or regprune failed           | `{ error, issues? }`   |
 *
 * A bad request never reaches a registry: it is refused while the scope is computed.
 */
import { ConfigError, describeError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HostedRunResult } from './hosted.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Serialised as JSON by the host (Azure `jsonBody`, Lambda `body`). */
  readonly body: unknown;
}

/** The example every 400 answer points to. */
const EXAMPLE_BODY = '{"repository": "team-a/**", "dryRun": true}';

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** Parses a request body: empty = run as configured; not JSON = a UsageError naming the fix. */
export function parseRequestBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`invalid request body: not JSON (${describeError(error)}); send e.g. ${EXAMPLE_BODY}`);
  }
}

/** 405 for anything but POST (and GET on a status URL: `allow` says which). */
export function methodNotAllowed(allow = 'POST'): HttpAnswer {
  return json(405, { error: `use POST with a JSON body such as ${EXAMPLE_BODY}` }, { allow });
}

/** The answer for a finished (or refused) run. */
export function answerForResult(result: HostedRunResult): HttpAnswer {
  if (result.kind === 'busy') {
    return json(409, {
      error:
        `a run is already in progress for ${result.busy.join(', ')}; this request did nothing. Try again when it ` +
        'has finished.',
      busy: result.busy,
    });
  }
  const busyHeader: Record<string, string> = result.busy.length > 0 ? { 'x-regprune-busy': result.busy.join(',') } : {};
  return json(result.busy.length > 0 || !result.report.complete ? 202 : 200, result.report, busyHeader);
}

/** The answer for what a run threw; 500s are logged, since the caller may never read the body. */
export function answerForError(error: unknown, log: Logger): HttpAnswer {
  if (error instanceof UsageError) return json(400, { error: error.message });
  if (error instanceof ConfigError) {
    log.error(error.message);
    return json(500, {
      error: `regprune's own config is invalid: ${error.message}`,
      ...(error.issues.length > 0 ? { issues: error.issues } : {}),
    });
  }
  log.error(`run failed: ${describeError(error)}`);
  return json(500, { error: `regprune failed: ${describeError(error)}; see the function's logs` });
}

/** Runs `run` and answers for its result or its error. */
export async function answerHttp(run: () => Promise<HostedRunResult>, log: Logger): Promise<HttpAnswer> {
  try {
    return answerForResult(await run());
  } catch (error) {
    return answerForError(error, log);
  }
}
