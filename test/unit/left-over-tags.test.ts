/**
 * Tags a half-done delete leaves behind (docs/design.md, section 5, "Left-over tags"): the paths the
 * e2e test on registry 2.8 cannot reach, against a memory registry that leaves a deleted manifest's
 * tags in place, as registry 2.8 killed between its delete and its untagging does.
 */
import { describe, expect, it } from 'vitest';
import { execute } from '../../lib/execute/index.js';
import { plan } from '../../lib/plan/index.js';
import type { DeleteRequest, DeleteResult } from '../../lib/providers/provider.js';
import { daysAgo, image, inventory, NOW, policy } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const REPO = 'app/web';

/** Deletes manifests but leaves their tags (they then resolve to nothing); `deleteAgain` as told. */
class HalfDeletingRegistry extends MemoryProvider {
  readonly deletedAgain: string[] = [];
  refuseAgain = false;

  override async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    const tags = new Map(requests.flatMap((request) => request.tags.map((tag) => [tag, request.digest] as const)));
    const results = await super.delete(repository, requests);
    for (const [tag, digest] of tags) this.setTag(repository, tag, digest);
    return results;
  }

  override async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    const resolved = await super.resolveTags(repository, tags);
    const present = new Set(this.digests(repository));
    return new Map([...resolved].map(([tag, digest]) => [tag, digest !== null && present.has(digest) ? digest : null]));
  }

  async deleteAgain(repository: string, digest: string): Promise<void> {
    if (this.refuseAgain) throw new Error('BLOB_UNKNOWN: blob unknown to registry');
    this.deletedAgain.push(digest);
    for (const tag of (await this.listTags(repository)).tags) {
      if ((await super.resolveTags(repository, [tag])).get(tag) === digest) this.removeTag(repository, tag);
    }
  }
}

async function arrange() {
  const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
  const old = image({ name: 'old', tags: ['b1', 'dev'], pushedAt: daysAgo(20) });
  const provider = new HalfDeletingRegistry({ repositories: { [REPO]: [current, old] } });
  const listed = inventory(await provider.listImages(REPO), { repository: REPO });
  const repositoryPlan = plan(listed, policy({ keep: 0, pinned: ['latest'] }), NOW);
  return { provider, listed, repositoryPlan, current, old };
}

describe('tags a half-done delete leaves behind', () => {
  it('deletes the digest again, which takes them', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedAgain).toEqual([old.digest]);
    expect((await provider.listTags(REPO)).tags).toEqual(['latest']);
    expect(outcome.warnings).toEqual([expect.stringMatching(/"b1", "dev" still named .* deleted again/)]);
  });

  it('leaves a planned tag pushed again onto another image, and says nothing', async () => {
    const { provider, listed, repositoryPlan, current } = await arrange();
    const realDelete = provider.delete.bind(provider);
    provider.delete = async (repository, requests) => {
      const results = await realDelete(repository, requests);
      provider.removeTag(REPO, 'b1');
      provider.setTag(REPO, 'dev', current.digest); // a new build under `dev`
      return results;
    };

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedAgain).toEqual([]);
    expect((await provider.listTags(REPO)).tags).toEqual(['dev', 'latest']);
    expect(outcome.warnings).toEqual([]);
  });

  it('names the tags and the fix when the registry refuses to re-create the manifest', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.refuseAgain = true;

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(outcome.deleted.map((entry) => entry.digest)).toEqual([old.digest]);
    expect(outcome.warnings).toEqual([
      expect.stringMatching(/"b1", "dev" still name .*BLOB_UNKNOWN.*push any image under each tag and delete it/),
    ]);
  });
});
