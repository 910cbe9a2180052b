/**
 * The function app's state store, without the AWS SDK that `stateStoreFromEnv` (lib/state/env.ts)
 * may load: the Azure bundle must carry only its own cloud's code.
 */
import { BlobStateStore } from './azure-blob.js';
import { blobServiceFromEnv } from './azure-service.js';

/** The state store in the function app's storage account (`AzureWebJobsStorage…`). */
export async function azureStateStoreFromEnv(env: NodeJS.ProcessEnv): Promise<BlobStateStore> {
  return new BlobStateStore({ service: await blobServiceFromEnv(env) });
}
