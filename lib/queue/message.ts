/**
 * What travels on the work queue (Azure Storage Queue, SQS): a continuation of a registry's
 * scheduled run, or an on-demand run started over HTTP. docs/design.md, "Continuation".
 */
import { z } from 'zod';

/** Run ids are 128 random bits in hex: unguessable, and a valid state key segment. */
export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;

export const ContinueMessageSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('continue'),
    /** The registry's config name. */
    registry: z.string().min(1),
    /** Names the continuation marker this message belongs to; a message whose token is stale is dropped. */
    token: z.string().regex(RUN_ID_PATTERN),
    /** How many continuations came before this one in a row (capped: MAX_CONTINUATION_CHAIN). */
    chain: z.number().int().min(0),
    /** The scheduled run's `repository` glob, when it was narrowed: the continuation keeps to it. */
    repository: z.string().min(1).optional(),
  })
  .strict();

export const RunMessageSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('run'),
    runId: z.string().regex(RUN_ID_PATTERN),
  })
  .strict();

export const WorkMessageSchema = z.discriminatedUnion('kind', [ContinueMessageSchema, RunMessageSchema]);

export type ContinueMessage = z.infer<typeof ContinueMessageSchema>;
export type RunMessage = z.infer<typeof RunMessageSchema>;
export type WorkMessage = z.infer<typeof WorkMessageSchema>;

/** Parses a queue message (already JSON-decoded, or its text); null when it is not one of ours. */
export function parseWorkMessage(raw: unknown): WorkMessage | null {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  const parsed = WorkMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
