/**
 * Default storage prices, per provider. Users override them in the config's `pricing:` section;
 * the report prints the prices it used and where they came from.
 */

/** When the defaults below were checked against their sources. */
export const PRICES_AS_OF = '2026-11-23';

/** Bytes in the GB that cloud storage bills are written in (AWS bills storage in GB of 2^30 bytes). */
export const BYTES_PER_GIB = 2 ** 30;

/** Average days in a month, for prices quoted per day (365 / 12). */
export const DAYS_PER_MONTH = 365 / 12;

export const DEFAULT_CURRENCY = 'USD';

/** ECR private repository storage: $0.10 per GB-month in most regions. */
export const ECR_DEFAULT_PER_GB_MONTH = 0.1;
export const ECR_PRICE_SOURCE = 'https://aws.amazon.com/ecr/pricing/ (storage, most regions)';

/**
 * A self-hosted OCI registry has no list price: the default is block storage, $0.08 per GB-month
 * (AWS EBS gp3, us-east-1), as a stand-in for the disk the registry's blobs live on. Set
 * `pricing.oci.perGBMonth` to your own figure (object storage, a SAN, or 0).
 */
export const OCI_DEFAULT_PER_GB_MONTH = 0.08;
export const OCI_PRICE_SOURCE = 'block storage stand-in: AWS EBS gp3 $0.08 per GB-month (us-east-1)';

export type AcrSku = 'Basic' | 'Standard' | 'Premium';

/**
 * ACR SKUs: a daily registry fee that includes some storage; storage beyond it is billed per GiB
 * per day. Microsoft Learn, "Azure Container Registry service tiers": Basic includes 10 GiB,
 * Standard 100 GiB, Premium 500 GiB; overage example "$0.003/day" per GiB; Basic fee $0.167/day.
 * Standard and Premium fees from the Azure pricing page as quoted by third-party calculators.
 */
export const ACR_SKUS: Readonly<Record<AcrSku, { readonly includedGiB: number; readonly feePerDay: number }>> = {
  Basic: { includedGiB: 10, feePerDay: 0.167 },
  Standard: { includedGiB: 100, feePerDay: 0.667 },
  Premium: { includedGiB: 500, feePerDay: 1.667 },
};
export const ACR_OVERAGE_PER_GIB_DAY = 0.003;
/** The data plane cannot tell a registry's SKU; Standard is the common production choice. */
export const ACR_DEFAULT_SKU: AcrSku = 'Standard';
export const ACR_PRICE_SOURCE = 'https://learn.microsoft.com/azure/container-registry/container-registry-skus';
