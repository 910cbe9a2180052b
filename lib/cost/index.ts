export * from './types.js';
export * from './prices.js';
export * from './schema.js';
export * from './cost.js';
