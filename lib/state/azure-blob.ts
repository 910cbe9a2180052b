/**
 * `StateStore` in an Azure Blob container of the function app's own storage account: one block
 * blob per record, compare-and-swap by ETag conditions (`If-None-Match: *` to create, `If-Match`
 * to replace or delete), which Blob Storage evaluates atomically with the write.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
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

export const STATE_CONTAINER = 'regprune-state';
/** List Blobs answers at most 5,000 names a page (REST API limit). */
const BLOB_LIST_PAGE_MAX = 5000;

export interface BlobStateStoreOptions {
  /** The function app's storage (`blobServiceFromEnv`), with its managed identity. */
  readonly service: BlobServiceClient;
  readonly container?: string;
  /** Names a list page asks for; tests make it small to exercise paging. */
  readonly pageSize?: number;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** `StateStore` on Azure Blob Storage. */
export class BlobStateStore implements StateStore {
  readonly location: string;
  private readonly container: ContainerClient;
  private readonly pageSize: number;
  private containerReady: Promise<unknown> | undefined;

  constructor(options: BlobStateStoreOptions) {
    this.container = options.service.getContainerClient(options.container ?? STATE_CONTAINER);
    this.pageSize = Math.min(options.pageSize ?? BLOB_LIST_PAGE_MAX, BLOB_LIST_PAGE_MAX);
    this.location = this.container.url;
  }

  private unavailable(what: string, key: string, error: unknown): StateUnavailableError {
    return stateFailure(
      what,
      key,
      this.location,
      error,
      "grant the function's identity Storage Blob Data Contributor on its storage account",
    );
  }

  private ready(): Promise<unknown> {
    this.containerReady ??= this.container.createIfNotExists().catch((error: unknown) => {
      this.containerReady = undefined;
      throw error;
    });
    return this.containerReady;
  }

  async read(key: string): Promise<StateRecord | null> {
    assertStateKey(key);
    try {
      const blob = this.container.getBlockBlobClient(key);
      const response = await blob.download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      }
      if (response.etag === undefined) throw new Error('the download answered no ETag');
      return { value: new Uint8Array(Buffer.concat(chunks)), version: response.etag };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.unavailable('read', key, error);
    }
  }

  create(key: string, value: Uint8Array | string): Promise<StateWrite> {
    return this.upload(key, value, { ifNoneMatch: '*' }, 'create');
  }

  replace(key: string, value: Uint8Array | string, version: string): Promise<StateWrite> {
    return this.upload(key, value, { ifMatch: version }, 'replace');
  }

  private async upload(
    key: string,
    value: Uint8Array | string,
    conditions: { ifNoneMatch?: string; ifMatch?: string },
    what: string,
  ): Promise<StateWrite> {
    assertStateKey(key);
    const bytes = toBytes(value);
    try {
      await this.ready();
      const response = await this.container.getBlockBlobClient(key).upload(bytes, bytes.byteLength, { conditions });
      if (response.etag === undefined) throw new Error('the upload answered no ETag');
      return { ok: true, version: response.etag };
    } catch (error) {
      // 409 BlobAlreadyExists / 412 ConditionNotMet: lost the CAS. 404: replaced a record that is gone.
      const status = statusOf(error);
      if (status === 409 || status === 412 || (status === 404 && conditions.ifMatch !== undefined)) {
        return { ok: false };
      }
      throw this.unavailable(what, key, error);
    }
  }

  async delete(key: string, version?: string): Promise<StateDelete> {
    assertStateKey(key);
    try {
      await this.container
        .getBlockBlobClient(key)
        .delete(version === undefined ? {} : { conditions: { ifMatch: version } });
      return { ok: true };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return { ok: version === undefined };
      if (status === 412) return { ok: false };
      throw this.unavailable('delete', key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertStatePrefix(prefix);
    const keys: string[] = [];
    try {
      for await (const page of this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: this.pageSize })) {
        for (const blob of page.segment.blobItems) keys.push(blob.name);
      }
    } catch (error) {
      if (statusOf(error) === 404) return []; // no container yet: nothing written
      throw this.unavailable('list', prefix, error);
    }
    return keys.sort();
  }
}
