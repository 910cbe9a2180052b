/** Monthly storage cost from byte accounting and prices. Pure arithmetic. */
import { assertNever } from '../errors.js';
import type { ProviderKind } from '../providers/provider.js';
import type { RegistryStorage } from '../storage/types.js';
import {
  ACR_DEFAULT_SKU,
  ACR_OVERAGE_PER_GIB_DAY,
  ACR_PRICE_SOURCE,
  ACR_SKUS,
  BYTES_PER_GIB,
  DAYS_PER_MONTH,
  DEFAULT_CURRENCY,
  ECR_DEFAULT_PER_GB_MONTH,
  ECR_PRICE_SOURCE,
  OCI_DEFAULT_PER_GB_MONTH,
  OCI_PRICE_SOURCE,
  PRICES_AS_OF,
} from './prices.js';
import type { Pricing } from './schema.js';
import type { CostSection, MonthlyCost, PriceModel, PriceUsed, RegistryCost, RepositoryCost } from './types.js';

export const COST_METHOD =
  'Storage cost only (egress and requests are not counted). Per repository: the bytes each repository keeps share ' +
  'the remaining cost in proportion, and the saving is shared in proportion to the bytes each repository reclaims; ' +
  "a blob used by several repositories counts an equal share in each. ACR: the SKU's included storage is applied " +
  'to the bytes that stay, so only bytes above it cost money.';

/** The price for one registry: the config's overrides over the provider defaults. */
export function priceFor(
  registry: { readonly name: string; readonly provider: ProviderKind },
  pricing?: Pricing,
): PriceUsed {
  const currency = pricing?.currency ?? DEFAULT_CURRENCY;
  const override = pricing?.registries?.[registry.name];
  const base = { registry: registry.name, provider: registry.provider, currency, asOf: PRICES_AS_OF };
  switch (registry.provider) {
    case 'ecr':
    case 'oci': {
      const configured = override?.perGBMonth ?? pricing?.[registry.provider]?.perGBMonth;
      const fallback = registry.provider === 'ecr' ? ECR_DEFAULT_PER_GB_MONTH : OCI_DEFAULT_PER_GB_MONTH;
      const source = registry.provider === 'ecr' ? ECR_PRICE_SOURCE : OCI_PRICE_SOURCE;
      return {
        ...base,
        model: { kind: 'per-gb-month', perGBMonth: configured ?? fallback },
        source: configured === undefined ? source : 'config (pricing:)',
      };
    }
    case 'acr': {
      const defaults = pricing?.acr;
      const configuredSku = override?.sku ?? defaults?.sku;
      const sku = configuredSku ?? ACR_DEFAULT_SKU;
      const includedGiB = override?.includedGiB ?? defaults?.includedGiB;
      const overagePerGiBDay = override?.overagePerGiBDay ?? defaults?.overagePerGiBDay;
      const feePerDay = override?.feePerDay ?? defaults?.feePerDay;
      const fromConfig = [configuredSku, includedGiB, overagePerGiBDay, feePerDay].some((value) => value !== undefined);
      return {
        ...base,
        model: {
          kind: 'acr-sku',
          sku,
          skuAssumed: configuredSku === undefined,
          includedGiB: includedGiB ?? ACR_SKUS[sku].includedGiB,
          overagePerGiBDay: overagePerGiBDay ?? ACR_OVERAGE_PER_GIB_DAY,
          feePerDay: feePerDay ?? ACR_SKUS[sku].feePerDay,
        },
        source: fromConfig ? `config (pricing:), defaults from ${ACR_PRICE_SOURCE}` : ACR_PRICE_SOURCE,
      };
    }
    default:
      return assertNever(registry.provider);
  }
}

/** Storage cost per month of `bytes` under a price model (fixed fees excluded). */
export function monthlyStorageCost(bytes: number, model: PriceModel): number {
  const gib = bytes / BYTES_PER_GIB;
  switch (model.kind) {
    case 'per-gb-month':
      return gib * model.perGBMonth;
    case 'acr-sku':
      return Math.max(0, gib - model.includedGiB) * model.overagePerGiBDay * DAYS_PER_MONTH;
    default:
      return assertNever(model);
  }
}

/** The fixed monthly fee of a price model (ACR SKU fee), 0 where there is none. */
export function fixedMonthlyFee(model: PriceModel): number {
  return model.kind === 'acr-sku' ? model.feePerDay * DAYS_PER_MONTH : 0;
}

/** Cost of one registry, per repository and in total. */
export function costRegistry(storage: RegistryStorage, price: PriceUsed): RegistryCost {
  const before = monthlyStorageCost(storage.bytes.before, price.model);
  const after = monthlyStorageCost(storage.bytes.after, price.model);
  const saved = before - after;
  const keptBytes = storage.bytes.after;
  const reclaimedBytes = storage.bytes.reclaimed;
  const repositories: RepositoryCost[] = storage.repositories.map((repository) => {
    const repositoryAfter = keptBytes > 0 ? (after * repository.bytes.after) / keptBytes : 0;
    const repositorySaved = reclaimedBytes > 0 ? (saved * repository.bytes.reclaimed) / reclaimedBytes : 0;
    return {
      name: repository.name,
      monthly: rounded({ before: repositoryAfter + repositorySaved, after: repositoryAfter, saved: repositorySaved }),
    };
  });
  const notes: string[] = [];
  if (price.model.kind === 'acr-sku' && price.model.skuAssumed) {
    notes.push(
      `${storage.name}: SKU assumed ${price.model.sku} (the registry API does not tell it); set ` +
        `pricing.registries.${storage.name}.sku`,
    );
  }
  if (storage.accuracy === 'estimate')
    notes.push(`${storage.name}: costs rest on estimated bytes (see the storage notes)`);
  return {
    name: storage.name,
    provider: storage.provider,
    currency: price.currency,
    accuracy: storage.accuracy,
    price,
    monthly: rounded({ before, after, saved }),
    fixedMonthly: round(fixedMonthlyFee(price.model)),
    repositories,
    notes,
  };
}

/** The report's `cost` section for the registries accounted. */
export function costSection(storages: readonly RegistryStorage[], pricing?: Pricing): CostSection {
  const registries = storages.map((storage) =>
    costRegistry(storage, priceFor({ name: storage.name, provider: storage.provider }, pricing)),
  );
  const currencies = new Set(registries.map((registry) => registry.currency));
  const currency = currencies.size <= 1 ? (registries[0]?.currency ?? pricing?.currency ?? DEFAULT_CURRENCY) : null;
  const totals =
    currency === null
      ? null
      : {
          ...rounded(
            registries.reduce(
              (sum, registry) => ({
                before: sum.before + registry.monthly.before,
                after: sum.after + registry.monthly.after,
                saved: sum.saved + registry.monthly.saved,
              }),
              { before: 0, after: 0, saved: 0 },
            ),
          ),
          fixedMonthly: round(registries.reduce((sum, registry) => sum + registry.fixedMonthly, 0)),
        };
  return { currency, registries, totals, method: COST_METHOD };
}

/** Money to 1/10,000 of a unit: enough for per-repository shares of cents. */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function rounded(cost: MonthlyCost): MonthlyCost {
  return { before: round(cost.before), after: round(cost.after), saved: round(cost.saved) };
}
