/**
 * Which state store a host uses, from its environment: the Lambda's S3 bucket
 * (`REGPRUNE_STATE_BUCKET`, set by infra/aws), the function app's own storage account
 * (`AzureWebJobsStorage…`, as for the blob lease), or a local directory (`REGPRUNE_STATE`).
 * SDKs load lazily so each cloud's bundle carries only its own.
 */
import { StateUnavailableError } from '../errors.js';
import { LocalStateStore } from './local.js';
import type { StateStore } from './store.js';

/** The state store the environment names; throws StateUnavailableError when it names none. */
export async function stateStoreFromEnv(env: NodeJS.ProcessEnv): Promise<StateStore> {
  const bucket = env.REGPRUNE_STATE_BUCKET?.trim();
  if (bucket) {
    const [{ S3Client }, { S3StateStore }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3.js')]);
    const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
    return new S3StateStore({ client: new S3Client(region ? { region } : {}), bucket });
  }
  if (
    env.AzureWebJobsStorage?.trim() ||
    env.AzureWebJobsStorage__accountName?.trim() ||
    env.AzureWebJobsStorage__blobServiceUri?.trim()
  ) {
    const [{ blobServiceFromEnv }, { BlobStateStore }] = await Promise.all([
      import('../lock/blob-lease.js'),
      import('./azure-blob.js'),
    ]);
    return new BlobStateStore({ service: await blobServiceFromEnv(env) });
  }
  const directory = env.REGPRUNE_STATE?.trim();
  if (directory) return new LocalStateStore(directory);
  throw new StateUnavailableError(
    'No state store: set REGPRUNE_STATE_BUCKET (AWS, an S3 bucket), AzureWebJobsStorage or ' +
      'AzureWebJobsStorage__accountName (Azure, the function app storage) or REGPRUNE_STATE (a local directory)',
  );
}
