/**
 * Which state store a host or the CLI uses. Hosts: the Lambda's S3 bucket (`REGPRUNE_STATE_BUCKET`,
 * set by infra/aws) or the function app's own storage account (`AzureWebJobsStorage…`). The CLI:
 * `--state` / `REGPRUNE_STATE` (a directory, `s3://bucket` or a Blob
 * container URL), else the hosts' store when its settings are present (so the CLI takes the same
 * lock as the functions), else `resolveStateDir`. SDKs load lazily so each bundle carries only its own.
 */
import { StateUnavailableError, UsageError } from '../errors.js';
import { LocalStateStore, resolveStateDir } from './local.js';
import type { StateStore } from './store.js';

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?$/;
const BLOB_CONTAINER_URL = /^(https:\/\/[^/]+\.blob\.[^/]+)\/([a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?)\/?$/;

async function s3Store(bucket: string, env: NodeJS.ProcessEnv): Promise<StateStore> {
  const { s3StateStoreFor } = await import('./host-aws.js');
  return s3StateStoreFor(bucket, env);
}

/** The hosts' store when the environment names one (S3 bucket, function app storage), else null. */
async function hostStore(env: NodeJS.ProcessEnv): Promise<StateStore | null> {
  const bucket = env.REGPRUNE_STATE_BUCKET?.trim();
  if (bucket) return s3Store(bucket, env);
  if (
    env.AzureWebJobsStorage?.trim() ||
    env.AzureWebJobsStorage__accountName?.trim() ||
    env.AzureWebJobsStorage__blobServiceUri?.trim()
  ) {
    const { azureStateStoreFromEnv } = await import('./host-azure.js');
    return azureStateStoreFromEnv(env);
  }
  return null;
}

/** A store named by `--state` / `REGPRUNE_STATE`: `s3://bucket`, `https://ACCOUNT.blob…/CONTAINER` or a directory. */
export async function stateStoreAt(target: string, env: NodeJS.ProcessEnv): Promise<StateStore> {
  const s3 = S3_URL.exec(target);
  if (s3?.[1] !== undefined) return s3Store(s3[1], env);
  if (target.startsWith('s3://')) {
    throw new UsageError(`--state ${target}: expected s3://BUCKET (a bucket name, no key prefix)`);
  }
  const blob = BLOB_CONTAINER_URL.exec(target);
  if (blob?.[1] !== undefined && blob[2] !== undefined) {
    const [{ BlobServiceClient }, { DefaultAzureCredential }, { BlobStateStore }] = await Promise.all([
      import('@azure/storage-blob'),
      import('@azure/identity'),
      import('./azure-blob.js'),
    ]);
    const service = new BlobServiceClient(blob[1], new DefaultAzureCredential());
    return new BlobStateStore({ service, container: blob[2] });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new UsageError(
      `--state ${target}: expected a directory, s3://BUCKET or https://ACCOUNT.blob.core.windows.net/CONTAINER`,
    );
  }
  return new LocalStateStore(target);
}

/** The hosts' state store (Lambda, Functions); throws StateUnavailableError when the environment names none. */
export async function stateStoreFromEnv(env: NodeJS.ProcessEnv): Promise<StateStore> {
  const store = await hostStore(env);
  if (store !== null) return store;
  const target = env.REGPRUNE_STATE?.trim();
  if (target) return stateStoreAt(target, env);
  throw new StateUnavailableError(
    'No state store: set REGPRUNE_STATE_BUCKET (AWS, an S3 bucket), AzureWebJobsStorage or ' +
      'AzureWebJobsStorage__accountName (Azure, the function app storage) or REGPRUNE_STATE (a local directory)',
  );
}

/** The CLI's state store: `--state` (`flag`), `REGPRUNE_STATE`, the hosts' store, else `resolveStateDir`. */
export async function cliStateStore(env: NodeJS.ProcessEnv, flag?: string): Promise<StateStore> {
  const target = flag?.trim() || env.REGPRUNE_STATE?.trim();
  if (target) return stateStoreAt(target, env);
  return (await hostStore(env)) ?? new LocalStateStore(resolveStateDir(env));
}
