export * from './execute.js';
export * from './types.js';
