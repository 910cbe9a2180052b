import { describe, expect, it } from 'vitest';
import { execute } from '../../lib/execute/index.js';
import { FRESH_LISTING_MS } from '../../lib/execute/types.js';
import type { Image } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import type { Plan } from '../../lib/plan/types.js';
import { RegistryUnavailableError } from '../../lib/errors.js';
import { DeleteAbortedError } from '../../lib/providers/provider.js';
import { daysAgo, image, index, inventory, NOW, policy, referrer } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const REPO = 'app/web';

/** A provider holding `images`, the inventory it lists, and the plan for `keep` (nothing pinned but `latest`). */
async function arrange(
  images: readonly Image[],
  options: { keep?: number; maxDeleteBatch?: number; tagListingHasTargets?: boolean } = {},
) {
  const provider = new MemoryProvider({
    repositories: { [REPO]: images },
    maxDeleteBatch: options.maxDeleteBatch ?? 100,
    tagListingHasTargets: options.tagListingHasTargets ?? false,
  });
  const listed = inventory(await provider.listImages(REPO), { repository: REPO });
  const repositoryPlan = plan(listed, policy({ keep: options.keep ?? 0, pinned: ['latest'] }), NOW);
  return { provider, listed, repositoryPlan };
}

function digests(entries: readonly { digest: string }[]): string[] {
  return entries.map((entry) => entry.digest).sort();
}

describe('execute', () => {
  it('deletes exactly what the plan deletes and keeps what it keeps', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const { provider, listed, repositoryPlan } = await arrange([current, old]);

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([old.digest]);
    expect(outcome.kept).toEqual([{ digest: current.digest, tags: ['latest'], reason: 'pinned' }]);
    expect(outcome.failed).toEqual([]);
    expect(provider.digests(REPO)).toEqual([current.digest]);
  });

  it('never deletes a digest a kept tag moved to since the listing, nor its index children', async () => {
    const amd64 = image({ name: 'amd64' });
    const arm64 = image({ name: 'arm64' });
    const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64, arm64], pushedAt: daysAgo(20) });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([amd64, arm64, oldIndex, current]);
    expect(digests(repositoryPlan.delete)).toEqual([amd64.digest, arm64.digest, oldIndex.digest].sort());
    provider.setTag(REPO, 'latest', oldIndex.digest); // someone rolls `latest` back to the old build

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(outcome.deleted).toEqual([]);
    expect(provider.deletedDigests()).toEqual([]);
    const referenced = outcome.kept.filter((entry) => entry.reason === 'referenced');
    expect(digests(referenced)).toEqual([amd64.digest, arm64.digest, oldIndex.digest].sort());
    expect(outcome.warnings.join('\n')).toContain('"latest" now points at it');
  });

  it('takes where kept tags point from a tag listing that says so, without resolving them again', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const older = image({ name: 'older', tags: ['b0'], pushedAt: daysAgo(30) });
    const arranged = await arrange([current, old, older], { tagListingHasTargets: true });
    const { provider, listed, repositoryPlan } = arranged;
    provider.setTag(REPO, 'latest', old.digest);

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedDigests()).toEqual([older.digest]);
    expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: old.digest, reason: 'referenced' }));
    expect(provider.calls.filter((call) => call.method === 'resolveTags')).toEqual([]);
  });

  it('never deletes a digest a tag created since the listing points at', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const older = image({ name: 'older', tags: ['b0'], pushedAt: daysAgo(30) });
    const { provider, listed, repositoryPlan } = await arrange([current, old, older]);
    provider.setTag(REPO, 'hotfix', old.digest);

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([older.digest]);
    expect(outcome.kept).toContainEqual({ digest: old.digest, tags: ['b1'], reason: 'referenced' });
    expect(provider.tagTarget(REPO, 'hotfix')).toBe(old.digest);
  });

  it('deletes nothing when a tag points at a digest that even a fresh listing does not show', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const { provider, listed, repositoryPlan } = await arrange([current, old]);
    provider.setTag(REPO, 'hotfix', `sha256:${'e'.repeat(64)}`); // the listing lags the tag

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedDigests()).toEqual([]);
    expect(outcome.failed.map((entry) => entry.error).join('\n')).toContain('listing does not show yet');
  });

  it('keeps planned manifests that an index pushed since the listing reuses', async () => {
    const amd64 = image({ name: 'amd64' });
    const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64], pushedAt: daysAgo(20) });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([amd64, oldIndex, current]);
    provider.push(REPO, index({ name: 'new-index', tags: ['v2'], children: [amd64], pushedAt: NOW }));

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([oldIndex.digest]);
    expect(outcome.kept).toContainEqual({ digest: amd64.digest, tags: [], reason: 'referenced' });
    expect(provider.digests(REPO)).toContain(amd64.digest);
  });

  it('deletes an index before its children and a referrer before its subject', async () => {
    const amd64 = image({ name: 'amd64' });
    const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64], pushedAt: daysAgo(20) });
    const signature = referrer(oldIndex, { name: 'sig' });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([amd64, oldIndex, signature, current]);

    await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedDigests()).toEqual([signature.digest, oldIndex.digest, amd64.digest]);
  });

  it('does not delete the children of an index that failed to delete, and reports why', async () => {
    const amd64 = image({ name: 'amd64' });
    const arm64 = image({ name: 'arm64' });
    const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64, arm64], pushedAt: daysAgo(20) });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([amd64, arm64, oldIndex, current]);
    provider.deleteFailures.set(oldIndex.digest, 'DENIED: delete refused');

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedDigests()).toEqual([oldIndex.digest]);
    expect(provider.digests(REPO)).toEqual([amd64.digest, arm64.digest, current.digest, oldIndex.digest].sort());
    expect(outcome.failed).toContainEqual({ digest: oldIndex.digest, tags: ['b1'], error: 'DENIED: delete refused' });
    expect(outcome.failed).toContainEqual({
      digest: amd64.digest,
      tags: [],
      error: `not deleted: its index ${oldIndex.digest} failed to delete`,
    });
    expect(outcome.deleted).toEqual([]);
  });

  it('does not delete the subject of a signature that failed to delete', async () => {
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const signature = referrer(old, { name: 'sig' });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([old, signature, current]);
    provider.deleteFailures.set(signature.digest, 'timeout');

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.digests(REPO)).toContain(old.digest);
    expect(outcome.failed.map((entry) => entry.error)).toEqual([
      'timeout',
      `not deleted: its referrer ${signature.digest} failed to delete`,
    ]);
  });

  it('goes on after one failed deletion and reports it', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const olds = [1, 2, 3].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const { provider, listed, repositoryPlan } = await arrange([current, ...olds], { maxDeleteBatch: 1 });
    provider.deleteFailures.set(olds[1]!.digest, 'HTTP 500 from the registry');

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([olds[0]!.digest, olds[2]!.digest].sort());
    expect(outcome.failed).toEqual([{ digest: olds[1]!.digest, tags: ['b2'], error: 'HTTP 500 from the registry' }]);
  });

  it('in a dry run calls no delete and lists exactly what a real run then deletes', async () => {
    const amd64 = image({ name: 'amd64' });
    const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64], pushedAt: daysAgo(20) });
    const olds = [1, 2].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const { provider, listed, repositoryPlan } = await arrange([amd64, oldIndex, ...olds, current]);

    const dry = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: true });
    const deleteCallsAfterDryRun = provider.calls.filter((call) => call.method === 'delete').length;
    const real = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(deleteCallsAfterDryRun).toBe(0);
    expect(dry.deleted).toEqual(real.deleted);
    expect(provider.deletedDigests().sort()).toEqual(digests(dry.deleted));
  });

  it('deletes in chunks of the provider batch size', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const olds = [1, 2, 3, 4, 5].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const { provider, listed, repositoryPlan } = await arrange([current, ...olds], { maxDeleteBatch: 2 });

    await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    const batches = provider.calls.filter((call) => call.method === 'delete').map((call) => call.items?.length);
    expect(batches).toEqual([2, 2, 1]);
  });

  it('starts no deletion once the time budget is nearly used and reports the rest as pending', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const olds = [1, 2, 3, 4, 5].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const { provider, listed, repositoryPlan } = await arrange([current, ...olds], { maxDeleteBatch: 2 });
    const budgets = [120_000, 120_000, 5_000]; // before re-checking tags, first chunk, second chunk
    const remainingMs = () => budgets.shift() ?? 0;

    const outcome = await execute({
      plan: repositoryPlan,
      inventory: listed,
      provider,
      dryRun: false,
      remainingMs,
      safetyMarginMs: 10_000,
    });

    expect(outcome.deleted).toHaveLength(2);
    expect(outcome.pending).toHaveLength(3);
    expect(provider.digests(REPO)).toHaveLength(4);
    expect(outcome.failed).toEqual([]);
  });

  it(
    'out of time, still deletes what an index it already deleted leaves behind, so the next run has nothing ' +
      'stranded',
    async () => {
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const groups = [1, 2].map((n) => {
        const children = [image({ name: `amd64-${n}` }), image({ name: `arm64-${n}` })];
        return {
          index: index({ name: `release-${n}`, tags: [`r${n}`], children, pushedAt: daysAgo(20 + n) }),
          children,
        };
      });
      const all = [current, ...groups.flatMap((group) => [group.index, ...group.children])];
      const { provider, listed, repositoryPlan } = await arrange(all, { maxDeleteBatch: 1 });
      // The budget is spent as soon as the first index is gone.
      const indexes = new Set(groups.map((group) => group.index.digest));
      const remainingMs = () => (provider.deletedDigests().some((digest) => indexes.has(digest)) ? 0 : 120_000);

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
        remainingMs,
        safetyMarginMs: 10_000,
      });

      const [started, untouched] = provider.deletedDigests().includes(groups[0]!.index.digest)
        ? groups
        : [groups[1]!, groups[0]!];
      expect(digests(outcome.deleted)).toEqual([started!.index, ...started!.children].map((i) => i.digest).sort());
      expect(digests(outcome.pending)).toEqual([untouched!.index, ...untouched!.children].map((i) => i.digest).sort());
      expect(outcome.failed).toEqual([]);
    },
  );

  it('counts a manifest the registry had already removed as deleted', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const { provider, listed, repositoryPlan } = await arrange([current, old]);
    await provider.delete(REPO, [{ digest: old.digest, tags: ['b1'], action: 'delete-manifest' }]);

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([old.digest]);
    expect(outcome.failed).toEqual([]);
  });

  it('deletes nothing when the tags cannot be re-checked', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const { provider, listed, repositoryPlan } = await arrange([current, old]);
    provider.throwing.set('resolveTags', new RegistryUnavailableError('connection refused'));

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.deletedDigests()).toEqual([]);
    expect(outcome.failed).toEqual([
      {
        digest: old.digest,
        tags: ['b1'],
        error: 'not deleted: could not re-check the tags before deleting (connection refused)',
      },
    ]);
    expect(outcome.error).toBeInstanceOf(RegistryUnavailableError);
  });

  it('reports the rest as not attempted when the registry goes away mid-run', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const olds = [1, 2, 3].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const { provider, listed, repositoryPlan } = await arrange([current, ...olds], { maxDeleteBatch: 1 });
    provider.throwing.set('delete', new RegistryUnavailableError('registry unreachable'));

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(provider.calls.filter((call) => call.method === 'delete')).toHaveLength(1);
    expect(outcome.failed.map((entry) => entry.error)).toEqual([
      'registry unreachable',
      'not attempted: registry unreachable',
      'not attempted: registry unreachable',
    ]);
  });

  it('files what a batch deleted before the registry went away as deleted, and the rest as failed', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const olds = [1, 2, 3].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
    const { provider, listed, repositoryPlan } = await arrange([current, ...olds]);
    const [first, second] = repositoryPlan.delete;
    const memoryDelete = provider.delete.bind(provider);
    provider.delete = async (repository, requests) => {
      // The first request went through; then the registry stopped answering.
      const done = await memoryDelete(repository, requests.slice(0, 1));
      throw new DeleteAbortedError(new RegistryUnavailableError('connection reset'), done);
    };

    const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

    expect(digests(outcome.deleted)).toEqual([first!.digest]);
    expect(outcome.failed.map((entry) => [entry.digest, entry.error])).toEqual(
      expect.arrayContaining([[second!.digest, 'connection reset']]),
    );
    expect(outcome.failed).toHaveLength(2);
    expect(outcome.error).toBeInstanceOf(RegistryUnavailableError);
  });

  it('keeps a planned child whose index the plan keeps, even without re-verification', async () => {
    const amd64 = image({ name: 'amd64' });
    const keptIndex = index({ name: 'kept-index', tags: ['latest'], children: [amd64] });
    const provider = new MemoryProvider({ repositories: { [REPO]: [amd64, keptIndex] } });
    const listed = inventory(await provider.listImages(REPO), { repository: REPO });
    const inconsistentPlan: Plan = {
      registry: 'test',
      repository: REPO,
      keep: [{ digest: keptIndex.digest, tags: ['latest'], reason: 'pinned' }],
      delete: [{ digest: amd64.digest, tags: [], action: 'delete-manifest', wave: 0 }],
      warnings: [],
    };

    const outcome = await execute({ plan: inconsistentPlan, inventory: listed, provider, dryRun: true });

    expect(outcome.deleted).toEqual([]);
    expect(outcome.kept).toContainEqual({ digest: amd64.digest, tags: [], reason: 'referenced' });
  });

  it('does not even re-check tags when the time budget is already used up', async () => {
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const old = image({ name: 'old', tags: ['b1'], pushedAt: daysAgo(20) });
    const { provider, listed, repositoryPlan } = await arrange([current, old]);
    const callsBefore = provider.calls.length;

    const outcome = await execute({
      plan: repositoryPlan,
      inventory: listed,
      provider,
      dryRun: false,
      remainingMs: () => 0,
    });

    expect(outcome.pending).toEqual([{ digest: old.digest, tags: ['b1'], action: 'delete-manifest' }]);
    expect(provider.calls.length).toBe(callsBefore);
  });

  describe('while deleting', () => {
    /** Four old builds deleted one per batch, and the digest deleted last. */
    async function longRun() {
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const olds = [1, 2, 3, 4].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
      const arranged = await arrange([current, ...olds], { maxDeleteBatch: 1 });
      const last = arranged.repositoryPlan.delete.at(-1)!.digest;
      return { ...arranged, last };
    }

    it('keeps a digest that a tag created during the deletions points at', async () => {
      const { provider, listed, repositoryPlan, last } = await longRun();
      provider.before.set('delete', () => provider.setTag(REPO, 'promoted', last));

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
      });

      expect(provider.digests(REPO)).toContain(last);
      expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: last, reason: 'referenced' }));
      expect(outcome.deleted).toHaveLength(3);
    });

    it('puts a kept tag back onto the digest it was moved onto and deleted with (registry 2.8)', async () => {
      const { provider, listed, repositoryPlan, last } = await longRun();
      let deletes = 0;
      // As the last batch is sent, latest is rolled back onto its one digest: the delete takes the tag.
      provider.before.set('delete', () => {
        if (++deletes === 4) provider.setTag(REPO, 'latest', last);
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(provider.tagTarget(REPO, 'latest')).toBe(last);
      expect(provider.digests(REPO)).toContain(last);
      expect(outcome.restoredTags).toEqual([{ tag: 'latest', digest: last }]);
      expect(outcome.lostTags).toEqual([]);
      expect(outcome.warnings.join('\n')).toContain('tag "latest" was moved onto');
      // At the end only the tag put back is resolved again: the listing after the batch showed the rest.
      const resolutions = provider.calls.filter((call) => call.method === 'resolveTags');
      expect(resolutions.map((call) => call.items)).toEqual([['latest'], ['latest']]);
    });

    it('names a kept tag gone with some deleted digest as a lost move when the last listing failed', async () => {
      const { provider, listed, repositoryPlan, last } = await longRun();
      let deletes = 0;
      let listings = 0;
      // As the last batch is sent, latest is moved onto its digest; the listing after it fails.
      provider.before.set('delete', () => {
        if (++deletes === 4) provider.setTag(REPO, 'latest', last);
      });
      provider.before.set('listTags', () => {
        if (++listings === 5) throw new Error('connection reset');
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(outcome.lostTags.map((lost) => lost.tag)).toEqual(['latest']);
      expect(outcome.lostTags[0]?.candidates).toHaveLength(4);
      expect(provider.tagTarget(REPO, 'latest')).toBeDefined();
    });

    it('puts a tag moved while several digests went back where it was, and names the lost move', async () => {
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const olds = [1, 2].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
      const { provider, listed, repositoryPlan } = await arrange([current, ...olds]);
      provider.before.set('delete', () => provider.setTag(REPO, 'latest', olds[0]!.digest));

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(provider.tagTarget(REPO, 'latest')).toBe(current.digest);
      expect(outcome.restoredTags).toEqual([]);
      expect(outcome.lostTags).toEqual([
        expect.objectContaining({
          tag: 'latest',
          digest: current.digest,
          putBackOnto: current.digest,
          candidates: olds.map((old) => old.digest).sort(),
        }),
      ]);
      expect(outcome.lostTags[0]!.error).toMatch(/moved onto one of them .*cannot say which; it was put back onto/);
      expect(outcome.warnings.join('\n')).toContain('protected tag "latest" lost a move');
      expect(outcome.deleted.map((entry) => entry.digest).sort()).toEqual(olds.map((old) => old.digest).sort());
    });

    it('after tags changed, sends the next deletions alone: a move onto one of them is put back exactly', async () => {
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const olds = [1, 2, 3, 4].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
      const { provider, listed, repositoryPlan } = await arrange([current, ...olds], { maxDeleteBatch: 2 });
      let deletes = 0;
      let movedOnto: string | undefined;
      provider.before.set('delete', () => {
        deletes++;
        // A CI push during the first batch, then a rollback onto the first digest sent alone after it.
        if (deletes === 1) provider.setTag(REPO, 'rc', current.digest);
        if (deletes === 2) {
          movedOnto = provider.calls.at(-1)?.items?.[0];
          provider.setTag(REPO, 'latest', movedOnto!);
        }
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });
      const deleteCalls = provider.calls.filter((call) => call.method === 'delete').map((call) => call.items?.length);

      expect(deleteCalls).toEqual([2, 1, 1]);
      expect(provider.tagTarget(REPO, 'latest')).toBe(movedOnto);
      expect(outcome.restoredTags).toEqual([{ tag: 'latest', digest: movedOnto }]);
      expect(outcome.lostTags).toEqual([]);
    });

    it('counts a deleted digest a tag was put back onto as kept, not deleted', async () => {
      const { provider, listed, repositoryPlan, last } = await longRun();
      let deletes = 0;
      provider.before.set('delete', () => {
        if (++deletes === 4) provider.setTag(REPO, 'latest', last);
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(outcome.deleted.map((entry) => entry.digest)).not.toContain(last);
      expect(outcome.deleted).toHaveLength(3);
      expect(outcome.kept).toContainEqual({ digest: last, tags: ['latest'], reason: 'referenced' });
    });

    it('keeps the children of an index whose tag was put back', async () => {
      const amd64 = image({ name: 'amd64' });
      const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64], pushedAt: daysAgo(20) });
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const { provider, listed, repositoryPlan } = await arrange([amd64, oldIndex, current], { maxDeleteBatch: 1 });
      provider.before.set('delete', () => {
        if (provider.deletedDigests().length === 1) provider.setTag(REPO, 'latest', oldIndex.digest);
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(provider.deletedDigests()).toEqual([oldIndex.digest]);
      expect(provider.tagTarget(REPO, 'latest')).toBe(oldIndex.digest);
      expect(provider.digests(REPO)).toContain(amd64.digest);
      expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: amd64.digest, reason: 'referenced' }));
    });

    it('sees a kept tag moved during the deletions from a tag listing that says where tags point', async () => {
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const olds = [1, 2, 3, 4].map((n) => image({ name: `old-${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 + n) }));
      const arranged = await arrange([current, ...olds], { maxDeleteBatch: 1, tagListingHasTargets: true });
      const { provider, listed, repositoryPlan } = arranged;
      const last = repositoryPlan.delete.at(-1)!.digest;
      provider.before.set('delete', () => provider.setTag(REPO, 'latest', last));

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
      });

      expect(provider.digests(REPO)).toContain(last);
      expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: last, reason: 'referenced' }));
      expect(provider.calls.filter((call) => call.method === 'resolveTags')).toEqual([]);
    });

    it('keeps following a tag that appeared mid-run when it moves again', async () => {
      const { provider, listed, repositoryPlan } = await longRun();
      const [first, second, third, fourth] = repositoryPlan.delete.map((decision) => decision.digest);
      let deletes = 0;
      // Each hook runs as a batch is sent, after that batch's check: the next check sees it.
      provider.before.set('delete', () => {
        deletes += 1;
        if (deletes === 1) provider.setTag(REPO, 'hotfix', second!); // appears: protects the second
        if (deletes === 2) provider.setTag(REPO, 'hotfix', fourth!); // moves on to the fourth
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      // The move onto the fourth is not seen before its batch (a names-only listing), so the delete
      // takes the tag, and it is put back right after.
      expect(provider.deletedDigests().sort()).toEqual([first, third, fourth].sort());
      expect(provider.digests(REPO)).toContain(second);
      expect(provider.tagTarget(REPO, 'hotfix')).toBe(fourth);
      expect(outcome.restoredTags).toEqual([{ tag: 'hotfix', digest: fourth }]);
    });

    it(
      'lists the repository again once, not at every check, when a kept tag moves to a build pushed ' + 'mid-run',
      async () => {
        const { provider, listed, repositoryPlan } = await longRun();
        let pushed = false;
        provider.before.set('delete', () => {
          if (pushed) return;
          pushed = true;
          const build = image({ name: 'new-build', tags: ['b5'], pushedAt: daysAgo(0) });
          provider.push(REPO, build);
          provider.setTag(REPO, 'latest', build.digest); // CI moves latest to its new build
        });

        const outcome = await execute({
          plan: repositoryPlan,
          inventory: listed,
          provider,
          dryRun: false,
        });

        expect(outcome.deleted).toHaveLength(4);
        // the test's listing + one
        expect(provider.calls.filter((call) => call.method === 'listImages')).toHaveLength(2);
      },
    );

    it('stops deleting when the tags cannot be re-read during the deletions', async () => {
      const { provider, listed, repositoryPlan } = await longRun();
      provider.before.set('delete', () =>
        provider.throwing.set('listTags', new RegistryUnavailableError('connection reset')),
      );

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
      });

      expect(outcome.deleted).toHaveLength(1);
      expect(outcome.warnings.join('\n')).toContain('could not re-check the tags after deleting: connection reset');
      expect(outcome.failed.map((entry) => entry.error)).toEqual([
        'not attempted: connection reset',
        'not attempted: connection reset',
        'not attempted: connection reset',
      ]);
    });

    it('keeps a manifest that deleting by tag left tagged, and the children of that index', async () => {
      const amd64 = image({ name: 'amd64' });
      const oldIndex = index({ name: 'old-index', tags: ['b1'], children: [amd64], pushedAt: daysAgo(20) });
      const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
      const provider = new MemoryProvider({
        repositories: { [REPO]: [amd64, oldIndex, current] },
        tagListingHasTargets: true,
        deletesByTag: true,
      });
      const listed = inventory(await provider.listImages(REPO), { repository: REPO });
      const repositoryPlan = plan(listed, policy({ keep: 0, pinned: ['latest'] }), NOW);
      // Moved onto the index as its batch is sent: after the listing that checked it.
      provider.before.set('delete', () => provider.setTag(REPO, 'hotfix', oldIndex.digest));

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(provider.digests(REPO)).toEqual([amd64.digest, current.digest, oldIndex.digest].sort());
      expect(provider.tagTarget(REPO, 'hotfix')).toBe(oldIndex.digest);
      expect(outcome.deleted).toEqual([]);
      expect(digests(outcome.kept.filter((entry) => entry.reason === 'referenced'))).toEqual(
        [amd64.digest, oldIndex.digest].sort(),
      );
      expect(outcome.lostTags).toEqual([]);
    });

    it('call budget: one tag listing per batch, and no resolution at the end after the last listing', async () => {
      const { provider, listed, repositoryPlan } = await longRun();

      await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      // Re-verification's listing serves the first batch; each batch is followed by one. The last
      // of them already showed every protected tag that vanished: the kept tags are resolved once.
      expect(provider.calls.filter((call) => call.method === 'listTags')).toHaveLength(1 + 4);
      expect(provider.calls.filter((call) => call.method === 'resolveTags')).toHaveLength(1);
      expect(provider.deletedDigests()).toHaveLength(4);
    });

    it('resolves the protected tags at the end when the listing after the last batch failed', async () => {
      const { provider, listed, repositoryPlan } = await longRun();
      let listings = 0;
      provider.before.set('listTags', () => {
        listings++;
        if (listings === 5) throw new Error('connection reset');
      });

      const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

      expect(outcome.warnings.join('\n')).toContain('could not re-check the tags after deleting');
      expect(provider.calls.filter((call) => call.method === 'resolveTags')).toHaveLength(2);
    });

    it('takes a fresh listing as the first check: no listing before the first batch', async () => {
      const { provider, listed, repositoryPlan } = await longRun();

      await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false, listingAgeMs: () => 5 });

      const methods = provider.calls.map((call) => call.method).filter((method) => method !== 'listImages');
      expect(methods.slice(0, 2)).toEqual(['delete', 'listTags']);
      expect(provider.calls.filter((call) => call.method === 'resolveTags')).toEqual([]);
      expect(provider.deletedDigests()).toHaveLength(4);
    });

    it('lists again once the listing is FRESH_LISTING_MS old; keeps what a tag pushed since points at', async () => {
      const { provider, listed, repositoryPlan, last } = await longRun();
      provider.setTag(REPO, 'hotfix', last);

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
        listingAgeMs: () => FRESH_LISTING_MS,
      });

      expect(provider.calls.find((call) => call.method !== 'listImages')?.method).toBe('listTags');
      expect(provider.digests(REPO)).toContain(last);
      expect(outcome.kept).toContainEqual(expect.objectContaining({ digest: last, reason: 'referenced' }));
    });

    it('starts no batch once shouldStop gives a reason, and leaves the rest pending with it', async () => {
      const { provider, listed, repositoryPlan } = await longRun();
      let batches = 0;

      const outcome = await execute({
        plan: repositoryPlan,
        inventory: listed,
        provider,
        dryRun: false,
        shouldStop: () => (++batches > 2 ? 'SIGINT received' : null),
      });

      expect(provider.deletedDigests()).toHaveLength(2);
      expect(outcome.pending).toHaveLength(2);
      expect(outcome.stopped).toBe('SIGINT received');
      expect(outcome.warnings.join('\n')).toContain('stopped: SIGINT received; 2 deletion(s) left');
    });
  });
});
