export {
  createOciProvider,
  OCI_DEFAULT_CONCURRENCY,
  OCI_MAX_DELETE_BATCH,
  type OciProviderOptions,
} from './provider.js';
