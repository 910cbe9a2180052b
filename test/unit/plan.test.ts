import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Image } from '../../lib/model.js';
import { plan, type KeepReason, type Plan } from '../../lib/plan/index.js';
import type { Policy } from '../../lib/config/policy.js';
import {
  NOW,
  cosignTag,
  daysAgo,
  digestOf as D,
  hoursAgo,
  image,
  index,
  inventory,
  policy,
  referrer,
} from '../support/builders.js';

type Fate = KeepReason | 'deleted';

interface Row {
  readonly name: string;
  readonly images: readonly Image[];
  readonly policy: Policy;
  /** Every image's fate, by the name its digest was built from. */
  readonly fates: Readonly<Record<string, Fate>>;
}

/** The plan's decisions as `{ name: reason | 'deleted' }`, naming digests by the names in `names`. */
function fatesOf(result: Plan, names: readonly string[]): Record<string, Fate> {
  const nameOf = new Map(names.map((name) => [D(name), name]));
  const out: Record<string, Fate> = {};
  for (const kept of result.keep) out[nameOf.get(kept.digest) ?? kept.digest] = kept.reason;
  for (const deleted of result.delete) out[nameOf.get(deleted.digest) ?? deleted.digest] = 'deleted';
  return out;
}

function runRow(row: Row): void {
  const result = plan(inventory(row.images), row.policy, NOW);

  expect(fatesOf(result, Object.keys(row.fates))).toEqual(row.fates);
}

const oldImage = (name: string, days: number, tags: readonly string[] = [name]): Image =>
  image({ name, tags, pushedAt: daysAgo(days) });

describe('rule 1: pinned', () => {
  it.each<Row>([
    {
      name: 'keeps an image whose tag matches a pinned glob, whatever its rank',
      images: [oldImage('release-1', 90), oldImage('b2', 10), oldImage('b1', 20)],
      policy: policy({ keep: 1, pinned: ['release-*'] }),
      fates: { 'release-1': 'pinned', b2: 'recent', b1: 'deleted' },
    },
    {
      name: 'keeps an image whose tag matches a pinned /regex/',
      images: [oldImage('v1.2.3', 90), oldImage('b2', 10), oldImage('v1.2', 80)],
      policy: policy({ keep: 1, pinned: ['/^v\\d+\\.\\d+\\.\\d+$/'] }),
      fates: { 'v1.2.3': 'pinned', b2: 'recent', 'v1.2': 'deleted' },
    },
    {
      name: 'keeps every tag of a digest when only one of its tags is pinned (latest rolled back to an old build)',
      images: [oldImage('old', 90, ['b1', 'latest']), oldImage('b3', 10), oldImage('b2', 20)],
      policy: policy({ keep: 1, pinned: ['latest'] }),
      fates: { old: 'pinned', b3: 'recent', b2: 'deleted' },
    },
    {
      name: 'does not count pinned images toward keep',
      images: [oldImage('latest', 1), oldImage('b2', 10), oldImage('b1', 20)],
      policy: policy({ keep: 1, pinned: ['latest'] }),
      fates: { latest: 'pinned', b2: 'recent', b1: 'deleted' },
    },
    {
      name: 'keeps a pinned image even when it is locked, with reason pinned',
      images: [image({ name: 'p', tags: ['latest'], locked: true }), oldImage('b1', 10)],
      policy: policy({ keep: 0, pinned: ['latest'] }),
      fates: { p: 'pinned', b1: 'deleted' },
    },
    {
      name: 'keeps a referrer with a pinned tag, and the subject it signs',
      images: [
        oldImage('app', 90, ['b1']),
        referrer(D('app'), { name: 'sig', tags: ['signed-release'] }),
        oldImage('b2', 1),
      ],
      policy: policy({ keep: 1, pinned: ['signed-*'] }),
      fates: { sig: 'pinned', app: 'referenced', b2: 'recent' },
    },
  ])('$name', runRow);
});

describe('rule 2: keep the most recent', () => {
  it.each<Row>([
    {
      name: 'keeps the keep newest tagged images and deletes the older ones',
      images: [oldImage('b1', 40), oldImage('b2', 30), oldImage('b3', 20), oldImage('b4', 10)],
      policy: policy({ keep: 2 }),
      fates: { b4: 'recent', b3: 'recent', b2: 'deleted', b1: 'deleted' },
    },
    {
      name: 'keeps nothing by rank with keep 0',
      images: [oldImage('b1', 40), oldImage('b2', 30)],
      policy: policy({ keep: 0 }),
      fates: { b1: 'deleted', b2: 'deleted' },
    },
    {
      name: 'counts an image with several tags once',
      images: [oldImage('multi', 10, ['b3', 'stable', 'main']), oldImage('b2', 20), oldImage('b1', 30)],
      policy: policy({ keep: 2 }),
      fates: { multi: 'recent', b2: 'recent', b1: 'deleted' },
    },
    {
      name: 'ranks an image with an unknown push time as the oldest',
      images: [image({ name: 'unknown', tags: ['u'], pushedAt: null }), oldImage('b1', 400)],
      policy: policy({ keep: 1 }),
      fates: { b1: 'recent', unknown: 'deleted' },
    },
    {
      name: 'order semver: keeps the highest version, not the newest push',
      images: [oldImage('1.10.0', 90), oldImage('1.9.0', 1), oldImage('1.2.0', 2)],
      policy: policy({ keep: 1, order: 'semver' }),
      fates: { '1.10.0': 'recent', '1.9.0': 'deleted', '1.2.0': 'deleted' },
    },
    {
      name: 'order semver: a prerelease ranks below its release',
      images: [oldImage('2.0.0', 90), oldImage('2.0.0-rc.1', 1)],
      policy: policy({ keep: 1, order: 'semver' }),
      fates: { '2.0.0': 'recent', '2.0.0-rc.1': 'deleted' },
    },
    {
      name: 'order semver: accepts a leading v',
      images: [oldImage('v2.0.0', 90), oldImage('1.5.0', 1)],
      policy: policy({ keep: 1, order: 'semver' }),
      fates: { 'v2.0.0': 'recent', '1.5.0': 'deleted' },
    },
    {
      name: 'order semver: ranks an image by the highest version among its tags',
      images: [oldImage('both', 90, ['1.0.0', '3.0.0']), oldImage('2.0.0', 1)],
      policy: policy({ keep: 1, order: 'semver' }),
      fates: { both: 'recent', '2.0.0': 'deleted' },
    },
    {
      name: 'order semver: tags that are not versions sort as oldest, then by push time',
      images: [oldImage('main', 1), oldImage('0.0.1', 300), oldImage('dev', 2), oldImage('1.2', 3)],
      policy: policy({ keep: 3, order: 'semver' }),
      fates: { '0.0.1': 'recent', main: 'recent', dev: 'recent', '1.2': 'deleted' },
    },
  ])('$name', runRow);

  it('breaks a tie in push time by digest, whatever the input order', () => {
    const [first, second] = [D('tie-x'), D('tie-y')].sort() as [string, string];
    const a = image({ digest: first, tags: ['a'], pushedAt: daysAgo(5) });
    const b = image({ digest: second, tags: ['b'], pushedAt: daysAgo(5) });

    const forward = plan(inventory([a, b]), policy({ keep: 1 }), NOW);
    const backward = plan(inventory([b, a]), policy({ keep: 1 }), NOW);

    expect(forward.keep.map((k) => k.digest)).toEqual([first]);
    expect(backward).toEqual(forward);
  });
});

describe('rule 3: grace period', () => {
  it.each<Row>([
    {
      name: 'keeps a tagged image younger than minAge whatever its rank',
      images: [image({ name: 'young', tags: ['b1'], pushedAt: hoursAgo(2) }), oldImage('b2', 0.01)],
      policy: policy({ keep: 1, minAge: '1d' }),
      fates: { b2: 'recent', young: 'grace' },
    },
    {
      name: 'keeps a young untagged orphan even with untagged: delete (children upload before their index)',
      images: [image({ name: 'orphan', pushedAt: hoursAgo(1) })],
      policy: policy({ minAge: '1d', untagged: 'delete' }),
      fates: { orphan: 'grace' },
    },
    {
      name: 'deletes an image exactly minAge old',
      images: [oldImage('b1', 1), oldImage('b2', 0.5)],
      policy: policy({ keep: 1, minAge: '1d' }),
      fates: { b2: 'recent', b1: 'deleted' },
    },
    {
      name: 'never gives grace to an image whose push time is unknown',
      images: [image({ name: 'unknown', tags: ['u'], pushedAt: null }), oldImage('b1', 0.1)],
      policy: policy({ keep: 1, minAge: '3650d' }),
      fates: { b1: 'recent', unknown: 'deleted' },
    },
    {
      name: 'keeps an image pushed in the future (clock skew) as young',
      images: [image({ name: 'future', tags: ['f'], pushedAt: daysAgo(-1) }), oldImage('b1', 0.1)],
      policy: policy({ keep: 0, minAge: '1h' }),
      fates: { future: 'grace', b1: 'deleted' },
    },
  ])('$name', runRow);
});

describe('rule 4: recently pulled', () => {
  it.each<Row>([
    {
      name: 'keeps an image pulled within keepPulledWithin',
      images: [
        image({ name: 'pulled', tags: ['b1'], pushedAt: daysAgo(300), pulledAt: daysAgo(2) }),
        oldImage('b2', 1),
      ],
      policy: policy({ keep: 1, keepPulledWithin: '7d' }),
      fates: { b2: 'recent', pulled: 'pulled' },
    },
    {
      name: 'keeps an image pulled exactly keepPulledWithin ago',
      images: [image({ name: 'pulled', tags: ['b1'], pushedAt: daysAgo(300), pulledAt: daysAgo(7) })],
      policy: policy({ keep: 0, keepPulledWithin: '7d' }),
      fates: { pulled: 'pulled' },
    },
    {
      name: 'deletes an image last pulled longer ago',
      images: [image({ name: 'stale', tags: ['b1'], pushedAt: daysAgo(300), pulledAt: daysAgo(8) })],
      policy: policy({ keep: 0, keepPulledWithin: '7d' }),
      fates: { stale: 'deleted' },
    },
    {
      name: 'ignores pulls when keepPulledWithin is not set',
      images: [image({ name: 'pulled', tags: ['b1'], pushedAt: daysAgo(300), pulledAt: daysAgo(0) })],
      policy: policy({ keep: 0 }),
      fates: { pulled: 'deleted' },
    },
  ])('$name', runRow);
});

describe('rule 5: age floor', () => {
  it.each<Row>([
    {
      name: 'keeps an image not older than olderThan past keep',
      images: [oldImage('b1', 20), oldImage('b2', 10)],
      policy: policy({ keep: 0, olderThan: '14d' }),
      fates: { b1: 'deleted', b2: 'unmatched-age' },
    },
    {
      name: 'keeps an image whose age cannot be proven (unknown push time)',
      images: [image({ name: 'unknown', tags: ['u'], pushedAt: null })],
      policy: policy({ keep: 0, olderThan: '14d' }),
      fates: { unknown: 'unmatched-age' },
    },
    {
      name: 'applies to untagged orphans too',
      images: [image({ name: 'orphan', pushedAt: daysAgo(3) }), image({ name: 'old-orphan', pushedAt: daysAgo(30) })],
      policy: policy({ olderThan: '14d', untagged: 'delete' }),
      fates: { orphan: 'unmatched-age', 'old-orphan': 'deleted' },
    },
  ])('$name', runRow);
});

describe('rule 6: indexes and referrers', () => {
  const amd64 = image({ name: 'amd64', pushedAt: daysAgo(50) });
  const arm64 = image({ name: 'arm64', pushedAt: daysAgo(50) });
  const multi = (name: string, days: number, tags: readonly string[] = [name], children = [amd64, arm64]): Image =>
    index({ name, tags, pushedAt: daysAgo(days), children });

  it.each<Row>([
    {
      name: 'keeps the children of a kept index',
      images: [multi('v2', 1), amd64, arm64],
      policy: policy({ keep: 1 }),
      fates: { v2: 'recent', amd64: 'referenced', arm64: 'referenced' },
    },
    {
      name: 'deletes the untagged children with their deleted index, even with untagged: keep',
      images: [multi('v1', 50), amd64, arm64, oldImage('v2', 1)],
      policy: policy({ keep: 1, untagged: 'keep' }),
      fates: { v2: 'recent', v1: 'deleted', amd64: 'deleted', arm64: 'deleted' },
    },
    {
      name: 'keeps a child shared with a kept index when another index that lists it is deleted',
      images: [
        multi('v1', 50, ['v1'], [amd64, arm64]),
        multi('v2', 1, ['v2'], [amd64, image({ name: 'arm64-v2' })]),
        amd64,
        arm64,
        image({ name: 'arm64-v2' }),
      ],
      policy: policy({ keep: 1 }),
      fates: { v2: 'recent', v1: 'deleted', amd64: 'referenced', 'arm64-v2': 'referenced', arm64: 'deleted' },
    },
    {
      name: 'keeps a tagged manifest that a kept index lists, even past keep',
      images: [multi('v2', 1, ['v2'], [oldImage('tagged-child', 60)]), oldImage('tagged-child', 60), oldImage('b1', 5)],
      policy: policy({ keep: 1 }),
      fates: { v2: 'recent', 'tagged-child': 'referenced', b1: 'deleted' },
    },
    {
      name: 'keeps the grandchildren of a kept index of indexes',
      images: [multi('top', 1, ['top'], [multi('inner', 60, [])]), multi('inner', 60, []), amd64, arm64],
      policy: policy({ keep: 1 }),
      fates: { top: 'recent', inner: 'referenced', amd64: 'referenced', arm64: 'referenced' },
    },
    {
      name: 'keeps the referrers of a kept image',
      images: [oldImage('app', 1, ['v1']), referrer(D('app'), { name: 'sig' }), referrer(D('app'), { name: 'sbom' })],
      policy: policy({ keep: 1 }),
      fates: { app: 'recent', sig: 'subject', sbom: 'subject' },
    },
    {
      name: 'deletes referrers with their subject, even young ones',
      images: [
        oldImage('app', 40, ['v1']),
        referrer(D('app'), { name: 'sig', pushedAt: hoursAgo(1) }),
        oldImage('v2', 1),
      ],
      policy: policy({ keep: 1, minAge: '1d' }),
      fates: { v2: 'recent', app: 'deleted', sig: 'deleted' },
    },
    {
      name: 'does not count a tagged referrer (cosign .sig tag) toward keep',
      images: [
        oldImage('app', 2, ['v2']),
        referrer(D('app'), { name: 'sig', tags: [cosignTag(D('app'))], pushedAt: daysAgo(1) }),
        oldImage('v1', 3),
      ],
      policy: policy({ keep: 1 }),
      fates: { app: 'recent', sig: 'subject', v1: 'deleted' },
    },
    {
      name: 'keeps the referrers of a referrer and the children of a referrer index',
      images: [
        oldImage('app', 1, ['v1']),
        referrer(D('app'), { name: 'att-index', kind: 'index', children: [D('att-amd64')] }),
        image({ name: 'att-amd64' }),
        referrer(D('att-index'), { name: 'att-sig' }),
      ],
      policy: policy({ keep: 1 }),
      fates: { app: 'recent', 'att-index': 'subject', 'att-amd64': 'referenced', 'att-sig': 'subject' },
    },
    {
      name: 'keeps the signatures of the children of a kept index',
      images: [multi('v2', 1), amd64, arm64, referrer(D('amd64'), { name: 'amd64-sig' })],
      policy: policy({ keep: 1 }),
      fates: { v2: 'recent', amd64: 'referenced', arm64: 'referenced', 'amd64-sig': 'subject' },
    },
    {
      name: 'keeps a referrer whose subject is not listed, as an untagged orphan, with untagged: keep',
      images: [referrer(D('gone'), { name: 'stray-sig', tags: [cosignTag(D('gone'))] })],
      policy: policy({ keep: 0, untagged: 'keep' }),
      fates: { 'stray-sig': 'untagged' },
    },
    {
      name: 'deletes a referrer whose subject is not listed with untagged: delete',
      images: [referrer(D('gone'), { name: 'stray-sig' })],
      policy: policy({ keep: 0, untagged: 'delete' }),
      fates: { 'stray-sig': 'deleted' },
    },
    {
      name: 'keeps a young referrer whose subject is not listed (grace, like any orphan)',
      images: [referrer(D('gone'), { name: 'stray-sig', pushedAt: hoursAgo(1) })],
      policy: policy({ keep: 0, untagged: 'delete', minAge: '1d' }),
      fates: { 'stray-sig': 'grace' },
    },
  ])('$name', runRow);
});

describe('rule 7: untagged orphans', () => {
  it.each<Row>([
    {
      name: 'keeps an untagged orphan with untagged: keep',
      images: [image({ name: 'orphan' })],
      policy: policy({ untagged: 'keep' }),
      fates: { orphan: 'untagged' },
    },
    {
      name: 'deletes an untagged orphan with untagged: delete',
      images: [image({ name: 'orphan' })],
      policy: policy({ untagged: 'delete' }),
      fates: { orphan: 'deleted' },
    },
    {
      name: 'keeps the signatures of a kept untagged orphan',
      images: [image({ name: 'orphan' }), referrer(D('orphan'), { name: 'sig' })],
      policy: policy({ untagged: 'keep' }),
      fates: { orphan: 'untagged', sig: 'subject' },
    },
    {
      name: 'keeps the children of a kept untagged index',
      images: [index({ name: 'loose-index', children: [D('amd64')] }), image({ name: 'amd64' })],
      policy: policy({ untagged: 'keep' }),
      fates: { 'loose-index': 'untagged', amd64: 'referenced' },
    },
    {
      name: 'deletes an untagged index with its children with untagged: delete',
      images: [index({ name: 'loose-index', children: [D('amd64')] }), image({ name: 'amd64' })],
      policy: policy({ untagged: 'delete' }),
      fates: { 'loose-index': 'deleted', amd64: 'deleted' },
    },
  ])('$name', runRow);
});

describe('rule 8: whole manifests', () => {
  it('deletes a manifest whole, listing every tag that goes with it', () => {
    const images = [oldImage('old', 40, ['b1', 'nightly-1']), oldImage('new', 1, ['b2'])];

    const result = plan(inventory(images), policy({ keep: 1 }), NOW);

    expect(result.delete).toEqual([
      { digest: D('old'), tags: ['b1', 'nightly-1'], action: 'delete-manifest', wave: 0 },
    ]);
    expect(result.keep).toEqual([{ digest: D('new'), tags: ['b2'], reason: 'recent' }]);
  });
});

describe('rule 9: locked', () => {
  it.each<Row>([
    {
      name: 'keeps a locked image that would be deleted, with reason locked',
      images: [image({ name: 'locked', tags: ['b1'], locked: true }), oldImage('b2', 1)],
      policy: policy({ keep: 1 }),
      fates: { b2: 'recent', locked: 'locked' },
    },
    {
      name: 'keeps the children and referrers of a locked index',
      images: [
        index({ name: 'locked', tags: ['v1'], locked: true, children: [D('amd64')] }),
        image({ name: 'amd64' }),
        referrer(D('locked'), { name: 'sig' }),
      ],
      policy: policy({ keep: 0 }),
      fates: { locked: 'locked', amd64: 'referenced', sig: 'subject' },
    },
    {
      name: 'keeps the subject of a locked referrer',
      images: [oldImage('app', 40, ['v1']), referrer(D('app'), { name: 'sig', locked: true })],
      policy: policy({ keep: 0 }),
      fates: { sig: 'locked', app: 'referenced' },
    },
    {
      name: 'keeps a locked untagged orphan with untagged: delete',
      images: [image({ name: 'orphan', locked: true })],
      policy: policy({ untagged: 'delete' }),
      fates: { orphan: 'locked' },
    },
    {
      name: 'keeps a locked child of a deleted index, and deletes the index',
      images: [index({ name: 'v1', tags: ['v1'], children: [D('amd64')] }), image({ name: 'amd64', locked: true })],
      policy: policy({ keep: 0 }),
      fates: { v1: 'deleted', amd64: 'locked' },
    },
  ])('$name', runRow);
});

describe('precedence: one reason per image, the first that applies', () => {
  it.each<Row>([
    {
      name: 'pinned before recent',
      images: [oldImage('latest', 1)],
      policy: policy({ keep: 5, pinned: ['latest'] }),
      fates: { latest: 'pinned' },
    },
    {
      name: 'recent before grace',
      images: [image({ name: 'b1', tags: ['b1'], pushedAt: hoursAgo(1) })],
      policy: policy({ keep: 1, minAge: '1d' }),
      fates: { b1: 'recent' },
    },
    {
      name: 'grace before pulled',
      images: [image({ name: 'b1', tags: ['b1'], pushedAt: hoursAgo(1), pulledAt: hoursAgo(1) })],
      policy: policy({ keep: 0, minAge: '1d', keepPulledWithin: '1d' }),
      fates: { b1: 'grace' },
    },
    {
      name: 'pulled before unmatched-age',
      images: [image({ name: 'b1', tags: ['b1'], pushedAt: daysAgo(2), pulledAt: hoursAgo(1) })],
      policy: policy({ keep: 0, keepPulledWithin: '1d', olderThan: '7d' }),
      fates: { b1: 'pulled' },
    },
    {
      name: 'unmatched-age before referenced',
      images: [
        index({ name: 'v2', tags: ['v2'], pushedAt: daysAgo(1), children: [D('tagged-child')] }),
        oldImage('tagged-child', 2),
      ],
      policy: policy({ keep: 0, olderThan: '7d' }),
      fates: { v2: 'unmatched-age', 'tagged-child': 'unmatched-age' },
    },
    {
      name: 'a direct reason before referenced',
      images: [
        index({ name: 'v2', tags: ['v2'], pushedAt: daysAgo(1), children: [D('tagged-child')] }),
        oldImage('tagged-child', 2),
      ],
      policy: policy({ keep: 2 }),
      fates: { v2: 'recent', 'tagged-child': 'recent' },
    },
    {
      name: 'referenced before untagged (subject of a pinned signature)',
      images: [image({ name: 'orphan' }), referrer(D('orphan'), { name: 'sig', tags: ['keep-me'] })],
      policy: policy({ pinned: ['keep-me'], untagged: 'keep' }),
      fates: { sig: 'pinned', orphan: 'referenced' },
    },
    {
      name: 'referenced before locked',
      images: [index({ name: 'v2', tags: ['v2'], children: [D('amd64')] }), image({ name: 'amd64', locked: true })],
      policy: policy({ keep: 1 }),
      fates: { v2: 'recent', amd64: 'referenced' },
    },
    {
      name: 'untagged before locked',
      images: [image({ name: 'orphan', locked: true })],
      policy: policy({ untagged: 'keep' }),
      fates: { orphan: 'untagged' },
    },
  ])('$name', runRow);
});

describe('deletion waves', () => {
  it('deletes an index before its children and a signature before what it signs', () => {
    const images = [
      index({ name: 'v1', tags: ['v1'], children: [D('amd64'), D('arm64')] }),
      image({ name: 'amd64' }),
      image({ name: 'arm64' }),
      referrer(D('v1'), { name: 'sig' }),
      referrer(D('sig'), { name: 'sig-of-sig' }),
      oldImage('plain', 40),
    ];

    const result = plan(inventory(images), policy({ keep: 0 }), NOW);

    const waveOf = Object.fromEntries(result.delete.map((d) => [d.digest, d.wave]));
    expect(waveOf).toEqual({
      [D('sig-of-sig')]: 0,
      [D('plain')]: 0,
      [D('sig')]: 1,
      [D('v1')]: 2,
      [D('amd64')]: 3,
      [D('arm64')]: 3,
    });
  });

  it('places a manifest after the longest chain of deleted manifests that reference it', () => {
    const images = [
      index({ name: 'outer', tags: ['o'], children: [D('inner'), D('leaf')] }),
      index({ name: 'inner', children: [D('leaf')] }),
      image({ name: 'leaf' }),
    ];

    const result = plan(inventory(images), policy({ keep: 0 }), NOW);

    expect(result.delete.map((d) => [d.digest, d.wave])).toEqual([
      [D('outer'), 0],
      [D('inner'), 1],
      [D('leaf'), 2],
    ]);
  });

  it('sorts deletions by wave then digest, and kept images by digest', () => {
    const images = ['a', 'b', 'c', 'd', 'e'].map((name, i) => oldImage(name, 10 + i));
    const withIndex = [
      ...images,
      index({ name: 'idx', tags: ['idx'], pushedAt: daysAgo(99), children: [D('child')] }),
      image({ name: 'child' }),
    ];

    const result = plan(inventory(withIndex), policy({ keep: 2 }), NOW);

    const deleted = result.delete.map((d) => [d.wave, d.digest] as const);
    expect(deleted).toEqual([...deleted].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)));
    expect(result.keep.map((k) => k.digest)).toEqual(result.keep.map((k) => k.digest).sort());
  });
});

describe('warnings', () => {
  it('names the digest and tags of an image whose push time is unknown', () => {
    const unknown = image({ name: 'unknown', tags: ['v1', 'stable'], pushedAt: null });

    const result = plan(inventory([unknown]), policy({ keep: 1 }), NOW);

    expect(result.warnings).toEqual([
      `${D('unknown')} (tags: stable, v1) has no known push time: it ranks as the oldest and gets no grace period`,
    ]);
  });

  it('says an unknown-time image is kept because olderThan cannot be proven', () => {
    const unknown = image({ name: 'unknown', tags: ['v1'], pushedAt: null });

    const result = plan(inventory([unknown]), policy({ keep: 0, olderThan: '7d' }), NOW);

    expect(result.warnings).toEqual([
      `${D('unknown')} (tags: v1) has no known push time: it ranks as the oldest and gets no grace period; kept, as ` +
        `it cannot be proven older than olderThan`,
    ]);
  });

  it('reports a referrer whose subject is not in the listing', () => {
    const stray = referrer(D('gone'), { name: 'stray' });

    const result = plan(inventory([stray]), policy(), NOW);

    expect(result.warnings).toEqual([
      `${D('stray')} (untagged) refers to ${D('gone')}, which is not in the listing (deleted, or an untagged ` +
        `manifest the registry cannot list); treated as an untagged orphan`,
    ]);
  });

  it('merges a digest listed twice, keeping every tag, and reports it', () => {
    const first = image({ name: 'dup', tags: ['b1'], pushedAt: daysAgo(40) });
    const second = image({ name: 'dup', tags: ['latest'], pushedAt: daysAgo(40) });

    const result = plan(inventory([first, second, oldImage('b2', 1)]), policy({ keep: 1, pinned: ['latest'] }), NOW);

    expect(result.keep).toContainEqual({ digest: D('dup'), tags: ['b1', 'latest'], reason: 'pinned' });
    expect(result.warnings).toEqual([
      `${D('dup')} was listed more than once; its tags were merged and it is planned as one image`,
    ]);
  });
});

describe('plan', () => {
  it('plans an empty repository as nothing to do', () => {
    const result = plan(inventory([], { registry: 'prod', repository: 'empty' }), policy(), NOW);

    expect(result).toEqual({ registry: 'prod', repository: 'empty', keep: [], delete: [], warnings: [] });
  });

  it('refuses an invalid clock rather than treating every image as old', () => {
    const images = [oldImage('b1', 1)];

    expect(() => plan(inventory(images), policy(), new Date('not a date'))).toThrow(RangeError);
  });
});

describe('purity', () => {
  const planDir = fileURLToPath(new URL('../../lib/plan/', import.meta.url));
  const sources = readdirSync(planDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [file, readFileSync(join(planDir, file), 'utf8')] as const);
  const ALLOWED_IMPORTS = new Set([
    '../model.js',
    '../config/pattern.js',
    '../config/policy.js',
    '../providers/provider.js',
  ]);

  it.each(sources)('%s imports only the planner, the model and config types', (_file, source) => {
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]!);

    expect(imports.filter((path) => !path.startsWith('./') && !ALLOWED_IMPORTS.has(path))).toEqual([]);
  });

  it.each(sources)('%s reads no clock, environment or console', (_file, source) => {
    expect(source).not.toMatch(/Date\.now\(|new Date\(|process\.|console\.|performance\./);
  });
});
