export { createEcrProvider, type EcrProviderOptions } from './provider.js';
export type { EcrClientHooks } from './client.js';
