/**
 * What an on-demand trigger (Azure HTTP, Lambda function URL, a schedule's input) may ask for.
 * It can only narrow the configured run: fewer registries, fewer repositories, or a dry run. It can
 * never name a new registry or endpoint (no SSRF) nor turn deletion on when the config is dry.
 */
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { compileRequestPattern } from '../config/pattern.js';
import { formatIssues } from '../config/load.js';
import { UsageError } from '../errors.js';

export const RunRequestSchema = z
  .object({
    registry: z.string().min(1).optional().describe('Name of one configured registry'),
    repository: z
      .string()
      .superRefine((text, ctx) => {
        const compiled = compileRequestPattern(text);
        if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.error });
      })
      .optional()
      .describe('Glob (at most 256 characters; no /regex/): only repositories matching it and a config rule'),
    dryRun: z.boolean().optional().describe('true forces a dry run; false is accepted only when the config is not dry'),
  })
  .strict();

export type RunRequest = z.infer<typeof RunRequestSchema>;

/** The narrowing a valid request asks for, checked against the config. */
export interface RunScope {
  readonly dryRun: boolean;
  readonly registries?: readonly string[];
  readonly repositories?: string;
  /** Also list the repositories no rule matches, for byte accounting (`regprune report`). */
  readonly accountUnmatched?: boolean;
  /** `keep` values for the what-if section (`regprune report --what-if`). */
  readonly whatIf?: readonly number[];
}

/**
 * Validates an untrusted request body (already JSON-parsed; `undefined` or `{}` = run as
 * configured) and returns the run's scope. Throws `UsageError` naming what is wrong.
 */
export function scopeRun(config: Config, body: unknown): RunScope {
  // `null`, a number, a string or an array is a caller's mistake, not "run everything".
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new UsageError(
      `invalid request body: expected a JSON object such as {"registry": "name", "dryRun": true}, got ${got}; ` +
        'send {} or no body to run as configured',
    );
  }
  const parsed = RunRequestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new UsageError(`invalid request body: ${formatIssues(parsed.error.issues, body ?? {}).join('; ')}`);
  }
  const request = parsed.data;
  if (request.registry !== undefined && !config.registries.some((r) => r.name === request.registry)) {
    const names = config.registries.map((r) => `"${r.name}"`).join(', ');
    throw new UsageError(
      `invalid request body: registry "${request.registry}" is not configured; configured: ${names}`,
    );
  }
  if (request.dryRun === false && config.dryRun) {
    throw new UsageError(
      'invalid request body: dryRun: false cannot turn deletion on while the config says dryRun: true; set dryRun: ' +
        'false in the config',
    );
  }
  return {
    dryRun: request.dryRun ?? config.dryRun,
    ...(request.registry !== undefined ? { registries: [request.registry] } : {}),
    ...(request.repository !== undefined ? { repositories: request.repository } : {}),
  };
}

/**
 * The `wait` query parameter of `POST /prune`: `true` runs synchronously and answers with the
 * report (today's answer, within the host's HTTP limit); absent or `false` queues the run (202).
 * Anything else is a UsageError (400).
 */
export function parseWaitFlag(value: string | null | undefined): boolean {
  if (value === null || value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new UsageError(
    `invalid query parameter wait=${JSON.stringify(value).slice(0, 40)}: use wait=true to wait for the report, ` +
      'or leave it out to get a run id and a status URL (202)',
  );
}
