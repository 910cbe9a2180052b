import { describe, expect, it } from 'vitest';
import { DeleteAbortedError } from '../../lib/providers/provider.js';
import { deleteInBatches, type SendDeleteBatch } from '../../lib/providers/ecr/delete.js';

describe('ECR deletion in batches', () => {
  it('does not call an image deleted when ECR failed before all its tags were sent', async () => {
    // 101 tags: 100 ids in the first call, the last in a second call that never answers.
    const tags = Array.from({ length: 101 }, (_, i) => `t${i}`);
    const request = { digest: `sha256:${'a'.repeat(64)}`, tags, action: 'delete-manifest' as const };
    let calls = 0;
    const send: SendDeleteBatch = async (ids) => {
      calls++;
      if (calls > 1) throw new Error('AccessDeniedException');
      return { deleted: ids.map((id) => ({ ...id, imageDigest: request.digest })), failures: [] };
    };

    const thrown = await deleteInBatches([request], send, 1).catch((error: unknown) => error);

    expect(thrown).toBeInstanceOf(DeleteAbortedError);
    expect((thrown as DeleteAbortedError).results).toEqual([
      expect.objectContaining({ request, ok: false, code: 'NotAttempted' }),
    ]);
  });

  it('still names a tag taken from another image when a later call of the same image failed', async () => {
    const tags = Array.from({ length: 101 }, (_, i) => `t${i}`);
    const request = { digest: `sha256:${'a'.repeat(64)}`, tags, action: 'delete-manifest' as const };
    const elsewhere = `sha256:${'b'.repeat(64)}`;
    let calls = 0;
    const send: SendDeleteBatch = async (ids) => {
      calls++;
      if (calls > 1) throw new Error('AccessDeniedException');
      // `t0` had been pushed again onto another image: ECR took it from there.
      const from = (id: (typeof ids)[number]) =>
        'imageTag' in id && id.imageTag === 't0' ? elsewhere : request.digest;
      return { deleted: ids.map((id) => ({ ...id, imageDigest: from(id) })), failures: [] };
    };

    const thrown = await deleteInBatches([request], send, 1).catch((error: unknown) => error);

    expect((thrown as DeleteAbortedError).results).toEqual([
      expect.objectContaining({ ok: false, code: 'TagPushedAgain', error: expect.stringContaining(elsewhere) }),
    ]);
  });
});
