/**
 * What in-use protection costs a run: the calls and the time each usage source takes, against the
 * wire fakes of each API (the real SDK clients), for a typical estate: 50 namespaces (each with a
 * Deployment, its ReplicaSet, 3 pods and a CronJob), 20 ECS services with 2 tasks each, and 100
 * container-image Lambda functions with a published version each. Times are loopback times: they
 * show the client side and the call count; a cloud adds its round trips (calls × latency).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecsSource } from '../lib/inuse/ecs.js';
import { kubernetesSource } from '../lib/inuse/kubernetes.js';
import { lambdaSource } from '../lib/inuse/lambda.js';
import type { UsageSource } from '../lib/inuse/types.js';
import { FakeEcs } from '../test/support/fake-ecs.js';
import { FakeKubernetes, podSpec } from '../test/support/fake-kubernetes.js';
import { FakeLambda } from '../test/support/fake-lambda.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' };

async function measure(source: UsageSource): Promise<{ calls: number; ms: number; references: number }> {
  const started = performance.now();
  const uses = await source.read(new AbortController().signal);
  return { calls: source.calls(), ms: performance.now() - started, references: uses.length };
}

const kube = await FakeKubernetes.start();
const ecs = await FakeEcs.start();
const lambda = await FakeLambda.start();
const dir = mkdtempSync(join(tmpdir(), 'regprune-bench-inuse-'));
try {
  const namespaces = Array.from({ length: 50 }, (_, n) => `team-${n}`);
  for (const namespace of namespaces) {
    const image = `${ECR}/${namespace}/app:42`;
    kube.put('deployments', namespace, 'app', { spec: { replicas: 3, template: { spec: podSpec(image) } } });
    kube.put('replicasets', namespace, 'app-1', { spec: { replicas: 3, template: { spec: podSpec(image) } } });
    for (let p = 0; p < 3; p++) kube.put('pods', namespace, `app-${p}`, { spec: podSpec(image) });
    kube.put('cronjobs', namespace, 'nightly', {
      spec: { jobTemplate: { spec: { template: { spec: podSpec(`${ECR}/${namespace}/job:7`) } } } },
    });
  }
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, kube.kubeconfig());
  for (let s = 0; s < 20; s++) {
    const definition = ecs.taskDefinition(`svc-${s}`, 3, [{ name: 'app', image: `${ECR}/svc-${s}:3` }]);
    ecs.service('prod', `svc-${s}`, [definition]);
    for (let t = 0; t < 2; t++)
      ecs.task('prod', `t${s}-${t}`, `service:svc-${s}`, [{ name: 'app', image: `${ECR}/svc-${s}:3` }]);
  }
  for (let f = 0; f < 100; f++) {
    lambda.function(`fn-${f}`, [
      { version: '$LATEST', packageType: 'Image', imageUri: `${ECR}/fn-${f}:2` },
      { version: '1', packageType: 'Image', imageUri: `${ECR}/fn-${f}:1` },
    ]);
  }

  const rows: Array<[string, Awaited<ReturnType<typeof measure>>]> = [
    [
      'Kubernetes, cluster-wide (50 namespaces)',
      await measure(kubernetesSource({ kind: 'kubernetes', name: 'k', kubeconfig })),
    ],
    [
      'Kubernetes, the same 50 namespaces listed one by one',
      await measure(kubernetesSource({ kind: 'kubernetes', name: 'k', kubeconfig, namespaces })),
    ],
    [
      'ECS (1 cluster, 20 services, 40 tasks)',
      await measure(
        ecsSource({ kind: 'ecs', name: 'e', region: 'eu-west-1', endpoint: ecs.url }, { client: { credentials } }),
      ),
    ],
    [
      'Lambda (100 image functions, 2 versions each)',
      await measure(
        lambdaSource(
          { kind: 'lambda', name: 'l', region: 'eu-west-1', endpoint: lambda.url },
          { client: { credentials } },
        ),
      ),
    ],
  ];
  process.stdout.write('## In-use sources: calls and time per run (wire fakes on loopback)\n\n');
  process.stdout.write('| source | calls | references | time (loopback) |\n| --- | ---: | ---: | ---: |\n');
  for (const [name, row] of rows) {
    process.stdout.write(`| ${name} | ${row.calls} | ${row.references} | ${row.ms.toFixed(0)} ms |\n`);
  }
} finally {
  await Promise.all([kube.close(), ecs.close(), lambda.close()]);
  rmSync(dir, { recursive: true, force: true });
}
