export * from './store.js';
export * from './local.js';
export * from './azure-blob.js';
export * from './azure-service.js';
export * from './host-azure.js';
export * from './env.js';
