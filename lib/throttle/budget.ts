/**
 * One request budget per registry (docs/design.md, "Request budget"): reads and writes in separate
 * token buckets where the registry's quota counts them apart (ACR's ReadOps and WriteOps), shared by
 * every repository a run works on at once, so repository concurrency never exceeds the quota.
 */
import { type BucketClock, TokenBucket } from './bucket.js';

export type RequestKind = 'read' | 'write';

/** The limits a registry's config or its provider's defaults give (requests a second; absent = unbounded). */
export interface BudgetLimits {
  /** All requests together (a quota that counts every call alike), on top of the two below. */
  readonly requestsPerSecond?: number | undefined;
  readonly readsPerSecond?: number | undefined;
  readonly writesPerSecond?: number | undefined;
}

/**
 * Published quotas, for the defaults and the docs. ECR publishes per-API rates only for the push and
 * pull APIs (Amazon ECR service quotas: BatchGetImage 2,000/s, GetDownloadUrlForLayer 3,000/s,
 * PutImage 10/s, …), none for DescribeRepositories, DescribeImages or BatchDeleteImage: unbounded,
 * adaptive. ACR publishes none today; its SKU page used to give ReadOps/WriteOps per minute
 * (Basic 1,000/100, Standard 3,000/500, Premium 10,000/2,000), kept here for `rateLimit.acrSku`.
 */
export const ACR_SKU_LIMITS: Readonly<
  Record<'Basic' | 'Standard' | 'Premium', { readonly readsPerSecond: number; readonly writesPerSecond: number }>
> = {
  Basic: { readsPerSecond: 1_000 / 60, writesPerSecond: 100 / 60 },
  Standard: { readsPerSecond: 3_000 / 60, writesPerSecond: 500 / 60 },
  Premium: { readsPerSecond: 10_000 / 60, writesPerSecond: 2_000 / 60 },
};

/** A registry's two buckets. */
export class RequestBudget {
  readonly read: TokenBucket;
  readonly write: TokenBucket;
  /** Every request, where the quota counts them together; null when it does not. */
  readonly all: TokenBucket | null;

  constructor(limits: BudgetLimits = {}, clock?: BucketClock) {
    const bucket = (rate: number | undefined) =>
      new TokenBucket({ ratePerSecond: rate ?? Infinity, ...(clock ? { clock } : {}) });
    this.read = bucket(limits.readsPerSecond);
    this.write = bucket(limits.writesPerSecond);
    this.all = limits.requestsPerSecond !== undefined ? bucket(limits.requestsPerSecond) : null;
  }

  /** The bucket a request of this kind draws from. */
  of(kind: RequestKind): TokenBucket {
    return kind === 'write' ? this.write : this.read;
  }

  /** Waits for a token of this kind. */
  async take(kind: RequestKind): Promise<void> {
    await this.of(kind).take();
    await this.all?.take();
  }

  /** The registry throttled a request of this kind: the shared budget slows down where there is one. */
  throttled(kind: RequestKind, retryAfterMs?: number): void {
    (this.all ?? this.of(kind)).throttled(retryAfterMs);
  }
}

/** What a registry's config asks for: its `rateLimit`, an ACR SKU's published rates under explicit figures. */
export function budgetLimitsFor(registry: {
  readonly provider: string;
  readonly rateLimit?: (BudgetLimits & { readonly acrSku?: keyof typeof ACR_SKU_LIMITS | undefined }) | undefined;
}): BudgetLimits {
  const limit = registry.rateLimit;
  const sku = registry.provider === 'acr' && limit?.acrSku !== undefined ? ACR_SKU_LIMITS[limit.acrSku] : undefined;
  return {
    requestsPerSecond: limit?.requestsPerSecond,
    readsPerSecond: limit?.readsPerSecond ?? sku?.readsPerSecond,
    writesPerSecond: limit?.writesPerSecond ?? sku?.writesPerSecond,
  };
}
