export * from './lock.js';
export * from './key.js';
export * from './state-lease.js';
