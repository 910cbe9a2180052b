/**
 * History in an Azure append blob, for the Azure Functions (no durable local disk): each run is
 * one `appendBlock` of one line, so concurrent writers never overwrite each other. An append blob
 * holds at most 50,000 blocks (runs); start a new blob name after that.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { describeError } from '../errors.js';
import { HistoryEntrySchema, type HistoryEntry } from './entry.js';
import { parseHistoryLines, type HistoryRead, type HistoryStore } from './store.js';

export const HISTORY_CONTAINER = 'regprune-history';
export const HISTORY_BLOB = 'history.jsonl';

export interface AppendBlobHistoryOptions {
  /** The function app's own storage account (`AzureWebJobsStorage`), with its managed identity. */
  readonly service: BlobServiceClient;
  readonly container?: string;
  readonly blob?: string;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** `HistoryStore` on an Azure append blob. */
export class AppendBlobHistoryStore implements HistoryStore {
  readonly location: string;
  private readonly container: ContainerClient;
  private readonly blobName: string;

  constructor(options: AppendBlobHistoryOptions) {
    this.container = options.service.getContainerClient(options.container ?? HISTORY_CONTAINER);
    this.blobName = options.blob ?? HISTORY_BLOB;
    this.location = `${this.container.containerName}/${this.blobName}`;
  }

  async append(entry: HistoryEntry): Promise<void> {
    const line = `${JSON.stringify(HistoryEntrySchema.parse(entry))}\n`;
    const blob = this.container.getAppendBlobClient(this.blobName);
    try {
      await this.container.createIfNotExists();
      await blob.createIfNotExists();
      await blob.appendBlock(line, Buffer.byteLength(line));
    } catch (error) {
      throw new Error(
        `cannot append to history blob ${this.location}: ${describeError(error)}; grant the function's identity ` +
          `Storage Blob Data Contributor on its storage account`,
        { cause: error },
      );
    }
  }

  async read(): Promise<HistoryRead> {
    let text: string;
    try {
      const buffer = await this.container.getAppendBlobClient(this.blobName).downloadToBuffer();
      text = buffer.toString('utf8');
    } catch (error) {
      if (statusOf(error) === 404) return { entries: [], skipped: [] };
      throw new Error(`cannot read history blob ${this.location}: ${describeError(error)}`, { cause: error });
    }
    return parseHistoryLines(text, this.location);
  }
}
