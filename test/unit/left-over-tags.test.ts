/**
 * Tags a half-done delete leaves behind (docs/design.md, section 5, "Left-over tags"): the paths the
 * e2e test on registry 2.8 cannot reach, against a memory registry that, the first time it deletes a
 * manifest, leaves every tag on it in place, as registry 2.8 killed between its delete and its
 * untagging does.
 */
import { describe, expect, it } from 'vitest';
import { execute } from '../../lib/execute/index.js';
import { plan } from '../../lib/plan/index.js';
import type { DeleteRequest, DeleteResult } from '../../lib/providers/provider.js';
import { daysAgo, image, inventory, NOW, policy } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const REPO = 'app/web';

class HalfDeletingRegistry extends MemoryProvider {
  readonly recreated: string[] = [];
  private readonly halfDone = new Set<string>();
  refuseToRecreate = false;
  /** Runs once, just before the first delete (someone moving a tag at that moment). */
  beforeFirstDelete: (() => void) | undefined;
  /** Which tags of a half-deleted manifest the registry had not untagged yet (default: all). */
  survives: (tag: string) => boolean = () => true;
  /** Throws from the n-th `resolveTags` call on (0: never). */
  failResolveFrom = 0;
  private resolves = 0;

  /** The first delete of a digest removes the manifest and leaves its tags; the retry answers 404. */
  override async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    this.beforeFirstDelete?.();
    this.beforeFirstDelete = undefined;
    const left: Array<[string, string]> = [];
    const first = new Set<string>();
    for (const request of requests) {
      if (this.halfDone.has(request.digest)) continue;
      this.halfDone.add(request.digest);
      first.add(request.digest);
      const { tags, targets } = await this.listTagsWithTargets(repository);
      for (const tag of tags)
        if (targets.get(tag) === request.digest && this.survives(tag)) left.push([tag, request.digest]);
    }
    const results = await super.delete(repository, requests);
    for (const [tag, digest] of left) this.setTag(repository, tag, digest);
    return results.map((result) => (first.has(result.request.digest) ? { ...result, alreadyGone: true } : result));
  }

  /** A tag whose manifest is gone answers 404, as on registry 2.8. */
  override async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    this.resolves++;
    if (this.failResolveFrom > 0 && this.resolves >= this.failResolveFrom) throw new Error('registry unreachable');
    const resolved = await super.resolveTags(repository, tags);
    const present = new Set(this.digests(repository));
    return new Map([...resolved].map(([tag, digest]) => [tag, digest !== null && present.has(digest) ? digest : null]));
  }

  async recreateManifest(repository: string, digest: string): Promise<void> {
    if (this.refuseToRecreate) throw new Error('BLOB_UNKNOWN: blob unknown to registry');
    this.recreated.push(digest);
    this.putManifest(repository, digest);
  }

  private async listTagsWithTargets(repository: string) {
    const { tags } = await super.listTags(repository);
    return { tags, targets: await super.resolveTags(repository, tags) };
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
  it('re-creates the digest and deletes it again, which takes them', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.recreated).toEqual([old.digest]);
    expect(provider.digests(REPO)).not.toContain(old.digest);
    expect((await provider.listTags(REPO)).tags).toEqual(['latest']);
    expect(outcome.deleted.map((entry) => entry.digest)).toEqual([old.digest]);
    expect(outcome.warnings).toEqual([expect.stringMatching(/"b1", "dev" still named .* deleted again/)]);
  });

  it('keeps the digest when a protected tag was moved onto it just before the half-done delete', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.beforeFirstDelete = () => provider.setTag(REPO, 'latest', old.digest); // a rollback, unseen

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect((await provider.resolveTags(REPO, ['latest'])).get('latest')).toBe(old.digest);
    expect(provider.digests(REPO)).toContain(old.digest);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.kept.map((entry) => entry.digest)).toContain(old.digest);
    expect(outcome.lostTags).toEqual([]);
    expect(outcome.warnings.join('\n')).toMatch(/"latest" were on .* re-created and is kept/);
  });

  it('keeps the digest when only the protected tag moved onto it was left, not the planned ones', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.beforeFirstDelete = () => provider.setTag(REPO, 'latest', old.digest);
    provider.survives = (tag) => tag === 'latest';

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect((await provider.resolveTags(REPO, ['latest'])).get('latest')).toBe(old.digest);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.lostTags).toEqual([]);
  });

  it('keeps the digest when a tag pushed onto it in the instant before the half-done delete was left', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.beforeFirstDelete = () => provider.setTag(REPO, 'hotfix', old.digest);

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect((await provider.resolveTags(REPO, ['hotfix'])).get('hotfix')).toBe(old.digest);
    expect(outcome.kept.map((entry) => entry.digest)).toContain(old.digest);
    expect(outcome.warnings.join('\n')).toMatch(/"hotfix" were on .* re-created and is kept/);
  });

  it('never deletes again a manifest a protected tag was put back onto, whatever else answers 404', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.setTag(REPO, 'ghost', `sha256:${'0'.repeat(64)}`); // left over from long ago: answers 404
    provider.beforeFirstDelete = () => provider.setTag(REPO, 'latest', old.digest);
    provider.survives = (tag) => tag !== 'latest'; // the registry untagged `latest` only

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect((await provider.resolveTags(REPO, ['latest'])).get('latest')).toBe(old.digest);
    expect(provider.digests(REPO)).toContain(old.digest);
    expect(provider.recreated).toEqual([]);
    expect(outcome.lostTags).toEqual([]);
  });

  it('keeps a re-created digest when checking it then fails: it exists again', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    // 1: re-verification's kept tag; 2: the suspects; 3: do their digests exist; 4: after re-creating (fails).
    provider.failResolveFrom = 4;

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.recreated).toEqual([old.digest]);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.kept.map((entry) => entry.digest)).toContain(old.digest);
    expect(outcome.warnings.join('\n')).toMatch(/checking or repairing them failed \(registry unreachable\)/);
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

    expect(provider.recreated).toEqual([]);
    expect((await provider.listTags(REPO)).tags).toEqual(['dev', 'latest']);
    expect(outcome.warnings).toEqual([]);
  });

  it('names the tags and the fix when the registry refuses to re-create the manifest', async () => {
    const { provider, listed, repositoryPlan, old } = await arrange();
    provider.refuseToRecreate = true;

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(outcome.deleted.map((entry) => entry.digest)).toEqual([old.digest]);
    expect(outcome.warnings).toEqual([
      expect.stringMatching(
        /BLOB_UNKNOWN.*"b1", "dev" answer 404.*push any image under it and delete that image by digest/,
      ),
    ]);
  });

  it('repairs nothing once the run must stop (a lost lock), and says why', async () => {
    const { provider, listed, repositoryPlan } = await arrange();
    let deletes = 0;
    const realDelete = provider.delete.bind(provider);
    provider.delete = async (repository, requests) => {
      deletes++;
      return realDelete(repository, requests);
    };

    const outcome = await execute({
      plan: repositoryPlan,
      inventory: listed,
      provider,
      dryRun: false,
      shouldStop: () => (deletes > 0 ? 'the lock was lost' : null),
    });

    expect(provider.recreated).toEqual([]);
    expect(deletes).toBe(1);
    expect(outcome.warnings.join('\n')).toMatch(/name deleted manifests; not repaired: the lock was lost/);
  });
});
