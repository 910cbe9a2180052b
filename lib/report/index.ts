export * from './types.js';
export * from './footprint.js';
export * from './repository.js';
export * from './totals.js';
export * from './report.js';
export * from './exit-code.js';
export * from './summary.js';
export * from './units.js';
