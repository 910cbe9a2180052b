/**
 * An Amazon ECS API (awsJson1_1: POST / with `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`)
 * answering the read calls a usage source makes, written from the API reference and held to
 * botocore's ECS model: every request and response is checked against its shape and each
 * violation recorded in `modelViolations`. Paging by `nextToken` with the documented default page
 * sizes (ListServices 10, ListClusters and ListTasks 100); DescribeServices takes at most 10
 * services and DescribeTasks 100; an unknown cluster is ClusterNotFoundException.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { botocoreModelPath, loadModel, type ServiceModel, violations } from './botocore-model.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

export interface FakeEcsContainer {
  readonly name: string;
  readonly image: string;
  readonly imageDigest?: string;
}

interface Service {
  readonly name: string;
  /** Task definitions of its deployments (`PRIMARY` first, then `ACTIVE` ones being replaced). */
  readonly deployments: readonly string[];
}
interface Task {
  readonly id: string;
  readonly group: string;
  readonly containers: readonly FakeEcsContainer[];
}
interface Cluster {
  readonly services: Service[];
  readonly tasks: Task[];
}

export class FakeEcs {
  /** Requests by operation name, in order. */
  readonly requests: string[] = [];
  /** Where a request or a response broke botocore's model (should stay empty). */
  readonly modelViolations: string[] = [];
  /** Operations IAM denies (AccessDeniedException). */
  readonly denied = new Set<string>();
  /** Whether botocore's model was found and every exchange checked against it. */
  readonly modelChecked: boolean;
  private readonly model: ServiceModel | null;
  private readonly clusters = new Map<string, Cluster>();
  private readonly taskDefinitions = new Map<string, FakeEcsContainer[]>();
  private readonly server: Server;
  private port = 0;

  private constructor() {
    const path = botocoreModelPath('ecs', '2014-11-13');
    this.model = path === null ? null : loadModel(path);
    this.modelChecked = this.model !== null;
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  static async start(): Promise<FakeEcs> {
    const fake = new FakeEcs();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Registers a task definition revision; returns its ARN. */
  taskDefinition(family: string, revision: number, containers: FakeEcsContainer[]): string {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(arn, containers);
    return arn;
  }

  service(cluster: string, name: string, deployments: string[]): void {
    this.cluster(cluster).services.push({ name, deployments });
  }

  task(cluster: string, id: string, group: string, containers: FakeEcsContainer[]): void {
    this.cluster(cluster).tasks.push({ id, group, containers });
  }

  cluster(name: string): Cluster {
    let cluster = this.clusters.get(name);
    if (cluster === undefined) {
      cluster = { services: [], tasks: [] };
      this.clusters.set(name, cluster);
    }
    return cluster;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    this.requests.push(operation);
    const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
    const spec = this.model?.operations[operation];
    if (this.model !== null && spec?.input) {
      for (const problem of violations(this.model, spec.input.shape, input)) {
        this.modelViolations.push(`${operation} request ${problem}`);
      }
    }
    if (this.denied.has(operation)) {
      return this.error(
        res,
        'AccessDeniedException',
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/regprune/fn is not authorized to perform: ecs:${operation}`,
      );
    }
    try {
      const output = this.answer(operation, input);
      if (this.model !== null && spec?.output) {
        for (const problem of violations(this.model, spec.output.shape, output)) {
          this.modelViolations.push(`${operation} response ${problem}`);
        }
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(output));
    } catch (error) {
      const { type, message } = error as { type?: string; message: string };
      this.error(res, type ?? 'ServerException', message);
    }
  }

  private error(res: ServerResponse, type: string, message: string): void {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: type, message }));
  }

  private answer(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'ListClusters': {
        const arns = [...this.clusters.keys()].map((name) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`);
        return page(arns, input, 100, 'clusterArns');
      }
      case 'ListServices': {
        const [name, cluster] = this.find(input.cluster);
        const arns = cluster.services.map((s) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${name}/${s.name}`);
        return page(arns, input, 10, 'serviceArns');
      }
      case 'DescribeServices': {
        const [name, cluster] = this.find(input.cluster);
        const wanted = (input.services as string[]).map((arn) => arn.split('/').pop());
        if (wanted.length > 10) throw invalid('services can have at most 10 entries');
        const services = cluster.services
          .filter((service) => wanted.includes(service.name))
          .map((service) => ({
            serviceName: service.name,
            serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${name}/${service.name}`,
            status: 'ACTIVE',
            taskDefinition: service.deployments[0],
            deployments: service.deployments.map((taskDefinition, at) => ({
              id: `ecs-svc/${at}`,
              status: at === 0 ? 'PRIMARY' : 'ACTIVE',
              taskDefinition,
            })),
          }));
        return { services, failures: [] };
      }
      case 'DescribeTaskDefinition': {
        const arn = String(input.taskDefinition);
        const containers = this.taskDefinitions.get(arn);
        if (containers === undefined) throw { type: 'ClientException', message: 'Unable to describe task definition.' };
        return {
          taskDefinition: {
            taskDefinitionArn: arn,
            family: arn.split('/')[1]?.split(':')[0],
            revision: Number(arn.split(':').pop()),
            containerDefinitions: containers.map(({ name, image }) => ({ name, image })),
          },
        };
      }
      case 'ListTasks': {
        const [name, cluster] = this.find(input.cluster);
        const arns = cluster.tasks.map((task) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${name}/${task.id}`);
        return page(arns, input, 100, 'taskArns');
      }
      case 'DescribeTasks': {
        const [name, cluster] = this.find(input.cluster);
        const wanted = (input.tasks as string[]).map((arn) => arn.split('/').pop());
        if (wanted.length > 100) throw invalid('tasks can have at most 100 entries');
        const tasks = cluster.tasks
          .filter((task) => wanted.includes(task.id))
          .map((task) => {
            const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${name}/${task.id}`;
            return {
              taskArn,
              group: task.group,
              lastStatus: 'RUNNING',
              containers: task.containers.map((container) => ({ taskArn, ...container })),
            };
          });
        return { tasks, failures: [] };
      }
      default:
        throw { type: 'UnknownOperationException', message: `not served by this fake: ${operation}` };
    }
  }

  private find(reference: unknown): [string, Cluster] {
    const name =
      String(reference ?? 'default')
        .split('/')
        .pop() ?? '';
    const cluster = this.clusters.get(name);
    if (cluster === undefined) throw { type: 'ClusterNotFoundException', message: 'Cluster not found.' };
    return [name, cluster];
  }
}

function invalid(message: string): { type: string; message: string } {
  return { type: 'InvalidParameterException', message };
}

/** One page of ARNs: `maxResults` (or the operation's default), continued by an opaque `nextToken`. */
function page(arns: string[], input: Record<string, unknown>, defaultSize: number, key: string) {
  const size = typeof input.maxResults === 'number' ? input.maxResults : defaultSize;
  const start = typeof input.nextToken === 'string' ? Number(Buffer.from(input.nextToken, 'base64').toString()) : 0;
  const next = start + size;
  return {
    [key]: arns.slice(start, next),
    ...(next < arns.length ? { nextToken: Buffer.from(String(next)).toString('base64') } : {}),
  };
}
