export * from './types.js';
export { plan } from './plan.js';
export { isPinned } from './pinned.js';
export { parseSemver, compareSemver, highestSemver, rankByRecency, mostRecent, type Semver } from './order.js';
export { buildReferenceGraph, type ImageRole, type ReferenceGraph } from './references.js';
export { sortByDigest } from './digest-order.js';
