/** The config's optional `pricing:` section: overrides of the default storage prices. */
import { z } from 'zod';
import type { ProviderKind } from '../providers/provider.js';

const price = z
  .number({ error: 'expected a price ≥ 0 (a number, in the currency of `pricing.currency`)' })
  .finite({ error: 'expected a finite price ≥ 0' })
  .min(0, { error: 'expected a price ≥ 0' });

const gib = z
  .number({ error: 'expected a number of GiB ≥ 0' })
  .finite({ error: 'expected a finite number of GiB ≥ 0' })
  .min(0, { error: 'expected a number of GiB ≥ 0' });

const perGBMonth = price.describe('Storage price per GB-month (GB = 2^30 bytes, as cloud bills count)');

const PerGbPricingSchema = z.object({ perGBMonth: perGBMonth.optional() }).strict();

const acrFields = {
  sku: z
    .enum(['Basic', 'Standard', 'Premium'], { error: 'expected "Basic", "Standard" or "Premium"' })
    .optional()
    .describe("The registry's SKU (default Standard): sets the included storage and the daily fee"),
  includedGiB: gib.optional().describe('Storage included in the SKU, in GiB (default: 10 / 100 / 500 by SKU)'),
  overagePerGiBDay: price.optional().describe('Price of each GiB beyond the included storage, per day (default 0.003)'),
  feePerDay: price.optional().describe("The SKU's daily registry fee (printed; pruning does not change it)"),
};

const AcrPricingSchema = z.object(acrFields).strict();

/** Per-registry overrides: the fields that fit the registry's provider (checked against the config). */
const RegistryPricingSchema = z.object({ perGBMonth: perGBMonth.optional(), ...acrFields }).strict();

export const PricingSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, { error: 'expected a three-letter currency code such as USD or EUR' })
      .optional()
      .describe('Currency label printed with every price (default USD). regprune does not convert: give prices in it'),
    ecr: PerGbPricingSchema.optional().describe('ECR storage price (default 0.10 per GB-month)'),
    oci: PerGbPricingSchema.optional().describe(
      'Self-hosted/OCI storage price (default 0.08 per GB-month, block storage)',
    ),
    acr: AcrPricingSchema.optional().describe('ACR SKU and prices for every ACR registry'),
    registries: z
      .record(z.string(), RegistryPricingSchema)
      .optional()
      .describe('Overrides for one registry, by its name in `registries[]`'),
  })
  .strict()
  .describe('Storage prices for the cost report; every field has a documented default');

export type Pricing = z.infer<typeof PricingSchema>;

const ACR_ONLY_FIELDS = ['sku', 'includedGiB', 'overagePerGiBDay', 'feePerDay'] as const;

/** Issues where `pricing.registries` names an unknown registry or sets fields its provider has no use for. */
export function pricingIssues(
  pricing: Pricing | undefined,
  registries: readonly { readonly name: string; readonly provider: ProviderKind }[],
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, override] of Object.entries(pricing?.registries ?? {})) {
    const path = ['pricing', 'registries', name];
    const registry = registries.find((candidate) => candidate.name === name);
    if (!registry) {
      const known = registries.map((candidate) => `"${candidate.name}"`).join(', ');
      issues.push({ path, message: `no registry is named "${name}"; configured: ${known}` });
      continue;
    }
    if (registry.provider === 'acr' && override.perGBMonth !== undefined) {
      issues.push({
        path: [...path, 'perGBMonth'],
        message: 'ACR bills by SKU: use sku, includedGiB and overagePerGiBDay instead',
      });
    }
    if (registry.provider !== 'acr') {
      for (const field of ACR_ONLY_FIELDS) {
        if (override[field] !== undefined) {
          issues.push({
            path: [...path, field],
            message: `only ACR registries have a SKU; an ${registry.provider.toUpperCase()} registry takes perGBMonth`,
          });
        }
      }
    }
  }
  return issues;
}
