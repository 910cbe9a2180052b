/**
 * The config file, as one zod schema. The `Config` type and the published JSON Schema
 * (`regprune schema`) are both derived from it; neither is written by hand.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { compilePattern } from './pattern.js';
import { PricingSchema, pricingIssues } from '../cost/schema.js';
import { InUseSchema, inUseIssues } from '../inuse/config.js';

const duration = z
  .string()
  .superRefine((text, ctx) => {
    const parsed = parseDuration(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  })
  .describe('A duration: 30m, 12h, 3d, 2w, 2d3h, or ISO 8601 (P3D, PT12H)');

const pattern = z
  .string()
  .superRefine((text, ctx) => {
    const compiled = compilePattern(text);
    if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.error });
  })
  .describe('A glob (* and ? stop at /, ** crosses it) or a /regex/');

const count = z
  .number({ error: 'expected a number ≥ 0' })
  .int({ error: 'expected a whole number ≥ 0' })
  .min(0, { error: 'expected a number ≥ 0' });

/** Retention fields: set in `defaults`, overridden per repository rule (`pinned` adds to the defaults). */
const retentionFields = {
  keep: count.optional().describe('How many of the most recent unpinned tagged images to keep'),
  pinned: z
    .array(pattern)
    .optional()
    .describe("Tags that are never deleted (glob or /regex/). A rule's list adds to the defaults' list"),
  minAge: duration.optional().describe('Grace period: images younger than this are kept whatever their rank'),
  untagged: z
    .enum(['keep', 'delete'], { error: 'expected "keep" or "delete"' })
    .optional()
    .describe('Delete untagged manifests that nothing kept references'),
  order: z
    .enum(['pushed', 'semver'], { error: 'expected "pushed" or "semver"' })
    .optional()
    .describe('Rank images by push time or by the semantic version of their tags'),
  keepPulledWithin: duration
    .optional()
    .describe('Keep images pulled within this duration (where the registry records pulls: ECR)'),
  olderThan: duration.optional().describe('Age floor: only images older than this are deleted'),
  archived: z
    .enum(['keep', 'delete'], { error: 'expected "keep" or "delete"' })
    .optional()
    .describe('Delete archived images (ECR archive storage class) like active ones; by default they are kept'),
};

const RetentionSchema = z.object(retentionFields).strict();

/** A tag class inside a repository (docs/retention.md, "Tag classes"): unset fields come from the rule. */
const TagClassSchema = z
  .object({
    match: pattern.describe('Tags of this class (glob or /regex/); an image is in it when any of its tags matches'),
    keep: retentionFields.keep,
    minAge: retentionFields.minAge,
    olderThan: retentionFields.olderThan,
    keepPulledWithin: retentionFields.keepPulledWithin,
  })
  .strict();

const RepositoryRuleSchema = z
  .object({
    match: pattern.describe('Repository names this rule applies to; the first matching rule wins'),
    ...retentionFields,
    tags: z
      .array(TagClassSchema)
      .min(1, { error: 'expected at least one tag class, or no tags: key' })
      .optional()
      .describe('Tag classes, each with its own keep and ages; an image is kept when any class keeps it'),
  })
  .strict();

const registryCommon = {
  name: z
    .string()
    .min(1, { error: 'expected a non-empty name' })
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'expected letters, digits, . _ or -' })
    .describe('Your name for this registry, used in reports, metrics and locks'),
  concurrency: z
    .number()
    .int()
    .min(1, { error: 'expected a whole number from 1 to 64' })
    .max(64, { error: 'expected a whole number from 1 to 64' })
    .optional()
    .describe('Requests in flight at once against this registry (default per provider)'),
  repositories: z.array(RepositoryRuleSchema).describe('Rules in order; a repository matching none is never touched'),
  maxDeletions: count
    .optional()
    .describe('A real run that would delete more than this many images in this registry is refused before deleting'),
  repositoryConcurrency: z
    .number()
    .int()
    .min(1, { error: 'expected a whole number from 1 to 64' })
    .max(64, { error: 'expected a whole number from 1 to 64' })
    .optional()
    .describe('Repositories pruned at once, all under one request budget (default 8)'),
  rateLimit: z
    .object({
      requestsPerSecond: z.number().positive({ error: 'expected requests a second above 0' }).optional(),
      readsPerSecond: z.number().positive({ error: 'expected requests a second above 0' }).optional(),
      writesPerSecond: z.number().positive({ error: 'expected requests a second above 0' }).optional(),
      acrSku: z
        .enum(['Basic', 'Standard', 'Premium'], { error: 'expected "Basic", "Standard" or "Premium"' })
        .optional()
        .describe("ACR only: start from the SKU's ReadOps/WriteOps per minute (docs/design.md, Request budget)"),
    })
    .strict()
    .optional()
    .describe('Requests a second this run may send (default: unbounded, slowing down when throttled)'),
};

/** True when a URL carries no `user:password@`: secrets never live in the config file. */
function withoutCredentials(text: string): boolean {
  try {
    const url = new URL(text);
    return url.username === '' && url.password === '';
  } catch {
    return true; // not a URL: the .url() check reports it
  }
}
const NO_CREDENTIALS = {
  error: 'expected a URL without user:password@; name the environment variables that hold credentials in auth instead',
};

const httpsOrHttpUrl = z
  .string()
  .url({ error: 'expected a URL like https://registry.example.com' })
  .refine((text) => /^https?:\/\//.test(text), { error: 'expected an http:// or https:// URL' })
  .refine(withoutCredentials, NO_CREDENTIALS);

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable, not its value' });

const OciAuthSchema = z.union([
  z
    .object({ usernameEnv: envName, passwordEnv: envName })
    .strict()
    .describe('Basic auth (or token-service credentials): names of the variables holding them'),
  z.object({ tokenEnv: envName }).strict().describe('A bearer token: name of the variable holding it'),
]);

const OciRegistrySchema = z
  .object({
    provider: z.literal('oci'),
    endpoint: httpsOrHttpUrl.describe('https://registry.example.com or http://127.0.0.1:5000'),
    auth: OciAuthSchema.optional(),
    ...registryCommon,
  })
  .strict();

const AcrRegistrySchema = z
  .object({
    provider: z.literal('acr'),
    endpoint: z
      .string()
      .url({ error: 'expected a URL like https://myreg.azurecr.io' })
      .refine((text) => text.startsWith('https://'), {
        error: 'expected an https:// URL like https://myreg.azurecr.io',
      })
      .refine(withoutCredentials, NO_CREDENTIALS),
    audience: z
      .string()
      .url()
      .optional()
      .describe('Sovereign clouds: e.g. https://management.usgovcloudapi.net (default: Azure public cloud)'),
    ...registryCommon,
  })
  .strict();

const EcrRegistrySchema = z
  .object({
    provider: z.literal('ecr'),
    endpoint: z.string().regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/, {
      error: 'expected a registry host like 123456789012.dkr.ecr.eu-west-1.amazonaws.com (no https://)',
    }),
    apiEndpoint: httpsOrHttpUrl.optional().describe('Override the ECR API URL (VPC endpoint, local test server)'),
    ...registryCommon,
  })
  .strict();

const RegistrySchema = z.discriminatedUnion('provider', [OciRegistrySchema, AcrRegistrySchema, EcrRegistrySchema], {
  error: 'expected provider "acr", "ecr" or "oci"',
});

export const ConfigSchema = z
  .object({
    version: z.literal(1, { error: 'expected version: 1' }),
    dryRun: z.boolean().default(true).describe('Default true: report what would be deleted and delete nothing'),
    defaults: RetentionSchema.default({}),
    registries: z.array(RegistrySchema).min(1, { error: 'expected at least one registry' }),
    pricing: PricingSchema.optional(),
    inUse: InUseSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of pricingIssues(config.pricing, config.registries)) ctx.addIssue({ code: 'custom', ...issue });
    const names = config.registries.map((registry) => registry.name);
    for (const issue of inUseIssues(config.inUse, names)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Set<string>();
    config.registries.forEach((registry, index) => {
      if (seen.has(registry.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['registries', index, 'name'],
          message: `duplicate registry name "${registry.name}"`,
        });
      }
      seen.add(registry.name);
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type RegistryConfig = Config['registries'][number];
export type OciRegistryConfig = Extract<RegistryConfig, { provider: 'oci' }>;
export type AcrRegistryConfig = Extract<RegistryConfig, { provider: 'acr' }>;
export type EcrRegistryConfig = Extract<RegistryConfig, { provider: 'ecr' }>;
export type RepositoryRule = RegistryConfig['repositories'][number];
export type Retention = z.infer<typeof RetentionSchema>;
export type TagClass = z.infer<typeof TagClassSchema>;

/** The JSON Schema of the config file, generated from `ConfigSchema`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://regprune.dev/schema/config-v1.json',
    title: 'regprune config',
    ...z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
