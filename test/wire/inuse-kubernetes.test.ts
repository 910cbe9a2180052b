import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubernetesSource } from '../../lib/inuse/kubernetes.js';
import type { ImageUse } from '../../lib/inuse/types.js';
import { FakeKubernetes, podSpec } from '../support/fake-kubernetes.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const REGISTRY = '127.0.0.1:5000';

let fake: FakeKubernetes;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  fake = await FakeKubernetes.start();
  dir = mkdtempSync(join(tmpdir(), 'regprune-kube-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, fake.kubeconfig());
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function seedWorkloads(): void {
  fake.put('pods', 'shop', 'web-1', {
    spec: podSpec(`${REGISTRY}/app/web:v7`),
    status: { phase: 'Running', containerStatuses: [{ name: 'c0', imageID: `${REGISTRY}/app/web@${DIGEST}` }] },
  });
  fake.put('pods', 'shop', 'debug', {
    spec: {
      initContainers: [{ name: 'init', image: `${REGISTRY}/app/init:4` }],
      containers: [{ name: 'main', image: `${REGISTRY}/app/main:4` }],
      ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36' }],
    },
    status: { phase: 'Pending' },
  });
  fake.put('replicationcontrollers', 'legacy', 'old-web', {
    spec: { replicas: 1, template: { spec: podSpec(`${REGISTRY}/app/legacy:1`) } },
  });
  fake.put('pods', 'shop', 'migrate-done', {
    spec: podSpec(`${REGISTRY}/app/migrate:v1`),
    status: { phase: 'Succeeded' },
  });
  fake.put('deployments', 'shop', 'web', {
    spec: { replicas: 2, template: { spec: podSpec(`${REGISTRY}/app/web:v7`) } },
  });
  fake.put('statefulsets', 'data', 'db', { spec: { template: { spec: podSpec(`${REGISTRY}/app/db:13`) } } });
  fake.put('daemonsets', 'kube-system', 'agent', { spec: { template: { spec: podSpec('ghcr.io/org/agent:2') } } });
  fake.put('replicasets', 'shop', 'web-old', {
    spec: { replicas: 0, template: { spec: podSpec(`${REGISTRY}/app/web:v3`) } },
  });
  fake.put('replicasets', 'shop', 'web-new', {
    spec: { replicas: 2, template: { spec: podSpec(`${REGISTRY}/app/web:v7`) } },
  });
  fake.put('jobs', 'shop', 'report-done', {
    spec: { template: { spec: podSpec(`${REGISTRY}/app/report:v1`) } },
    status: { completionTime: '2026-11-01T00:00:00Z' },
  });
  fake.put('jobs', 'shop', 'backfill', { spec: { template: { spec: podSpec(`${REGISTRY}/app/backfill:v2`) } } });
  fake.put('cronjobs', 'shop', 'nightly', {
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: { spec: { template: { spec: podSpec(`${REGISTRY}/app/nightly:v9`) } } },
    },
  });
}

function byUser(uses: readonly ImageUse[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const use of uses) (out[use.user] ??= []).push(use.reference);
  return out;
}

describe('the Kubernetes usage source, against an API server that pages', () => {
  beforeEach(() => {
    fake.requests.length = 0;
    fake.forbidden.clear();
    fake.expireContinueTokens = 0;
  });

  it('reads running pods and the templates that will run, and skips what will not run again', async () => {
    seedWorkloads();
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig });
    const uses = await source.read(new AbortController().signal);
    expect(byUser(uses)).toEqual({
      'prod: shop/Pod/web-1': [`${REGISTRY}/app/web:v7`],
      'prod: shop/Pod/debug': [`${REGISTRY}/app/init:4`, `${REGISTRY}/app/main:4`, 'busybox:1.36'],
      'prod: legacy/ReplicationController/old-web': [`${REGISTRY}/app/legacy:1`],
      'prod: shop/Deployment/web': [`${REGISTRY}/app/web:v7`],
      'prod: data/StatefulSet/db': [`${REGISTRY}/app/db:13`],
      'prod: kube-system/DaemonSet/agent': ['ghcr.io/org/agent:2'],
      'prod: shop/ReplicaSet/web-new': [`${REGISTRY}/app/web:v7`],
      'prod: shop/Job/backfill': [`${REGISTRY}/app/backfill:v2`],
      'prod: shop/CronJob/nightly': [`${REGISTRY}/app/nightly:v9`],
    });
    expect(uses.find((use) => use.user === 'prod: shop/Pod/web-1')?.resolvedDigest).toBe(DIGEST);
    expect(source.calls()).toBe(8);
  });

  it('follows continue tokens page by page, and counts each page as a call', async () => {
    for (let n = 0; n < 7; n++) fake.put('pods', 'load', `p${n}`, { spec: podSpec(`${REGISTRY}/app/load:${n}`) });
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig }, { pageSize: 3 });
    const uses = await source.read(new AbortController().signal);
    const loadRefs = uses.filter((use) => use.reference.includes('/app/load:')).map((use) => use.reference);
    expect(loadRefs.sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => `${REGISTRY}/app/load:${n}`));
    const podPages = fake.requests.filter((request) => request.resource === 'pods');
    // 10 pods (the 7 above and 3 from the first test) in pages of 3.
    expect(podPages.map((request) => request.continued)).toEqual([false, true, true, true]);
    expect(podPages.every((request) => request.limit === 3)).toBe(true);
  });

  it('starts a list again when its continue token expired (410), instead of failing or skipping items', async () => {
    fake.expireContinueTokens = 1;
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig }, { pageSize: 2 });
    const uses = await source.read(new AbortController().signal);
    expect(uses.filter((use) => use.reference.includes('/app/load:'))).toHaveLength(7);
    const fresh = fake.requests.filter((request) => request.resource === 'pods' && !request.continued);
    expect(fresh).toHaveLength(2);
  });

  it('lists only the configured namespaces, namespaced', async () => {
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig, namespaces: ['data'] });
    const uses = await source.read(new AbortController().signal);
    expect(byUser(uses)).toEqual({ 'prod: data/StatefulSet/db': [`${REGISTRY}/app/db:13`] });
    expect(fake.requests.every((request) => request.namespace === 'data')).toBe(true);
  });

  it('fails after three expired lists in a row rather than loop', async () => {
    fake.expireContinueTokens = 3;
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig }, { pageSize: 2 });
    await expect(source.read(new AbortController().signal)).rejects.toThrow(/410 Expired/);
  });

  it("fails with the API server's reason and the RBAC hint when a list is forbidden", async () => {
    fake.forbidden.add('cronjobs');
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig });
    await expect(source.read(new AbortController().signal)).rejects.toThrow(
      /Kubernetes API answered 403 Forbidden: cronjobs is forbidden.*infra\/k8s\/rbac\.yaml/,
    );
  });

  it('fails, naming the path, when the kubeconfig file does not exist', async () => {
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig: join(dir, 'missing') });
    await expect(source.read(new AbortController().signal)).rejects.toThrow(/kubeconfig .*missing not found/);
  });

  it('fails, naming the context, when the kubeconfig has no cluster for it', async () => {
    const source = kubernetesSource({ kind: 'kubernetes', name: 'prod', kubeconfig, context: 'staging' });
    await expect(source.read(new AbortController().signal)).rejects.toThrow(/staging/);
  });
});
