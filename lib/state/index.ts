export * from './store.js';
export * from './local.js';
export * from './azure-blob.js';
export * from './env.js';
