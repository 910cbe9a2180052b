import { describe, expect, it } from 'vitest';
import { buildReferenceGraph, childEnd, referencersOf } from '../../lib/plan/references.js';
import { image, index, referrer } from '../support/builders.js';

describe('the reference graph shared by planning, execution and accounting', () => {
  it('lists the indexes that hold a manifest before its referrers, each in listing order', () => {
    const platform = image({ name: 'platform' });
    const signature = referrer(platform, { name: 'signature' });
    const second = index({ name: 'second', tags: ['b'], children: [platform] });
    const first = index({ name: 'first', tags: ['a'], children: [platform] });
    const { graph } = buildReferenceGraph([signature, second, first, platform]);

    const referencers = referencersOf(graph);

    const at = graph.digests.indexOf(platform.digest);
    const found = [];
    for (let e = referencers.start[at]!; e < referencers.start[at + 1]!; e++) {
      found.push([graph.digests[referencers.from[e]!], referencers.isIndex[e]]);
    }
    expect(found).toEqual([
      [second.digest, 1],
      [first.digest, 1],
      [signature.digest, 0],
    ]);
  });

  it('keeps a referrer index apart from its children: the subject is not a child', () => {
    const subject = image({ name: 'subject', tags: ['v1'] });
    const member = image({ name: 'member' });
    const referrersIndex = index({ name: 'referrers', children: [member], subject });
    const { graph } = buildReferenceGraph([subject, member, referrersIndex]);

    const at = graph.digests.indexOf(referrersIndex.digest);

    const children = [...graph.refs.slice(graph.refFrom[at]!, childEnd(graph, at))].map((p) => graph.digests[p]);
    expect(children).toEqual([member.digest]);
    expect(graph.digests[graph.subjectAt[at]!]).toBe(subject.digest);
    expect(graph.subjectAt[graph.digests.indexOf(member.digest)]).toBe(-1);
  });

  it('marks a subject that is not listed as -2, so the referrer is planned as an orphan', () => {
    const orphan = referrer(`sha256:${'f'.repeat(64)}`, { name: 'orphan' });

    const { graph } = buildReferenceGraph([orphan]);

    expect(graph.subjectAt[0]).toBe(-2);
    expect(graph.roles[0]).toBe('orphan-referrer');
  });
});
