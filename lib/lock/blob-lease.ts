/**
 * `RunLock` on Azure Blob Storage leases: one empty blob per registry in a container of the
 * function app's own storage account (`AzureWebJobsStorage`). A lease is exclusive: a second
 * `acquireLease` answers 409 LeaseAlreadyPresent. Leases are taken for 60 s and renewed every 20 s
 * while the run lasts, so a crashed or killed host frees the lock within a minute by itself.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { LeaseState, systemLeaseClock, type LeaseClock, type LockHandle, type RunLock } from './lock.js';

/** The longest finite lease Blob Storage grants (15–60 s, or infinite). */
export const LEASE_DURATION_S = 60;
/** Renew well before expiry: two renewals may fail before another run could take over. */
export const LEASE_RENEW_MS = 20_000;
export const LOCK_CONTAINER = 'regprune-locks';

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export interface BlobLeaseLockOptions {
  readonly service: BlobServiceClient;
  readonly container?: string;
  readonly log?: Logger;
  /** Renewal period; tests may shorten it. */
  readonly renewMs?: number;
  readonly clock?: LeaseClock;
}

/** Blob names allow most characters; keep lock names plain and predictable. */
function blobName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`;
}

export class BlobLeaseLock implements RunLock {
  private readonly container: ContainerClient;
  private readonly log: Logger;
  private readonly renewMs: number;
  private readonly clock: LeaseClock;
  private containerReady = false;

  constructor(options: BlobLeaseLockOptions) {
    this.container = options.service.getContainerClient(options.container ?? LOCK_CONTAINER);
    this.log = options.log ?? silentLogger;
    this.renewMs = options.renewMs ?? LEASE_RENEW_MS;
    this.clock = options.clock ?? systemLeaseClock;
  }

  async acquire(key: string): Promise<LockHandle | null> {
    if (!this.containerReady) {
      await this.container.createIfNotExists();
      this.containerReady = true;
    }
    const blob = this.container.getBlockBlobClient(blobName(key));
    try {
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (error) {
      // 409 BlobAlreadyExists / 412 ConditionNotMet: the lock blob exists (maybe leased): fine.
      if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
    }
    const leases = blob.getBlobLeaseClient();
    const sentAt = this.clock.monotonicMs();
    try {
      await leases.acquireLease(LEASE_DURATION_S);
    } catch (error) {
      if (statusOf(error) === 409) return null; // LeaseAlreadyPresent: another run holds it
      throw error;
    }
    const state = new LeaseState(this.clock, sentAt, LEASE_DURATION_S * 1000);
    const renewal = setInterval(() => {
      const renewAt = this.clock.monotonicMs();
      leases
        .renewLease()
        .then(() => state.renewed(renewAt))
        .catch((error: unknown) => {
          // 409 LeaseIdMismatch/LeaseLost: the lease expired and another run holds the blob now.
          if (statusOf(error) === 409) state.markLost('another run took the lock over (the blob lease changed)');
          else state.renewalFailed(String(statusOf(error) ?? (error instanceof Error ? error.message : error)));
          this.log.warn('could not renew the run lock; another run may start once it expires', {
            key,
            status: statusOf(error) ?? null,
          });
        });
    }, this.renewMs);
    renewal.unref();
    let released = false;
    return {
      key,
      heldFor: (marginMs) => state.heldFor(marginMs),
      lostReason: () => state.lostReason(),
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        const wasLost = state.isLost;
        state.markReleased();
        if (wasLost) return;
        try {
          await leases.releaseLease();
        } catch (error) {
          this.log.warn('could not release the run lock; it expires by itself within a minute', {
            key,
            status: statusOf(error) ?? null,
          });
        }
      },
    };
  }
}

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
    throw new Error(
      'No storage for the run lock and state: set AzureWebJobsStorage (connection string) or ' +
        'AzureWebJobsStorage__accountName (managed identity).',
    );
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  return new BlobServiceClient(uri, new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}));
}
