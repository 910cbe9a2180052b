export * from './types.js';
export * from './scope.js';
export * from './account.js';
export * from './section.js';
