/** The run lock on a blob lease, against Azurite started by the test. */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobLeaseLock, blobServiceFromEnv } from '../../lib/lock/blob-lease.js';
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

  it('reports the lease safely held after acquiring it and lost after releasing it', async () => {
    const lock = new BlobLeaseLock({ service });

    const held = await lock.acquire('held-for');
    const before = { held: held?.heldFor(1_000), reason: held?.lostReason() };
    await held?.release();

    expect(before).toEqual({ held: true, reason: null });
    expect(held?.heldFor(0)).toBe(false);
    expect(held?.lostReason()).toMatch(/released/);
  });

  it('stops vouching for the lease once local time passes its expiry minus the margin', async () => {
    let mono = 0;
    const clock = { wallMs: () => 1_700_000_000_000 + mono, monotonicMs: () => mono };
    const lock = new BlobLeaseLock({ service, clock, renewMs: 3_600_000 });

    const held = await lock.acquire('expiry-margin');
    mono = 50_000;
    const withinMargin = held?.heldFor(15_000);
    const outsideMargin = held?.heldFor(5_000);
    await held?.release();

    expect(withinMargin).toBe(false);
    expect(outsideMargin).toBe(true);
  });

  it('says which setting to set when no storage is configured', async () => {
    const building = blobServiceFromEnv({});

    await expect(building).rejects.toThrow(/AzureWebJobsStorage__accountName/);
  });
});
