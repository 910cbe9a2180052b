/** Request budgets per registry: token buckets that adapt to throttling (docs/design.md, "Request budget"). */
export { type BucketClock, type BucketStats, SYSTEM_CLOCK, TokenBucket, type TokenBucketOptions } from './bucket.js';
export { ACR_SKU_LIMITS, budgetLimitsFor, type BudgetLimits, RequestBudget, type RequestKind } from './budget.js';
