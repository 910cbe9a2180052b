export * from './media-types.js';
export * from './manifest.js';
export * from './referrers.js';
