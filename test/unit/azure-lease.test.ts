/** The run lock on a blob lease, against Azurite started by the test. */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobLeaseLock, blobServiceFromEnv } from '../../lib/lock/blob-lease.js';
import { withLock } from '../../lib/lock/lock.js';
import { startAzurite, type Azurite } from '../support/azurite.js';

let azurite: Azurite;
let service: BlobServiceClient;

beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
});

afterAll(async () => {
  await azurite.stop();
});

describe('blob lease run lock', () => {
  it('lets only one of two overlapping runs hold the lock for a registry', async () => {
    const first = new BlobLeaseLock({ service });
    const second = new BlobLeaseLock({ service });

    const held = await first.acquire('prod');
    const refused = await second.acquire('prod');
    await held?.release();

    expect(held).not.toBeNull();
    expect(refused).toBeNull();
  });

  it('frees the lock on release so the next run can take it', async () => {
    const lock = new BlobLeaseLock({ service });

    const held = await lock.acquire('release-me');
    await held!.release();
    const again = await lock.acquire('release-me');
    await again?.release();

    expect(again).not.toBeNull();
  });

  it('locks registries independently', async () => {
    const lock = new BlobLeaseLock({ service });

    const a = await lock.acquire('registry-a');
    const b = await lock.acquire('registry-b');
    await a?.release();
    await b?.release();

    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
  });

  it('runs the task under withLock and skips it while another run holds the lock', async () => {
    const lock = new BlobLeaseLock({ service });
    let innerResult: Awaited<ReturnType<typeof withLock<string>>> | undefined;

    const outer = await withLock(lock, 'nested', async () => {
      innerResult = await withLock(lock, 'nested', async () => 'second run');
      return 'first run';
    });

    expect(outer).toEqual({ ran: true, value: 'first run' });
    expect(innerResult).toEqual({ ran: false });
  });

  it('releases the lock when the task throws', async () => {
    const lock = new BlobLeaseLock({ service });

    await expect(
      withLock(lock, 'throws', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const after = await lock.acquire('throws');
    await after?.release();

    expect(after).not.toBeNull();
  });

  it('says which setting to set when no storage is configured', async () => {
    const building = blobServiceFromEnv({});

    await expect(building).rejects.toThrow(/AzureWebJobsStorage__accountName/);
  });
});
