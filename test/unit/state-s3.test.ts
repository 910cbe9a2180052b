/** S3 specifics beyond the shared contract: the 409 of a concurrent conditional write. */
import { request } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3StateStore } from '../../lib/state/s3.js';
import { startFakeS3, type FakeS3 } from '../support/fake-s3.js';

let fake: FakeS3;
let client: S3Client;
beforeAll(async () => {
  fake = await startFakeS3();
  client = new S3Client({
    endpoint: fake.endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await fake.stop();
});

describe('S3 state store', () => {
  it('treats 409 ConditionalRequestConflict (a conditional write racing ours) as a lost CAS', async () => {
    const store = new S3StateStore({ client, bucket: fake.bucket });
    // Another writer's conditional PUT whose body is still arriving.
    const other = request(`${fake.endpoint}/${fake.bucket}/locks/slow`, {
      method: 'PUT',
      headers: { 'if-none-match': '*', 'content-length': '4' },
    });
    const otherAnswer = new Promise<number | undefined>((resolve) =>
      other.on('response', (r) => resolve(r.statusCode)),
    );
    other.write('ab');
    await expect.poll(() => fake.conditionalWritesInFlight()).toEqual(['locks/slow']);

    const ours = await store.create('locks/slow', 'mine');
    other.end('cd');
    const otherStatus = await otherAnswer;
    const record = await store.read('locks/slow');

    expect(ours.ok).toBe(false);
    expect(otherStatus).toBe(200);
    expect(new TextDecoder().decode(record?.value)).toBe('abcd');
  });

  it('says which permissions to grant when the bucket refuses', async () => {
    const store = new S3StateStore({ client, bucket: 'not-the-state-bucket' });

    const listing = store.list('history/');

    await expect(listing).rejects.toThrow(
      /cannot list state record history\/ in s3:\/\/not-the-state-bucket\/.*s3:ListBucket/,
    );
  });
});
