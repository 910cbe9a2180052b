/**
 * The Lambda's state store, without the Azure SDK that `stateStoreFromEnv` (lib/state/env.ts) may
 * load: the AWS bundle must carry only its own cloud's code.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { StateUnavailableError } from '../errors.js';
import { LocalStateStore } from './local.js';
import { S3StateStore } from './s3.js';
import type { StateStore } from './store.js';

/** An S3 state store on `bucket`, in the region the environment names (the Lambda's own). */
export function s3StateStoreFor(bucket: string, env: NodeJS.ProcessEnv): S3StateStore {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  return new S3StateStore({ client: new S3Client(region ? { region } : {}), bucket });
}

/** REGPRUNE_STATE_BUCKET (set by infra/aws/main.tf), else a REGPRUNE_STATE directory (local runs, tests). */
export function awsStateStoreFromEnv(env: NodeJS.ProcessEnv): StateStore {
  const bucket = env.REGPRUNE_STATE_BUCKET?.trim();
  if (bucket) return s3StateStoreFor(bucket, env);
  const directory = env.REGPRUNE_STATE?.trim();
  if (directory && !directory.includes('://')) return new LocalStateStore(directory);
  throw new StateUnavailableError(
    'No state store for the run lock and history: set REGPRUNE_STATE_BUCKET to the state bucket ' +
      '(infra/aws creates it and sets it), or REGPRUNE_STATE to a local directory',
  );
}
