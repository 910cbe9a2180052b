/** Which Blob service the function app's state store lives in. */
import type { BlobServiceClient } from '@azure/storage-blob';
import { StateUnavailableError } from '../errors.js';

/**
 * The BlobServiceClient for the function app's storage: `AzureWebJobsStorage` as a connection
 * string (local, Azurite), or identity-based `AzureWebJobsStorage__blobServiceUri` /
 * `AzureWebJobsStorage__accountName` with the app's managed identity (what the Bicep deploys).
 */
export async function blobServiceFromEnv(env: NodeJS.ProcessEnv): Promise<BlobServiceClient> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const connection = env.AzureWebJobsStorage?.trim();
  if (connection) return BlobServiceClient.fromConnectionString(connection);
  const uri =
    env.AzureWebJobsStorage__blobServiceUri?.trim() ||
    (env.AzureWebJobsStorage__accountName?.trim()
      ? `https://${env.AzureWebJobsStorage__accountName.trim()}.blob.core.windows.net`
      : '');
  if (!uri) {
    throw new StateUnavailableError(
      'No storage for the run lock and state: set AzureWebJobsStorage (connection string) or ' +
        'AzureWebJobsStorage__accountName (managed identity).',
    );
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  return new BlobServiceClient(uri, new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}));
}
