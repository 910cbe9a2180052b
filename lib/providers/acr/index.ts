export {
  createAcrProvider,
  ACR_DEFAULT_CONCURRENCY,
  ACR_MAX_CONCURRENCY,
  ACR_PAGE_SIZE,
  type AcrProviderOptions,
} from './provider.js';
