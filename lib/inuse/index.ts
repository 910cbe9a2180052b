/** In-use protection: usage sources, reference matching, and the snapshot a run plans with. */
export { collectInUse, type InUseSnapshot, NO_USAGE } from './collect.js';
export { type InUseSourceConfig, InUseSchema } from './config.js';
export { canonicalHost, type ImageReference, parseReference, registryHost } from './reference.js';
export { usageSourceFor } from './sources.js';
export type { ImageUse, UsageSource, UsageSourceKind } from './types.js';
