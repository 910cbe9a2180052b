/**
 * `StateStore` in an S3 bucket (created by infra/aws): one object per record, compare-and-swap by
 * S3 conditional writes — PutObject `If-None-Match: *` to create, `If-Match: <etag>` to replace,
 * DeleteObject `If-Match` to delete. S3 answers 412 PreconditionFailed when the condition does not
 * hold and 409 ConditionalRequestConflict when another conditional write to the key raced ours;
 * both mean "lost the CAS". https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { StateUnavailableError } from '../errors.js';
import {
  assertStateKey,
  assertStatePrefix,
  stateFailure,
  toBytes,
  type StateDelete,
  type StateRecord,
  type StateStore,
  type StateWrite,
} from './store.js';

/** ListObjectsV2 answers at most 1,000 keys a page (API limit). */
const S3_LIST_PAGE_MAX = 1000;

export interface S3StateStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Keys a list page asks for; tests make it small to exercise paging. */
  readonly pageSize?: number;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** `StateStore` on Amazon S3. */
export class S3StateStore implements StateStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number;

  constructor(options: S3StateStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.pageSize = Math.min(options.pageSize ?? S3_LIST_PAGE_MAX, S3_LIST_PAGE_MAX);
    this.location = `s3://${options.bucket}/`;
  }

  private unavailable(what: string, key: string, error: unknown): StateUnavailableError {
    return stateFailure(
      what,
      key,
      this.location,
      error,
      'grant the role s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the state bucket',
    );
  }

  async read(key: string): Promise<StateRecord | null> {
    assertStateKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (response.ETag === undefined || response.Body === undefined) throw new Error('GetObject answered no ETag');
      return { value: await response.Body.transformToByteArray(), version: response.ETag };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.unavailable('read', key, error);
    }
  }

  create(key: string, value: Uint8Array | string): Promise<StateWrite> {
    return this.put(key, value, { IfNoneMatch: '*' }, 'create');
  }

  replace(key: string, value: Uint8Array | string, version: string): Promise<StateWrite> {
    return this.put(key, value, { IfMatch: version }, 'replace');
  }

  private async put(
    key: string,
    value: Uint8Array | string,
    condition: { IfNoneMatch?: string; IfMatch?: string },
    what: string,
  ): Promise<StateWrite> {
    assertStateKey(key);
    try {
      const response = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: toBytes(value), ...condition }),
      );
      if (response.ETag === undefined) throw new Error('PutObject answered no ETag');
      return { ok: true, version: response.ETag };
    } catch (error) {
      // 404 NoSuchKey: If-Match on a key that is gone, which is a lost CAS too.
      const status = statusOf(error);
      if (status === 412 || status === 409 || (status === 404 && condition.IfMatch !== undefined)) return { ok: false };
      throw this.unavailable(what, key, error);
    }
  }

  async delete(key: string, version?: string): Promise<StateDelete> {
    assertStateKey(key);
    try {
      // DeleteObject on a missing key answers 204 without a condition; with If-Match it answers 404/412.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: version }));
      return { ok: true };
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409 || status === 404) return { ok: false };
      throw this.unavailable('delete', key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertStatePrefix(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: this.pageSize,
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw this.unavailable('list', prefix, error);
    }
    return keys.sort();
  }
}
