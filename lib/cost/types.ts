/** The report's `cost` section: monthly storage cost before, after and saved, and the prices used. */
import type { ProviderKind } from '../providers/provider.js';
import type { Accuracy } from '../storage/types.js';
import type { AcrSku } from './prices.js';

/** How a registry's storage is priced. */
export type PriceModel =
  | {
      readonly kind: 'per-gb-month';
      /** Price per GB-month (GB = 2^30 bytes). */
      readonly perGBMonth: number;
    }
  | {
      readonly kind: 'acr-sku';
      readonly sku: AcrSku;
      /** True when the SKU is the default, not configured: the data plane cannot tell it. */
      readonly skuAssumed: boolean;
      readonly includedGiB: number;
      readonly overagePerGiBDay: number;
      /** The SKU's daily fee: printed, but outside before/after/saved (pruning does not change it). */
      readonly feePerDay: number;
    };

/** The price a report used for one registry, and where it came from. */
export interface PriceUsed {
  readonly registry: string;
  readonly provider: ProviderKind;
  readonly currency: string;
  readonly model: PriceModel;
  /** `config` when any figure came from `pricing:`, else the default's source. */
  readonly source: string;
  /** Date the defaults were checked. */
  readonly asOf: string;
}

export interface MonthlyCost {
  readonly before: number;
  readonly after: number;
  readonly saved: number;
}

export interface RepositoryCost {
  readonly name: string;
  readonly monthly: MonthlyCost;
}

export interface RegistryCost {
  readonly name: string;
  readonly provider: ProviderKind;
  readonly currency: string;
  readonly accuracy: Accuracy;
  readonly price: PriceUsed;
  /** Storage cost per month, before and after the run (or the plan). */
  readonly monthly: MonthlyCost;
  /** Fixed registry fee per month (ACR SKU), unaffected by pruning; 0 where there is none. */
  readonly fixedMonthly: number;
  readonly repositories: readonly RepositoryCost[];
  readonly notes: readonly string[];
}

export interface CostSection {
  /** Set when every registry uses the same currency; totals are given only then. */
  readonly currency: string | null;
  readonly registries: readonly RegistryCost[];
  readonly totals: (MonthlyCost & { readonly fixedMonthly: number }) | null;
  /** How per-repository figures are apportioned, in one sentence a reader can check. */
  readonly method: string;
}
