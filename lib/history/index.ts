export * from './entry.js';
export * from './store.js';
export * from './trend.js';
export * from './record.js';
export * from './state.js';
