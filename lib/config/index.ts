export * from './schema.js';
export * from './load.js';
export * from './policy.js';
export * from './duration.js';
export * from './pattern.js';
